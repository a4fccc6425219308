//! What the models see of a corpus's pixels, read from disk a band of rows at a time: the
//! stored scaling, then the spatial features when the run has them. And the two transforms
//! fitted without holding the corpus: the scaling in one pass, the spatial features on evenly
//! spaced bands of rows.

use rayon::prelude::*;
use std::ops::Range;

use super::Corpus;
use crate::data::readers::hdf5::CoreFile;
use crate::data::scaling::{Scaler, ScalerFitter, ScalingConfig};
use crate::data::spatial::pca::Pca;
use crate::data::spatial::{ProjectedBlock, SpatialConfig, SpatialFeatures};
use crate::error::{Error, Result};

/// Rows the central part of one fitting block spans.
const FIT_BLOCK_ROWS: usize = 8;

/// The fitted transforms from stored pixels to model inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelTransform {
    pub scaler: Scaler,
    pub spatial: Option<SpatialFeatures>,
}

impl PixelTransform {
    /// Values per pixel the models take.
    pub fn dim(&self) -> usize {
        self.spatial.as_ref().map_or(self.scaler.bands(), SpatialFeatures::dim)
    }

    /// Rows on each side of a pixel that its inputs read.
    pub fn halo(&self) -> usize {
        self.spatial.as_ref().map_or(0, SpatialFeatures::halo)
    }

    /// Fails, naming the file, unless its pixels have the bands the transforms were fitted on.
    pub fn check_file(&self, file: &CoreFile) -> Result<()> {
        self.scaler.check_bands(file.bands).map_err(|e| Error::bad(&file.path, format!("{e}: not the sensor this model was trained on")))
    }

    /// Rows `rows` of `file` and the rows their windows reach, scaled; returns them with the
    /// rows read.
    fn scaled_around(&self, file: &CoreFile, rows: &Range<usize>) -> Result<(Vec<f32>, Range<usize>)> {
        if rows.end > file.rows || rows.is_empty() {
            return Err(Error::bad(&file.path, format!("rows {rows:?} of a core of {} rows", file.rows)));
        }
        let read = rows.start.saturating_sub(self.halo())..(rows.end + self.halo()).min(file.rows);
        let raw = file.read_rows(read.start, read.len())?;
        let pixels = raw.samples.to_f32();
        if let Some(i) = pixels.iter().position(|v| !v.is_finite()) {
            return Err(Error::bad(&file.path, format!("value {i} of rows {read:?} is {}", pixels[i])));
        }
        Ok((self.scaler.transformed(&pixels)?, read))
    }

    /// Inputs of every pixel of `rows` of `file`, row-major (`rows.len() * cols x dim`).
    pub fn rows(&self, file: &CoreFile, rows: Range<usize>) -> Result<Vec<f32>> {
        self.check_file(file)?;
        let (scaled, read) = self.scaled_around(file, &rows)?;
        let Some(spatial) = &self.spatial else { return Ok(scaled) };
        let projected = spatial.project(&scaled);
        Ok(spatial.features_parallel(&projected, read.len(), file.cols, rows.start - read.start..rows.end - read.start))
    }

    /// Inputs of the pixels of `file` at `(row, col)` positions, in their order (`at.len() x
    /// dim`). The rows between the first and last asked for are read at once.
    pub fn pixels(&self, file: &CoreFile, at: &[(usize, usize)]) -> Result<Vec<f32>> {
        self.check_file(file)?;
        let Some(first) = at.iter().map(|p| p.0).min() else { return Ok(Vec::new()) };
        let last = at.iter().map(|p| p.0).max().unwrap_or(first);
        if let Some(&(r, c)) = at.iter().find(|&&(r, c)| r >= file.rows || c >= file.cols) {
            return Err(Error::bad(&file.path, format!("pixel ({r}, {c}) lies outside a core of {} x {}", file.rows, file.cols)));
        }
        let (scaled, read) = self.scaled_around(file, &(first..last + 1))?;
        let local: Vec<(usize, usize)> = at.iter().map(|&(r, c)| (r - read.start, c)).collect();
        match &self.spatial {
            None => {
                let bands = self.scaler.bands();
                Ok(local.iter().flat_map(|&(r, c)| scaled[(r * file.cols + c) * bands..(r * file.cols + c + 1) * bands].iter().copied()).collect())
            }
            Some(spatial) => {
                let projected = spatial.project(&scaled);
                let parts: Vec<&[(usize, usize)]> = local.chunks(256).collect();
                Ok(parts.into_par_iter().map(|p| spatial.features_at(&projected, read.len(), file.cols, p)).collect::<Vec<_>>().concat())
            }
        }
    }
}

/// The scaling fitted on every pixel of the corpus, read `rows_per_read` rows at a time, file
/// by file in order: the scaler [`Scaler::fit`] gives on the files stacked in memory.
pub fn fit_scaler(corpus: &Corpus, config: &ScalingConfig, rows_per_read: usize) -> Result<Scaler> {
    let mut fitter = ScalerFitter::new(config.clone(), corpus.bands())?;
    for file in corpus.files() {
        for start in (0..file.rows).step_by(rows_per_read.max(1)) {
            let count = rows_per_read.max(1).min(file.rows - start);
            fitter.update(&file.read_rows(start, count)?.samples.to_f32())?;
        }
    }
    fitter.finish()
}

/// Bands of `FIT_BLOCK_ROWS` rows, evenly spaced over the corpus, that hold about
/// `max_pixels` pixels together; every row of every file when the corpus is no larger.
fn fit_blocks(corpus: &Corpus, max_pixels: usize) -> Vec<(usize, Range<usize>)> {
    let total_rows: usize = corpus.files().iter().map(|f| f.rows).sum();
    let wanted_rows = max_pixels.div_ceil(corpus.cols().max(1));
    if total_rows <= wanted_rows {
        return corpus.files().iter().enumerate().map(|(i, f)| (i, 0..f.rows)).collect();
    }
    let n_blocks = wanted_rows.div_ceil(FIT_BLOCK_ROWS).max(1);
    let starts: Vec<usize> = corpus.files().iter().scan(0, |acc, f| Some(std::mem::replace(acc, *acc + f.rows))).collect();
    let mut blocks: Vec<(usize, Range<usize>)> = (0..n_blocks)
        .map(|k| {
            let global = k * total_rows / n_blocks;
            let file = starts.partition_point(|&s| s <= global) - 1;
            let rows = corpus.files()[file].rows;
            let first = (global - starts[file]).min(rows.saturating_sub(FIT_BLOCK_ROWS));
            (file, first..(first + FIT_BLOCK_ROWS).min(rows))
        })
        .collect();
    blocks.dedup();
    blocks
}

/// Spatial features fitted on evenly spaced bands of rows of the corpus holding about
/// `config.max_fit_pixels` pixels (the whole corpus when it is no larger): the projection on
/// their pixels, the distance threshold and standardisation on their features, each band read
/// with the rows its windows reach. On one file no larger than that, the fit
/// [`SpatialFeatures::fit`] gives in memory.
pub fn fit_spatial(corpus: &Corpus, scaler: &Scaler, config: &SpatialConfig) -> Result<SpatialFeatures> {
    config.check()?;
    let blocks = fit_blocks(corpus, config.max_fit_pixels);
    let plain = PixelTransform { scaler: scaler.clone(), spatial: None };
    let mut sample = Vec::new();
    for (file, rows) in &blocks {
        sample.extend(plain.rows(&corpus.files()[*file], rows.clone())?);
    }
    let pca = Pca::fit(&sample, corpus.bands(), config.components)?;
    drop(sample);
    let halo = config.halo();
    let mut projected = Vec::with_capacity(blocks.len());
    for (file, rows) in &blocks {
        let f = &corpus.files()[*file];
        let read = rows.start.saturating_sub(halo)..(rows.end + halo).min(f.rows);
        let scaled = plain.rows(f, read.clone())?;
        projected.push((pca.project(&scaled), read.len(), rows.start - read.start..rows.end - read.start));
    }
    let views: Vec<ProjectedBlock> = projected.iter().map(|(values, height, rows)| ProjectedBlock { values, height: *height, width: corpus.cols(), rows: rows.clone() }).collect();
    SpatialFeatures::fit_on_blocks(config, pca, &views)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::corpus::synthetic::SyntheticCorpus;
    use crate::data::readers::hdf5::{read_core_scene, LabelKind};

    fn small_corpus(files: usize, rows: usize) -> (tempfile::TempDir, Corpus) {
        let dir = tempfile::tempdir().unwrap();
        SyntheticCorpus { files, rows, cols: 9, bands: 12, classes: 3, ..Default::default() }.write(dir.path()).unwrap();
        let corpus = Corpus::open(dir.path()).unwrap();
        (dir, corpus)
    }

    fn small_spatial() -> SpatialConfig {
        SpatialConfig { components: 4, box_windows: vec![3], edge_radii: vec![1, 2], edge_threshold: 4.0, max_fit_pixels: 100_000, ..Default::default() }
    }

    #[test]
    fn the_streamed_scaling_equals_the_one_fitted_in_memory() {
        let (dir, corpus) = small_corpus(3, 50);
        let paths = crate::data::readers::hdf5::list_core_files(dir.path()).unwrap();
        let scene = read_core_scene(&paths, LabelKind::All).unwrap();
        for config in [ScalingConfig::default(), ScalingConfig { kind: crate::data::scaling::ScalingKind::Standardize, ..Default::default() }] {
            let in_memory = Scaler::fit(&config, &scene.pixels, scene.bands).unwrap();
            for rows in [1, 7, 50] {
                assert_eq!(fit_scaler(&corpus, &config, rows).unwrap(), in_memory, "{config:?}, {rows} rows a read");
            }
        }
    }

    #[test]
    fn on_one_small_file_the_streamed_spatial_fit_is_the_in_memory_fit_and_bands_give_its_features() {
        let (_dir, corpus) = small_corpus(1, 40);
        let scaler = fit_scaler(&corpus, &ScalingConfig::default(), 16).unwrap();
        let file = &corpus.files()[0];
        let scaled = scaler.transformed(&file.read_rows(0, 40).unwrap().samples.to_f32()).unwrap();
        let in_memory = SpatialFeatures::fit(&small_spatial(), &scaled, 40, 9, 12).unwrap();
        let streamed = fit_spatial(&corpus, &scaler, &small_spatial()).unwrap();
        assert_eq!(streamed, in_memory);
        let whole = in_memory.transform(&scaled, 40, 9).unwrap();
        let t = PixelTransform { scaler, spatial: Some(streamed) };
        let d = t.dim();
        // Any band of rows, read with its halo, gives the features of the whole file.
        for rows in [0..1, 3..20, 38..40, 0..40] {
            assert_eq!(t.rows(file, rows.clone()).unwrap(), whole[rows.start * 9 * d..rows.end * 9 * d].to_vec(), "rows {rows:?}");
        }
        let at = [(39, 8), (0, 0), (17, 4), (17, 5)];
        let got = t.pixels(file, &at).unwrap();
        for (i, &(r, c)) in at.iter().enumerate() {
            assert_eq!(got[i * d..(i + 1) * d], whole[(r * 9 + c) * d..(r * 9 + c + 1) * d]);
        }
        assert!(t.pixels(file, &[(40, 0)]).unwrap_err().to_string().contains("outside"));
    }

    #[test]
    fn a_large_corpus_is_fitted_on_evenly_spaced_bands() {
        let (_dir, corpus) = small_corpus(3, 60);
        // 180 rows of 9 pixels; 300 pixels are 34 rows, so 5 bands of 8 rows.
        let blocks = fit_blocks(&corpus, 300);
        assert_eq!(blocks.len(), 5);
        assert!(blocks.iter().all(|(f, r)| *f < 3 && r.len() == FIT_BLOCK_ROWS && r.end <= 60));
        assert_eq!(blocks.iter().map(|b| b.0).collect::<Vec<_>>(), vec![0, 0, 1, 1, 2]);
        let scaler = fit_scaler(&corpus, &ScalingConfig::default(), 16).unwrap();
        let spatial = fit_spatial(&corpus, &scaler, &SpatialConfig { max_fit_pixels: 300, ..small_spatial() }).unwrap();
        assert!(spatial.edge_distance > 0.0 && spatial.scale.iter().all(|s| s.is_finite() && *s > 0.0));
    }
}
