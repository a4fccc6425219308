//! A finished run read back from its folder: configuration, scaling, split, model and
//! classifier, so that features, evaluation and prediction use exactly what training produced.

use burn::tensor::backend::Backend;

use super::config::ExperimentConfig;
use super::features::dist_qz;
use super::run_dir::RunDir;
use crate::data::sampling::Split;
use crate::data::scaling::Scaler;
use crate::data::Scene;
use crate::error::{Error, Result};
use crate::eval::classifier::{Classifier, FittedClassifier};
use crate::eval::metrics::{evaluate, Metrics};
use crate::models::M1;
use crate::train::atomic::read_json;
use crate::train::checkpoint::load_model;
use crate::train::trainer::RunFiles;

pub struct TrainedM1<B: Backend> {
    pub config: ExperimentConfig,
    pub scaler: Scaler,
    pub split: Split,
    pub model: M1<B>,
    pub classifier: FittedClassifier,
}

impl<B: Backend> TrainedM1<B> {
    pub fn load(dir: &RunDir, device: &B::Device) -> Result<Self> {
        let config = ExperimentConfig::from_toml_file(&dir.config())?;
        let scaler = Scaler::load(&dir.scaler())?;
        let files = RunFiles::in_dir(&dir.root, "m1_");
        if !files.best_model.exists() {
            return Err(Error::bad(&dir.root, "the run has no trained model yet (m1_model.mpk missing): finish it with --resume"));
        }
        let template = M1::new(&config.m1, scaler.bands(), config.train.seed, device);
        let model = load_model(&files.best_model, template, device)?;
        let split = read_json(&dir.split())?;
        let classifier = read_json(&dir.classifier())?;
        Ok(TrainedM1 { config, scaler, split, model, classifier })
    }

    /// Scales a scene with the stored scaler (checking its band count) and returns the features
    /// (means and log-variances of q(z|x)) of every pixel.
    pub fn features(&self, scene: &Scene, device: &B::Device) -> Result<(Vec<f32>, Vec<f32>)> {
        self.scaler.check_bands(scene.bands).map_err(|e| Error::bad(&scene.source, e.to_string()))?;
        scene.check_finite()?;
        let x = self.scaler.transformed(&scene.pixels)?;
        Ok(dist_qz(&self.model, &x, scene.bands, device))
    }

    /// Class of every pixel and the class probabilities (`n x k`).
    pub fn predict(&self, scene: &Scene, device: &B::Device) -> Result<(Vec<usize>, Vec<f32>)> {
        let (mu, _) = self.features(scene, device)?;
        Ok((self.classifier.predict(&mu), self.classifier.predict_proba(&mu)))
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
        evaluate(&truth, &got, labels.n_classes())
    }
}
