//! Scaling of pixel values, fitted once on training pixels and stored with the model.
//!
//! A scaler is fitted on the pixels a model learns from and saved next to it; prediction loads
//! it and applies the same transform. Scaling each data set by its own maximum instead (as was
//! once done) makes a classifier see different numbers than the feature extractor it sits on.
//!
//! Every kind is an affine map per band, `y = (x - offset) * scale`:
//! - [`ScalingKind::PerBandMinMax`]: each band's fitted minimum goes to 0 and maximum to 1.
//! - [`ScalingKind::GlobalMinMax`]: one minimum and maximum over all bands (keeps band ratios).
//! - [`ScalingKind::Standardize`]: each band gets zero mean and unit (population) variance.
//! - [`ScalingKind::None`]: values pass unchanged (offset 0, scale 1).
//!
//! A constant band (or, for the global kind, a constant image) carries no information in the
//! fitted data: its scale is 0, so it maps to 0 whatever the value.

use super::scene::Scene;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ScalingKind {
    PerBandMinMax,
    GlobalMinMax,
    /// Per band zero mean, unit variance.
    Standardize,
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ScalingConfig {
    pub kind: ScalingKind,
    /// Sensor values below 0 (noise, dark-current overshoot) are set to 0 before fitting and
    /// before applying.
    pub clip_negative: bool,
    /// Min-max kinds only: clamp the output to [0, 1] for pixels outside the fitted range.
    pub clip_output: bool,
}

impl Default for ScalingConfig {
    fn default() -> Self {
        ScalingConfig {
            kind: ScalingKind::PerBandMinMax,
            clip_negative: true,
            clip_output: true,
        }
    }
}

/// A fitted per-band affine transform `y = (x - offset) * scale`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Scaler {
    pub config: ScalingConfig,
    pub offset: Vec<f32>,
    pub scale: Vec<f32>,
}

impl Scaler {
    /// Fits a scaler on pixel-major values (`pixels.len()` a multiple of `bands`).
    pub fn fit(config: &ScalingConfig, pixels: &[f32], bands: usize) -> Result<Scaler> {
        let mut fitter = ScalerFitter::new(config.clone(), bands)?;
        fitter.update(pixels)?;
        fitter.finish()
    }

    pub fn bands(&self) -> usize {
        self.offset.len()
    }

    /// Fails unless `bands` is the number of bands the scaler was fitted on.
    pub fn check_bands(&self, bands: usize) -> Result<()> {
        if bands != self.bands() {
            return Err(Error::invalid(format!(
                "scaler fitted on {} bands, data has {bands}",
                self.bands()
            )));
        }
        Ok(())
    }

    /// Scales pixel-major values in place. Nothing is changed when an error is returned.
    pub fn transform(&self, pixels: &mut [f32]) -> Result<()> {
        let bands = self.bands();
        if self.scale.len() != bands {
            return Err(Error::invalid(format!(
                "scaler has {bands} offsets but {} scales",
                self.scale.len()
            )));
        }
        if bands == 0 || !pixels.len().is_multiple_of(bands) {
            return Err(Error::invalid(format!(
                "scaler fitted on {bands} bands, data has {} values, not a whole number of pixels",
                pixels.len()
            )));
        }
        check_finite(pixels)?;
        let clamp = self.config.clip_output
            && matches!(
                self.config.kind,
                ScalingKind::PerBandMinMax | ScalingKind::GlobalMinMax
            );
        for pixel in pixels.chunks_exact_mut(bands) {
            for ((x, &offset), &scale) in pixel.iter_mut().zip(&self.offset).zip(&self.scale) {
                let v = if self.config.clip_negative {
                    x.max(0.0)
                } else {
                    *x
                };
                let y = (v - offset) * scale;
                *x = if clamp { y.clamp(0.0, 1.0) } else { y };
            }
        }
        Ok(())
    }

    /// Returns a scaled copy of pixel-major values.
    pub fn transformed(&self, pixels: &[f32]) -> Result<Vec<f32>> {
        let mut out = pixels.to_vec();
        self.transform(&mut out)?;
        Ok(out)
    }

    /// Scales a whole scene in place, checking its band count first.
    pub fn transform_scene(&self, scene: &mut Scene) -> Result<()> {
        self.check_bands(scene.bands)?;
        self.transform(&mut scene.pixels)
    }

    /// Writes the scaler as JSON (through `<path>.tmp`, renamed when complete).
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::atomic::write_json(path, self)
    }

    /// Reads a scaler written by [`Scaler::save`], checking that it is usable.
    pub fn load(path: &Path) -> Result<Scaler> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let scaler: Scaler = serde_json::from_str(&text)
            .map_err(|e| Error::bad(path, format!("not a scaler file: {e}")))?;
        if scaler.offset.is_empty() || scaler.offset.len() != scaler.scale.len() {
            return Err(Error::bad(
                path,
                format!(
                    "scaler has {} offsets and {} scales; expected the same non-zero number",
                    scaler.offset.len(),
                    scaler.scale.len()
                ),
            ));
        }
        let bad = scaler
            .offset
            .iter()
            .chain(&scaler.scale)
            .filter(|v| !v.is_finite())
            .count();
        if bad > 0 {
            return Err(Error::bad(
                path,
                format!("scaler has {bad} non-finite parameters"),
            ));
        }
        Ok(scaler)
    }
}

/// Fits a [`Scaler`] chunk by chunk, so a corpus larger than memory can be fitted.
/// Feeding the same pixels in any chunking gives the same scaler as [`Scaler::fit`].
#[derive(Debug, Clone)]
pub struct ScalerFitter {
    config: ScalingConfig,
    bands: usize,
    /// Number of pixels seen.
    count: u64,
    min: Vec<f32>,
    max: Vec<f32>,
    /// Welford running mean and sum of squared deviations, per band.
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl ScalerFitter {
    pub fn new(config: ScalingConfig, bands: usize) -> Result<Self> {
        if bands == 0 {
            return Err(Error::invalid("cannot fit a scaler on 0 bands"));
        }
        Ok(ScalerFitter {
            config,
            bands,
            count: 0,
            min: vec![f32::INFINITY; bands],
            max: vec![f32::NEG_INFINITY; bands],
            mean: vec![0.0; bands],
            m2: vec![0.0; bands],
        })
    }

    /// Adds whole pixels (pixel-major). A rejected chunk leaves the fitter unchanged.
    pub fn update(&mut self, pixels: &[f32]) -> Result<()> {
        if !pixels.len().is_multiple_of(self.bands) {
            return Err(Error::invalid(format!(
                "{} values is not a whole number of {}-band pixels",
                pixels.len(),
                self.bands
            )));
        }
        check_finite(pixels)?;
        for pixel in pixels.chunks_exact(self.bands) {
            self.count += 1;
            let n = self.count as f64;
            for (b, &raw) in pixel.iter().enumerate() {
                let x = if self.config.clip_negative {
                    raw.max(0.0)
                } else {
                    raw
                };
                self.min[b] = self.min[b].min(x);
                self.max[b] = self.max[b].max(x);
                let delta = x as f64 - self.mean[b];
                self.mean[b] += delta / n;
                self.m2[b] += delta * (x as f64 - self.mean[b]);
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Result<Scaler> {
        if self.count == 0 {
            return Err(Error::invalid("no pixels to fit the scaler on"));
        }
        let bands = self.bands;
        let (offset, scale): (Vec<f64>, Vec<f64>) = match self.config.kind {
            ScalingKind::PerBandMinMax => self
                .min
                .iter()
                .zip(&self.max)
                .map(|(&lo, &hi)| (lo as f64, inverse(hi as f64 - lo as f64)))
                .unzip(),
            ScalingKind::GlobalMinMax => {
                let lo = self.min.iter().copied().fold(f32::INFINITY, f32::min) as f64;
                let hi = self.max.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
                (vec![lo; bands], vec![inverse(hi - lo); bands])
            }
            ScalingKind::Standardize => {
                let n = self.count as f64;
                self.mean
                    .iter()
                    .zip(&self.m2)
                    .map(|(&m, &m2)| (m, inverse((m2 / n).sqrt())))
                    .unzip()
            }
            ScalingKind::None => (vec![0.0; bands], vec![1.0; bands]),
        };
        Ok(Scaler {
            config: self.config,
            offset: offset.into_iter().map(|v| v as f32).collect(),
            scale: scale.into_iter().map(|v| v as f32).collect(),
        })
    }
}

/// 1 / spread, or 0 for a spread of 0 (a constant band maps to 0).
fn inverse(spread: f64) -> f64 {
    if spread > 0.0 {
        1.0 / spread
    } else {
        0.0
    }
}

fn check_finite(values: &[f32]) -> Result<()> {
    let bad = values.iter().filter(|v| !v.is_finite()).count();
    if bad > 0 {
        return Err(Error::invalid(format!(
            "{bad} of {} values are NaN or infinite; mask or repair them before scaling",
            values.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(kind: ScalingKind) -> ScalingConfig {
        ScalingConfig {
            kind,
            ..ScalingConfig::default()
        }
    }

    fn assert_close(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() < 1e-6, "value {i}: got {g}, want {w}");
        }
    }

    // Three pixels of two bands: band 0 is 2, 4, 6; band 1 is 10, 30, 20.
    const PIXELS: [f32; 6] = [2.0, 10.0, 4.0, 30.0, 6.0, 20.0];

    #[test]
    fn per_band_min_max_maps_each_band_to_unit_range() {
        let s = Scaler::fit(&config(ScalingKind::PerBandMinMax), &PIXELS, 2).unwrap();
        assert_eq!(s.offset, vec![2.0, 10.0]);
        assert_close(&s.scale, &[0.25, 0.05]);
        assert_close(
            &s.transformed(&PIXELS).unwrap(),
            &[0.0, 0.0, 0.5, 1.0, 1.0, 0.5],
        );
    }

    #[test]
    fn global_min_max_uses_one_range_for_all_bands() {
        let s = Scaler::fit(&config(ScalingKind::GlobalMinMax), &PIXELS, 2).unwrap();
        assert_eq!(s.offset, vec![2.0, 2.0]);
        assert_close(&s.scale, &[1.0 / 28.0, 1.0 / 28.0]);
        let y = s.transformed(&PIXELS).unwrap();
        assert_close(
            &y,
            &[0.0, 8.0 / 28.0, 2.0 / 28.0, 1.0, 4.0 / 28.0, 18.0 / 28.0],
        );
    }

    #[test]
    fn standardize_gives_zero_mean_unit_variance() {
        let pixels: Vec<f32> = (0..200)
            .map(|i| ((i * 37) % 101) as f32 * 0.5 + 3.0)
            .collect();
        let s = Scaler::fit(&config(ScalingKind::Standardize), &pixels, 4).unwrap();
        let y = s.transformed(&pixels).unwrap();
        for b in 0..4 {
            let band: Vec<f64> = y.iter().skip(b).step_by(4).map(|&v| v as f64).collect();
            let n = band.len() as f64;
            let mean = band.iter().sum::<f64>() / n;
            let var = band.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            assert!(mean.abs() < 1e-5, "band {b} mean {mean}");
            assert!(
                (var.sqrt() - 1.0).abs() < 1e-5,
                "band {b} std {}",
                var.sqrt()
            );
        }
        // Hand check on band 0 of PIXELS: mean 4, population std sqrt(8/3).
        let s = Scaler::fit(&config(ScalingKind::Standardize), &PIXELS, 2).unwrap();
        assert_close(&s.offset, &[4.0, 20.0]);
        assert_close(&s.scale[..1], &[(3.0f32 / 8.0).sqrt()]);
    }

    #[test]
    fn constant_band_maps_to_zero() {
        let pixels = [5.0, 1.0, 5.0, 3.0];
        for kind in [ScalingKind::PerBandMinMax, ScalingKind::Standardize] {
            let s = Scaler::fit(&config(kind), &pixels, 2).unwrap();
            assert_eq!(s.scale[0], 0.0);
            let y = s.transformed(&[5.0, 2.0, 9.0, 2.0]).unwrap();
            assert_eq!((y[0], y[2]), (0.0, 0.0));
        }
    }

    #[test]
    fn negatives_are_clipped_before_fitting_and_applying() {
        let pixels = [-4.0, 0.0, 2.0, 8.0];
        let s = Scaler::fit(&config(ScalingKind::GlobalMinMax), &pixels, 1).unwrap();
        assert_eq!(s.offset, vec![0.0]);
        assert_close(&s.transformed(&pixels).unwrap(), &[0.0, 0.0, 0.25, 1.0]);

        let keep = ScalingConfig {
            clip_negative: false,
            ..config(ScalingKind::GlobalMinMax)
        };
        let s = Scaler::fit(&keep, &pixels, 1).unwrap();
        assert_eq!(s.offset, vec![-4.0]);
        assert_close(
            &s.transformed(&pixels).unwrap(),
            &[0.0, 4.0 / 12.0, 0.5, 1.0],
        );
    }

    #[test]
    fn out_of_range_output_is_clamped_only_when_asked() {
        let s = Scaler::fit(&config(ScalingKind::PerBandMinMax), &PIXELS, 2).unwrap();
        let outside = [0.0, 50.0];
        assert_close(&s.transformed(&outside).unwrap(), &[0.0, 1.0]);

        let open = ScalingConfig {
            clip_output: false,
            ..config(ScalingKind::PerBandMinMax)
        };
        let s = Scaler::fit(&open, &PIXELS, 2).unwrap();
        assert_close(&s.transformed(&outside).unwrap(), &[-0.5, 2.0]);
    }

    #[test]
    fn none_leaves_values_unchanged() {
        let s = Scaler::fit(&config(ScalingKind::None), &PIXELS, 2).unwrap();
        assert_eq!(s.transformed(&PIXELS).unwrap(), PIXELS.to_vec());
    }

    #[test]
    fn fitting_in_chunks_equals_fitting_at_once() {
        let pixels: Vec<f32> = (0..3 * 97)
            .map(|i| ((i * 7919) % 613) as f32 / 7.0 - 10.0)
            .collect();
        for kind in [
            ScalingKind::PerBandMinMax,
            ScalingKind::GlobalMinMax,
            ScalingKind::Standardize,
        ] {
            let whole = Scaler::fit(&config(kind.clone()), &pixels, 3).unwrap();
            let mut fitter = ScalerFitter::new(config(kind), 3).unwrap();
            for chunk in pixels.chunks(3 * 10) {
                fitter.update(chunk).unwrap();
            }
            assert_eq!(fitter.finish().unwrap(), whole);
        }
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scaler.json");
        let s = Scaler::fit(&config(ScalingKind::Standardize), &PIXELS, 2).unwrap();
        s.save(&path).unwrap();
        assert!(!dir.path().join("scaler.json.tmp").exists());
        let back = Scaler::load(&path).unwrap();
        assert_eq!(back, s);
        assert_eq!(
            back.transformed(&PIXELS).unwrap(),
            s.transformed(&PIXELS).unwrap()
        );
    }

    #[test]
    fn load_rejects_inconsistent_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scaler.json");
        let mut s = Scaler::fit(&ScalingConfig::default(), &PIXELS, 2).unwrap();
        s.scale.pop();
        std::fs::write(&path, serde_json::to_string(&s).unwrap()).unwrap();
        let err = Scaler::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("scaler.json") && err.contains("2 offsets and 1 scales"),
            "{err}"
        );
        std::fs::write(&path, "{ not json").unwrap();
        assert!(Scaler::load(&path)
            .unwrap_err()
            .to_string()
            .contains("not a scaler file"));
    }

    #[test]
    fn band_mismatch_is_an_error() {
        let s = Scaler::fit(&ScalingConfig::default(), &vec![1.0; 200 * 3], 200).unwrap();
        let err = s.check_bands(220).unwrap_err().to_string();
        assert_eq!(err, "scaler fitted on 200 bands, data has 220");
        let mut data = vec![1.0; 220];
        assert!(s.transform(&mut data).is_err());
        assert_eq!(data, vec![1.0; 220], "a failed transform changes nothing");
    }

    #[test]
    fn bad_input_is_an_error() {
        let c = ScalingConfig::default();
        let err = Scaler::fit(&c, &[1.0, f32::NAN, 2.0, f32::INFINITY], 2).unwrap_err();
        assert!(
            err.to_string()
                .contains("2 of 4 values are NaN or infinite"),
            "{err}"
        );
        assert!(Scaler::fit(&c, &[], 2)
            .unwrap_err()
            .to_string()
            .contains("no pixels"));
        assert!(Scaler::fit(&c, &[1.0, 2.0, 3.0], 2).is_err());
        assert!(Scaler::fit(&c, &[1.0], 0).is_err());

        let s = Scaler::fit(&c, &PIXELS, 2).unwrap();
        let mut data = [1.0, f32::NAN];
        assert!(s
            .transform(&mut data)
            .unwrap_err()
            .to_string()
            .contains("1 of 2"));
    }
}
