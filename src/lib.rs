//! hyperssl: semi-supervised classification of hyperspectral pixels with the deep generative
//! models of Kingma, Rezende, Mohamed and Welling (NIPS 2014).
//!
//! The layers, each importing only those before it:
//! `data` (readers, scene, scaling, sampling) -> `models` (distributions, M1, M2, stacked)
//! -> `train` (loop, checkpoints, log) -> `eval` (metrics, classifiers) -> `report` (maps, plots).
//! Beneath them all: `error` and `atomic` (writes that never leave a half-written file).
//! The `hyperssl` binary is a thin command-line layer over them.

pub mod atomic;
pub mod data;
pub mod error;
pub mod eval;
pub mod models;
pub mod pipeline;
pub mod report;
pub mod train;

pub use error::{Error, Result};

/// What a program that fits and applies models needs, in one import:
///
/// ```
/// use hyperssl::prelude::*;
/// # fn main() -> hyperssl::Result<()> {
/// let config = ExperimentConfig::rows().checked()?;
/// assert_eq!(config.model, ModelKind::M2);
/// # Ok(()) }
/// ```
pub mod prelude {
    pub use crate::data::{LabelMap, Scene};
    pub use crate::error::{Error, Result};
    pub use crate::pipeline::backend::{Cpu, CpuTrain, Device};
    pub use crate::pipeline::config::{CheckedConfig, ExperimentConfig, Input, ModelKind};
    pub use crate::pipeline::fit::{fit_array, fit_rows, fit_scene, LabelledSpectra};
    pub use crate::pipeline::predictor::Predictor;
    pub use crate::pipeline::trained::Trained;
}
