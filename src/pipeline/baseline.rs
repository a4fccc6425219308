//! The reference every model is compared with: a classifier on the raw scaled spectra, fitted on
//! the same labelled pixels and scored on the same test pixels.

use crate::data::sampling::Split;
use crate::data::scaling::{Scaler, ScalingConfig};
use crate::data::Scene;
use crate::error::{Error, Result};
use crate::eval::classifier::{fit_classifier, Classifier, ClassifierKind};
use crate::eval::metrics::{evaluate, Metrics};
use crate::train::m1_task::gather_rows;

pub fn raw_spectra_baseline(scene: &Scene, split: &Split, scaling: &ScalingConfig, kind: ClassifierKind, seed: u64) -> Result<Metrics> {
    let labels = scene.labels.as_ref().ok_or_else(|| Error::invalid("the baseline needs labels"))?;
    let scaler = Scaler::fit(scaling, &scene.gather(split.pool()), scene.bands)?;
    let x = scaler.transformed(&scene.pixels)?;
    let class = |i: &usize| labels.classes[*i].map(|c| c as usize).ok_or_else(|| Error::invalid("split pixel without a label"));
    let y: Vec<usize> = split.train.iter().map(class).collect::<Result<_>>()?;
    let (clf, _) = fit_classifier(kind, &gather_rows(&x, scene.bands, &split.train), scene.bands, &y, labels.n_classes(), seed)?;
    let pred = clf.predict(&gather_rows(&x, scene.bands, &split.test));
    let truth: Vec<usize> = split.test.iter().map(class).collect::<Result<_>>()?;
    evaluate(&truth, &pred, labels.n_classes())
}
