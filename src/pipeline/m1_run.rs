//! An M1 run: the VAE learns features from every pixel of the unlabelled pool, a classifier is
//! fitted on the features of the labelled training pixels, and the test pixels are scored.

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

use super::config::ExperimentConfig;
use super::features::dist_qz;
use super::run_dir::RunDir;
use crate::data::sampling::{self, Split};
use crate::data::scaling::Scaler;
use crate::data::Scene;
use crate::error::{Error, Result};
use crate::eval::classifier::{fit_classifier, Classifier, FitReport, FittedClassifier};
use crate::eval::metrics::{evaluate, Metrics};
use crate::models::tensors::column_moments;
use crate::models::M1;
use crate::train::checkpoint::LoopState;
use crate::train::m1_task::{gather_rows, M1Task};
use crate::train::trainer::{train, Progress, RunFiles};

pub struct M1Outcome<B: burn::tensor::backend::Backend> {
    pub model: M1<B>,
    pub scaler: Scaler,
    pub split: Split,
    pub classifier: FittedClassifier,
    pub fit: FitReport,
    pub metrics: Metrics,
    /// Predicted class of every pixel of the scene.
    pub predicted: Vec<usize>,
    /// Class probabilities of every pixel, `n_pixels x n_classes`.
    pub probabilities: Vec<f32>,
    pub train_state: LoopState,
    pub seconds: f64,
}

/// Pixels of the pool held out for the validation bound: a seeded `fraction` (at least one, at
/// most 10,000), and the rest for training.
pub fn hold_out(pool: &[usize], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut p = pool.to_vec();
    p.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_0f_ba11));
    let k = ((p.len() as f64 * fraction).round() as usize).clamp(1.min(p.len().saturating_sub(1)), 10_000);
    let valid = p.split_off(p.len() - k);
    (p, valid)
}

pub fn run_m1<B: AutodiffBackend>(
    scene: &Scene,
    cfg: &ExperimentConfig,
    dir: Option<&RunDir>,
    resume: bool,
    progress: &mut dyn FnMut(&Progress),
    device: &B::Device,
) -> Result<M1Outcome<B::InnerBackend>> {
    let started = Instant::now();
    let labels = scene.labels.as_ref().ok_or_else(|| {
        Error::invalid(format!("{} has no label map: pass --labels to train and evaluate a classifier", scene.source.display()))
    })?;
    scene.check_finite()?;
    let split = sampling::split(labels, &cfg.split)?;
    if split.train.is_empty() || split.test.is_empty() {
        return Err(Error::invalid("the split left no training or no test pixels"));
    }
    let pool = if split.unlabelled.is_empty() { split.train.clone() } else { split.unlabelled.clone() };
    let scaler = Scaler::fit(&cfg.scaling, &scene.gather(&pool), scene.bands)?;
    let x = scaler.transformed(&scene.pixels)?;
    let dim = scene.bands;

    let (train_px, valid_px) = hold_out(&pool, cfg.holdout, cfg.train.seed);
    let mut task = M1Task::<B>::new(gather_rows(&x, dim, &train_px), gather_rows(&x, dim, &valid_px), dim, cfg.train.batch_size, cfg.train.seed, device.clone());
    let (mean, var) = column_moments(&task.x, dim);
    let model = M1::<B>::new(&cfg.m1, dim, cfg.train.seed, device).init_output(&mean, &var);
    let files = dir.map(|d| RunFiles::in_dir(&d.root, "m1_"));
    if let Some(d) = dir {
        crate::train::atomic::write(&d.config(), cfg.to_toml().as_bytes())?;
        scaler.save(&d.scaler())?;
    }
    let outcome = train(&mut task, model, &cfg.train, files.as_ref(), resume, progress, device)?;
    let model = outcome.best.valid();

    let (features, _) = dist_qz(&model, &x, dim, device);
    let latent = model.latent_dim();
    let k = labels.n_classes();
    let class_of = |i: usize| labels.classes[i].map(|c| c as usize).expect("split pixels are labelled");
    let y_train: Vec<usize> = split.train.iter().map(|&i| class_of(i)).collect();
    let (classifier, fit) = fit_classifier(cfg.classifier, &gather_rows(&features, latent, &split.train), latent, &y_train, k, cfg.train.seed)?;
    let probabilities = classifier.predict_proba(&features);
    let predicted = classifier.predict(&features);
    let truth: Vec<usize> = split.test.iter().map(|&i| class_of(i)).collect();
    let test_pred: Vec<usize> = split.test.iter().map(|&i| predicted[i]).collect();
    let metrics = evaluate(&truth, &test_pred, k)?;
    if let Some(d) = dir {
        crate::train::atomic::write_json(&d.classifier(), &classifier)?;
        crate::train::atomic::write_json(&d.split(), &split)?;
        crate::train::atomic::write_json(&d.metrics(), &metrics)?;
    }
    Ok(M1Outcome {
        model,
        scaler,
        split,
        classifier,
        fit,
        metrics,
        predicted,
        probabilities,
        train_state: outcome.state,
        seconds: started.elapsed().as_secs_f64(),
    })
}
