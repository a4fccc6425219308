//! A run of any model on a scene: draw (or take) the split, prepare the inputs, train, classify,
//! score the test pixels and, with a run folder, write it. The command line and the MNIST
//! reproduction call these.

use crate::models::backend::AutodiffBackend;
use std::time::Instant;

use super::config::ExperimentConfig;
use super::fit::fit_prepared;
use super::prepared::{prepare_split, Prepared, ScoredRun};
use super::trained::ClassInfo;
use super::outcome::RunOutcome;
use super::outputs;
use super::run_dir::RunSession;
use super::trained::TrainedModel;
use crate::data::sampling::Split;
use crate::data::Scene;
use crate::error::{Error, Result};

/// A run of the configured model on a scene: trained, scored on its test pixels and, with a run
/// folder, written there.
pub fn run_scene<B: AutodiffBackend>(scene: &Scene, cfg: &ExperimentConfig, run: RunSession, device: &B::Device) -> Result<RunOutcome> {
    run_scene_split::<B>(scene, cfg, None, run, device)
}

/// [`run_scene`] on a split given by the caller.
pub fn run_scene_split<B: AutodiffBackend>(scene: &Scene, cfg: &ExperimentConfig, split: Option<Split>, run: RunSession, device: &B::Device) -> Result<RunOutcome> {
    let started = Instant::now();
    let p = prepare_split(scene, cfg, split)?;
    run_from::<B>(scene, cfg, &p, run, (device, started))
}

/// [`run_scene`] on a scene already prepared (by [`prepare_split`]) for a configuration that
/// prepares like `cfg` ([`ExperimentConfig::prepares_like`]): the runs of one draw, the model
/// and its controls, share one preparation and one spread of the propagation's graph.
pub fn run_prepared<B: AutodiffBackend>(scene: &Scene, cfg: &ExperimentConfig, p: &Prepared, run: RunSession, device: &B::Device) -> Result<RunOutcome> {
    if !cfg.prepares_like(&p.config) {
        return Err(Error::invalid("the scene was prepared with other settings of the split, scaling, inputs or propagation than the run's"));
    }
    if scene.labels.is_none() || (scene.height, scene.width) != (p.height, p.width) {
        return Err(Error::invalid(format!("{} is not the labelled scene that was prepared", scene.source.display())));
    }
    run_from::<B>(scene, cfg, p, run, (device, Instant::now()))
}

/// The run of [`run_scene_split`] from its prepared scene; `started` when the run began.
fn run_from<B: AutodiffBackend>(scene: &Scene, cfg: &ExperimentConfig, p: &Prepared, run: RunSession, (device, started): (&B::Device, Instant)) -> Result<RunOutcome> {
    let dir = run.dir;
    if let Some(d) = dir {
        p.write_inputs(d, cfg, &ClassInfo::of(scene.labels.as_ref().expect("checked by prepare_split and run_prepared")))?;
    }
    let fitted = fit_prepared::<B>(p, cfg, run, device)?;
    let state = fitted.state;
    let (pixelwise, probs) = fitted.model.predict_inputs(&p.x, p.dim, p.n_classes, device);
    let map = p.class_map(&pixelwise, &probs, cfg);
    let (metrics, metrics_pixelwise) = (p.score(&map.classes)?, p.score(&pixelwise)?);
    let mut files = Vec::new();
    if let Some(d) = dir {
        let scored = ScoredRun {
            title: format!("{} on {}", cfg.model_name(), scene.source.display()),
            started,
            pixelwise: &pixelwise,
            predicted: &map.classes,
            probabilities: &probs,
            map_probabilities: map.probabilities(&probs),
            metrics: &metrics,
            metrics_pixelwise: &metrics_pixelwise,
        };
        // What the generative model makes of the spectra it was meant to explain: M1's
        // reconstructions, M2's spectra generated per class (not M1+M2's, which generate
        // features; not the classifier alone's, which has no generative model).
        files = p.write_run(d, (scene, cfg), &scored, |spectra, classes| match &fitted.model {
            TrainedModel::M1 { model, .. } => outputs::write_m1_spectra(d, model, spectra, device).map(Some),
            TrainedModel::M2 { model, .. } if scene.width > 1 && p.dim > 1 => outputs::write_m2_spectra(d, model, spectra, classes, device).map(Some),
            _ => Ok(None),
        })?;
    }
    Ok(RunOutcome { split: p.split.clone(), metrics, metrics_pixelwise, predicted: map.classes, probabilities: probs, train_state: state, seconds: started.elapsed().as_secs_f64(), files })
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
        let logreg = ExperimentConfig { model: ModelKind::Classifier, classifier: ClassifierKind::LogReg, partner: None, ..tiny_default() };
        let mut m1 = ExperimentConfig { model: ModelKind::M1, classifier: ClassifierKind::LogReg, partner: None, ..tiny_default() };
        m1.m1.hidden = vec![8];
        m1.m1.latent = 2;
        for cfg in [tiny_default(), logreg, m1] {
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
        let run = |scene: &Scene| run_scene_split::<CpuTrain>(scene, cfg, Some(split.clone()), RunSession::in_memory(&mut |_| {}), &Default::default()).unwrap();
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
            let run = run_scene_split::<CpuTrain>(&scene, &cfg, Some(split.clone()), RunSession::in_memory(&mut |_| {}), &Default::default()).unwrap();
            let prepared = prepare_split(&scene, &cfg, Some(split)).unwrap();
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
        let run = |cfg: &ExperimentConfig| run_scene_split::<CpuTrain>(&scene, cfg, Some(split.clone()), RunSession::in_memory(&mut |_| {}), &Default::default()).unwrap();
        let q = run(&alone).probabilities;
        for kind in [ClassifierKind::LogReg, ClassifierKind::Svm] {
            let partnered = ExperimentConfig { partner: Some(kind), ..tiny_default() };
            let out = run(&partnered);
            let prepared = prepare_split(&scene, &partnered, Some(split.clone())).unwrap();
            let (classifier, _) = prepared.fit_classifier(kind, (&prepared.x, prepared.dim), partnered.train.seed).unwrap();
            let c = classifier.predict_proba(&prepared.x);
            let mean: Vec<f32> = q.iter().zip(&c).map(|(a, b)| 0.5 * (a + b)).collect();
            assert_eq!(out.probabilities, mean, "{kind:?}");
            assert_ne!(out.probabilities, q, "{kind:?}: the partner changes the probabilities");
            let pixelwise = argmax_rows(&mean, prepared.n_classes);
            let json = |m: &crate::eval::Metrics| serde_json::to_value(m).unwrap();
            assert_eq!(json(&out.metrics_pixelwise), json(&prepared.score(&pixelwise).unwrap()), "{kind:?}");
            assert_eq!(out.predicted, prepared.class_map(&pixelwise, &mean, &partnered).classes, "{kind:?}");
        }
        // Only M2 takes a partner.
        for model in [ModelKind::M1, ModelKind::M1m2, ModelKind::Classifier] {
            let cfg = ExperimentConfig { model, partner: Some(ClassifierKind::LogReg), ..tiny_default() };
            assert!(cfg.check().unwrap_err().to_string().contains("takes model = m2"), "{model:?}");
        }
    }

    #[test]
    fn runs_that_share_a_preparation_give_what_each_gives_alone() {
        // The model and its labels-only control on one prepared draw, as `experiment` runs
        // them, against each run preparing its own: the same probabilities, classes and map.
        let scene = striped_scene(None);
        let model = tiny_default();
        let control = ExperimentConfig { unlabelled_weight: 0.0, ..tiny_default() };
        let shared = prepare_split(&scene, &model, None).unwrap();
        let mut probabilities = Vec::new();
        for cfg in [&model, &control] {
            let alone = run_scene::<CpuTrain>(&scene, cfg, RunSession::in_memory(&mut |_| {}), &Default::default()).unwrap();
            let together = run_prepared::<CpuTrain>(&scene, cfg, &shared, RunSession::in_memory(&mut |_| {}), &Default::default()).unwrap();
            assert!(together.probabilities == alone.probabilities && together.predicted == alone.predicted, "unlabelled weight {}", cfg.unlabelled_weight);
            assert_eq!(together.split.train, alone.split.train);
            probabilities.push(together.probabilities);
        }
        // The control's map, made after the model's on the same preparation, is its own.
        assert!(probabilities[0] != probabilities[1], "the two runs differ in their probabilities");
        // A map of other propagation settings is spread again, not read from the first spread.
        let (pixelwise, uniform) = (vec![0; 400], vec![1.0 / 3.0; 1200]);
        let mut one_step = tiny_default();
        one_step.propagation.steps = 1;
        let fresh = prepare_split(&scene, &one_step, None).unwrap();
        let map = shared.class_map(&pixelwise, &uniform, &one_step);
        assert!(map == fresh.class_map(&pixelwise, &uniform, &one_step), "the map of one step is that of a fresh preparation");
        assert!(map.propagated != shared.class_map(&pixelwise, &uniform, &model).propagated, "one step reaches fewer pixels than a hundred");
        // A run that would prepare the scene otherwise is refused.
        let mut other = tiny_default();
        other.spatial.components = 2;
        let refused = run_prepared::<CpuTrain>(&scene, &other, &shared, RunSession::in_memory(&mut |_| {}), &Default::default());
        assert!(refused.is_err_and(|e| e.to_string().contains("prepared with other settings")));
        let unlabelled = Scene { labels: None, ..striped_scene(None) };
        let refused = run_prepared::<CpuTrain>(&unlabelled, &model, &shared, RunSession::in_memory(&mut |_| {}), &Default::default());
        assert!(refused.is_err_and(|e| e.to_string().contains("is not the labelled scene that was prepared")));
    }
}
