//! Opening a scene from whatever the user points at: the reader is chosen by the file's
//! extension (and, for .mat, by its header), and an image and a label map are joined into one
//! [`Scene`] with their shapes checked.

use std::path::{Path, PathBuf};

use super::hdf5::LabelKind;
use super::{envi, hdf5, mat, mnist, npy};
use crate::data::array::{RawArray, Samples};
use crate::data::labels::LabelMap;
use crate::data::scene::Scene;
use crate::error::{Error, Result};

/// What to read: an image and optionally a separate label file.
#[derive(Debug, Clone)]
pub struct SceneSpec {
    pub image: PathBuf,
    pub labels: Option<PathBuf>,
    /// Variable name inside a .mat image.
    pub variable: Option<String>,
    /// Variable name inside a .mat label file.
    pub label_variable: Option<String>,
    /// Which drill-core labels to use (HDF5 corpora).
    pub label_kind: LabelKind,
}

impl SceneSpec {
    pub fn new(image: impl Into<PathBuf>) -> Self {
        SceneSpec { image: image.into(), labels: None, variable: None, label_variable: None, label_kind: LabelKind::Mineralogy }
    }

    pub fn with_labels(mut self, labels: impl Into<PathBuf>) -> Self {
        self.labels = Some(labels.into());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Npy,
    Mat,
    Envi,
    Hdf5,
    Idx,
}

fn format_of(path: &Path) -> Result<Format> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let ext = name.rsplit('.').next().unwrap_or("");
    Ok(match ext {
        "npy" => Format::Npy,
        "mat" => Format::Mat,
        "hdr" | "img" | "dat" | "raw" | "bsq" | "bil" | "bip" => Format::Envi,
        "h5" | "hdf5" | "he5" => Format::Hdf5,
        _ if name.contains("idx") || name.ends_with("ubyte") => Format::Idx,
        _ => {
            // ENVI data files often have no extension; their header sits beside them.
            if path.with_extension("hdr").exists() || PathBuf::from(format!("{}.hdr", path.display())).exists() {
                Format::Envi
            } else {
                return Err(Error::bad(
                    path,
                    "unknown file type: expected .npy, .mat, ENVI (.hdr + data), .h5/.hdf5 or MNIST idx",
                ));
            }
        }
    })
}

/// Reads one array from any supported file. For .mat, `variable` picks the array.
pub fn read_array(path: &Path, variable: Option<&str>) -> Result<RawArray> {
    if !path.exists() {
        return Err(Error::io(path, std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder")));
    }
    match format_of(path)? {
        Format::Npy => npy::read_npy(path),
        Format::Mat => {
            let mut head = [0u8; 1024];
            let n = {
                use std::io::Read;
                let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
                f.read(&mut head).map_err(|e| Error::io(path, e))?
            };
            if mat::is_mat73(&head[..n]) {
                hdf5::read_mat73(path, variable)
            } else {
                mat::read_mat(path, variable)
            }
        }
        Format::Envi => envi::read_envi(path).map(|(_, a)| a),
        Format::Hdf5 => hdf5::read_dataset(path, variable.unwrap_or("/hsimage/data")),
        Format::Idx => mnist::read_idx(path),
    }
}

/// Converts a label array to stored class values (0 = unlabelled), rejecting negative and
/// fractional values.
pub fn label_values(array: &RawArray, path: &Path) -> Result<Vec<u32>> {
    fn ints<T: Copy + Into<i128>>(v: &[T], path: &Path) -> Result<Vec<u32>> {
        v.iter()
            .map(|&x| {
                let x: i128 = x.into();
                u32::try_from(x).map_err(|_| Error::bad(path, format!("label value {x} is not a class number (0 = unlabelled, positive = class)")))
            })
            .collect()
    }
    fn floats(v: impl Iterator<Item = f64>, path: &Path) -> Result<Vec<u32>> {
        v.map(|x| {
            if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= u32::MAX as f64 {
                Ok(x as u32)
            } else {
                Err(Error::bad(path, format!("label value {x} is not a class number (0 = unlabelled, positive = class)")))
            }
        })
        .collect()
    }
    match &array.samples {
        Samples::U8(v) => ints(v, path),
        Samples::I8(v) => ints(v, path),
        Samples::U16(v) => ints(v, path),
        Samples::I16(v) => ints(v, path),
        Samples::U32(v) => ints(v, path),
        Samples::I32(v) => ints(v, path),
        Samples::U64(v) => ints(v, path),
        Samples::I64(v) => ints(v, path),
        Samples::F32(v) => floats(v.iter().map(|&x| x as f64), path),
        Samples::F64(v) => floats(v.iter().copied(), path),
    }
}

/// Reads a label map of the given size.
pub fn read_labels(path: &Path, variable: Option<&str>, height: usize, width: usize) -> Result<LabelMap> {
    let array = read_array(path, variable)?;
    let shape = &array.shape;
    let plane = match shape.as_slice() {
        [h, w] | [h, w, 1] => (*h, *w),
        other => return Err(Error::bad(path, format!("a label map must be 2-D, found shape {other:?}"))),
    };
    if plane != (height, width) {
        return Err(Error::bad(path, format!("label map is {} x {} but the image is {height} x {width}", plane.0, plane.1)));
    }
    let values = label_values(&array, path)?;
    let mut labels = LabelMap::from_values(height, width, &values).map_err(|e| Error::bad(path, e.to_string()))?;
    if format_of(path)? == Format::Envi {
        if let Ok((header, _)) = envi::read_envi(path) {
            if let Some(names) = header.class_names {
                // ENVI lists "Unclassified" first, for value 0.
                labels.name_by_stored_value(&names[1.min(names.len())..]);
            }
        }
    }
    Ok(labels)
}

/// Opens a scene: an image file (or a folder of drill-core HDF5 files) and its labels.
pub fn load_scene(spec: &SceneSpec) -> Result<Scene> {
    let image = &spec.image;
    if image.is_dir() {
        let files = hdf5::list_core_files(image)?;
        return hdf5::read_core_scene(&files, spec.label_kind);
    }
    if format_of(image)? == Format::Hdf5 && spec.variable.is_none() {
        return hdf5::read_core_scene(std::slice::from_ref(image), spec.label_kind);
    }
    let mut scene = if format_of(image)? == Format::Envi {
        let (header, array) = envi::read_envi(image)?;
        let mut s = Scene::from_array(&array, image)?;
        s.wavelengths = header.wavelength.map(|w| w.iter().map(|&v| v as f32).collect());
        s
    } else {
        Scene::from_array(&read_array(image, spec.variable.as_deref())?, image)?
    };
    if let Some(lp) = &spec.labels {
        let labels = read_labels(lp, spec.label_variable.as_deref(), scene.height, scene.width)?;
        scene = scene.with_labels(labels, lp)?;
    }
    Ok(scene)
}
