//! M2 and M1+M2 runs: the generative semi-supervised model on the scaled spectra, or on the
//! latent features of an M1 trained first on every pixel of the pool; q(y|x) is the classifier.

use burn::module::AutodiffModule;
use crate::models::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};
use std::time::Instant;

use super::config::ExperimentConfig;
use super::fit::fit_prepared;
use super::m1_run::{prepare_split, Prepared, ScoredRun};
use super::outputs;
use super::run_dir::RunSession;
use super::trained::TrainedModel;
use crate::data::sampling::Split;
use crate::data::Scene;
use crate::error::Result;
use crate::models::tensors::column_moments;
use crate::models::M2;
use crate::train::checkpoint::LoopState;
use super::outcome::RunOutcome;
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

/// A run of M2, M1+M2 or the classifier alone on a scene: trained, scored on its test pixels and,
/// with a run folder, written there.
pub fn run_m2<B: AutodiffBackend>(scene: &Scene, cfg: &ExperimentConfig, run: RunSession, device: &B::Device) -> Result<RunOutcome> {
    run_m2_split::<B>(scene, cfg, None, run, device)
}

/// [`run_m2`] on a split given by the caller.
pub fn run_m2_split<B: AutodiffBackend>(scene: &Scene, cfg: &ExperimentConfig, split: Option<Split>, run: RunSession, device: &B::Device) -> Result<RunOutcome> {
    let started = Instant::now();
    let dir = run.dir;
    let p = prepare_split(scene, cfg, split, dir)?;
    let fitted = fit_prepared::<B>(&p, cfg, run, device)?;
    let state = fitted.state;
    let (pixelwise, probs) = fitted.model.predict_inputs(&p.x, p.dim, p.n_classes, device);
    let predicted = p.class_map(&pixelwise, &probs, cfg);
    let (metrics, metrics_pixelwise) = (p.score(&predicted)?, p.score(&pixelwise)?);
    let mut files = Vec::new();
    if let Some(d) = dir {
        let scored = ScoredRun {
            title: format!("{} on {}", cfg.model_name(), scene.source.display()),
            started,
            pixelwise: &pixelwise,
            predicted: &predicted,
            probabilities: &probs,
            metrics: &metrics,
            metrics_pixelwise: &metrics_pixelwise,
        };
        // Generated spectra are drawn for M2 on spectra (not M1+M2, which generates features).
        files = p.write_run(d, (scene, cfg), &scored, |spectra, classes| match &fitted.model {
            TrainedModel::M2 { model, .. } if scene.width > 1 && p.dim > 1 => outputs::write_m2_spectra(d, model, spectra, classes, device).map(Some),
            _ => Ok(None),
        })?;
    }
    Ok(RunOutcome { split: p.split, metrics, metrics_pixelwise, predicted, probabilities: probs, train_state: state, seconds: started.elapsed().as_secs_f64(), files })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::array::{RawArray, Samples};
    use crate::data::sampling::{self, SplitConfig, TrainSize};
    use crate::data::LabelMap;
    use crate::eval::classifier::ClassifierKind;
    use crate::pipeline::backend::CpuTrain;
    use crate::pipeline::config::ModelKind;

    /// A 20 x 20 scene of 6 bands with three classes in vertical stripes and a labelled pixel in
    /// every other one.
    fn striped_scene(labels: Option<Vec<u8>>) -> Scene {
        let (h, w, b) = (20, 20, 6);
        let class = |c: usize| (c * 3 / w) as u8;
        let px: Vec<f32> = (0..h * w)
            .flat_map(|i| (0..b).map(move |k| 100.0 + 30.0 * class(i % w) as f32 * k as f32 + ((i * 7 + k * 13) % 11) as f32))
            .collect();
        let labels = labels.unwrap_or_else(|| (0..h * w).map(|i| if i % 2 == 0 { class(i % w) + 1 } else { 0 }).collect());
        let path = std::path::Path::new("striped.npy");
        let scene = Scene::from_array(&RawArray::new(vec![h, w, b], Samples::F32(px)), path).unwrap();
        let map = LabelMap::from_values(h, w, &labels.iter().map(|&v| v as u32).collect::<Vec<_>>()).unwrap();
        scene.with_labels(map, path).unwrap()
    }

    /// The default's settings with tiny networks, 3 labelled pixels a class.
    fn tiny_default() -> ExperimentConfig {
        let mut c = ExperimentConfig::default();
        c.m2.hidden_classifier = vec![8];
        c.m2.hidden_encoder = vec![8];
        c.m2.hidden_decoder = vec![8];
        c.m2.latent = 2;
        c.spatial.components = 3;
        c.labelled_batch = Some(9);
        c.train.epochs = 2;
        c.train.batch_size = 64;
        c.split = SplitConfig { train: TrainSize::PerClass(3), ..Default::default() };
        c
    }

    #[test]
    fn the_labels_of_test_pixels_never_reach_training() {
        // The same draw, then the test pixels' labels shuffled among them: the model, its
        // probabilities and its class map must not change (only the scores may).
        let logreg = ExperimentConfig { model: ModelKind::Classifier, classifier: ClassifierKind::LogReg, ..tiny_default() };
        for cfg in [tiny_default(), logreg] {
            test_labels_leave_the_model_unchanged(&cfg);
        }
    }

    fn test_labels_leave_the_model_unchanged(cfg: &ExperimentConfig) {
        let scene = striped_scene(None);
        assert!(cfg.propagation.is_on() && cfg.mrf.is_on(), "the map under test is the default's, propagated and cut");
        let split = sampling::split(scene.labels.as_ref().unwrap(), &cfg.split).unwrap();
        let mut labels: Vec<u8> = scene.labels.as_ref().unwrap().classes.iter().map(|c| c.map_or(0, |c| c as u8 + 1)).collect();
        let test_labels: Vec<u8> = split.test.iter().map(|&i| labels[i]).collect();
        for (n, &i) in split.test.iter().enumerate() {
            labels[i] = test_labels[(n * 7 + 3) % test_labels.len()];
        }
        let permuted = striped_scene(Some(labels));
        let run = |scene: &Scene| run_m2_split::<CpuTrain>(scene, cfg, Some(split.clone()), RunSession::in_memory(&mut |_| {}), &Default::default()).unwrap();
        let (a, b) = (run(&scene), run(&permuted));
        assert_eq!(a.probabilities, b.probabilities, "{:?}", cfg.model);
        assert_eq!(a.predicted, b.predicted, "{:?}", cfg.model);
        assert_ne!(a.metrics.overall_accuracy, b.metrics.overall_accuracy, "the permutation changed no test label");
    }

    #[test]
    fn the_classifier_alone_scores_as_the_same_classifier_fitted_as_a_baseline() {
        // `experiment` drops the baseline that the model repeats: both must be one fit.
        let scene = striped_scene(None);
        for kind in [ClassifierKind::LogReg, ClassifierKind::Svm] {
            let cfg = ExperimentConfig { model: ModelKind::Classifier, classifier: kind, ..tiny_default() };
            let split = sampling::split(scene.labels.as_ref().unwrap(), &cfg.split).unwrap();
            let run = run_m2_split::<CpuTrain>(&scene, &cfg, Some(split.clone()), RunSession::in_memory(&mut |_| {}), &Default::default()).unwrap();
            let prepared = prepare_split(&scene, &cfg, Some(split), None).unwrap();
            let reference = crate::pipeline::baseline::baseline(&prepared, &cfg, kind).unwrap();
            let json = |m: &crate::eval::Metrics| serde_json::to_value(m).unwrap();
            assert_eq!(json(&run.metrics_pixelwise), json(&reference.pixelwise), "{kind:?}");
            assert_eq!(Some(json(&run.metrics)), reference.regularised.as_ref().map(json), "{kind:?}");
            assert_eq!(run.train_state.epochs_done, 0);
        }
    }

    #[test]
    fn a_partner_averages_its_probabilities_with_those_of_the_same_m2_trained_alone() {
        // The reference: M2 trained without a partner (training is deterministic) and the
        // partner fitted on its own through `fit_classifier`; the run's probabilities must be
        // their mean, its pixelwise classes that mean's argmax and its map the map of that mean.
        use crate::data::array::argmax_rows;
        use crate::eval::classifier::Classifier;
        let scene = striped_scene(None);
        let alone = ExperimentConfig { partner: None, ..tiny_default() };
        let split = sampling::split(scene.labels.as_ref().unwrap(), &alone.split).unwrap();
        let run = |cfg: &ExperimentConfig| run_m2_split::<CpuTrain>(&scene, cfg, Some(split.clone()), RunSession::in_memory(&mut |_| {}), &Default::default()).unwrap();
        let q = run(&alone).probabilities;
        for kind in [ClassifierKind::LogReg, ClassifierKind::Svm] {
            let partnered = ExperimentConfig { partner: Some(kind), ..tiny_default() };
            let out = run(&partnered);
            let prepared = prepare_split(&scene, &partnered, Some(split.clone()), None).unwrap();
            let (classifier, _) = prepared.fit_classifier(kind, (&prepared.x, prepared.dim), partnered.train.seed).unwrap();
            let c = classifier.predict_proba(&prepared.x);
            let mean: Vec<f32> = q.iter().zip(&c).map(|(a, b)| 0.5 * (a + b)).collect();
            assert_eq!(out.probabilities, mean, "{kind:?}");
            assert_ne!(out.probabilities, q, "{kind:?}: the partner changes the probabilities");
            let pixelwise = argmax_rows(&mean, prepared.n_classes);
            let json = |m: &crate::eval::Metrics| serde_json::to_value(m).unwrap();
            assert_eq!(json(&out.metrics_pixelwise), json(&prepared.score(&pixelwise).unwrap()), "{kind:?}");
            assert_eq!(out.predicted, prepared.class_map(&pixelwise, &mean, &partnered), "{kind:?}");
        }
        // Only M2 takes a partner.
        for model in [ModelKind::M1, ModelKind::M1m2, ModelKind::Classifier] {
            let cfg = ExperimentConfig { model, partner: Some(ClassifierKind::LogReg), ..tiny_default() };
            assert!(cfg.check().unwrap_err().to_string().contains("takes model = m2"), "{model:?}");
        }
    }

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
