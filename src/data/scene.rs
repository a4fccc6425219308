//! A hyperspectral scene in memory: height x width pixels of `bands` values, with optional band
//! wavelengths and an optional label map.

use super::array::{DType, RawArray};
use super::labels::LabelMap;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Scene {
    pub height: usize,
    pub width: usize,
    pub bands: usize,
    /// Pixel-major values: pixel `i` (row-major) holds `pixels[i*bands..(i+1)*bands]`.
    pub pixels: Vec<f32>,
    /// Element type in the file the values came from.
    pub dtype: DType,
    /// Band centre wavelengths (nm) when the file gives them.
    pub wavelengths: Option<Vec<f32>>,
    pub labels: Option<LabelMap>,
    /// Where the image came from, for messages and reports.
    pub source: PathBuf,
}

impl Scene {
    /// Builds a scene from a height x width x bands array (band-last, as .npy and .mat scenes are).
    pub fn from_array(array: &RawArray, source: &Path) -> Result<Self> {
        let (height, width, bands) = match array.shape.as_slice() {
            [h, w, b] => (*h, *w, *b),
            // A 2-D array is a list of pixels: n x bands.
            [n, b] => (*n, 1, *b),
            other => {
                return Err(Error::bad(
                    source,
                    format!("expected an image of height x width x bands, found shape {other:?}"),
                ))
            }
        };
        if height * width * bands == 0 {
            return Err(Error::bad(source, format!("empty image of shape {:?}", array.shape)));
        }
        Ok(Scene {
            height,
            width,
            bands,
            pixels: array.samples.to_f32(),
            dtype: array.dtype(),
            wavelengths: None,
            labels: None,
            source: source.to_path_buf(),
        })
    }

    pub fn n_pixels(&self) -> usize {
        self.height * self.width
    }

    pub fn pixel(&self, i: usize) -> &[f32] {
        &self.pixels[i * self.bands..(i + 1) * self.bands]
    }

    /// Attaches a label map, checking that its shape is the image's.
    pub fn with_labels(mut self, labels: LabelMap, labels_path: &Path) -> Result<Self> {
        if (labels.height, labels.width) != (self.height, self.width) {
            return Err(Error::bad(
                labels_path,
                format!(
                    "label map is {} x {} but the image {} is {} x {}",
                    labels.height,
                    labels.width,
                    self.source.display(),
                    self.height,
                    self.width
                ),
            ));
        }
        self.labels = Some(labels);
        Ok(self)
    }

    /// Number of values that are NaN or infinite.
    pub fn count_non_finite(&self) -> usize {
        self.pixels.iter().filter(|v| !v.is_finite()).count()
    }

    /// Fails, naming the file, when any value is NaN or infinite.
    pub fn check_finite(&self) -> Result<()> {
        let bad = self.count_non_finite();
        if bad > 0 {
            let first = self.pixels.iter().position(|v| !v.is_finite()).unwrap();
            return Err(Error::bad(
                &self.source,
                format!(
                    "{bad} values are NaN or infinite (first at pixel {}, band {}); \
                     mask or repair them before training",
                    first / self.bands,
                    first % self.bands
                ),
            ));
        }
        Ok(())
    }

    /// Copies the given pixels into one contiguous row-major n x bands buffer.
    pub fn gather(&self, indices: &[usize]) -> Vec<f32> {
        let mut out = Vec::with_capacity(indices.len() * self.bands);
        for &i in indices {
            out.extend_from_slice(self.pixel(i));
        }
        out
    }
}
