//! ENVI classification images: one byte per pixel, 0 = unclassified, with class names and
//! colours in the header, as ENVI and Spectral Python expect them.

use std::path::Path;

use super::files::write_envi;
use super::header::EnviHeader;
use crate::data::array::{DType, RawArray, Samples};
use crate::error::{Error, Result};

/// A `lines x samples` classification map: `labels` row-major, 0 = unclassified and `k` =
/// `class_names[k - 1]`, with one colour per class name.
#[derive(Debug, Clone, Copy)]
pub struct Classification<'a> {
    pub labels: &'a [u8],
    pub lines: usize,
    pub samples: usize,
    pub class_names: &'a [String],
    pub colours: &'a [[u8; 3]],
}

/// Writes a classification map to `data_path` and its `.hdr`. `Unclassified` (black) is added
/// in front of the names and colours, so the header has `classes = class_names.len() + 1`.
pub fn write_classification(data_path: &Path, map: &Classification) -> Result<()> {
    let Classification { labels, lines, samples, class_names, colours } = *map;
    let refuse = |msg: String| Error::invalid(format!("{}: {msg}", data_path.display()));
    let pixels = lines.checked_mul(samples);
    if pixels != Some(labels.len()) {
        return Err(refuse(format!(
            "{} labels for a {lines} x {samples} image",
            labels.len()
        )));
    }
    if colours.len() != class_names.len() {
        return Err(refuse(format!(
            "{} colours for {} classes",
            colours.len(),
            class_names.len()
        )));
    }
    if class_names.len() > 255 {
        return Err(refuse(format!(
            "{} classes do not fit in one byte per pixel",
            class_names.len()
        )));
    }
    if let Some((i, &k)) = labels
        .iter()
        .enumerate()
        .find(|(_, &k)| k as usize > class_names.len())
    {
        return Err(refuse(format!(
            "pixel {i} has label {k} but there are only {} classes",
            class_names.len()
        )));
    }

    let mut header = EnviHeader::new(lines, samples, 1, DType::U8);
    header.file_type = Some("ENVI Classification".into());
    header.classes = Some(class_names.len() + 1);
    header.class_names = Some(
        std::iter::once("Unclassified".to_string())
            .chain(class_names.iter().cloned())
            .collect(),
    );
    header.class_lookup = Some(
        std::iter::once([0, 0, 0])
            .chain(colours.iter().copied())
            .collect(),
    );
    header.band_names = Some(vec!["Classification".into()]);
    let array = RawArray::new(vec![lines, samples, 1], Samples::U8(labels.to_vec()));
    write_envi(data_path, &header, &array)
}
