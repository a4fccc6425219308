//! HDF5 files, read and written in pure Rust with `hdf5-pure` (no libhdf5).
//!
//! - [`read_dataset`]: any numeric dataset, as stored.
//! - [`read_mat73`]: a variable of a MATLAB v7.3 `.mat` file, in MATLAB's own shape.
//! - Drill-core files ([`open_core`], [`CoreFile`]): `/hsimage/data` (rows x cols x bands,
//!   uint16) and `/hsimage/labels` (rows x cols), read a block of rows at a time so that a
//!   folder of large files can be streamed (see `crate::data::corpus`).
//! - [`write_core`] and [`write_core_fixture`] write files in that layout.
//!
//! Every error names the file. `hdf5-pure` validates what it parses, but a reader of
//! untrusted files must not take a whole program down with it, so every call into it runs
//! under `guard`, which turns a panic into an error.

mod core_file;
mod dataset;
mod mat73;
mod write;

pub use self::core_file::{
    check_same_layout, common_layout, list_core_files, open_core, read_core_list, read_core_scene, CoreFile, LabelKind,
};
pub use self::dataset::read_dataset;
pub use self::mat73::read_mat73;
pub use self::write::{write_core, write_core_fixture};

use crate::data::array::Samples;
use crate::error::{Error, Result};
use hdf5_pure::{DType as H5Type, Dataset, File};
use std::panic::AssertUnwindSafe;
use std::path::Path;

/// Runs `f`, turning a panic inside the HDF5 parser into an error that names the file.
fn guard<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    crate::error::quietly(AssertUnwindSafe(f)).unwrap_or_else(|detail| {
        let detail = if detail.is_empty() { "no details".to_string() } else { detail };
        Err(Error::bad(path, format!("malformed HDF5 content; the reader gave up ({detail})")))
    })
}

/// Converts an `hdf5-pure` error into ours, with what we were doing when it happened.
fn h5_error(path: &Path, context: &str, e: hdf5_pure::Error) -> Error {
    match e {
        hdf5_pure::Error::Io(io) => Error::io(path, io),
        other => Error::bad(path, format!("{context}: {other}")),
    }
}

/// Opens a file for streaming reads: metadata and chunks are fetched on demand, so a large
/// file costs only what is read from it.
fn open_file(path: &Path) -> Result<File> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::bad(path, "not a regular file"));
    }
    match hdf5_pure::is_hdf5(path) {
        Ok(true) => {}
        Ok(false) => {
            return Err(Error::bad(
                path,
                "not an HDF5 file (no HDF5 signature found)",
            ))
        }
        Err(e) => return Err(Error::bad(path, format!("cannot read as HDF5: {e}"))),
    }
    File::open_streaming(path).map_err(|e| h5_error(path, "cannot open HDF5 file", e))
}

/// Opens dataset `name`; when it is missing, the error lists what its group holds.
fn open_dataset(file: &File, path: &Path, name: &str) -> Result<Dataset> {
    let name = name.trim_start_matches('/');
    match file.dataset(name) {
        Ok(ds) => Ok(ds),
        Err(hdf5_pure::Error::Io(io)) => Err(Error::io(path, io)),
        Err(e) => Err(Error::bad(
            path,
            format!(
                "cannot open dataset '/{name}' ({e}); {}",
                describe_parent(file, name)
            ),
        )),
    }
}

/// Says what the deepest existing group on the way to `name` holds.
fn describe_parent(file: &File, name: &str) -> String {
    let mut parent = name.rsplit_once('/').map_or("", |(p, _)| p);
    loop {
        let group = if parent.is_empty() {
            Ok(file.root())
        } else {
            file.group(parent)
        };
        if let Ok(group) = group {
            let datasets = group.datasets().unwrap_or_default();
            let groups = group.groups().unwrap_or_default();
            return format!(
                "group '/{parent}' holds datasets [{}] and groups [{}]",
                datasets.join(", "),
                groups.join(", ")
            );
        }
        parent = parent.rsplit_once('/').map_or("", |(p, _)| p);
    }
}

/// Shape of a dataset as `usize`, with the element count checked for overflow.
fn shape_of(ds: &Dataset, path: &Path, name: &str) -> Result<(Vec<usize>, usize)> {
    let shape = ds
        .shape()
        .map_err(|e| h5_error(path, &format!("dataset '{name}'"), e))?;
    let shape: Vec<usize> = shape
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::bad(path, format!("dataset '{name}' has a dimension too large")))?;
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            Error::bad(
                path,
                format!("dataset '{name}' of shape {shape:?} is too large"),
            )
        })?;
    Ok((shape, count))
}

/// Element type of a dataset, when it is a plain number.
fn numeric_type(ds: &Dataset, path: &Path, name: &str) -> Result<Option<H5Type>> {
    let dtype = ds
        .dtype()
        .map_err(|e| h5_error(path, &format!("dataset '{name}'"), e))?;
    Ok(match dtype {
        H5Type::U8
        | H5Type::I8
        | H5Type::U16
        | H5Type::I16
        | H5Type::U32
        | H5Type::I32
        | H5Type::U64
        | H5Type::I64
        | H5Type::F32
        | H5Type::F64 => Some(dtype),
        _ => None,
    })
}

/// How many times its file's size a dataset's values may take: gzip compresses hyperspectral
/// integers a few times, never a thousand.
const MAX_EXPANSION: u64 = 1000;

/// Refuses to read `elements` values of `dtype`, or chunks of them, that the file cannot
/// plausibly hold. A damaged header can declare terabytes; the HDF5 reader would ask for them at
/// once (the values, or one chunk), and a failed allocation ends the process rather than
/// returning an error.
fn check_declared_size(ds: &Dataset, path: &Path, name: &str, elements: usize, dtype: &H5Type) -> Result<()> {
    let size: u64 = match dtype {
        H5Type::U8 | H5Type::I8 => 1,
        H5Type::U16 | H5Type::I16 => 2,
        H5Type::U32 | H5Type::I32 | H5Type::F32 => 4,
        _ => 8,
    };
    let file_len = std::fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
    // A chunk's stored bytes must lie inside the file: the reader sizes its buffer by them
    // before it finds out. (An index it cannot list is left to the reader.)
    if let Ok(chunks) = ds.chunks() {
        if let Some(c) = chunks.iter().find(|c| c.address.saturating_add(c.storage_size) > file_len) {
            return Err(Error::bad(
                path,
                format!(
                    "dataset '{name}' has a chunk of {} bytes at byte {}, past the end of the file ({file_len} bytes): the file is damaged",
                    c.storage_size, c.address
                ),
            ));
        }
    }
    // A small floor, so that a tiny file with a fill-valued dataset still reads.
    let limit = file_len.saturating_mul(MAX_EXPANSION).max(1 << 26);
    let at_most_the_limit = |what: &str, bytes: u64| {
        if bytes <= limit {
            return Ok(());
        }
        Err(Error::bad(
            path,
            format!(
                "dataset '{name}' declares {bytes} bytes of {what}, over {MAX_EXPANSION} times the file's \
                 {file_len} bytes: the file is damaged (or its dataset is sparse, which is not read)"
            ),
        ))
    };
    at_most_the_limit("values", (elements as u64).saturating_mul(size))?;
    let chunk_shape = ds
        .chunk_shape()
        .map_err(|e| h5_error(path, &format!("cannot read the layout of dataset '{name}'"), e))?;
    if let Some(dims) = chunk_shape {
        at_most_the_limit("values in one chunk", dims.iter().fold(size, |acc, &d| acc.saturating_mul(d)))?;
    }
    Ok(())
}

/// Reads a numeric dataset in its stored type: all of it, or the leading-dimension rows
/// `start..start + count` when `rows` is given. `expected` is the number of elements the
/// read must return.
fn read_samples(
    ds: &Dataset,
    path: &Path,
    name: &str,
    rows: Option<(usize, usize)>,
    expected: usize,
) -> Result<Samples> {
    let Some(dtype) = numeric_type(ds, path, name)? else {
        let found = ds
            .dtype()
            .map(|t| t.to_string())
            .unwrap_or_else(|_| "unknown".into());
        return Err(Error::bad(
            path,
            format!("dataset '{name}' holds {found}, not numbers"),
        ));
    };
    check_declared_size(ds, path, name, expected, &dtype)?;
    macro_rules! read {
        ($variant:ident, $whole:ident, $window:ident) => {
            match rows {
                None => ds.$whole(),
                Some((start, count)) => ds.$window(start as u64, count as u64),
            }
            .map(Samples::$variant)
        };
    }
    let samples = match dtype {
        H5Type::U8 => read!(U8, read_u8, read_u8_rows),
        H5Type::I8 => read!(I8, read_i8, read_i8_rows),
        H5Type::U16 => read!(U16, read_u16, read_u16_rows),
        H5Type::I16 => read!(I16, read_i16, read_i16_rows),
        H5Type::U32 => read!(U32, read_u32, read_u32_rows),
        H5Type::I32 => read!(I32, read_i32, read_i32_rows),
        H5Type::U64 => read!(U64, read_u64, read_u64_rows),
        H5Type::I64 => read!(I64, read_i64, read_i64_rows),
        H5Type::F32 => read!(F32, read_f32, read_f32_rows),
        _ => read!(F64, read_f64, read_f64_rows),
    }
    .map_err(|e| h5_error(path, &format!("cannot read dataset '{name}'"), e))?;
    if samples.len() != expected {
        return Err(Error::bad(
            path,
            format!(
                "dataset '{name}' gave {} values where its shape promises {expected}",
                samples.len()
            ),
        ));
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_the_parser_becomes_an_error_naming_the_file() {
        let path = Path::new("cores/odd.h5");
        let got: Result<()> = guard(path, || panic!("index out of range"));
        let msg = got.unwrap_err().to_string();
        assert!(
            msg.contains("cores/odd.h5") && msg.contains("index out of range"),
            "{msg}"
        );
        assert_eq!(guard(path, || Ok(3)).unwrap(), 3);
    }
}
