//! The paper's benchmark: MNIST with 50,000 training, 10,000 validation and 10,000 test digits,
//! N labels drawn balanced over the ten classes from the training digits. The digits become a
//! 70,000 x 1 "scene" of 784 bands so that they go through the same pipeline as spectra.

use std::path::Path;

use crate::data::readers::mnist::load_mnist;
use crate::data::sampling::Split;
use crate::data::scaling::{ScalingConfig, ScalingKind};
use crate::data::{LabelMap, Scene};
use crate::error::{Error, Result};
use crate::models::{Likelihood, M1Config, M2Config};

use super::config::{ExperimentConfig, ModelKind};

pub const N_TRAIN: usize = 50_000;
pub const N_VALID: usize = 10_000;

/// All 70,000 digits (the 60,000 training digits, then the 10,000 test digits) as a scene.
pub fn mnist_scene(dir: &Path) -> Result<Scene> {
    let m = load_mnist(dir)?;
    let mut pixels = m.train_images.samples.to_f32();
    pixels.extend(m.test_images.samples.to_f32());
    let mut labels: Vec<u32> = m.train_labels.samples.to_f64().iter().map(|&v| v as u32 + 1).collect();
    labels.extend(m.test_labels.samples.to_f64().iter().map(|&v| v as u32 + 1));
    let n = labels.len();
    let bands = pixels.len() / n;
    let mut map = LabelMap::from_values(n, 1, &labels)?;
    map.names = (0..10).map(|d| d.to_string()).collect();
    Ok(Scene { height: n, width: 1, bands, pixels, dtype: m.train_images.dtype(), wavelengths: None, labels: Some(map), source: dir.to_path_buf() })
}

/// The paper's split: `labels` training digits balanced over classes (drawn with `seed`) from
/// the first 50,000; validation 50,000..60,000; test the official 10,000; every training digit
/// unlabelled too.
pub fn paper_split(scene: &Scene, labels: usize, seed: u64) -> Result<Split> {
    let map = scene.labels.as_ref().ok_or_else(|| Error::invalid("MNIST scene without labels"))?;
    if !labels.is_multiple_of(10) || labels == 0 || labels > N_TRAIN {
        return Err(Error::invalid(format!("--labels must be a positive multiple of 10 up to {N_TRAIN}, not {labels}")));
    }
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); 10];
    for i in 0..N_TRAIN {
        if let Some(c) = map.classes[i] {
            by_class[c as usize].push(i);
        }
    }
    let mut rng = crate::data::sampling::seeded_rng(seed);
    let mut train = Vec::with_capacity(labels);
    for list in &mut by_class {
        crate::data::sampling::shuffle_indices(list, &mut rng);
        train.extend_from_slice(&list[..(labels / 10).min(list.len())]);
    }
    train.sort_unstable();
    Ok(Split {
        train,
        valid: (N_TRAIN..N_TRAIN + N_VALID).collect(),
        test: (N_TRAIN + N_VALID..scene.height).collect(),
        unlabelled: (0..N_TRAIN).collect(),
        warnings: Vec::new(),
    })
}

/// The paper's configuration: M1 784-500-500-50 with a Bernoulli likelihood; M2 with one hidden
/// layer (500 units, 300 for 100 labels), alpha 0.1; Gaussian likelihood on M1 features, Bernoulli
/// on pixels.
pub fn paper_config(model: ModelKind, labels: usize) -> ExperimentConfig {
    let mut c = ExperimentConfig { model, ..ExperimentConfig::spectral() };
    c.scaling = ScalingConfig { kind: ScalingKind::GlobalMinMax, clip_negative: false, clip_output: true };
    c.m1 = M1Config { hidden: vec![500, 500], latent: 50, likelihood: Likelihood::Bernoulli, ..Default::default() };
    let h = if labels <= 100 { 300 } else { 500 };
    c.m2 = M2Config {
        hidden_classifier: vec![h],
        hidden_encoder: vec![h],
        hidden_decoder: vec![h],
        latent: 50,
        likelihood: if model == ModelKind::M2 { Likelihood::Bernoulli } else { Likelihood::GaussianBand },
        ..Default::default()
    };
    c.alpha = 0.1;
    c.train.batch_size = 100;
    c.train.patience = 10;
    c
}
