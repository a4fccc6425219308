//! M2's training on a prepared scene: the generative semi-supervised model on the run's inputs,
//! or on the latent features of an M1 trained first on every pixel of the pool (M1+M2); q(y|x)
//! is the classifier. Runs of any model on a scene are [`super::scene_run`]'s.

use burn::module::AutodiffModule;
use crate::models::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use super::config::ExperimentConfig;
use super::prepared::Prepared;
use super::run_dir::RunSession;
use crate::error::Result;
use crate::models::tensors::column_moments;
use crate::models::M2;
use crate::train::checkpoint::LoopState;
use crate::data::array::gather_rows;
use crate::train::m2_task::{Inputs, M2Data, M2Task};
use crate::train::trainer::train;

/// Which M1 latent dimensions feed M2, and the range each is held to, stored with an M1+M2 run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeatureSelection {
    pub kept: Vec<usize>,
    pub latent: usize,
    /// Per kept dimension, the interval its values are clipped to: the mean plus or minus
    /// [`FeatureSelection::CLIP_SD`] standard deviations over the rows it was fitted on. Empty in
    /// runs from before clipping, which are applied as they were trained.
    #[serde(default)]
    pub range: Vec<(f32, f32)>,
}

impl FeatureSelection {
    /// M1 maps a few unusual pixels (of spatial features especially) far out; held to this many
    /// standard deviations, ordinary codes are untouched.
    pub const CLIP_SD: f32 = 5.0;

    /// Dimensions whose mean varies across the given rows with a standard deviation above
    /// `threshold`; all of them if none does.
    pub fn fit(mu: &[f32], latent: usize, threshold: f64) -> Self {
        let (mean, var) = column_moments(mu, latent);
        let mut kept: Vec<usize> = (0..latent).filter(|&j| (var[j] as f64).sqrt() > threshold).collect();
        if kept.is_empty() {
            kept = (0..latent).collect();
        }
        let range = kept
            .iter()
            .map(|&j| {
                let half = Self::CLIP_SD * var[j].sqrt();
                (mean[j] - half, mean[j] + half)
            })
            .collect();
        FeatureSelection { kept, latent, range }
    }

    /// The kept dimensions of each row, clipped to their ranges.
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        let clip = |i: usize, v: f32| self.range.get(i).map_or(v, |&(lo, hi)| v.clamp(lo, hi));
        x.chunks_exact(self.latent).flat_map(|row| self.kept.iter().enumerate().map(move |(i, &j)| clip(i, row[j]))).collect()
    }

    /// The kept dimensions of log-variances of q(z|x), at most 0: no wider than the prior
    /// N(0, 1). On an unusual pixel M1's encoder can put out a log-variance of 50, and a code
    /// sampled with that spread is not a number M2 can take.
    pub fn logvar(&self, lv: &[f32]) -> Vec<f32> {
        lv.chunks_exact(self.latent).flat_map(|row| self.kept.iter().map(move |&j| row[j].min(0.0))).collect()
    }
}

/// M2's training task over `data` with the run's settings.
pub(crate) fn configured_task<B: AutodiffBackend>(data: M2Data, cfg: &ExperimentConfig, device: &B::Device) -> Result<M2Task<B>> {
    let mut task = M2Task::<B>::new(data, cfg.alpha, &cfg.train, device.clone())?;
    task.labelled_batch = cfg.labelled_batch;
    task.min_labelled = cfg.min_labelled_batch;
    task.unlabelled_weight = cfg.unlabelled_weight as f32;
    task.set_classifier_noise(cfg.classifier_noise);
    Ok(task)
}

/// A new M2 of the run's settings, its decoder's output started at the inputs' column
/// `moments` (mean, variance).
pub(crate) fn initial_model<B: AutodiffBackend>(cfg: &ExperimentConfig, dim: usize, n_classes: usize, moments: (&[f32], &[f32]), device: &B::Device) -> M2<B> {
    M2::<B>::new(&cfg.m2, dim, n_classes, cfg.train.seed, device).init_output(moments.0, moments.1, cfg.m2.initial_noise).with_row_chunks(cfg.row_chunks)
}

/// Trains M2 on `features` (row-major, `dim` wide; `logvar` for sampled M1 features) and scores
/// the test pixels.
#[allow(clippy::too_many_arguments)]
pub(crate) fn train_m2<B: AutodiffBackend>(p: &Prepared, inputs: M2Inputs, cfg: &ExperimentConfig, mut run: RunSession, device: &B::Device) -> Result<(M2<B::InnerBackend>, LoopState)> {
    let M2Inputs { x: features, logvar, dim } = inputs;
    let inputs = |idx: &[usize]| match logvar {
        Some(lv) => Inputs::Sampled { mean: gather_rows(features, dim, idx), logvar: gather_rows(lv, dim, idx) },
        None => Inputs::Fixed(gather_rows(features, dim, idx)),
    };
    let pool = p.split.pool();
    let data = M2Data {
        dim,
        n_classes: p.n_classes,
        labelled: inputs(&p.split.train),
        labels: p.classes_of(&p.split.train),
        unlabelled: inputs(pool),
        valid_x: gather_rows(features, dim, &p.split.valid),
        valid_labels: p.classes_of(&p.split.valid),
    };
    let (mean, var) = column_moments(&gather_rows(features, dim, pool), dim);
    let mut task = configured_task::<B>(data, cfg, device)?;
    let model = initial_model::<B>(cfg, dim, p.n_classes, (&mean, &var), device);
    let outcome = train(&mut task, model, &cfg.train, run.training("m2_"), device)?;
    Ok((outcome.best.valid(), outcome.state))
}

/// What M2 sees of every pixel of a prepared scene (`n x dim`, row-major): the scene's own
/// inputs, or M1's features with their log-variances for M1+M2.
pub(crate) struct M2Inputs<'a> {
    pub x: &'a [f32],
    pub logvar: Option<&'a [f32]>,
    pub dim: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_selection_keeps_varying_dimensions() {
        // Dimension 0 varies (std 0.5), dimension 1 is nearly constant, dimension 2 varies.
        let mu = [0.0, 0.01, -1.0, 1.0, 0.0, 1.0, 0.0, 0.01, -1.0, 1.0, 0.0, 1.0];
        let sel = FeatureSelection::fit(&mu, 3, 0.1);
        assert_eq!(sel.kept, vec![0, 2]);
        assert_eq!(sel.apply(&mu[..3]), vec![0.0, -1.0]);
        assert_eq!(sel.logvar(&[-7.0, 8.0, 53.0]), vec![-7.0, 0.0]);
        let flat = FeatureSelection::fit(&[0.0; 6], 3, 0.1);
        assert_eq!(flat.kept, vec![0, 1, 2]);
    }

    #[test]
    fn kept_features_are_held_to_five_standard_deviations_of_the_rows_fitted_on() {
        // One dimension: 100 values alternating -1 and 1 (mean 0, sd 1), plus one far out.
        let mut mu: Vec<f32> = (0..100).map(|i| if i % 2 == 0 { -1.0 } else { 1.0 }).collect();
        let sel = FeatureSelection::fit(&mu, 1, 0.1);
        assert_eq!(sel.range, vec![(-5.0, 5.0)]);
        mu.extend([60.0, -4.5, -61.0]);
        assert_eq!(sel.apply(&mu[100..]), vec![5.0, -4.5, -5.0]);
        // A selection stored before clipping applies no range.
        let old: FeatureSelection = serde_json::from_str(r#"{"kept":[0],"latent":1}"#).unwrap();
        assert_eq!(old.apply(&[60.0]), vec![60.0]);
    }
}
