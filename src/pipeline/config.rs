//! The whole configuration of a run, as one serialisable struct (a TOML file or CLI flags).

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::data::sampling::SplitConfig;
use crate::data::scaling::ScalingConfig;
use crate::error::{Error, Result};
use crate::eval::classifier::ClassifierKind;
use crate::models::{M1Config, M2Config};
use crate::train::TrainConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Variational autoencoder features + a classifier.
    M1,
    /// The semi-supervised generative model on the scaled spectra; q(y|x) classifies.
    M2,
    /// M2 trained on M1's latent features (the paper's best model).
    M1m2,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExperimentConfig {
    pub model: ModelKind,
    pub classifier: ClassifierKind,
    /// Fraction of the unlabelled pool held out to compute the validation bound.
    pub holdout: f64,
    /// M1: epochs over which the KL weight rises from 0 to 1 (0 = the plain bound throughout).
    pub kl_warmup: usize,
    pub m1: M1Config,
    pub m2: M2Config,
    /// Weight of M2's classification term: beta = alpha * N_total / N_labelled (paper: 0.1).
    pub alpha: f64,
    /// M2: labelled pixels in every step; default (None) the reference code's share,
    /// N_labelled / steps per epoch. More lower the noise of the labelled terms (each then
    /// counts for less, so the objective keeps its weights).
    pub labelled_batch: Option<usize>,
    /// M2: the fewest labelled rows a step takes when `labelled_batch` is not set (a smaller
    /// share is repeated); set from the device (see `Device::min_labelled_batch`).
    pub min_labelled_batch: usize,
    /// M2: run the many-row layers in row chunks; set from the device (see
    /// `Device::row_chunks`).
    pub row_chunks: bool,
    /// M1+M2 keeps the M1 latent dimensions whose posterior mean varies across pixels more than
    /// this (standard deviation), as the reference code does.
    pub feature_std_threshold: f64,
    /// Epochs of the M1 phase of M1+M2 (default: `train.epochs`).
    pub m1_epochs: Option<usize>,
    pub train: TrainConfig,
    pub split: SplitConfig,
    pub scaling: ScalingConfig,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        ExperimentConfig {
            model: ModelKind::M1,
            classifier: ClassifierKind::Svm,
            holdout: 0.05,
            kl_warmup: 0,
            m1: M1Config::default(),
            m2: M2Config::default(),
            alpha: 0.1,
            labelled_batch: None,
            min_labelled_batch: 1,
            row_chunks: false,
            feature_std_threshold: 0.1,
            m1_epochs: None,
            train: TrainConfig::default(),
            split: SplitConfig::default(),
            scaling: ScalingConfig::default(),
        }
    }
}

impl ExperimentConfig {
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        toml::from_str(&text).map_err(|e| Error::bad(path, format!("invalid configuration: {e}")))
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("configuration serialises")
    }

    /// Refuses values that would only fail (or silently mislead) deep into training: checked
    /// once the flags and the file are merged, before any data is read.
    pub fn check(&self) -> Result<()> {
        let t = &self.train;
        for (what, value) in [
            ("train.epochs (--epochs)", t.epochs),
            ("m1_epochs (--m1-epochs)", self.m1_epochs.unwrap_or(1)),
            ("train.patience (--patience)", t.patience),
            ("train.batch_size (--batch-size)", t.batch_size),
            ("train.eval_every (--eval-every)", t.eval_every),
        ] {
            if value == 0 {
                return Err(Error::invalid(format!("{what} must be at least 1")));
            }
        }
        if !(t.learning_rate.is_finite() && t.learning_rate > 0.0) {
            return Err(Error::invalid(format!("train.learning_rate (--lr) must be a positive number, not {}", t.learning_rate)));
        }
        if self.labelled_batch == Some(0) {
            return Err(Error::invalid("labelled_batch (--labelled-batch) must be at least 1"));
        }
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(Error::invalid(format!(
                "alpha (--alpha) must be a non-negative number, not {}",
                self.alpha
            )));
        }
        for (model, noise) in [("m1", self.m1.initial_noise), ("m2", self.m2.initial_noise)] {
            if !(noise.is_finite() && noise > 0.0) {
                return Err(Error::invalid(format!(
                    "{model}.initial_noise (--initial-noise) must be a positive fraction of the data variance, got {noise}"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(edit: impl FnOnce(&mut ExperimentConfig)) -> String {
        let mut c = ExperimentConfig::default();
        edit(&mut c);
        c.check().unwrap_err().to_string()
    }

    #[test]
    fn check_accepts_the_defaults_and_refuses_each_bad_value() {
        assert!(ExperimentConfig::default().check().is_ok());
        assert!(refusal(|c| c.labelled_batch = Some(0)).contains("--labelled-batch"));
        assert!(refusal(|c| c.alpha = -1.0).contains("alpha (--alpha) must be a non-negative number, not -1"));
        assert!(refusal(|c| c.alpha = f64::NAN).contains("not NaN"));
        assert!(refusal(|c| c.m2.initial_noise = 0.0).contains("m2.initial_noise"));
        assert!(refusal(|c| c.m1.initial_noise = f64::INFINITY).contains("m1.initial_noise"));
        assert!(refusal(|c| c.train.epochs = 0).contains("--epochs) must be at least 1"));
        assert!(refusal(|c| c.m1_epochs = Some(0)).contains("--m1-epochs"));
        assert!(refusal(|c| c.train.patience = 0).contains("--patience"));
        assert!(refusal(|c| c.train.batch_size = 0).contains("--batch-size"));
        assert!(refusal(|c| c.train.eval_every = 0).contains("--eval-every"));
        assert!(refusal(|c| c.train.learning_rate = 0.0).contains("(--lr) must be a positive number, not 0"));
        assert!(refusal(|c| c.train.learning_rate = f64::NAN).contains("not NaN"));
    }
}
