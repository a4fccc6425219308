//! The unlabelled pixels of one training epoch over a corpus: bands of rows drawn in a shuffled
//! order across all files until the epoch's count is reached, so that an epoch costs what it
//! visits, whatever the corpus's size. The order is fixed by the seed and the epoch, so a
//! resumed run draws what the uninterrupted one would have.

use std::ops::Range;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::inputs::PixelTransform;
use super::Corpus;
use crate::data::readers::hdf5::CoreFile;
use crate::error::Result;

/// Draws each epoch's unlabelled model inputs from a corpus.
#[derive(Debug, Clone)]
pub struct EpochDraw {
    files: Vec<CoreFile>,
    transform: PixelTransform,
    /// `(file, first row, rows)` of every band.
    bands: Vec<(usize, usize, usize)>,
    per_epoch: usize,
    seed: u64,
}

impl EpochDraw {
    /// `per_epoch` pixels an epoch (0, or more than the corpus holds: all of them) in bands of
    /// `chunk_rows` rows.
    pub fn new(corpus: &Corpus, transform: PixelTransform, chunk_rows: usize, per_epoch: usize, seed: u64) -> Self {
        let step = chunk_rows.max(1);
        let bands = corpus.files().iter().enumerate().flat_map(|(f, file)| (0..file.rows).step_by(step).map(move |r| (f, r, step.min(file.rows - r)))).collect();
        let n = corpus.n_pixels();
        let per_epoch = if per_epoch == 0 { n } else { per_epoch.min(n) };
        EpochDraw { files: corpus.files().to_vec(), transform, bands, per_epoch, seed }
    }

    /// Pixels every epoch gives.
    pub fn per_epoch(&self) -> usize {
        self.per_epoch
    }

    /// Values per pixel.
    pub fn dim(&self) -> usize {
        self.transform.dim()
    }

    /// The bands epoch `epoch` reads, in order: `(file, first row, rows)`.
    pub fn bands_of(&self, epoch: usize) -> Vec<(usize, usize, usize)> {
        let mut order = self.bands.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(epoch as u64 + 1);
        order.shuffle(&mut rng);
        let mut taken = 0;
        let cols = self.files.first().map_or(1, |f| f.cols);
        order
            .into_iter()
            .take_while(|b| {
                let before = taken;
                taken += b.2 * cols;
                before < self.per_epoch
            })
            .collect()
    }

    /// The model inputs of epoch `epoch`'s pixels, `per_epoch x dim`, row-major.
    pub fn rows(&self, epoch: usize) -> Result<Vec<f32>> {
        self.rows_in(epoch, 0..self.per_epoch)
    }

    /// Pixels `pixels` of [`EpochDraw::rows`] (`pixels.len() x dim`), reading only the bands
    /// that hold them: a part of an epoch too large to hold whole.
    pub fn rows_in(&self, epoch: usize, pixels: Range<usize>) -> Result<Vec<f32>> {
        let (dim, end) = (self.dim(), pixels.end.min(self.per_epoch));
        let cols = self.files.first().map_or(1, |f| f.cols);
        let mut out = Vec::with_capacity(end.saturating_sub(pixels.start) * dim);
        let mut band_start = 0;
        for (f, first, rows) in self.bands_of(epoch) {
            let band = band_start..band_start + rows * cols;
            band_start = band.end;
            if band.end <= pixels.start || band.start >= end {
                continue;
            }
            let values = self.transform.rows(&self.files[f], first..first + rows)?;
            let (from, to) = (pixels.start.max(band.start) - band.start, end.min(band.end) - band.start);
            out.extend_from_slice(&values[from * dim..to * dim]);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::corpus::synthetic::SyntheticCorpus;
    use crate::data::scaling::{Scaler, ScalingConfig, ScalingKind};

    #[test]
    fn an_epoch_visits_its_count_of_pixels_from_distinct_bands_and_repeats_for_the_same_epoch() {
        let dir = tempfile::tempdir().unwrap();
        SyntheticCorpus { files: 3, rows: 30, cols: 5, bands: 4, classes: 2, ..Default::default() }.write(dir.path()).unwrap();
        let corpus = Corpus::open(dir.path()).unwrap();
        // No scaling: the inputs are the stored values, so they can be traced to their pixels.
        let scaler = Scaler::fit(&ScalingConfig { kind: ScalingKind::None, ..Default::default() }, &[0.0; 4], 4).unwrap();
        let draw = EpochDraw::new(&corpus, PixelTransform { scaler, spatial: None }, 4, 42, 9);
        let a = draw.rows(3).unwrap();
        assert_eq!(a.len(), 42 * 4);
        assert_eq!(a, draw.rows(3).unwrap());
        assert_ne!(a, draw.rows(4).unwrap());
        // 42 pixels of 5-pixel rows in bands of 4 rows: 3 bands, each read whole from its file.
        let bands = draw.bands_of(3);
        assert_eq!(bands.len(), 3);
        let mut dedup = bands.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), 3);
        let (f, first, rows) = bands[0];
        let stored = corpus.files()[f].read_rows(first, rows).unwrap().samples.to_f32();
        assert_eq!(a[..stored.len()], stored[..]);
        // Over enough epochs every band is visited.
        let mut seen: Vec<_> = (0..60).flat_map(|e| draw.bands_of(e)).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 3 * 30usize.div_ceil(4));
        // Any part of the epoch is read alone as it lies in the whole.
        for part in [0..42, 0..1, 7..23, 19..20, 40..42, 20..20] {
            assert_eq!(draw.rows_in(3, part.clone()).unwrap(), a[part.start * 4..part.end * 4], "pixels {part:?}");
        }
        // Zero, or more than the corpus, is all of it.
        let all = EpochDraw::new(&corpus, draw.transform.clone(), 7, 0, 1);
        assert_eq!(all.per_epoch(), 3 * 30 * 5);
        assert_eq!(all.rows(0).unwrap().len(), 3 * 30 * 5 * 4);
    }
}
