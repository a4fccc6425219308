//! Drill-core scans: `/hsimage/data` (rows x cols x bands, uint16) and `/hsimage/labels`
//! (rows x cols; 0 = unlabelled, 1..=99 mineral classes, above 100 lithology classes).
//! Files are opened once to learn their layout and then read a block of rows at a time.

use super::{guard, numeric_type, open_dataset, open_file, read_samples, shape_of};
use crate::data::array::{RawArray, Samples};
use crate::data::labels::LabelMap;
use crate::data::scene::Scene;
use crate::error::{Error, Result};
use hdf5_pure::{DType as H5Type, File};
use std::path::{Path, PathBuf};

pub(super) const DATA: &str = "/hsimage/data";
pub(super) const LABELS: &str = "/hsimage/labels";

/// Which labels of a drill-core file to keep; the others become 0 (unlabelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LabelKind {
    /// Mineral classes, stored as 1..=99.
    Mineralogy,
    /// Lithology classes, stored above 100.
    Lithology,
    /// Every nonzero value.
    #[default]
    All,
}

impl LabelKind {
    /// The stored value `value` under this kind: itself when kept, else 0.
    pub fn keep(self, value: u32) -> u32 {
        let kept = match self {
            LabelKind::Mineralogy => (1..=99).contains(&value),
            LabelKind::Lithology => value > 100,
            LabelKind::All => true,
        };
        if kept {
            value
        } else {
            0
        }
    }

    /// Applies [`LabelKind::keep`] to every value.
    pub fn apply(self, labels: &mut [u32]) {
        for v in labels {
            *v = self.keep(*v);
        }
    }
}

impl std::str::FromStr for LabelKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "mineralogy" | "mineral" | "minerals" => Ok(LabelKind::Mineralogy),
            "lithology" | "litho" => Ok(LabelKind::Lithology),
            "all" => Ok(LabelKind::All),
            _ => Err(Error::invalid(format!(
                "unknown label kind '{s}' (expected mineralogy, lithology or all)"
            ))),
        }
    }
}

/// A drill-core file whose layout has been checked; data are read on demand.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CoreFile {
    pub path: PathBuf,
    pub rows: usize,
    pub cols: usize,
    pub bands: usize,
}

/// Opens a drill-core file and checks its layout: `/hsimage/data` is a 3-D array of 8- or
/// 16-bit integers and `/hsimage/labels` a 2-D array of the same rows x cols.
pub fn open_core(path: &Path) -> Result<CoreFile> {
    guard(path, || {
        let file = open_file(path)?;
        let data = open_dataset(&file, path, DATA)?;
        let labels = open_dataset(&file, path, LABELS)?;
        let (data_shape, _) = shape_of(&data, path, DATA)?;
        let (label_shape, _) = shape_of(&labels, path, LABELS)?;
        let dtype = numeric_type(&data, path, DATA)?;
        if !matches!(dtype, Some(H5Type::U16 | H5Type::U8 | H5Type::I16)) {
            let found = data
                .dtype()
                .map(|t| t.to_string())
                .unwrap_or_else(|_| "unknown".into());
            return Err(Error::bad(
                path,
                format!("{DATA} holds {found}; expected uint16"),
            ));
        }
        if numeric_type(&labels, path, LABELS)?.is_none() {
            return Err(Error::bad(path, format!("{LABELS} does not hold numbers")));
        }
        let [rows, cols, bands] = data_shape[..] else {
            return Err(Error::bad(
                path,
                format!("{DATA} has shape {data_shape:?}; expected rows x cols x bands"),
            ));
        };
        if label_shape != [rows, cols] {
            return Err(Error::bad(
                path,
                format!(
                    "{LABELS} has shape {label_shape:?} but {DATA} has shape {data_shape:?}; \
                     labels must be rows x cols = [{rows}, {cols}]"
                ),
            ));
        }
        if rows == 0 || cols == 0 || bands == 0 {
            return Err(Error::bad(
                path,
                format!("{DATA} is empty (shape {data_shape:?})"),
            ));
        }
        Ok(CoreFile {
            path: path.to_path_buf(),
            rows,
            cols,
            bands,
        })
    })
}

impl CoreFile {
    pub fn n_pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// Rows `start..start + count` of the data, `count x cols x bands` in the stored type.
    /// Only those rows are read from disk.
    pub fn read_rows(&self, start: usize, count: usize) -> Result<RawArray> {
        self.check_window(start, count)?;
        guard(&self.path, || {
            self.read_data_window(&open_file(&self.path)?, start, count)
        })
    }

    /// The whole label map (`rows * cols` values, row-major) under `kind`.
    pub fn read_labels(&self, kind: LabelKind) -> Result<Vec<u32>> {
        self.read_label_rows(0, self.rows, kind)
    }

    /// Labels of rows `start..start + count` (`count * cols` values) under `kind`.
    pub fn read_label_rows(&self, start: usize, count: usize, kind: LabelKind) -> Result<Vec<u32>> {
        self.check_window(start, count)?;
        guard(&self.path, || {
            self.read_label_window(&open_file(&self.path)?, start, count, kind)
        })
    }

    /// Data and labels of rows `start..start + count`, opening the file once.
    pub fn read_block(
        &self,
        start: usize,
        count: usize,
        kind: LabelKind,
    ) -> Result<(RawArray, Vec<u32>)> {
        self.check_window(start, count)?;
        guard(&self.path, || {
            let file = open_file(&self.path)?;
            let data = self.read_data_window(&file, start, count)?;
            let labels = self.read_label_window(&file, start, count, kind)?;
            Ok((data, labels))
        })
    }

    fn check_window(&self, start: usize, count: usize) -> Result<()> {
        match start.checked_add(count) {
            Some(end) if end <= self.rows => Ok(()),
            _ => Err(Error::bad(
                &self.path,
                format!(
                    "rows {start}..{start}+{count} requested but the file has {} rows",
                    self.rows
                ),
            )),
        }
    }

    fn read_data_window(&self, file: &File, start: usize, count: usize) -> Result<RawArray> {
        let ds = open_dataset(file, &self.path, DATA)?;
        self.check_unchanged(
            shape_of(&ds, &self.path, DATA)?.0,
            &[self.rows, self.cols, self.bands],
        )?;
        let expected = count * self.cols * self.bands;
        let samples = read_samples(&ds, &self.path, DATA, Some((start, count)), expected)?;
        Ok(RawArray {
            shape: vec![count, self.cols, self.bands],
            samples,
        })
    }

    fn read_label_window(
        &self,
        file: &File,
        start: usize,
        count: usize,
        kind: LabelKind,
    ) -> Result<Vec<u32>> {
        let ds = open_dataset(file, &self.path, LABELS)?;
        self.check_unchanged(
            shape_of(&ds, &self.path, LABELS)?.0,
            &[self.rows, self.cols],
        )?;
        let samples = read_samples(
            &ds,
            &self.path,
            LABELS,
            Some((start, count)),
            count * self.cols,
        )?;
        let mut labels = labels_to_u32(&samples, &self.path)?;
        kind.apply(&mut labels);
        Ok(labels)
    }

    /// A file rewritten since it was opened must not be read with the old layout.
    fn check_unchanged(&self, shape: Vec<usize>, expected: &[usize]) -> Result<()> {
        if shape != expected {
            return Err(Error::bad(
                &self.path,
                format!("shape changed since the file was opened: {shape:?}, was {expected:?}"),
            ));
        }
        Ok(())
    }
}

/// Stored label values as class numbers: non-negative integers (integral floats accepted).
fn labels_to_u32(samples: &Samples, path: &Path) -> Result<Vec<u32>> {
    fn convert<T: Copy + std::fmt::Display>(
        values: &[T],
        path: &Path,
        to_u32: impl Fn(T) -> Option<u32>,
    ) -> Result<Vec<u32>> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                to_u32(v).ok_or_else(|| {
                    Error::bad(
                        path,
                        format!(
                            "{LABELS} value {v} at pixel {i} is not a class number \
                             (expected a whole number from 0 to {})",
                            u32::MAX
                        ),
                    )
                })
            })
            .collect()
    }
    fn float(v: f64) -> Option<u32> {
        (v.is_finite() && v.fract() == 0.0 && v >= 0.0 && v <= u32::MAX as f64).then_some(v as u32)
    }
    match samples {
        Samples::U8(v) => Ok(v.iter().map(|&x| u32::from(x)).collect()),
        Samples::U16(v) => Ok(v.iter().map(|&x| u32::from(x)).collect()),
        Samples::U32(v) => Ok(v.clone()),
        Samples::U64(v) => convert(v, path, |x| u32::try_from(x).ok()),
        Samples::I8(v) => convert(v, path, |x| u32::try_from(x).ok()),
        Samples::I16(v) => convert(v, path, |x| u32::try_from(x).ok()),
        Samples::I32(v) => convert(v, path, |x| u32::try_from(x).ok()),
        Samples::I64(v) => convert(v, path, |x| u32::try_from(x).ok()),
        Samples::F32(v) => convert(v, path, |x| float(f64::from(x))),
        Samples::F64(v) => convert(v, path, float),
    }
}

/// Drill-core files in `dir`, sorted: `*-labeled.hdf5`, or when there are none, any `*.hdf5`
/// and `*.h5`. A folder with neither is an error.
pub fn list_core_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut labeled = Vec::new();
    let mut other = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if !path.is_file() {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if name.ends_with("-labeled.hdf5") {
            labeled.push(path);
        } else if name.ends_with(".hdf5") || name.ends_with(".h5") {
            other.push(path);
        }
    }
    let mut files = if labeled.is_empty() { other } else { labeled };
    files.sort();
    if files.is_empty() {
        return Err(Error::bad(
            dir,
            "no drill-core files here (looked for *-labeled.hdf5, then *.hdf5 and *.h5)",
        ));
    }
    Ok(files)
}

/// The drill-core files a text list names, one path a line (relative paths are taken from the
/// list's folder; blank lines and lines starting with `#` are skipped), in the list's order.
pub fn read_core_list(list: &Path) -> Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(list).map_err(|e| Error::io(list, e))?;
    let base = list.parent().unwrap_or(Path::new(""));
    let files: Vec<PathBuf> = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(|l| base.join(l)).collect();
    if files.is_empty() {
        return Err(Error::bad(list, "the list names no drill-core file (one path a line)"));
    }
    Ok(files)
}

/// Checks that all files share one width and band count; returns `(cols, bands)`.
pub fn common_layout(files: &[CoreFile]) -> Result<(usize, usize)> {
    let first = files
        .first()
        .ok_or_else(|| Error::invalid("no drill-core files given"))?;
    for f in &files[1..] {
        check_same_layout(first, f)?;
    }
    Ok((first.cols, first.bands))
}

/// Fails, naming `other`, unless it has `first`'s width and band count.
pub fn check_same_layout(first: &CoreFile, other: &CoreFile) -> Result<()> {
    if (other.cols, other.bands) != (first.cols, first.bands) {
        return Err(Error::bad(
            &other.path,
            format!(
                "has {} columns x {} bands but {} has {} x {}; all files must match",
                other.cols,
                other.bands,
                first.path.display(),
                first.cols,
                first.bands
            ),
        ));
    }
    Ok(())
}

/// Several drill-core files stacked vertically into one scene (height = total rows), with
/// their labels. Holds everything in memory: for small corpora; see `crate::data::corpus`
/// to stream large ones.
pub fn read_core_scene(paths: &[PathBuf], kind: LabelKind) -> Result<Scene> {
    let files = paths
        .iter()
        .map(|p| open_core(p))
        .collect::<Result<Vec<_>>>()?;
    let (width, bands) = common_layout(&files)?;
    let height = files
        .iter()
        .try_fold(0usize, |acc, f| acc.checked_add(f.rows))
        .ok_or_else(|| Error::invalid("the files hold too many rows together"))?;
    let n_values = height
        .checked_mul(width)
        .and_then(|n| n.checked_mul(bands))
        .ok_or_else(|| Error::invalid("the files hold too many values together"))?;
    // Sizes come from file headers: ask for the memory rather than abort when it is not there.
    let mut pixels: Vec<f32> = Vec::new();
    let mut labels: Vec<u32> = Vec::new();
    pixels
        .try_reserve_exact(n_values)
        .and_then(|()| labels.try_reserve_exact(height * width))
        .map_err(|_| {
            Error::invalid(format!(
                "not enough memory for a scene of {n_values} values"
            ))
        })?;
    let mut dtype = None;
    // A few hundred rows at a time, so the stored-type copy stays small beside the f32 one.
    const BLOCK_ROWS: usize = 256;
    for f in &files {
        for start in (0..f.rows).step_by(BLOCK_ROWS) {
            let count = BLOCK_ROWS.min(f.rows - start);
            let (data, block_labels) = f.read_block(start, count, kind)?;
            dtype.get_or_insert(data.dtype());
            pixels.extend(data.samples.to_f32());
            labels.extend(block_labels);
        }
    }
    let source = match paths {
        [one] => one.clone(),
        _ => paths[0]
            .parent()
            .map_or_else(|| paths[0].clone(), Path::to_path_buf),
    };
    Ok(Scene {
        height,
        width,
        bands,
        pixels,
        dtype: dtype.unwrap_or(crate::data::array::DType::U16),
        wavelengths: None,
        labels: Some(LabelMap::from_values(height, width, &labels)?),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{read_dataset, write_core, write_core_fixture};
    use crate::data::testdata;
    use super::*;
    use hdf5_pure::FileBuilder;

    #[test]
    fn a_list_names_its_files_in_order_from_its_own_folder() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("cores.txt");
        std::fs::write(&list, "# two cores\n\ncore-b.hdf5\n  /data/core-a.h5  \n").unwrap();
        assert_eq!(read_core_list(&list).unwrap(), vec![dir.path().join("core-b.hdf5"), PathBuf::from("/data/core-a.h5")]);
        std::fs::write(&list, "# nothing\n\n").unwrap();
        let err = read_core_list(&list).unwrap_err().to_string();
        assert!(err.contains("cores.txt") && err.contains("names no drill-core file"), "{err}");
        assert!(read_core_list(&dir.path().join("missing.txt")).unwrap_err().to_string().contains("missing.txt"));
    }

    fn u16_array(shape: &[usize], values: Vec<u16>) -> RawArray {
        RawArray {
            shape: shape.to_vec(),
            samples: Samples::U16(values),
        }
    }

    /// Writes `/hsimage/data` and `/hsimage/labels` exactly as given, valid or not.
    fn write_raw(path: &Path, data: Option<(&[u16], &[u64])>, labels: Option<(&[i32], &[u64])>) {
        let mut b = FileBuilder::new();
        let mut g = b.create_group("hsimage");
        if let Some((values, shape)) = data {
            g.create_dataset("data")
                .with_u16_data(values)
                .with_shape(shape);
        }
        if let Some((values, shape)) = labels {
            g.create_dataset("labels")
                .with_i32_data(values)
                .with_shape(shape);
        }
        b.add_group(g.finish());
        b.write(path).unwrap();
    }

    #[test]
    fn indian_pines_fixture_reads_back_bit_identical() {
        let (Some(data), Some(gt)) = (testdata::indian_pines(), testdata::indian_pines_gt()) else {
            return;
        };
        let (h, w, b) = (testdata::HEIGHT, testdata::WIDTH, testdata::BANDS);
        let labels: Vec<u32> = gt.iter().map(|&v| u32::from(v)).collect();
        let dir = tempfile::tempdir().unwrap();
        let scene = u16_array(&[h, w, b], data.clone());
        let written = write_core_fixture(dir.path(), &scene, &labels, 3).unwrap();
        assert_eq!(list_core_files(dir.path()).unwrap(), written);
        let names: Vec<_> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                "core00-labeled.hdf5",
                "core01-labeled.hdf5",
                "core02-labeled.hdf5"
            ]
        );
        let rows: Vec<usize> = written.iter().map(|p| open_core(p).unwrap().rows).collect();
        assert_eq!(rows, vec![49, 48, 48]);
        let core = open_core(&written[1]).unwrap();
        assert_eq!((core.cols, core.bands), (w, b));

        let scene = read_core_scene(&written, LabelKind::All).unwrap();
        assert_eq!((scene.height, scene.width, scene.bands), (h, w, b));
        assert_eq!(scene.dtype, crate::data::DType::U16);
        let expected: Vec<f32> = data.iter().map(|&v| f32::from(v)).collect();
        assert!(scene.pixels == expected, "pixel values differ");
        let map = scene.labels.as_ref().unwrap();
        assert_eq!(map.to_values(), labels);
        assert_eq!(map.n_labelled(), 10_249);

        // The middle file, read whole through the generic reader, is its slice of the scene.
        let middle = read_dataset(&written[1], "/hsimage/data").unwrap();
        assert_eq!(
            middle,
            u16_array(&[48, w, b], data[49 * w * b..97 * w * b].to_vec())
        );
    }

    #[test]
    fn read_rows_matches_the_slice_of_the_whole_array() {
        let (rows, cols, bands) = (50, 7, 300);
        let values: Vec<u16> = (0..rows * cols * bands)
            .map(|i| (i * 7 % 65_521) as u16)
            .collect();
        let labels: Vec<u32> = (0..rows * cols).map(|i| (i % 13) as u32).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-labeled.hdf5");
        write_core(
            &path,
            &u16_array(&[rows, cols, bands], values.clone()),
            &labels,
        )
        .unwrap();
        let core = open_core(&path).unwrap();
        assert_eq!(
            core,
            CoreFile {
                path: path.clone(),
                rows,
                cols,
                bands
            }
        );
        let row = cols * bands;
        // Windows inside one stored chunk, across chunk edges, and the last row.
        for (start, count) in [(0, 1), (3, 20), (20, 30), (49, 1), (0, 50)] {
            let got = core.read_rows(start, count).unwrap();
            let want = values[start * row..(start + count) * row].to_vec();
            assert_eq!(
                got,
                u16_array(&[count, cols, bands], want),
                "rows {start}+{count}"
            );
            let l = core.read_label_rows(start, count, LabelKind::All).unwrap();
            assert_eq!(l, labels[start * cols..(start + count) * cols]);
        }
        assert_eq!(core.read_labels(LabelKind::All).unwrap(), labels);
        let msg = core.read_rows(40, 11).unwrap_err().to_string();
        assert!(
            msg.contains("c-labeled.hdf5") && msg.contains("50 rows"),
            "{msg}"
        );
        assert!(core.read_rows(usize::MAX, 2).is_err());
    }

    #[test]
    fn label_kinds_keep_their_ranges() {
        let stored = [0, 1, 5, 50, 99, 100, 101, 120, 255, 1000];
        let filtered = |kind: LabelKind| stored.iter().map(|&v| kind.keep(v)).collect::<Vec<_>>();
        assert_eq!(
            filtered(LabelKind::Mineralogy),
            [0, 1, 5, 50, 99, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            filtered(LabelKind::Lithology),
            [0, 0, 0, 0, 0, 0, 101, 120, 255, 1000]
        );
        assert_eq!(filtered(LabelKind::All), stored);
        assert_eq!(
            "Lithology".parse::<LabelKind>().unwrap(),
            LabelKind::Lithology
        );
        assert!("rocks".parse::<LabelKind>().is_err());

        // The same through a file, and into a scene's label map.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k-labeled.hdf5");
        write_core(&path, &u16_array(&[2, 5, 1], vec![1; 10]), &stored).unwrap();
        let core = open_core(&path).unwrap();
        assert_eq!(
            core.read_labels(LabelKind::Mineralogy).unwrap(),
            filtered(LabelKind::Mineralogy)
        );
        assert_eq!(
            core.read_labels(LabelKind::Lithology).unwrap(),
            filtered(LabelKind::Lithology)
        );
        let scene = read_core_scene(&[path], LabelKind::Mineralogy).unwrap();
        assert_eq!(scene.labels.unwrap().values, vec![1, 5, 50, 99]);
    }

    #[test]
    fn signed_and_float_labels_must_be_class_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("neg.h5");
        write_raw(
            &path,
            Some((&[1; 4], &[2, 2, 1])),
            Some((&[0, 3, -1, 2], &[2, 2])),
        );
        let core = open_core(&path).unwrap();
        let msg = core.read_labels(LabelKind::All).unwrap_err().to_string();
        assert!(
            msg.contains("neg.h5") && msg.contains("value -1 at pixel 2"),
            "{msg}"
        );

        let path = dir.path().join("float.h5");
        let mut b = FileBuilder::new();
        let mut g = b.create_group("hsimage");
        g.create_dataset("data")
            .with_u16_data(&[1; 3])
            .with_shape(&[1, 3, 1]);
        g.create_dataset("labels")
            .with_f64_data(&[0.0, 120.0, 2.5])
            .with_shape(&[1, 3]);
        b.add_group(g.finish());
        b.write(&path).unwrap();
        let core = open_core(&path).unwrap();
        assert!(core.read_label_rows(0, 1, LabelKind::All).is_err());
        let msg = core.read_labels(LabelKind::All).unwrap_err().to_string();
        assert!(msg.contains("2.5"), "{msg}");
    }

    #[test]
    fn bad_layouts_are_errors_naming_file_and_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let data = [7u16; 24];
        let p = dir.path().join("nolabels.h5");
        write_raw(&p, Some((&data, &[2, 3, 4])), None);
        let msg = open_core(&p).unwrap_err().to_string();
        assert!(
            msg.contains("nolabels.h5") && msg.contains("/hsimage/labels"),
            "{msg}"
        );
        assert!(msg.contains("datasets [data]"), "{msg}");

        let p = dir.path().join("shape.h5");
        write_raw(&p, Some((&data, &[2, 3, 4])), Some((&[0; 6], &[3, 2])));
        let msg = open_core(&p).unwrap_err().to_string();
        assert!(
            msg.contains("shape.h5") && msg.contains("[3, 2]") && msg.contains("[2, 3, 4]"),
            "{msg}"
        );

        let p = dir.path().join("flat.h5");
        write_raw(&p, Some((&data, &[6, 4])), Some((&[0; 6], &[6, 1])));
        let msg = open_core(&p).unwrap_err().to_string();
        assert!(
            msg.contains("flat.h5") && msg.contains("rows x cols x bands"),
            "{msg}"
        );

        let p = dir.path().join("floats.h5");
        let mut b = FileBuilder::new();
        let mut g = b.create_group("hsimage");
        g.create_dataset("data")
            .with_f32_data(&[0.5; 2])
            .with_shape(&[1, 1, 2]);
        g.create_dataset("labels")
            .with_u8_data(&[1])
            .with_shape(&[1, 1]);
        b.add_group(g.finish());
        b.write(&p).unwrap();
        let msg = open_core(&p).unwrap_err().to_string();
        assert!(msg.contains("floats.h5") && msg.contains("uint16"), "{msg}");

        let p = dir.path().join("text-labeled.hdf5");
        std::fs::write(&p, "rows,cols\n1,2\n").unwrap();
        let msg = open_core(&p).unwrap_err().to_string();
        assert!(
            msg.contains("text-labeled.hdf5") && msg.contains("not an HDF5 file"),
            "{msg}"
        );
    }

    #[test]
    fn truncated_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let full = dir.path().join("full.h5");
        let values: Vec<u16> = (0..40 * 6 * 50).map(|i| i as u16).collect();
        write_core(&full, &u16_array(&[40, 6, 50], values), &[3; 240]).unwrap();
        let bytes = std::fs::read(&full).unwrap();
        let cut = dir.path().join("cut-labeled.hdf5");
        for len in [
            0,
            8,
            100,
            600,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len() - 100,
            bytes.len() - 1,
        ] {
            std::fs::write(&cut, &bytes[..len]).unwrap();
            let read = open_core(&cut).and_then(|c| {
                c.read_rows(0, c.rows)?;
                c.read_labels(LabelKind::All)
            });
            let msg = read
                .expect_err(&format!("cut at {len} of {}", bytes.len()))
                .to_string();
            assert!(msg.contains("cut-labeled.hdf5"), "{msg}");
        }
    }

    #[test]
    fn listing_prefers_labeled_files_and_falls_back_to_any_hdf5() {
        let dir = tempfile::tempdir().unwrap();
        let err = list_core_files(dir.path()).unwrap_err().to_string();
        assert!(err.contains("no drill-core files"), "{err}");
        for name in ["b.h5", "a.hdf5", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub.h5")).unwrap();
        let names = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            names(list_core_files(dir.path()).unwrap()),
            ["a.hdf5", "b.h5"]
        );
        for name in ["z-labeled.hdf5", "c-labeled.hdf5"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(
            names(list_core_files(dir.path()).unwrap()),
            ["c-labeled.hdf5", "z-labeled.hdf5"]
        );
        assert!(list_core_files(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn scenes_need_files_of_one_width_and_band_count() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a-labeled.hdf5");
        let b = dir.path().join("b-labeled.hdf5");
        write_core(&a, &u16_array(&[2, 3, 4], vec![1; 24]), &[1; 6]).unwrap();
        write_core(&b, &u16_array(&[2, 3, 5], vec![1; 30]), &[1; 6]).unwrap();
        let msg = read_core_scene(&[a.clone(), b], LabelKind::All)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("b-labeled.hdf5") && msg.contains("5 bands"),
            "{msg}"
        );
        assert!(read_core_scene(&[], LabelKind::All).is_err());
        // One file is a scene of its own, named after it.
        let scene = read_core_scene(std::slice::from_ref(&a), LabelKind::All).unwrap();
        assert_eq!(
            (scene.height, scene.width, scene.bands, scene.source),
            (2, 3, 4, a)
        );
    }

    #[test]
    fn writing_checks_its_input_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w-labeled.hdf5");
        assert!(write_core(&p, &u16_array(&[2, 3, 4], vec![1; 24]), &[1; 5]).is_err());
        assert!(write_core(&p, &u16_array(&[6, 4], vec![1; 24]), &[1; 6]).is_err());
        let floats = RawArray {
            shape: vec![1, 1, 1],
            samples: Samples::F32(vec![1.0]),
        };
        assert!(write_core(&p, &floats, &[1]).is_err());
        assert!(
            write_core_fixture(dir.path(), &u16_array(&[2, 1, 1], vec![1, 2]), &[1, 2], 3).is_err()
        );
        assert!(!p.exists());
        write_core(&p, &u16_array(&[1, 1, 1], vec![9]), &[4]).unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(files, ["w-labeled.hdf5"]);
    }

    #[test]
    fn corrupted_metadata_gives_errors_that_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let full = dir.path().join("full.h5");
        let values: Vec<u16> = (0..20 * 6 * 50).map(|i| i as u16).collect();
        write_core(&full, &u16_array(&[20, 6, 50], values), &[3; 120]).unwrap();
        let bytes = std::fs::read(&full).unwrap();
        let bad = dir.path().join("bad-labeled.hdf5");
        // A fixed linear congruential sequence picks bytes in the metadata at both ends.
        let mut state = 12_345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        let mut errors = 0;
        for round in 0..300 {
            let mut b = bytes.clone();
            for _ in 0..1 + round % 3 {
                let offset = next() % 2048;
                let pos = if next() % 2 == 0 {
                    offset
                } else {
                    b.len() - 1 - offset
                };
                b[pos] = next() as u8;
            }
            std::fs::write(&bad, &b).unwrap();
            let read = open_core(&bad).and_then(|c| {
                let data = c.read_rows(0, c.rows)?;
                assert_eq!(data.len(), c.rows * c.cols * c.bands);
                c.read_labels(LabelKind::All)
            });
            if let Err(e) = read {
                errors += 1;
                assert!(e.to_string().contains("bad-labeled.hdf5"), "{e}");
            }
        }
        assert!(errors > 50, "only {errors} of 300 corruptions were noticed");
    }

    /// Bytes this thread has read through system calls so far (Linux), if known.
    fn bytes_read_by_this_thread() -> Option<u64> {
        let io = std::fs::read_to_string("/proc/thread-self/io").ok()?;
        io.lines()
            .find_map(|l| l.strip_prefix("rchar: "))?
            .trim()
            .parse()
            .ok()
    }

    #[test]
    fn a_row_window_reads_only_its_part_of_the_file() {
        let (rows, cols, bands) = (200, 64, 128);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big-labeled.hdf5");
        let values: Vec<u16> = (0..rows * cols * bands).map(|i| i as u16).collect();
        write_core(
            &path,
            &u16_array(&[rows, cols, bands], values),
            &vec![0; rows * cols],
        )
        .unwrap();
        let file_len = std::fs::metadata(&path).unwrap().len();
        let core = open_core(&path).unwrap();
        let Some(before) = bytes_read_by_this_thread() else {
            eprintln!("skipping: no per-thread I/O counters here");
            return;
        };
        core.read_rows(100, 10).unwrap();
        let read = bytes_read_by_this_thread().unwrap() - before;
        assert!(
            read < file_len / 2,
            "read {read} bytes of a {file_len}-byte file for 10 rows"
        );
        // The counter does see a whole read.
        let before = bytes_read_by_this_thread().unwrap();
        core.read_rows(0, rows).unwrap();
        assert!(bytes_read_by_this_thread().unwrap() - before >= file_len * 9 / 10);
    }
}
