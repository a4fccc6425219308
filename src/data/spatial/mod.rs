//! Spatial context as per-pixel features, computed from the image alone (never from labels).
//!
//! Neighbouring pixels of a field share a class, and a pixel's spectrum averaged with its
//! neighbours' is far less noisy than its own. For every pixel the features are
//! - its spectrum projected on the scene's leading principal components (`components`),
//! - the mean of that projection over square windows (`box_windows`, odd sides),
//! - its edge-aware means over windows of radius `edge_radii`: the mean over the window's
//!   pixels whose projection lies within `edge_threshold` times the scene's median
//!   neighbour-to-neighbour distance of the pixel's own, which stops at field edges the way a
//!   superpixel does, while each pixel still depends on its window alone,
//! - optionally (`morphology`), its morphological profiles: openings and closings by bounded
//!   reconstruction of the leading components (`morphology.rs`),
//! - optionally (`covariance`), a local covariance descriptor of its nearest window pixels
//!   (`covariance.rs`), beside the others or, with `covariance.graph_only`, in the rows of the
//!   propagation's graph alone ([`SpatialFeatures::graph_features`]),
//!
//! each feature then standardised. The projection, the distance threshold and the
//! standardisation are fitted once on a scene and stored with a run; every later scene is
//! transformed with them unchanged. A pixel's features read only the pixels within `halo()`
//! rows and columns of it, so a scene can be transformed in bands of rows.

pub(crate) mod covariance;
pub(crate) mod filters;
pub(crate) mod morphology;
pub(crate) mod pca;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Range;

use crate::error::{Error, Result};
use covariance::descriptors_at;
// The covariance descriptors' settings, a field of [`SpatialConfig`].
pub use covariance::CovarianceConfig;
// The morphological profiles' settings, a field of [`SpatialConfig`].
pub use morphology::MorphologyConfig;
use morphology::{profiles, profiles_at};
use filters::{box_means, box_means_at, edge_aware_means, edge_aware_means_at, median, vertical_distances, Image};
// The fitted projection, a field of [`SpatialFeatures`].
pub use pca::Pca;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpatialConfig {
    /// Principal components of the spectra kept.
    pub components: usize,
    /// Sides of the square windows of the plain local means (odd).
    pub box_windows: Vec<usize>,
    /// Radii of the edge-aware means (windows of 2 r + 1 pixels a side).
    pub edge_radii: Vec<usize>,
    /// A neighbour counts in an edge-aware mean when its projection is within this many times
    /// the scene's median distance between vertically adjacent pixels.
    pub edge_threshold: f64,
    /// The projection is fitted on at most this many pixels, evenly spaced over the scene.
    pub max_fit_pixels: usize,
    /// Morphological profiles; off where a configuration or a stored run says nothing.
    #[serde(default = "MorphologyConfig::off")]
    pub morphology: MorphologyConfig,
    /// Local covariance descriptors; off where a configuration or a stored run says nothing.
    #[serde(default = "CovarianceConfig::off")]
    pub covariance: CovarianceConfig,
}

impl Default for SpatialConfig {
    fn default() -> Self {
        SpatialConfig { components: 30, box_windows: vec![5, 11], edge_radii: vec![3, 7, 14], edge_threshold: 4.0, max_fit_pixels: 50_000, morphology: MorphologyConfig::off(), covariance: CovarianceConfig::off() }
    }
}

impl SpatialConfig {
    /// Refuses settings that cannot give features, naming the setting.
    pub fn check(&self) -> Result<()> {
        if self.components == 0 {
            return Err(Error::invalid("spatial.components must be at least 1"));
        }
        if let Some(w) = self.box_windows.iter().find(|&&w| w % 2 == 0) {
            return Err(Error::invalid(format!("spatial.box_windows must be odd window sides, not {w}")));
        }
        if !(self.edge_threshold.is_finite() && self.edge_threshold > 0.0) {
            return Err(Error::invalid(format!("spatial.edge_threshold must be a positive number, not {}", self.edge_threshold)));
        }
        if self.max_fit_pixels == 0 {
            return Err(Error::invalid("spatial.max_fit_pixels must be at least 1"));
        }
        self.morphology.check()?;
        self.covariance.check()
    }

    /// Rows (and columns) on each side of a pixel that its features read: the widest window's
    /// half side.
    pub fn halo(&self) -> usize {
        let boxes = self.box_windows.iter().map(|w| w / 2);
        let covariance = self.covariance.is_on().then_some(self.covariance.window / 2);
        boxes.chain(self.edge_radii.iter().copied()).chain([self.morphology.halo()]).chain(covariance).max().unwrap_or(0)
    }
}

/// The fitted transform from (scaled) spectra to spatial features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpatialFeatures {
    pub config: SpatialConfig,
    pub pca: Pca,
    /// The edge-aware means' distance threshold in projection units.
    pub edge_distance: f32,
    /// Standardisation of every feature: `(f - mean) * scale`.
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
}

/// Rows `rows` of a projected image (`height x width` pixels of the projection's components),
/// the other rows being the context of their windows.
#[derive(Debug, Clone)]
pub struct ProjectedBlock<'a> {
    pub values: &'a [f32],
    pub height: usize,
    pub width: usize,
    pub rows: Range<usize>,
}

/// The features a caller asks for: the models' inputs, or the rows of the propagation's graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Columns {
    Model,
    Graph,
}

/// The optional features of the pixels being assembled, pixel-major (empty when off).
struct Extras<'a> {
    profiles: &'a [f32],
    covariances: &'a [f32],
}

/// Rows a band of the parallel transform computes at least at once.
const ROWS_PER_TASK: usize = 8;

impl SpatialFeatures {
    /// Fits the projection, the distance threshold and the standardisation on one scene:
    /// `pixels` row-major, `height x width` pixels of `bands` values.
    pub fn fit(config: &SpatialConfig, pixels: &[f32], height: usize, width: usize, bands: usize) -> Result<Self> {
        config.check()?;
        let n = height * width;
        if n == 0 || pixels.len() != n * bands {
            return Err(Error::invalid(format!("spatial features: {} values are not {height} x {width} pixels of {bands} bands", pixels.len())));
        }
        let step = n.div_ceil(config.max_fit_pixels).max(1);
        let sample: Vec<f32> = (0..n).step_by(step).flat_map(|i| pixels[i * bands..(i + 1) * bands].iter().copied()).collect();
        let pca = Pca::fit(&sample, bands, config.components)?;
        let projected = pca.project(pixels);
        Self::fit_on_blocks(config, pca, &[ProjectedBlock { values: &projected, height, width, rows: 0..height }])
    }

    /// Fits the distance threshold and the standardisation, for a fitted projection, on the
    /// given rows of projected images (a scene too large to hold is fitted on a sample of its
    /// bands of rows, each read with the rows its windows reach).
    pub fn fit_on_blocks(config: &SpatialConfig, pca: Pca, blocks: &[ProjectedBlock]) -> Result<Self> {
        config.check()?;
        let channels = pca.n_components();
        fn image<'a>(b: &ProjectedBlock<'a>, channels: usize) -> Image<'a> {
            Image { values: b.values, height: b.height, width: b.width, channels }
        }
        if let Some(b) = blocks.iter().find(|b| b.values.len() != b.height * b.width * channels || b.rows.end > b.height) {
            return Err(Error::invalid(format!("spatial features: a block of {} values is not {} x {} pixels of {channels} components with rows {:?}", b.values.len(), b.height, b.width, b.rows)));
        }
        let distances: Vec<f32> = blocks.iter().flat_map(|b| vertical_distances(image(b, channels), b.rows.clone())).collect();
        let edge_distance = (config.edge_threshold as f32) * median(distances);
        // A scene of few bands has fewer components than asked for; the profiles and the
        // covariance descriptors take those it has, as the projection does.
        let mut config = config.clone();
        config.morphology.components = config.morphology.components.min(channels);
        config.covariance.components = config.covariance.components.min(channels);
        let mut fitted = SpatialFeatures { config, pca, edge_distance, mean: Vec::new(), scale: Vec::new() };
        let raw: Vec<f32> = blocks.iter().flat_map(|b| fitted.raw_features(image(b, channels), b.rows.clone(), Columns::Graph)).collect();
        let dim = fitted.graph_dim();
        let n = raw.len() / dim;
        if n == 0 {
            return Err(Error::invalid("spatial features: no pixels to fit on"));
        }
        let (mut mean, mut var) = (vec![0f64; dim], vec![0f64; dim]);
        for f in raw.chunks_exact(dim) {
            mean.iter_mut().zip(f).for_each(|(m, &v)| *m += v as f64);
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        for f in raw.chunks_exact(dim) {
            var.iter_mut().zip(f.iter().zip(&mean)).for_each(|(s, (&v, m))| *s += (v as f64 - m).powi(2));
        }
        fitted.mean = mean.iter().map(|&m| m as f32).collect();
        fitted.scale = var.iter().map(|&s| if s / n as f64 > 1e-12 { (n as f64 / s).sqrt() as f32 } else { 0.0 }).collect();
        // The profiles and the covariance descriptors, the last features, weigh their `weight`
        // once standardised.
        let (profiles_end, covariance_weight) = (fitted.dim_without_covariances(), fitted.config.covariance.weight as f32);
        let (profiles_start, profiles_weight) = (profiles_end - fitted.config.morphology.dim(), fitted.config.morphology.weight as f32);
        fitted.scale[profiles_start..profiles_end].iter_mut().for_each(|s| *s *= profiles_weight);
        fitted.scale[profiles_end..].iter_mut().for_each(|s| *s *= covariance_weight);
        Ok(fitted)
    }

    /// Bands of the spectra the transform takes.
    pub fn bands(&self) -> usize {
        self.pca.bands()
    }

    /// Features per pixel that the models take.
    pub fn dim(&self) -> usize {
        self.graph_dim() - self.graph_only_dim()
    }

    /// Features per pixel in the propagation's graph: the models' and the descriptors that
    /// only the graph reads.
    pub fn graph_dim(&self) -> usize {
        self.dim_without_covariances() + self.config.covariance.dim()
    }

    /// Whether the graph's rows hold more than the models' inputs (graph-only descriptors).
    pub fn has_graph_only_features(&self) -> bool {
        self.graph_only_dim() > 0
    }

    /// The projection, its means and profiles: every feature before the covariance descriptors.
    fn dim_without_covariances(&self) -> usize {
        self.pca.n_components() * (1 + self.config.box_windows.len() + self.config.edge_radii.len()) + self.config.morphology.dim()
    }

    /// The last features of a graph row, which the models do not take.
    fn graph_only_dim(&self) -> usize {
        if self.config.covariance.graph_only { self.config.covariance.dim() } else { 0 }
    }

    fn width(&self, columns: Columns) -> usize {
        match columns {
            Columns::Model => self.dim(),
            Columns::Graph => self.graph_dim(),
        }
    }

    /// The models' features of graph rows ([`SpatialFeatures::graph_features`]): each row
    /// without its last, graph-only, features.
    pub fn model_columns(&self, graph_rows: &[f32]) -> Vec<f32> {
        if !self.has_graph_only_features() {
            return graph_rows.to_vec();
        }
        graph_rows.chunks_exact(self.graph_dim()).flat_map(|r| r[..self.dim()].iter().copied()).collect()
    }

    /// Rows (and columns) on each side of a pixel that its features read.
    pub fn halo(&self) -> usize {
        self.config.halo()
    }

    /// Fails, naming what differs, unless pixels of `bands` values fit this transform.
    pub fn check_bands(&self, bands: usize) -> Result<()> {
        if bands != self.bands() {
            return Err(Error::invalid(format!("spatial features fitted on {} bands, data has {bands}", self.bands())));
        }
        Ok(())
    }

    /// The projection of every pixel, `n x components`: what [`SpatialFeatures::features`]
    /// reads.
    pub fn project(&self, pixels: &[f32]) -> Vec<f32> {
        self.pca.project(pixels)
    }

    /// Standardised features of the pixels of `rows` (row-major, `rows.len() * width x dim`),
    /// from the projection of the whole scene.
    pub fn features(&self, projected: &[f32], height: usize, width: usize, rows: Range<usize>) -> Vec<f32> {
        self.columns_of(projected, (height, width), rows, Columns::Model)
    }

    /// [`SpatialFeatures::features`] as rows of the propagation's graph (`graph_dim` wide):
    /// the models' features followed by the graph-only descriptors, if any.
    pub fn graph_features(&self, projected: &[f32], height: usize, width: usize, rows: Range<usize>) -> Vec<f32> {
        self.columns_of(projected, (height, width), rows, Columns::Graph)
    }

    fn columns_of(&self, projected: &[f32], (height, width): (usize, usize), rows: Range<usize>, columns: Columns) -> Vec<f32> {
        let img = Image { values: projected, height, width, channels: self.pca.n_components() };
        let mut f = self.raw_features(img, rows, columns);
        self.standardise(&mut f, columns);
        f
    }

    /// Standardised features of the pixels at `(row, col)` positions only, in their order: the
    /// same values as [`SpatialFeatures::features`] gives them, at a cost that grows with the
    /// pixels asked for rather than with the rows they lie in.
    pub fn features_at(&self, projected: &[f32], height: usize, width: usize, at: &[(usize, usize)]) -> Vec<f32> {
        let ch = self.pca.n_components();
        let img = Image { values: projected, height, width, channels: ch };
        let own: Vec<f32> = at.iter().flat_map(|&(r, c)| projected[(r * width + c) * ch..(r * width + c + 1) * ch].iter().copied()).collect();
        let boxes: Vec<Vec<f32>> = self.config.box_windows.iter().map(|&side| box_means_at(img, side / 2, at)).collect();
        let edges = edge_aware_means_at(img, &self.config.edge_radii, self.edge_distance, at);
        let profiles = profiles_at(img, &self.config.morphology, at);
        let covariances = self.covariances(img, at.iter().copied(), Columns::Model);
        let mut f = self.assemble(&own, &boxes, &edges, &Extras { profiles: &profiles, covariances: &covariances }, at.len());
        self.standardise(&mut f, Columns::Model);
        f
    }

    fn standardise(&self, f: &mut [f32], columns: Columns) {
        for px in f.chunks_exact_mut(self.width(columns)) {
            for ((v, m), s) in px.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = (*v - m) * s;
            }
        }
    }

    /// Features of every pixel of a scene, `height * width x dim`, computed in bands of rows on
    /// all cores.
    pub fn transform(&self, pixels: &[f32], height: usize, width: usize) -> Result<Vec<f32>> {
        self.transform_to(pixels, (height, width), Columns::Model)
    }

    /// [`SpatialFeatures::transform`] as rows of the propagation's graph, `height * width x
    /// graph_dim`.
    pub fn graph_transform(&self, pixels: &[f32], height: usize, width: usize) -> Result<Vec<f32>> {
        self.transform_to(pixels, (height, width), Columns::Graph)
    }

    fn transform_to(&self, pixels: &[f32], (height, width): (usize, usize), columns: Columns) -> Result<Vec<f32>> {
        self.check_bands(pixels.len() / (height * width).max(1))?;
        let projected = self.project(pixels);
        Ok(self.parallel(&projected, (height, width), 0..height, columns))
    }

    /// [`SpatialFeatures::features`] of `rows`, computed in bands of a few rows on all cores.
    pub fn features_parallel(&self, projected: &[f32], height: usize, width: usize, rows: Range<usize>) -> Vec<f32> {
        self.parallel(projected, (height, width), rows, Columns::Model)
    }

    fn parallel(&self, projected: &[f32], shape: (usize, usize), rows: Range<usize>, columns: Columns) -> Vec<f32> {
        // A band's filters also run over the rows its windows reach; bands twice as tall as
        // that halo keep the rows read around a band no more than its own.
        let per_task = ROWS_PER_TASK.max(2 * self.halo());
        let bands: Vec<Range<usize>> = rows.clone().step_by(per_task).map(|r| r..(r + per_task).min(rows.end)).collect();
        bands.into_par_iter().map(|r| self.columns_of(projected, shape, r, columns)).collect::<Vec<_>>().concat()
    }

    /// Unstandardised features: projection, box means, edge-aware means, profiles, covariances (unless
    /// they are the graph's alone and `columns` are the models').
    fn raw_features(&self, img: Image, rows: Range<usize>, columns: Columns) -> Vec<f32> {
        let ch = img.channels;
        let own = &img.values[rows.start * img.width * ch..rows.end * img.width * ch];
        let boxes: Vec<Vec<f32>> = self.config.box_windows.iter().map(|&side| box_means(img, side / 2, rows.clone())).collect();
        let edges = edge_aware_means(img, &self.config.edge_radii, self.edge_distance, rows.clone());
        let profiles = profiles(img, &self.config.morphology, rows.clone());
        let width = img.width;
        let covariances = self.covariances(img, rows.clone().flat_map(|r| (0..width).map(move |c| (r, c))), columns);
        self.assemble(own, &boxes, &edges, &Extras { profiles: &profiles, covariances: &covariances }, rows.len() * img.width)
    }

    /// The covariance descriptors of the pixels at `at` (none when they are off, or not among
    /// `columns`). The floor on the covariance's diagonal is a thousandth of the first
    /// component's variance, so it scales with the scene.
    fn covariances(&self, img: Image, at: impl Iterator<Item = (usize, usize)>, columns: Columns) -> Vec<f32> {
        if !self.config.covariance.is_on() || (columns == Columns::Model && self.config.covariance.graph_only) {
            return Vec::new();
        }
        let floor = 1e-3 * self.pca.variances.first().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
        descriptors_at(img, &self.config.covariance, floor, at)
    }

    /// Each pixel's projection, box means, edge-aware means, profiles and covariance descriptor
    /// side by side.
    fn assemble(&self, own: &[f32], boxes: &[Vec<f32>], edges: &[f32], extras: &Extras, n: usize) -> Vec<f32> {
        let ch = self.pca.n_components();
        let n_edge = self.config.edge_radii.len() * ch;
        let n_profiles = self.config.morphology.dim();
        let n_cov = extras.covariances.len() / n.max(1);
        let mut out = Vec::with_capacity(n * (self.dim_without_covariances() + n_cov));
        for i in 0..n {
            out.extend_from_slice(&own[i * ch..(i + 1) * ch]);
            for b in boxes {
                out.extend_from_slice(&b[i * ch..(i + 1) * ch]);
            }
            out.extend_from_slice(&edges[i * n_edge..(i + 1) * n_edge]);
            out.extend_from_slice(&extras.profiles[i * n_profiles..(i + 1) * n_profiles]);
            out.extend_from_slice(&extras.covariances[i * n_cov..(i + 1) * n_cov]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A planted scene: two fields (left and right half) of different spectra plus a small
    /// texture, `bands` wide.
    fn planted(h: usize, w: usize, bands: usize) -> Vec<f32> {
        let mut v = Vec::with_capacity(h * w * bands);
        for r in 0..h {
            for c in 0..w {
                for b in 0..bands {
                    let field = if c < w / 2 { (b as f32 * 0.7).sin() } else { (b as f32 * 0.3).cos() * 2.0 };
                    v.push(10.0 + field + 0.01 * (((r * 31 + c * 17 + b * 7) % 13) as f32 - 6.0));
                }
            }
        }
        v
    }

    fn small_config() -> SpatialConfig {
        SpatialConfig { components: 3, box_windows: vec![3], edge_radii: vec![1, 2], edge_threshold: 4.0, max_fit_pixels: 1000, morphology: MorphologyConfig::off(), covariance: CovarianceConfig::off() }
    }

    fn with_covariances() -> SpatialConfig {
        SpatialConfig { covariance: CovarianceConfig { components: 2, window: 3, neighbours: 5, weight: 0.5, graph_only: false }, ..small_config() }
    }

    /// Morphological profiles of 2 components from a disk of radius 1, 2 steps (halo 3), beside
    /// covariance descriptors.
    fn with_profiles() -> SpatialConfig {
        SpatialConfig { morphology: MorphologyConfig { components: 2, radii: vec![1], steps: 2, weight: 2.0 }, ..with_covariances() }
    }

    /// Features of pixel (5, 6) are unchanged by edits beyond the halo, and change with an edit
    /// inside it.
    fn check_window(config: &SpatialConfig) {
        let (h, w, bands) = (12, 14, 6);
        let x = planted(h, w, bands);
        let spatial = SpatialFeatures::fit(config, &x, h, w, bands).unwrap();
        let before = spatial.transform(&x, h, w).unwrap();
        // Change every pixel more than the halo away from pixel (5, 6).
        let (pr, pc) = (5usize, 6usize);
        let mut y = x.clone();
        for r in 0..h {
            for c in 0..w {
                if r.abs_diff(pr) > spatial.halo() || c.abs_diff(pc) > spatial.halo() {
                    for b in 0..bands {
                        y[(r * w + c) * bands + b] += 3.0 * ((r + 2 * c + b) % 5) as f32;
                    }
                }
            }
        }
        let after = spatial.transform(&y, h, w).unwrap();
        let d = spatial.dim();
        let at = |v: &[f32], r: usize, c: usize| v[(r * w + c) * d..(r * w + c + 1) * d].to_vec();
        assert_eq!(at(&before, pr, pc), at(&after, pr, pc));
        // A pixel next to the changes does change (the test can fail).
        assert_ne!(at(&before, pr, pc + 3), at(&after, pr, pc + 3));
        // And one change inside the window is seen.
        let mut z = x.clone();
        z[((pr + 2) * w + pc - 2) * bands] += 5.0;
        assert_ne!(at(&before, pr, pc), at(&spatial.transform(&z, h, w).unwrap(), pr, pc));
    }

    #[test]
    fn a_pixels_features_depend_only_on_its_window() {
        let spatial = SpatialFeatures::fit(&small_config(), &planted(4, 4, 6), 4, 4, 6).unwrap();
        assert_eq!((spatial.dim(), spatial.halo()), (3 * 4, 2));
        check_window(&small_config());
        // With covariance descriptors: 3 more values (the triangle of 2 components), the halo
        // still the edge-aware radius 2 (the 3 x 3 window reaches 1).
        let spatial = SpatialFeatures::fit(&with_covariances(), &planted(4, 4, 6), 4, 4, 6).unwrap();
        assert_eq!((spatial.dim(), spatial.halo()), (3 * 4 + 3, 2));
        check_window(&with_covariances());
        let wide = SpatialConfig { covariance: CovarianceConfig { window: 7, ..with_covariances().covariance }, ..small_config() };
        assert_eq!(wide.halo(), 3);
        check_window(&wide);
        // With profiles: an opening and a closing of 2 components, before the descriptors; the
        // halo is the disk's radius and the reconstruction's steps.
        let spatial = SpatialFeatures::fit(&with_profiles(), &planted(4, 4, 6), 4, 4, 6).unwrap();
        assert_eq!((spatial.dim(), spatial.halo()), (3 * 4 + 4 + 3, 3));
        check_window(&with_profiles());
    }

    #[test]
    fn bands_of_rows_give_the_whole_transform_and_features_are_standardised() {
        let (h, w, bands) = (11, 9, 5);
        let x = planted(h, w, bands);
        let spatial = SpatialFeatures::fit(&small_config(), &x, h, w, bands).unwrap();
        check_bands_and_standardised(&spatial, &x, h, w, 1.0);
        let spatial = SpatialFeatures::fit(&with_covariances(), &x, h, w, bands).unwrap();
        check_bands_and_standardised(&spatial, &x, h, w, 0.5);
        let spatial = SpatialFeatures::fit(&with_profiles(), &x, h, w, bands).unwrap();
        check_bands_and_standardised(&spatial, &x, h, w, 0.5);
    }

    /// Rows 4..7 alone are those rows of the whole transform; every feature has mean 0 and
    /// variance 1, the covariance descriptors (the last ones) variance `weight`^2 and the
    /// profiles before them their weight's square.
    fn check_bands_and_standardised(spatial: &SpatialFeatures, x: &[f32], h: usize, w: usize, weight: f64) {
        let whole = spatial.transform(x, h, w).unwrap();
        let projected = spatial.project(x);
        let d = spatial.dim();
        assert_eq!(spatial.features(&projected, h, w, 4..7), whole[4 * w * d..7 * w * d].to_vec());
        let first_covariance = d - spatial.config.covariance.dim();
        let first_profile = first_covariance - spatial.config.morphology.dim();
        let profile_weight = spatial.config.morphology.weight;
        for j in 0..d {
            let col: Vec<f64> = whole.iter().skip(j).step_by(d).map(|&v| v as f64).collect();
            let m = col.iter().sum::<f64>() / col.len() as f64;
            let s = col.iter().map(|v| (v - m).powi(2)).sum::<f64>() / col.len() as f64;
            let want = if j >= first_covariance {
                weight * weight
            } else if j >= first_profile {
                profile_weight * profile_weight
            } else {
                1.0
            };
            assert!(m.abs() < 1e-4 && (s - want).abs() < 1e-3, "feature {j}: mean {m}, variance {s}");
        }
    }

    #[test]
    fn features_at_chosen_pixels_are_those_of_their_rows() {
        features_at_chosen_pixels(&small_config());
        features_at_chosen_pixels(&with_covariances());
        features_at_chosen_pixels(&graph_only());
        features_at_chosen_pixels(&with_profiles());
    }

    fn graph_only() -> SpatialConfig {
        let mut c = with_covariances();
        c.covariance.graph_only = true;
        c
    }

    /// Descriptors for the graph alone leave the models' inputs those of a transform without
    /// them, and the graph's rows those of a transform with them beside the other features.
    #[test]
    fn graph_only_descriptors_extend_the_graphs_rows_and_not_the_models_inputs() {
        let (h, w, bands) = (11, 9, 5);
        let x = planted(h, w, bands);
        let fit = |c: &SpatialConfig| SpatialFeatures::fit(c, &x, h, w, bands).unwrap();
        let (without, beside, graph_only) = (fit(&small_config()), fit(&with_covariances()), fit(&graph_only()));
        assert_eq!((graph_only.dim(), graph_only.graph_dim()), (3 * 4, 3 * 4 + 3));
        assert_eq!((beside.dim(), beside.graph_dim()), (3 * 4 + 3, 3 * 4 + 3));
        let models = graph_only.transform(&x, h, w).unwrap();
        let graph = graph_only.graph_transform(&x, h, w).unwrap();
        assert_eq!(models, without.transform(&x, h, w).unwrap());
        assert_eq!(graph, beside.transform(&x, h, w).unwrap());
        assert_eq!(graph_only.model_columns(&graph), models);
        // Bands of rows of the graph's rows are those rows of the whole.
        let d = graph_only.graph_dim();
        assert_eq!(graph_only.graph_features(&graph_only.project(&x), h, w, 4..7), graph[4 * w * d..7 * w * d].to_vec());
        // Without graph-only features the graph's rows are the models' inputs.
        assert_eq!(beside.model_columns(&graph), graph);
        assert_eq!(without.graph_transform(&x, h, w).unwrap(), without.transform(&x, h, w).unwrap());
    }

    fn features_at_chosen_pixels(config: &SpatialConfig) {
        let (h, w, bands) = (13, 10, 5);
        let x = planted(h, w, bands);
        let spatial = SpatialFeatures::fit(config, &x, h, w, bands).unwrap();
        let whole = spatial.transform(&x, h, w).unwrap();
        let projected = spatial.project(&x);
        let d = spatial.dim();
        // Corners, borders and the middle, out of order and repeated.
        let at = [(12, 9), (0, 0), (6, 4), (0, 9), (12, 0), (6, 4), (1, 8)];
        let got = spatial.features_at(&projected, h, w, &at);
        assert_eq!(got.len(), at.len() * d);
        for (i, &(r, c)) in at.iter().enumerate() {
            assert_eq!(got[i * d..(i + 1) * d], whole[(r * w + c) * d..(r * w + c + 1) * d], "pixel ({r}, {c})");
        }
    }

    #[test]
    fn edge_aware_means_stay_inside_their_field() {
        // Next to the field edge, the edge-aware mean of the first component stays with its own
        // field, while the box mean over the same window mixes both.
        let (h, w, bands) = (9, 16, 6);
        let x = planted(h, w, bands);
        let spatial = SpatialFeatures::fit(&small_config(), &x, h, w, bands).unwrap();
        let p = spatial.project(&x);
        let img = Image { values: &p, height: h, width: w, channels: 3 };
        let r = 4;
        let edge = edge_aware_means(img, &[2], spatial.edge_distance, r..r + 1);
        let boxed = box_means(img, 2, r..r + 1);
        let own_field = |c: usize| p[(r * w + c) * 3];
        let c = w / 2 - 1; // last column of the left field
        assert!((edge[c * 3] - own_field(c - 3)).abs() < 0.2 * (own_field(c) - own_field(c + 1)).abs());
        assert!((boxed[c * 3] - own_field(c)).abs() > 0.2 * (own_field(c) - own_field(c + 1)).abs());
    }

    /// Two bands give two components, whatever the settings ask (here 7 covariance components
    /// of 3 principal ones): the descriptors are those of the two, a 2 x 2 triangle.
    #[test]
    fn a_scene_of_few_bands_has_the_descriptors_of_the_components_it_has() {
        let (h, w, bands) = (8, 9, 2);
        let x = planted(h, w, bands);
        let mut asked = with_covariances();
        asked.covariance.components = 7;
        let spatial = SpatialFeatures::fit(&asked, &x, h, w, bands).unwrap();
        assert_eq!((spatial.pca.n_components(), spatial.config.covariance.components, spatial.dim()), (2, 2, 2 * 4 + 3));
        let mut two = with_covariances();
        two.covariance.components = 2;
        assert_eq!(spatial.transform(&x, h, w).unwrap(), SpatialFeatures::fit(&two, &x, h, w, bands).unwrap().transform(&x, h, w).unwrap());
    }

    #[test]
    fn settings_from_before_covariances_read_with_them_off() {
        let mut stored = serde_json::to_value(SpatialConfig { covariance: CovarianceConfig::on(20), ..SpatialConfig::default() }).unwrap();
        stored.as_object_mut().unwrap().remove("covariance");
        let read: SpatialConfig = serde_json::from_value(stored).unwrap();
        assert_eq!(read, SpatialConfig::default());
        assert!(!read.covariance.is_on());
        let toml_text = "components = 12\n[covariance]\ncomponents = 6\n";
        let read: SpatialConfig = toml::from_str(toml_text).unwrap();
        assert_eq!(read.covariance, CovarianceConfig::on(6));
        // Descriptors stored before they could be the graph's alone were the models' inputs.
        assert!(!read.covariance.graph_only);
        let read: SpatialConfig = toml::from_str("[covariance]\ncomponents = 6\ngraph_only = true\n").unwrap();
        assert!(read.covariance.graph_only);
    }

    #[test]
    fn settings_from_before_profiles_read_with_them_off() {
        let mut stored = serde_json::to_value(SpatialConfig { morphology: MorphologyConfig::on(4), ..SpatialConfig::default() }).unwrap();
        stored.as_object_mut().unwrap().remove("morphology");
        let read: SpatialConfig = serde_json::from_value(stored).unwrap();
        assert_eq!(read, SpatialConfig::default());
        assert!(!read.morphology.is_on());
        let read: SpatialConfig = toml::from_str("[morphology]\ncomponents = 3\n").unwrap();
        assert_eq!(read.morphology, MorphologyConfig::on(3));
    }

    #[test]
    fn bad_settings_and_other_sensors_are_refused() {
        let refuse = |edit: fn(&mut SpatialConfig)| {
            let mut c = SpatialConfig::default();
            edit(&mut c);
            c.check().unwrap_err().to_string()
        };
        assert!(refuse(|c| c.components = 0).contains("spatial.components"));
        assert!(refuse(|c| c.box_windows = vec![4]).contains("odd"));
        assert!(refuse(|c| c.edge_threshold = f64::NAN).contains("spatial.edge_threshold"));
        assert!(refuse(|c| c.covariance = CovarianceConfig { window: 4, ..CovarianceConfig::on(20) }).contains("spatial.covariance.window"));
        assert!(refuse(|c| c.morphology = MorphologyConfig { steps: 0, ..MorphologyConfig::on(4) }).contains("spatial.morphology.steps"));
        let x = planted(6, 6, 4);
        let spatial = SpatialFeatures::fit(&small_config(), &x, 6, 6, 4).unwrap();
        assert!(spatial.transform(&planted(6, 6, 5), 6, 6).unwrap_err().to_string().contains("fitted on 4 bands"));
    }
}
