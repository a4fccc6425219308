//! Local covariance descriptors (after the local covariance matrix representation of Fang,
//! Li, Duan, Benediktsson and Li, 2018): for a pixel, the covariance of the leading components
//! over the pixels of its window that are closest to it (itself included), through the matrix
//! logarithm. Means say what a field looks like on average; the covariance says how its pixels
//! vary together, which is what a field of one crop keeps from field to field better than its
//! mean. The nearest pixels are taken, not the whole window, so that a window across a field's
//! edge still describes the pixel's own field.
//!
//! The upper triangle of log(C) is kept, off-diagonal entries times sqrt 2, so that Euclidean
//! distances between descriptors are the log-Euclidean distances between the matrices.

use nalgebra::{DMatrix, SymmetricEigen};
use serde::{Deserialize, Serialize};

use super::filters::{window, Image};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CovarianceConfig {
    /// Leading principal components whose covariance is taken (0: no covariance features; all
    /// the spatial features keep, when they keep fewer).
    pub components: usize,
    /// Side of the square window the pixels come from (odd).
    pub window: usize,
    /// How many pixels of the window, the closest to the centre in the components, the
    /// covariance is taken over.
    pub neighbours: usize,
    /// Weight of the descriptors beside the other features, once each is standardised.
    pub weight: f64,
    /// The descriptors join only the propagation's graph, not the models' inputs: they tell
    /// fields apart better than they tell a classifier of a handful of pixels what a class is.
    /// Off where a configuration or a stored run says nothing (they were inputs then).
    #[serde(default)]
    pub graph_only: bool,
}

impl Default for CovarianceConfig {
    fn default() -> Self {
        CovarianceConfig::off()
    }
}

impl CovarianceConfig {
    /// No covariance features (the features of runs from before they existed).
    pub fn off() -> Self {
        CovarianceConfig { components: 0, ..CovarianceConfig::on(20) }
    }

    /// Descriptors of the leading `components`, with the settings measured in the README.
    pub fn on(components: usize) -> Self {
        CovarianceConfig { components, window: 11, neighbours: 25, weight: 0.5, graph_only: false }
    }

    pub fn is_on(&self) -> bool {
        self.components > 0
    }

    /// Values per pixel: the upper triangle of a `components` square matrix.
    pub fn dim(&self) -> usize {
        self.components * (self.components + 1) / 2
    }

    /// Refuses settings that cannot give descriptors, naming the setting. More components than
    /// the spatial features keep is not an error: the descriptors take all those there are.
    pub fn check(&self) -> Result<()> {
        if !self.is_on() {
            return Ok(());
        }
        if self.window.is_multiple_of(2) || self.window < 3 {
            return Err(Error::invalid(format!("spatial.covariance.window must be an odd window side of at least 3, not {}", self.window)));
        }
        if self.neighbours < 2 {
            return Err(Error::invalid(format!("spatial.covariance.neighbours must be at least 2, not {}", self.neighbours)));
        }
        if !(self.weight.is_finite() && self.weight > 0.0) {
            return Err(Error::invalid(format!("spatial.covariance.weight must be a positive number, not {}", self.weight)));
        }
        Ok(())
    }
}

/// Descriptors of the pixels at `at` (row, column), `at.len() * config.dim()` values; `floor`
/// is added to the covariance's diagonal so that the logarithm stays finite where the
/// neighbours do not span every component.
pub fn descriptors_at(img: Image, config: &CovarianceConfig, floor: f64, at: impl Iterator<Item = (usize, usize)>) -> Vec<f32> {
    let d = config.components;
    let radius = config.window / 2;
    let mut out = Vec::new();
    let mut candidates: Vec<(f32, usize, usize)> = Vec::with_capacity(config.window * config.window);
    for (r, c) in at {
        let centre = &img.pixel(r, c)[..d];
        candidates.clear();
        for rr in window(r, radius, img.height) {
            for cc in window(c, radius, img.width) {
                let other = &img.pixel(rr, cc)[..d];
                let d2: f32 = centre.iter().zip(other).map(|(a, b)| (a - b) * (a - b)).sum();
                candidates.push((d2, rr, cc));
            }
        }
        // The nearest pixels, ties taken in window order, so that the choice is the same in
        // any band of rows.
        let m = config.neighbours.min(candidates.len());
        candidates.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
        let chosen = &candidates[..m];
        let mut mean = vec![0f64; d];
        for &(_, rr, cc) in chosen {
            let v = &img.pixel(rr, cc)[..d];
            mean.iter_mut().zip(v).for_each(|(s, &x)| *s += x as f64);
        }
        mean.iter_mut().for_each(|s| *s /= m as f64);
        let mut cov = DMatrix::<f64>::zeros(d, d);
        for &(_, rr, cc) in chosen {
            let v = &img.pixel(rr, cc)[..d];
            for i in 0..d {
                let di = v[i] as f64 - mean[i];
                for j in i..d {
                    cov[(i, j)] += di * (v[j] as f64 - mean[j]);
                }
            }
        }
        let norm = (m.max(2) - 1) as f64;
        for i in 0..d {
            for j in i..d {
                cov[(i, j)] /= norm;
                cov[(j, i)] = cov[(i, j)];
            }
            cov[(i, i)] += floor;
        }
        append_log_triangle(cov, &mut out);
    }
    out
}

/// log(C) of a symmetric positive definite C, its upper triangle row by row, off-diagonal
/// entries times sqrt 2.
fn append_log_triangle(c: DMatrix<f64>, out: &mut Vec<f32>) {
    let d = c.nrows();
    let eigen = SymmetricEigen::new(c);
    let logs = eigen.eigenvalues.map(|l| l.max(f64::MIN_POSITIVE).ln());
    let v = &eigen.eigenvectors;
    for i in 0..d {
        for j in i..d {
            let l: f64 = (0..d).map(|k| v[(i, k)] * logs[k] * v[(j, k)]).sum();
            out.push((if i == j { l } else { l * std::f64::consts::SQRT_2 }) as f32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_descriptor_of_a_diagonal_covariance_is_the_log_of_its_variances() {
        // A 3 x 3 image of 2 components: the first takes -1, 0, 1 along the columns, the second
        // 2, -2 in a checkerboard, so over all 9 pixels the two are uncorrelated. With every
        // pixel a neighbour, C = diag(var1, var2) + floor and log C is diagonal.
        let mut values = Vec::new();
        for r in 0..3 {
            for c in 0..3 {
                values.extend([c as f32 - 1.0, if (r + c) % 2 == 0 { 2.0 } else { -2.0 }]);
            }
        }
        let img = Image { values: &values, height: 3, width: 3, channels: 2 };
        let config = CovarianceConfig { components: 2, window: 5, neighbours: 9, weight: 1.0, graph_only: false };
        let got = descriptors_at(img, &config, 0.1, [(1, 1)].into_iter());
        // First component: -1, 0, 1 three times each (mean 0). Second: five 2s and four -2s
        // (mean 2/9). Their cross products sum to 0: column 0 and column 2 each hold 2, -2, 2.
        let mean2 = 2.0f64 / 9.0;
        let var1 = 6.0f64 / 8.0;
        let var2 = (5.0 * (2.0 - mean2).powi(2) + 4.0 * (-2.0 - mean2).powi(2)) / 8.0;
        let want = [(var1 + 0.1).ln(), 0.0, (var2 + 0.1).ln()];
        assert_eq!(got.len(), 3);
        for (g, w) in got.iter().zip(want) {
            assert!((*g as f64 - w).abs() < 1e-5, "{got:?} against {want:?}");
        }
    }

    #[test]
    fn log_euclidean_distances_are_those_of_the_matrix_logarithms() {
        // C = [[2, 1], [1, 2]] has eigenvalues 3 and 1 with eigenvectors (1, 1) and (1, -1) / sqrt 2,
        // so log C = [[ln 3 / 2, ln 3 / 2], [ln 3 / 2, ln 3 / 2]].
        let mut out = Vec::new();
        append_log_triangle(DMatrix::from_row_slice(2, 2, &[2.0, 1.0, 1.0, 2.0]), &mut out);
        let h = 3f64.ln() / 2.0;
        let want = [h, h * std::f64::consts::SQRT_2, h];
        for (g, w) in out.iter().zip(want) {
            assert!((*g as f64 - w).abs() < 1e-6, "{out:?}");
        }
        // The squared norm of the triangle is the Frobenius norm of log C squared.
        let norm2: f64 = out.iter().map(|&v| (v as f64).powi(2)).sum();
        assert!((norm2 - 4.0 * h * h).abs() < 1e-6);
    }

    #[test]
    fn the_nearest_pixels_of_the_window_stay_on_the_pixels_side_of_an_edge() {
        // Two fields side by side: left pixels vary along the first component only, right ones
        // along the second only. A left pixel next to the edge, with as many neighbours as its
        // side of the window holds, sees the left field's covariance: no variance in the second
        // component beyond the floor.
        let (h, w) = (5, 6);
        let mut values = Vec::new();
        for r in 0..h {
            for c in 0..w {
                let t = (r as f32 - 2.0) * 0.1;
                values.extend(if c < 3 { [t, 0.0] } else { [10.0, 10.0 + t] });
            }
        }
        let img = Image { values: &values, height: h, width: w, channels: 2 };
        let config = CovarianceConfig { components: 2, window: 5, neighbours: 15, weight: 1.0, graph_only: false };
        let got = descriptors_at(img, &config, 1e-4, [(2, 2)].into_iter());
        // log of the second variance at the floor, the first above it.
        assert!((got[2] as f64 - 1e-4f64.ln()).abs() < 1e-3, "{got:?}");
        assert!(got[0] as f64 > 1e-4f64.ln() + 3.0, "{got:?}");
    }

    #[test]
    fn bad_settings_are_refused_by_name() {
        let refuse = |edit: fn(&mut CovarianceConfig)| {
            let mut c = CovarianceConfig::on(20);
            edit(&mut c);
            c.check().unwrap_err().to_string()
        };
        assert!(refuse(|c| c.window = 10).contains("spatial.covariance.window"));
        assert!(refuse(|c| c.neighbours = 1).contains("spatial.covariance.neighbours"));
        assert!(refuse(|c| c.weight = 0.0).contains("spatial.covariance.weight"));
        assert!(CovarianceConfig::off().check().is_ok());
        assert!(CovarianceConfig::on(50).check().is_ok());
    }
}
