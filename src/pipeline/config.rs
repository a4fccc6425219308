//! The whole configuration of a run, as one serialisable struct (a TOML file or CLI flags).

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::data::sampling::SplitConfig;
use crate::data::scaling::ScalingConfig;
use crate::error::{Error, Result};
use crate::eval::classifier::ClassifierKind;
use crate::models::M1Config;
use crate::train::TrainConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Variational autoencoder features + a classifier.
    M1,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExperimentConfig {
    pub model: ModelKind,
    pub classifier: ClassifierKind,
    /// Fraction of the unlabelled pool held out to compute the validation bound.
    pub holdout: f64,
    pub m1: M1Config,
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
            m1: M1Config::default(),
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
