//! Synthetic drill cores in the seed layout, for tests and benchmarks of corpus-sized runs.
//!
//! Each file is a core of `rows` x `cols` pixels: layers of a few dozen to a few hundred rows
//! (depth bands), each of one mineral class, one class (`1`) taking most layers. A class's
//! pixels share a smooth spectrum with an absorption dip of its own, scaled by a brightness that
//! varies slowly along the core's width, plus sensor noise. A small share of the pixels is
//! labelled: the mineral class (1 to `classes`) and a lithology label (101 and up, one per group
//! of layers) mixed in, as the seed files have both kinds.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::path::{Path, PathBuf};

use crate::data::array::{RawArray, Samples};
use crate::data::readers::hdf5::write_core;
use crate::error::{Error, Result};

/// The shape and make-up of a generated corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticCorpus {
    pub files: usize,
    pub rows: usize,
    pub cols: usize,
    pub bands: usize,
    /// Mineral classes (label values 1 to `classes`).
    pub classes: usize,
    /// Share of the layers (and so of the labels) that belong to class 1.
    pub dominant_share: f64,
    /// Share of the pixels that carry a label.
    pub labelled_share: f64,
    /// Standard deviation of the sensor noise, in stored units.
    pub noise: f64,
    /// Thinnest and thickest layer, in rows (the thickness is drawn below the second).
    pub layer_rows: (usize, usize),
    pub seed: u64,
}

impl Default for SyntheticCorpus {
    /// Four cores of the seed layout's width and bands, 500 rows each, 10 classes.
    fn default() -> Self {
        SyntheticCorpus { files: 4, rows: 500, cols: 384, bands: 268, classes: 10, dominant_share: 0.8, labelled_share: 0.02, noise: 250.0, layer_rows: (20, 200), seed: 0 }
    }
}

/// A class's mean spectrum: a smooth curve with its own absorption dip.
fn class_spectrum(class: usize, bands: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let (tilt, phase) = (rng.random_range(-0.5..0.5), rng.random_range(0.0..std::f64::consts::TAU));
    let dip_centre = rng.random_range(0.15..0.85) * bands as f64;
    let dip_width = rng.random_range(0.02..0.06) * bands as f64;
    let dip_depth = rng.random_range(0.08..0.2);
    (0..bands)
        .map(|b| {
            let t = b as f64 / bands.max(1) as f64;
            let base = 1.0 + tilt * (t - 0.5) + 0.05 * (6.0 * t + phase + class as f64).sin();
            let dip = dip_depth * (-((b as f64 - dip_centre) / dip_width).powi(2)).exp();
            12_000.0 * base * (1.0 - dip)
        })
        .collect()
}

impl SyntheticCorpus {
    /// Refuses shapes that cannot make a corpus, naming the setting.
    pub fn check(&self) -> Result<()> {
        for (name, v) in [("files", self.files), ("rows", self.rows), ("cols", self.cols), ("bands", self.bands), ("classes", self.classes)] {
            if v == 0 {
                return Err(Error::invalid(format!("synthetic corpus: {name} must be at least 1")));
            }
        }
        if self.layer_rows.0 == 0 || self.layer_rows.0 >= self.layer_rows.1 {
            return Err(Error::invalid(format!("synthetic corpus: layer_rows must be (min, max) with 0 < min < max, not {:?}", self.layer_rows)));
        }
        for (name, v) in [("dominant_share", self.dominant_share), ("labelled_share", self.labelled_share)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::invalid(format!("synthetic corpus: {name} must lie in [0, 1], not {v}")));
            }
        }
        Ok(())
    }

    /// The pixels (rows x cols x bands, uint16) and labels of file `index`.
    pub fn core(&self, index: usize) -> Result<(RawArray, Vec<u32>)> {
        self.check()?;
        let spectra: Vec<Vec<f64>> = {
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            (0..self.classes).map(|k| class_spectrum(k, self.bands, &mut rng)).collect()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(index as u64 + 1);
        let noise = Normal::new(0.0, self.noise.max(0.0)).map_err(|e| Error::invalid(format!("synthetic corpus: noise: {e}")))?;
        let (rows, cols, bands) = (self.rows, self.cols, self.bands);
        let brightness: Vec<f64> = (0..cols).map(|c| 0.92 + 0.08 * (c as f64 / cols as f64 * 3.0 + index as f64).sin()).collect();
        let mut values = Vec::with_capacity(rows * cols * bands);
        let mut labels = Vec::with_capacity(rows * cols);
        let mut row = 0;
        let mut layer = 0usize;
        while row < rows {
            let thick = rng.random_range(self.layer_rows.0..self.layer_rows.1).min(rows - row);
            let class = if self.classes == 1 || rng.random_bool(self.dominant_share) { 0 } else { rng.random_range(1..self.classes) };
            let lithology = 101 + (layer / 3) as u32 % 20;
            for _ in 0..thick {
                for &light in &brightness {
                    values.extend(spectra[class].iter().map(|&m| (m * light + noise.sample(&mut rng)).clamp(0.0, 65_535.0) as u16));
                    labels.push(match rng.random_bool(self.labelled_share) {
                        false => 0,
                        // One labelled pixel in eight carries its lithology instead.
                        true if rng.random_bool(0.125) => lithology,
                        true => class as u32 + 1,
                    });
                }
            }
            row += thick;
            layer += 1;
        }
        Ok((RawArray::new(vec![rows, cols, bands], Samples::U16(values)), labels))
    }

    /// Writes `core000-labeled.hdf5`, `core001-labeled.hdf5`, ... into `dir` (created if
    /// needed), one file in memory at a time; returns their paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        self.check()?;
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        (0..self.files)
            .map(|i| {
                let path = dir.join(format!("core{i:03}-labeled.hdf5"));
                let (data, labels) = self.core(i)?;
                write_core(&path, &data, &labels)?;
                Ok(path)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::corpus::Corpus;
    use crate::data::readers::hdf5::LabelKind;

    #[test]
    fn a_generated_corpus_reads_back_with_its_layers_and_labels() {
        let dir = tempfile::tempdir().unwrap();
        let spec = SyntheticCorpus { files: 2, rows: 300, cols: 12, bands: 20, classes: 4, ..Default::default() };
        let paths = spec.write(dir.path()).unwrap();
        assert_eq!(paths.len(), 2);
        let corpus = Corpus::open(dir.path()).unwrap();
        assert_eq!((corpus.n_pixels(), corpus.cols(), corpus.bands()), (600 * 12, 12, 20));
        let (data, labels) = spec.core(1).unwrap();
        assert_eq!(corpus.files()[1].read_rows(0, 300).unwrap(), data);
        assert_eq!(corpus.files()[1].read_labels(LabelKind::All).unwrap(), labels);
        // Sparse labels of both kinds; mineral labels are the classes.
        let labelled = labels.iter().filter(|&&l| l > 0).count();
        assert!(labelled > 0 && labelled < labels.len() / 10, "{labelled} labelled");
        assert!(labels.iter().any(|&l| l > 100) && labels.iter().all(|&l| l <= 4 || l > 100));
        // Every pixel of a row has the row's class: labelled pixels of one row agree.
        for r in 0..300 {
            let mut minerals: Vec<u32> = labels[r * 12..(r + 1) * 12].iter().copied().filter(|&l| (1..100).contains(&l)).collect();
            minerals.dedup();
            assert!(minerals.len() <= 1, "row {r}: {minerals:?}");
        }
        // The same settings give the same files.
        assert_eq!(spec.core(1).unwrap().1, labels);
    }
}
