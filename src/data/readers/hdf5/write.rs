//! Writing drill-core files in the layout [`open_core`](super::open_core) reads, for tests,
//! benchmarks and converted data.

use super::core_file::{DATA, LABELS};
use crate::data::array::{RawArray, Samples};
use crate::error::{Error, Result};
use hdf5_pure::FileBuilder;
use std::path::{Path, PathBuf};

/// Target size of one stored chunk. Chunks span whole rows, so a block of rows is read
/// without touching its neighbours.
const CHUNK_BYTES: usize = 1 << 20;

/// Writes `data` (rows x cols x bands, uint16) and `labels` (rows * cols, row-major) as
/// `/hsimage/data` and `/hsimage/labels`, chunked by rows. The file appears complete or not
/// at all: it is written as `<name>.tmp` and renamed.
pub fn write_core(path: &Path, data: &RawArray, labels: &[u32]) -> Result<()> {
    let (rows, cols, bands, values) = core_array(data)?;
    if labels.len() != rows * cols {
        return Err(Error::invalid(format!(
            "{} labels for {rows} x {cols} pixels",
            labels.len()
        )));
    }
    let chunk_rows = (CHUNK_BYTES / (cols * bands * 2).max(1)).clamp(1, rows);
    let (rows, cols, bands, chunk_rows) =
        (rows as u64, cols as u64, bands as u64, chunk_rows as u64);

    let mut builder = FileBuilder::new();
    let mut group = builder.create_group("hsimage");
    group
        .create_dataset(leaf(DATA))
        .with_u16_data(values)
        .with_shape(&[rows, cols, bands])
        .with_chunks(&[chunk_rows, cols, bands]);
    group
        .create_dataset(leaf(LABELS))
        .with_u32_data(labels)
        .with_shape(&[rows, cols])
        .with_chunks(&[chunk_rows, cols]);
    builder.add_group(group.finish());

    crate::atomic::write_with(path, |w| builder.finish_to(w).map_err(|e| std::io::Error::other(format!("cannot write HDF5 file: {e}"))))
}

/// Splits a scene (H x W x B uint16, labels H * W) by rows into `files` drill-core files
/// `core00-labeled.hdf5`, `core01-labeled.hdf5`, ... in `dir` (created if needed), as evenly
/// as possible. Returns their paths in order.
pub fn write_core_fixture(
    dir: &Path,
    scene_data: &RawArray,
    labels: &[u32],
    files: usize,
) -> Result<Vec<PathBuf>> {
    let (height, width, bands, values) = core_array(scene_data)?;
    if labels.len() != height * width {
        return Err(Error::invalid(format!(
            "{} labels for {height} x {width} pixels",
            labels.len()
        )));
    }
    if files == 0 || files > height {
        return Err(Error::invalid(format!(
            "cannot split {height} rows into {files} files"
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut paths = Vec::with_capacity(files);
    let mut start = 0;
    for i in 0..files {
        let rows = height / files + usize::from(i < height % files);
        let part = RawArray {
            shape: vec![rows, width, bands],
            samples: Samples::U16(
                values[start * width * bands..(start + rows) * width * bands].to_vec(),
            ),
        };
        let path = dir.join(format!("core{i:02}-labeled.hdf5"));
        write_core(&path, &part, &labels[start * width..(start + rows) * width])?;
        paths.push(path);
        start += rows;
    }
    Ok(paths)
}

/// `(rows, cols, bands, values)` of a non-empty rows x cols x bands uint16 array.
fn core_array(data: &RawArray) -> Result<(usize, usize, usize, &[u16])> {
    let [rows, cols, bands] = data.shape[..] else {
        return Err(Error::invalid(format!(
            "drill-core data must be rows x cols x bands, got shape {:?}",
            data.shape
        )));
    };
    let Samples::U16(values) = &data.samples else {
        return Err(Error::invalid(format!(
            "drill-core data must be uint16, got {}",
            data.dtype()
        )));
    };
    let n = rows.checked_mul(cols).and_then(|n| n.checked_mul(bands));
    if n != Some(values.len()) || values.is_empty() {
        return Err(Error::invalid(format!(
            "drill-core data of shape {:?} holds {} values",
            data.shape,
            values.len()
        )));
    }
    Ok((rows, cols, bands, values))
}


/// Last component of a dataset path.
fn leaf(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}
