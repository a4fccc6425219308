//! The references every model is compared with: a classifier fitted on the same labelled pixels
//! and scored on the same test pixels, on the raw scaled spectra or on the same spatial features
//! as the model, its class map regularised as the model's is.

use crate::data::sampling::Split;
use crate::data::Scene;
use crate::error::Result;
use crate::eval::classifier::{Classifier, ClassifierKind};
use crate::eval::metrics::Metrics;

use super::config::{ExperimentConfig, Input};
use super::prepared::{prepare_split, Prepared};

/// Scores of a baseline classifier: its own classes, its class map regularised as the
/// configuration says (None when no regulariser is on), and that map without the propagation
/// (None when propagation is off).
pub struct BaselineScores {
    pub pixelwise: Metrics,
    pub regularised: Option<Metrics>,
    pub without_propagation: Option<Metrics>,
}

/// `kind` fitted on the training pixels of a prepared scene (its split, scaling and, for
/// spatial inputs, spatial features: see [`prepare_split`]), then scored on the test pixels.
/// Several baselines on one draw share one preparation.
pub fn baseline(p: &Prepared, cfg: &ExperimentConfig, kind: ClassifierKind) -> Result<BaselineScores> {
    let (clf, _) = p.fit_classifier(kind, (&p.x, p.dim), cfg.train.seed)?;
    let pixelwise = clf.predict(&p.x);
    let (mut regularised, mut without_propagation) = (None, None);
    if cfg.mrf.is_on() || cfg.propagation.is_on() {
        let probs = clf.predict_proba(&p.x);
        regularised = Some(p.score(&p.class_map(&pixelwise, &probs, cfg).classes)?);
        without_propagation = p.score_without_propagation(&pixelwise, &probs, cfg)?;
    }
    Ok(BaselineScores { pixelwise: p.score(&pixelwise)?, regularised, without_propagation })
}

/// The RBF SVM on the raw scaled spectra: the reference of every table.
pub fn raw_spectra_baseline(scene: &Scene, split: &Split, cfg: &ExperimentConfig) -> Result<Metrics> {
    let raw = ExperimentConfig { input: Input::Spectra, mrf: crate::eval::mrf::MrfConfig::off(), propagation: crate::eval::propagation::PropagationConfig::off(), ..cfg.clone() };
    let p = prepare_split(scene, &raw, Some(split.clone()))?;
    Ok(baseline(&p, &raw, ClassifierKind::Svm)?.pixelwise)
}
