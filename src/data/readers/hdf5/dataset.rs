//! Reading one numeric dataset of any HDF5 file.

use super::{guard, open_dataset, open_file, read_samples, shape_of};
use crate::data::array::RawArray;
use crate::error::Result;
use std::path::Path;

/// Reads the numeric dataset `name` (a path such as `/hsimage/data`) in its stored type and
/// row-major order. A missing dataset is an error that lists what its group holds.
pub fn read_dataset(path: &Path, name: &str) -> Result<RawArray> {
    guard(path, || {
        let file = open_file(path)?;
        let ds = open_dataset(&file, path, name)?;
        let (shape, count) = shape_of(&ds, path, name)?;
        let samples = read_samples(&ds, path, name, None, count)?;
        Ok(RawArray { shape, samples })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::array::Samples;
    use hdf5_pure::FileBuilder;

    fn write(dir: &Path, build: impl FnOnce(&mut FileBuilder)) -> std::path::PathBuf {
        let path = dir.join("t.h5");
        let mut b = FileBuilder::new();
        build(&mut b);
        b.write(&path).unwrap();
        path
    }

    #[test]
    fn reads_nested_dataset_in_stored_type_and_shape() {
        let dir = tempfile::tempdir().unwrap();
        let values: Vec<i16> = (0..24).map(|i| i * 3 - 30).collect();
        let path = write(dir.path(), |b| {
            let mut g = b.create_group("grp");
            g.create_dataset("x")
                .with_i16_data(&values)
                .with_shape(&[2, 3, 4]);
            b.add_group(g.finish());
        });
        let a = read_dataset(&path, "/grp/x").unwrap();
        assert_eq!(a.shape, vec![2, 3, 4]);
        assert_eq!(a.samples, Samples::I16(values.clone()));
        // The leading slash is optional.
        assert_eq!(read_dataset(&path, "grp/x").unwrap(), a);
    }

    #[test]
    fn reads_floats_and_chunked_layouts() {
        let dir = tempfile::tempdir().unwrap();
        let values: Vec<f64> = (0..50).map(|i| i as f64 / 7.0).collect();
        let path = write(dir.path(), |b| {
            b.create_dataset("f")
                .with_f64_data(&values)
                .with_shape(&[10, 5])
                .with_chunks(&[3, 5]);
        });
        let a = read_dataset(&path, "f").unwrap();
        assert_eq!(a.shape, vec![10, 5]);
        assert_eq!(a.samples, Samples::F64(values));
    }

    #[test]
    fn missing_dataset_lists_what_the_group_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), |b| {
            let mut g = b.create_group("hsimage");
            g.create_dataset("data").with_u16_data(&[1, 2]);
            b.add_group(g.finish());
            b.create_dataset("top").with_u8_data(&[1]);
        });
        let msg = read_dataset(&path, "/hsimage/labels")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("t.h5"), "{msg}");
        assert!(msg.contains("/hsimage/labels"), "{msg}");
        assert!(msg.contains("datasets [data]"), "{msg}");
        // A missing group falls back to what the root holds.
        let msg = read_dataset(&path, "/nothing/here")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("top") && msg.contains("hsimage"), "{msg}");
    }

    #[test]
    fn strings_are_not_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), |b| {
            b.create_dataset("s").with_vlen_strings(&["a", "b"]);
        });
        let msg = read_dataset(&path, "s").unwrap_err().to_string();
        assert!(msg.contains("not numbers"), "{msg}");
    }

    #[test]
    fn not_hdf5_and_missing_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.h5");
        std::fs::write(&text, "just some text, not HDF5").unwrap();
        let msg = read_dataset(&text, "x").unwrap_err().to_string();
        assert!(
            msg.contains("notes.h5") && msg.contains("not an HDF5 file"),
            "{msg}"
        );
        let empty = dir.path().join("empty.h5");
        std::fs::write(&empty, b"").unwrap();
        assert!(read_dataset(&empty, "x").is_err());
        let missing = dir.path().join("absent.h5");
        let msg = read_dataset(&missing, "x").unwrap_err().to_string();
        assert!(msg.contains("absent.h5"), "{msg}");
    }
}
