//! Baselines on a corpus run's own split, for `experiment` on a folder read from disk: a
//! classifier fitted on the run's training pixels scores its test pixels, both read from the
//! files with the run's stored transform, so that it sees what the model saw.

use super::config::ExperimentConfig;
use super::corpus_run::{fit_on_training_pixels, score_in_parts};
use super::run_dir::RunDir;
use super::trained::ClassInfo;
use crate::atomic::read_json;
use crate::data::corpus::depth_split::CorpusSplit;
use crate::data::corpus::inputs::PixelTransform;
use crate::data::corpus::Corpus;
use crate::data::scaling::Scaler;
use crate::error::Result;
use crate::eval::classifier::{Classifier, ClassifierKind};
use crate::eval::metrics::Metrics;

/// What a corpus baseline reads of each pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineInputs {
    /// The run's model inputs (its spatial features, when it has them).
    Model,
    /// The scaled spectra alone.
    Spectra,
}

/// Scores on the test pixels of a classifier of `kind` fitted on the training pixels of the
/// corpus run in `dir` (its split, classes, scaling and spatial features as stored there).
pub fn corpus_baseline(corpus: &Corpus, dir: &RunDir, kind: ClassifierKind, inputs: BaselineInputs) -> Result<Metrics> {
    let cfg = ExperimentConfig::from_toml_file(&dir.config())?;
    let split: CorpusSplit = read_json(&dir.root.join("corpus_split.json"))?;
    let k = read_json::<ClassInfo>(&dir.classes())?.values.len();
    let spatial = match inputs {
        BaselineInputs::Model if dir.spatial().exists() => Some(read_json(&dir.spatial())?),
        _ => None,
    };
    let transform = PixelTransform { scaler: Scaler::load(&dir.scaler())?, spatial };
    let classifier = fit_on_training_pixels(corpus, (&transform, &split, k), kind, cfg.train.seed)?;
    score_in_parts(corpus, &transform, &split.test, k, |x| classifier.predict(x))
}
