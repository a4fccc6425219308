//! MATLAB v7.3 `.mat` files: HDF5 behind a 512-byte userblock, one root dataset per variable.
//!
//! MATLAB stores arrays column-major and writes the HDF5 dimensions reversed, so an array of
//! MATLAB size `[a, b, c]` is an HDF5 dataset of shape `[c, b, a]`. Reading it row-major and
//! reversing the axes gives back MATLAB's shape.

use super::{guard, h5_error, numeric_type, open_dataset, open_file, read_samples, shape_of};
use crate::data::array::{fortran_to_c, RawArray, Samples};
use crate::error::{Error, Result};
use hdf5_pure::{Dataset, File};
use std::path::Path;

/// Reads a numeric variable of a MATLAB v7.3 file as a row-major array whose shape is MATLAB's
/// `size()`. Without a name, the file must hold exactly one numeric variable.
pub fn read_mat73(path: &Path, variable: Option<&str>) -> Result<RawArray> {
    guard(path, || {
        let file = open_file(path)?;
        let name = match variable {
            Some(name) => name.to_string(),
            None => only_numeric_variable(&file, path)?,
        };
        let ds = open_dataset(&file, path, &name)?;
        match matlab_class(&ds).as_deref() {
            Some("char") => {
                return Err(Error::bad(
                    path,
                    format!("variable '{name}' is text, not numbers"),
                ))
            }
            Some("cell") | Some("struct") => {
                return Err(Error::bad(
                    path,
                    format!("variable '{name}' is not a numeric array"),
                ))
            }
            _ => {}
        }
        if is_empty(&ds) {
            return Err(Error::bad(
                path,
                format!("variable '{name}' is an empty array"),
            ));
        }
        let (stored_shape, count) = shape_of(&ds, path, &name)?;
        let samples = read_samples(&ds, path, &name, None, count)?;
        let shape: Vec<usize> = stored_shape.iter().rev().copied().collect();
        Ok(RawArray {
            samples: column_major_to_row_major(&samples, &shape),
            shape,
        })
    })
}

/// The one root dataset holding numbers; errors list the variables when there are none or
/// several.
fn only_numeric_variable(file: &File, path: &Path) -> Result<String> {
    let names = file
        .root()
        .datasets()
        .map_err(|e| h5_error(path, "cannot list the variables", e))?;
    let mut numeric = Vec::new();
    for name in &names {
        let ds = open_dataset(file, path, name)?;
        let is_text = matlab_class(&ds).as_deref() == Some("char");
        if numeric_type(&ds, path, name)?.is_some() && !is_text && !is_empty(&ds) {
            numeric.push(name.clone());
        }
    }
    match numeric.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::bad(
            path,
            format!(
                "no numeric variable found (variables: [{}])",
                names.join(", ")
            ),
        )),
        several => Err(Error::bad(
            path,
            format!(
                "several numeric variables ({}); name the one to read",
                several.join(", ")
            ),
        )),
    }
}

/// The `MATLAB_class` attribute (`double`, `uint8`, `char`, ...), when present.
fn matlab_class(ds: &Dataset) -> Option<String> {
    ds.attrs()
        .ok()?
        .get("MATLAB_class")?
        .as_str()
        .map(str::to_string)
}

/// MATLAB writes an empty array as its dimensions plus a `MATLAB_empty` flag.
fn is_empty(ds: &Dataset) -> bool {
    ds.attrs()
        .ok()
        .and_then(|a| a.get("MATLAB_empty").and_then(|v| v.as_u64()))
        .is_some_and(|flag| flag != 0)
}

fn column_major_to_row_major(samples: &Samples, shape: &[usize]) -> Samples {
    match samples {
        Samples::U8(v) => Samples::U8(fortran_to_c(v, shape)),
        Samples::I8(v) => Samples::I8(fortran_to_c(v, shape)),
        Samples::U16(v) => Samples::U16(fortran_to_c(v, shape)),
        Samples::I16(v) => Samples::I16(fortran_to_c(v, shape)),
        Samples::U32(v) => Samples::U32(fortran_to_c(v, shape)),
        Samples::I32(v) => Samples::I32(fortran_to_c(v, shape)),
        Samples::U64(v) => Samples::U64(fortran_to_c(v, shape)),
        Samples::I64(v) => Samples::I64(fortran_to_c(v, shape)),
        Samples::F32(v) => Samples::F32(fortran_to_c(v, shape)),
        Samples::F64(v) => Samples::F64(fortran_to_c(v, shape)),
    }
}

#[cfg(test)]
mod tests {
    use crate::data::testdata;
    use super::*;
    use hdf5_pure::mat::{userblock, MatBuilder, Options};
    use hdf5_pure::{AttrValue, FileBuilder};

    /// Column-major copy of a row-major `rows x cols` matrix: what MATLAB keeps in memory.
    fn transpose<T: Copy>(v: &[T], rows: usize, cols: usize) -> Vec<T> {
        (0..cols)
            .flat_map(|c| (0..rows).map(move |r| v[r * cols + c]))
            .collect()
    }

    #[test]
    fn indian_pines_ground_truth_round_trips_through_a_matlab_layout() {
        let Some(gt) = testdata::indian_pines_gt() else {
            return;
        };
        let (h, w) = (145, 145);
        // What MATLAB writes: the column-major buffer, dimensions reversed, behind the
        // MATLAB userblock.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("indian_pines_gt.mat");
        let mut b = FileBuilder::new();
        b.with_userblock(userblock::USERBLOCK_SIZE);
        b.with_userblock_content(&userblock::header_block(userblock::DEFAULT_DESCRIPTION));
        b.create_dataset("indian_pines_gt")
            .with_u8_data(&transpose(&gt, h, w))
            .with_shape(&[w as u64, h as u64])
            .set_attr("MATLAB_class", AttrValue::AsciiString("uint8".into()));
        b.write(&path).unwrap();
        assert_eq!(&std::fs::read(&path).unwrap()[..6], b"MATLAB");

        let a = read_mat73(&path, None).unwrap();
        assert_eq!(a.shape, vec![h, w]);
        assert_eq!(a.samples, Samples::U8(gt.clone()));
        assert_eq!(read_mat73(&path, Some("indian_pines_gt")).unwrap(), a);
    }

    #[test]
    fn non_square_arrays_get_matlab_shape_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.mat");
        // MATLAB's A = reshape(1:24, 2, 3, 4): A(i,j,k) = 1 + i + 2j + 6k (0-based).
        let column_major: Vec<f64> = (1..=24).map(f64::from).collect();
        let mut mb = MatBuilder::new(Options::default());
        mb.write_f64("A", &[2, 3, 4], &column_major).unwrap();
        mb.write_char("note", "text is skipped").unwrap();
        mb.write(&path).unwrap();

        let a = read_mat73(&path, None).unwrap();
        assert_eq!(a.shape, vec![2, 3, 4]);
        let Samples::F64(v) = &a.samples else {
            panic!("expected f64, got {:?}", a.dtype())
        };
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    assert_eq!(v[i * 12 + j * 4 + k], (1 + i + 2 * j + 6 * k) as f64);
                }
            }
        }
    }

    #[test]
    fn several_or_no_numeric_variables_need_a_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("two.mat");
        let mut mb = MatBuilder::new(Options::default());
        mb.write_u8("x", &[1, 2], &[1, 2]).unwrap();
        mb.write_i32("y", &[1, 1], &[7]).unwrap();
        mb.write(&path).unwrap();
        let msg = read_mat73(&path, None).unwrap_err().to_string();
        assert!(msg.contains("two.mat") && msg.contains("x, y"), "{msg}");
        let y = read_mat73(&path, Some("y")).unwrap();
        assert_eq!((y.shape, y.samples), (vec![1, 1], Samples::I32(vec![7])));
        let msg = read_mat73(&path, Some("z")).unwrap_err().to_string();
        assert!(msg.contains("'/z'") && msg.contains("x, y"), "{msg}");

        let path = dir.path().join("text.mat");
        let mut mb = MatBuilder::new(Options::default());
        mb.write_char("s", "hello").unwrap();
        mb.write(&path).unwrap();
        let msg = read_mat73(&path, None).unwrap_err().to_string();
        assert!(msg.contains("no numeric variable"), "{msg}");
        let msg = read_mat73(&path, Some("s")).unwrap_err().to_string();
        assert!(msg.contains("text"), "{msg}");
    }
}
