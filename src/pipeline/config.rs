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
}
