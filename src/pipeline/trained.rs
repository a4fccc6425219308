//! A finished run read back from its folder: configuration, scaling, split, class names and the
//! trained model, so that features, evaluation and prediction use exactly what training produced.

use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

use super::config::{ExperimentConfig, ModelKind};
use super::features::dist_qz;
use super::m2_run::{argmax_rows, probabilities, FeatureSelection};
use super::run_dir::RunDir;
use crate::data::sampling::Split;
use crate::data::scaling::Scaler;
use crate::data::{LabelMap, Scene};
use crate::error::{Error, Result};
use crate::eval::classifier::{Classifier, FittedClassifier};
use crate::eval::metrics::{evaluate, Metrics};
use crate::models::{M1, M2};
use crate::train::atomic::read_json;
use crate::train::checkpoint::load_model;
use crate::train::trainer::RunFiles;

/// The classes a run was trained on: stored label values and names, by dense index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClassInfo {
    pub values: Vec<u32>,
    pub names: Vec<String>,
}

impl ClassInfo {
    pub fn of(labels: &LabelMap) -> Self {
        ClassInfo { values: labels.values.clone(), names: labels.names.clone() }
    }
}

pub enum TrainedModel<B: Backend> {
    M1 { model: M1<B>, classifier: FittedClassifier },
    M2 { model: M2<B> },
    M1m2 { m1: M1<B>, selection: FeatureSelection, m2: M2<B> },
}

pub struct Trained<B: Backend> {
    pub config: ExperimentConfig,
    pub scaler: Scaler,
    pub split: Split,
    pub classes: ClassInfo,
    pub model: TrainedModel<B>,
}

fn load_m1<B: Backend>(dir: &RunDir, cfg: &ExperimentConfig, bands: usize, device: &B::Device) -> Result<M1<B>> {
    let path = RunFiles::in_dir(&dir.root, "m1_").best_model;
    if !path.exists() {
        return Err(Error::bad(&dir.root, "the run has no trained M1 yet (m1_model.mpk missing): finish it with --resume"));
    }
    load_model(&path, M1::new(&cfg.m1, bands, cfg.train.seed, device), device)
}

fn load_m2<B: Backend>(dir: &RunDir, cfg: &ExperimentConfig, dim: usize, k: usize, device: &B::Device) -> Result<M2<B>> {
    let path = RunFiles::in_dir(&dir.root, "m2_").best_model;
    if !path.exists() {
        return Err(Error::bad(&dir.root, "the run has no trained M2 yet (m2_model.mpk missing): finish it with --resume"));
    }
    load_model(&path, M2::new(&cfg.m2, dim, k, cfg.train.seed, device), device)
}

impl<B: Backend> Trained<B> {
    pub fn load(dir: &RunDir, device: &B::Device) -> Result<Self> {
        let config = ExperimentConfig::from_toml_file(&dir.config())?;
        let scaler = Scaler::load(&dir.scaler())?;
        let split: Split = read_json(&dir.split())?;
        let classes: ClassInfo = read_json(&dir.classes())?;
        let (bands, k) = (scaler.bands(), classes.values.len());
        let model = match config.model {
            ModelKind::M1 => {
                TrainedModel::M1 { model: load_m1(dir, &config, bands, device)?, classifier: read_json(&dir.classifier())? }
            }
            ModelKind::M2 => TrainedModel::M2 { model: load_m2(dir, &config, bands, k, device)? },
            ModelKind::M1m2 => {
                let selection: FeatureSelection = read_json(&dir.root.join("m1m2_features.json"))?;
                let m2 = load_m2(dir, &config, selection.kept.len(), k, device)?;
                TrainedModel::M1m2 { m1: load_m1(dir, &config, bands, device)?, selection, m2 }
            }
        };
        Ok(Trained { config, scaler, split, classes, model })
    }

    /// The scene scaled with the stored scaling, after checking its bands and values.
    pub fn scaled(&self, scene: &Scene) -> Result<Vec<f32>> {
        self.scaler.check_bands(scene.bands).map_err(|e| Error::bad(&scene.source, format!("{e}: not the sensor this model was trained on")))?;
        scene.check_finite()?;
        self.scaler.transformed(&scene.pixels)
    }

    /// Means and log-variances of M1's q(z|x) for every pixel (runs with an M1).
    pub fn m1_features(&self, scene: &Scene, device: &B::Device) -> Result<(Vec<f32>, Vec<f32>)> {
        let m1 = match &self.model {
            TrainedModel::M1 { model, .. } => model,
            TrainedModel::M1m2 { m1, .. } => m1,
            TrainedModel::M2 { .. } => return Err(Error::invalid("an M2 run has no M1 features")),
        };
        Ok(dist_qz(m1, &self.scaled(scene)?, scene.bands, device))
    }

    /// Class probabilities of every pixel, `n_pixels x n_classes`.
    pub fn probabilities(&self, scene: &Scene, device: &B::Device) -> Result<Vec<f32>> {
        let x = self.scaled(scene)?;
        Ok(match &self.model {
            TrainedModel::M1 { model, classifier } => classifier.predict_proba(&dist_qz(model, &x, scene.bands, device).0),
            TrainedModel::M2 { model } => probabilities(model, &x, scene.bands, device),
            TrainedModel::M1m2 { m1, selection, m2 } => {
                let f = selection.apply(&dist_qz(m1, &x, scene.bands, device).0);
                probabilities(m2, &f, selection.kept.len(), device)
            }
        })
    }

    /// Class of every pixel and the class probabilities.
    pub fn predict(&self, scene: &Scene, device: &B::Device) -> Result<(Vec<usize>, Vec<f32>)> {
        let p = self.probabilities(scene, device)?;
        let classes = match &self.model {
            // The SVM's class is its vote, which its coupled probabilities need not agree with.
            TrainedModel::M1 { model, classifier } => classifier.predict(&dist_qz(model, &self.scaled(scene)?, scene.bands, device).0),
            _ => argmax_rows(&p, self.classes.values.len()),
        };
        Ok((classes, p))
    }

    /// Metrics on the stored test pixels of the scene the run trained on.
    pub fn evaluate(&self, scene: &Scene, device: &B::Device) -> Result<Metrics> {
        let labels = scene.labels.as_ref().ok_or_else(|| Error::bad(&scene.source, "no label map to evaluate against"))?;
        let (pred, _) = self.predict(scene, device)?;
        let mut truth = Vec::with_capacity(self.split.test.len());
        let mut got = Vec::with_capacity(self.split.test.len());
        for &i in &self.split.test {
            let Some(c) = labels.classes.get(i).copied().flatten() else {
                return Err(Error::bad(&scene.source, format!("test pixel {i} of the run is unlabelled here: not the scene the run trained on")));
            };
            truth.push(c as usize);
            got.push(pred[i]);
        }
        evaluate(&truth, &got, self.classes.values.len())
    }
}
