//! Principal components of a scene's spectra: each band standardised, then projected on the
//! leading eigenvectors of the band covariance.

use nalgebra::{DMatrix, SymmetricEigen};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A fitted projection `p_k = sum_b (x_b - mean_b) * scale_b * v_kb`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    pub mean: Vec<f32>,
    /// 1 / standard deviation of each band; 0 for a constant band, which then carries nothing.
    pub scale: Vec<f32>,
    /// Row k is the k-th component over the bands, by decreasing variance.
    pub components: Vec<Vec<f32>>,
    /// Variance of each component over the fitting pixels.
    pub variances: Vec<f64>,
}

impl Pca {
    /// Fits on pixel-major rows (`x.len()` a multiple of `bands`), keeping `n` components (at most
    /// `bands`). Each component's sign makes its largest entry positive, so the fit is unique.
    pub fn fit(x: &[f32], bands: usize, n: usize) -> Result<Pca> {
        if bands == 0 || x.is_empty() || !x.len().is_multiple_of(bands) {
            return Err(Error::invalid(format!("PCA needs whole pixels of {bands} bands, got {} values", x.len())));
        }
        let rows = x.len() / bands;
        let mut mean = vec![0f64; bands];
        for px in x.chunks_exact(bands) {
            mean.iter_mut().zip(px).for_each(|(m, &v)| *m += v as f64);
        }
        mean.iter_mut().for_each(|m| *m /= rows as f64);
        let mut cov = DMatrix::<f64>::zeros(bands, bands);
        let mut centred = vec![0f64; bands];
        for px in x.chunks_exact(bands) {
            centred.iter_mut().zip(px.iter().zip(&mean)).for_each(|(c, (&v, m))| *c = v as f64 - m);
            // The upper triangle; mirrored below.
            for i in 0..bands {
                let ci = centred[i];
                for j in i..bands {
                    cov[(i, j)] += ci * centred[j];
                }
            }
        }
        let scale: Vec<f64> = (0..bands)
            .map(|i| {
                let var = cov[(i, i)] / rows as f64;
                if var > 1e-12 * (1.0 + mean[i] * mean[i]) { 1.0 / var.sqrt() } else { 0.0 }
            })
            .collect();
        // The covariance of the standardised bands (their correlation matrix).
        for i in 0..bands {
            for j in i..bands {
                let c = cov[(i, j)] / rows as f64 * scale[i] * scale[j];
                cov[(i, j)] = c;
                cov[(j, i)] = c;
            }
        }
        let eigen = SymmetricEigen::new(cov);
        let mut order: Vec<usize> = (0..bands).collect();
        order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
        let n = n.min(bands);
        let mut components = Vec::with_capacity(n);
        let mut variances = Vec::with_capacity(n);
        for &k in &order[..n] {
            let v = eigen.eigenvectors.column(k);
            let largest = v.iter().copied().fold(0f64, |a, b| if b.abs() > a.abs() { b } else { a });
            let sign = if largest < 0.0 { -1.0 } else { 1.0 };
            components.push(v.iter().map(|&e| (sign * e) as f32).collect());
            variances.push(eigen.eigenvalues[k].max(0.0));
        }
        Ok(Pca {
            mean: mean.iter().map(|&m| m as f32).collect(),
            scale: scale.iter().map(|&s| s as f32).collect(),
            components,
            variances,
        })
    }

    pub fn bands(&self) -> usize {
        self.mean.len()
    }

    pub fn n_components(&self) -> usize {
        self.components.len()
    }

    /// Projects pixel-major rows; returns `rows x n_components`.
    pub fn project(&self, x: &[f32]) -> Vec<f32> {
        let b = self.bands();
        let mut standardised = vec![0f32; b];
        let mut out = Vec::with_capacity(x.len() / b * self.n_components());
        for px in x.chunks_exact(b) {
            for (s, ((&v, &m), &k)) in standardised.iter_mut().zip(px.iter().zip(&self.mean).zip(&self.scale)) {
                *s = (v - m) * k;
            }
            out.extend(self.components.iter().map(|c| c.iter().zip(&standardised).map(|(a, b)| a * b).sum::<f32>()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_correlated_bands_give_the_closed_form_components() {
        // Standardised, two bands with correlation r have eigenvalues 1 +- r and eigenvectors
        // (1, 1) / sqrt 2 and (1, -1) / sqrt 2. Here band 1 = 3 * band 0 + noise of known size.
        let t: Vec<f64> = (0..400).map(|i| ((i * 37 % 101) as f64 - 50.0) / 10.0).collect();
        let e: Vec<f64> = (0..400).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
        let x: Vec<f32> = t.iter().zip(&e).flat_map(|(&a, &n)| [a as f32 + 7.0, (3.0 * a + n) as f32]).collect();
        let pca = Pca::fit(&x, 2, 2).unwrap();
        let corr = {
            let n = t.len() as f64;
            let (ma, mb) = (t.iter().sum::<f64>() / n, t.iter().zip(&e).map(|(a, n)| 3.0 * a + n).sum::<f64>() / n);
            let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
            for (a, n) in t.iter().zip(&e) {
                let (da, db) = (a - ma, 3.0 * a + n - mb);
                sab += da * db;
                saa += da * da;
                sbb += db * db;
            }
            sab / (saa * sbb).sqrt()
        };
        assert!((pca.variances[0] - (1.0 + corr)).abs() < 1e-9, "{:?} vs {}", pca.variances, 1.0 + corr);
        assert!((pca.variances[1] - (1.0 - corr)).abs() < 1e-9);
        let h = std::f32::consts::FRAC_1_SQRT_2;
        for (got, want) in pca.components[0].iter().zip([h, h]) {
            assert!((got - want).abs() < 1e-6, "{:?}", pca.components);
        }
        // The second is (1, -1) or (-1, 1); its largest entry is made positive (a tie here, so
        // only its direction is checked).
        assert!((pca.components[1][0] + pca.components[1][1]).abs() < 1e-6);
        // Projections are centred, with the component variances.
        let p = pca.project(&x);
        let n = p.len() / 2;
        let m0 = p.iter().step_by(2).map(|&v| v as f64).sum::<f64>() / n as f64;
        let v0 = p.iter().step_by(2).map(|&v| (v as f64 - m0).powi(2)).sum::<f64>() / n as f64;
        assert!(m0.abs() < 1e-5 && (v0 - pca.variances[0]).abs() < 1e-4, "mean {m0}, variance {v0}");
    }

    #[test]
    fn a_constant_band_carries_nothing_and_more_components_than_bands_are_cut() {
        let x: Vec<f32> = (0..50).flat_map(|i| [i as f32, 5.0, (i * i % 7) as f32]).collect();
        let pca = Pca::fit(&x, 3, 10).unwrap();
        assert_eq!(pca.n_components(), 3);
        assert_eq!(pca.scale[1], 0.0);
        // Changing the constant band changes no projection.
        let mut y = x.clone();
        y.iter_mut().skip(1).step_by(3).for_each(|v| *v = -100.0);
        assert_eq!(pca.project(&x), pca.project(&y));
        assert!(Pca::fit(&x[..4], 3, 2).is_err());
    }
}
