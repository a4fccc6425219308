//! Fitting a model from a program: every labelled pixel of a scene (or every labelled row of a
//! table of spectra) trains, every pixel serves as unlabelled data, and the result is a
//! [`Trained`] model that predicts, saves to a run folder and loads from one. The command line's
//! runs train through `fit_prepared` too, then score and draw what they trained.

use ndarray::ArrayView2;

use crate::models::backend::AutodiffBackend;

use super::config::{CheckedConfig, ExperimentConfig, ModelKind};
use super::features::dist_qz;
use super::m1_run::train_m1;
use super::prepared::{prepare_split, Prepared};
use super::m2_run::{train_m2, FeatureSelection, M2Inputs};
use super::run_dir::{RunDir, RunSession};
use super::trained::{ClassInfo, Trained, TrainedModel};
use crate::atomic;
use crate::data::array::gather_rows;
use crate::data::sampling::Split;
use crate::data::{LabelMap, RawArray, Samples, Scene};
use crate::error::{Error, Result};
use crate::eval::classifier::{ClassifierKind, FittedClassifier};
use crate::train::checkpoint::LoopState;
use crate::train::trainer::Progress;

/// A model trained on a prepared scene, before it is scored or stored.
pub(crate) struct Fitted<B: crate::models::backend::Backend> {
    pub model: TrainedModel<B>,
    /// The training loop's record (of M2's loop for M1+M2).
    pub state: LoopState,
}

/// Trains the configured model on the training pixels and the unlabelled pool of `p`. With a run
/// folder, training keeps its checkpoints there and resumes from them when asked.
pub(crate) fn fit_prepared<B: AutodiffBackend>(p: &Prepared, cfg: &ExperimentConfig, mut run: RunSession, device: &B::Device) -> Result<Fitted<B::InnerBackend>> {
    let dir = run.dir;
    match cfg.model {
        ModelKind::M1 => {
            let outcome = train_m1::<B>(p, cfg, run, device)?;
            let (features, _) = dist_qz(&outcome.best, &p.x, p.dim, device);
            let classifier = fit_stored_classifier(p, cfg.classifier, (&features, outcome.best.latent_dim()), cfg.train.seed, dir)?;
            Ok(Fitted { model: TrainedModel::M1 { model: outcome.best, classifier }, state: outcome.state })
        }
        ModelKind::M2 => {
            let (model, state) = train_m2::<B>(p, M2Inputs { x: &p.x, logvar: None, dim: p.dim }, cfg, run, device)?;
            let partner = cfg.partner.map(|kind| fit_stored_classifier(p, kind, (&p.x, p.dim), cfg.train.seed, dir)).transpose()?;
            Ok(Fitted { model: TrainedModel::M2 { model, partner }, state })
        }
        ModelKind::M1m2 => {
            let mut m1_cfg = cfg.clone();
            m1_cfg.train.epochs = cfg.m1_epochs.unwrap_or(cfg.train.epochs);
            let m1_outcome = train_m1::<B>(p, &m1_cfg, run.resuming(run.resume), device)?;
            // M2 resumes only from a checkpoint trained on the features it gets now: not when M1
            // has just trained further.
            let resume_m2 = run.resume && m1_outcome.epochs_trained == 0;
            let m1 = m1_outcome.best;
            let (mu, lv) = dist_qz(&m1, &p.x, p.dim, device);
            let latent = m1.latent_dim();
            let selection = FeatureSelection::fit(&gather_rows(&mu, latent, p.split.pool()), latent, cfg.feature_std_threshold);
            if let Some(d) = dir {
                atomic::write_json(&d.m1m2_features(), &selection)?;
            }
            let (features, logvar) = (selection.apply(&mu), selection.logvar(&lv));
            let inputs = M2Inputs { x: &features, logvar: Some(&logvar), dim: selection.kept.len() };
            let (m2, state) = train_m2::<B>(p, inputs, cfg, run.resuming(resume_m2), device)?;
            Ok(Fitted { model: TrainedModel::M1m2 { m1, selection, m2 }, state })
        }
        ModelKind::Classifier => {
            let started = std::time::Instant::now();
            let classifier = fit_stored_classifier(p, cfg.classifier, (&p.x, p.dim), cfg.train.seed, dir)?;
            let state = LoopState::without_epochs(started.elapsed().as_secs_f64());
            Ok(Fitted { model: TrainedModel::Classifier { classifier }, state })
        }
    }
}

/// [`Prepared::fit_classifier`], the result stored in the run folder as `classifier.json` when
/// there is one (M1's classifier, M2's partner, the classifier alone).
fn fit_stored_classifier(p: &Prepared, kind: ClassifierKind, x: (&[f32], usize), seed: u64, dir: Option<&RunDir>) -> Result<FittedClassifier> {
    let (classifier, _) = p.fit_classifier(kind, x, seed)?;
    if let Some(d) = dir {
        atomic::write_json(&d.classifier(), &classifier)?;
    }
    Ok(classifier)
}

/// Fits the configured model on a scene with a label map: every labelled pixel trains (none is
/// held out; score a model on pixels it did not see with `experiment` or a split of your own),
/// every pixel of the scene is unlabelled data, and the scaling and spatial features are fitted
/// on the whole scene.
///
/// ```
/// use hyperssl::prelude::*;
/// # #[cfg(not(feature = "embedded-data"))] fn main() {}
/// # #[cfg(feature = "embedded-data")]
/// # fn main() -> hyperssl::Result<()> {
/// let scene = hyperssl::data::embedded::indian_pines()?;
/// let mut config = ExperimentConfig::default().on(Device::Cpu);
/// config.train.epochs = 1; // a quick look; the default trains 40 epochs
/// let model = fit_scene::<CpuTrain>(&scene, &config.checked()?, &Default::default())?;
/// let (class_map, probabilities) = model.predict_scene(&scene, &Default::default())?;
/// assert_eq!(class_map.len(), 145 * 145);
/// assert_eq!(probabilities.len(), 145 * 145 * 16);
/// # Ok(()) }
/// ```
pub fn fit_scene<B: AutodiffBackend>(scene: &Scene, config: &CheckedConfig, device: &B::Device) -> Result<Trained<B::InnerBackend>> {
    fit_scene_with_progress::<B>(scene, config, &mut |_| {}, device)
}

/// [`fit_scene`], telling `progress` of every evaluated epoch.
pub fn fit_scene_with_progress<B: AutodiffBackend>(scene: &Scene, config: &CheckedConfig, progress: &mut dyn FnMut(&Progress), device: &B::Device) -> Result<Trained<B::InnerBackend>> {
    let labels = scene.labels.as_ref().ok_or_else(|| Error::bad(&scene.source, "no label map: fitting needs labelled pixels"))?;
    let train: Vec<usize> = (0..scene.n_pixels()).filter(|&i| labels.classes[i].is_some()).collect();
    if train.is_empty() {
        return Err(Error::bad(&scene.source, "no labelled pixel to fit on"));
    }
    let split = Split { train, unlabelled: (0..scene.n_pixels()).collect(), ..Default::default() };
    let cfg: &ExperimentConfig = config;
    let p = prepare_split(scene, cfg, Some(split))?;
    let fitted = fit_prepared::<B>(&p, cfg, RunSession::in_memory(progress), device)?;
    Ok(Trained { config: cfg.clone(), scaler: p.scaler, spatial: p.spatial, split: p.split, classes: ClassInfo::of(labels), seeds: p.seeds, model: fitted.model })
}

/// Rows of spectra (`n x bands`, row-major) with one label per row: a class value, or 0 for an
/// unlabelled row.
#[derive(Debug, Clone, Copy)]
pub struct LabelledSpectra<'a> {
    pub x: &'a [f32],
    pub bands: usize,
    pub labels: &'a [u32],
}

/// Fits the configured model on labelled and unlabelled rows of spectra. The rows have no image around them, so the
/// configuration must take the spectra alone (`input = spectra`, no graph cut), as
/// [`ExperimentConfig::spectral`] and its M2 variant do.
///
/// ```
/// use hyperssl::prelude::*;
/// # fn main() -> hyperssl::Result<()> {
/// // Two classes of 3-band spectra, two labelled rows each and 40 unlabelled.
/// let x: Vec<f32> = (0..44).flat_map(|i| { let c = (i % 2) as f32; [1.0 + c, 2.0 - c, 0.5 + 0.01 * i as f32] }).collect();
/// let y: Vec<u32> = (0..44).map(|i| if i < 4 { 1 + (i % 2) as u32 } else { 0 }).collect();
/// let mut config = ExperimentConfig::rows().on(Device::Cpu);
/// config.train.epochs = 2;
/// let rows = LabelledSpectra { x: &x, bands: 3, labels: &y };
/// let model = fit_rows::<CpuTrain>(rows, &config.checked()?, &Default::default())?;
/// let (classes, probabilities) = model.predict_rows(&x)?;
/// assert_eq!((classes.len(), probabilities.len()), (44, 88));
/// // Dense class indices; the label values they stand for:
/// assert!(model.label_values(&classes).iter().all(|&v| v == 1 || v == 2));
/// // Saved as a run folder and loaded back, it predicts the same.
/// let dir = tempfile::tempdir().unwrap();
/// model.save(&dir.path().join("model"))?;
/// let loaded = Trained::<Cpu>::load(&dir.path().join("model"), &Default::default())?;
/// assert_eq!(loaded.predict_rows(&x)?, (classes, probabilities));
/// # Ok(()) }
/// ```
pub fn fit_rows<B: AutodiffBackend>(rows: LabelledSpectra, config: &CheckedConfig, device: &B::Device) -> Result<Trained<B::InnerBackend>> {
    fit_rows_with_progress::<B>(rows, config, &mut |_| {}, device)
}

/// [`fit_rows`], telling `progress` of every evaluated epoch.
pub fn fit_rows_with_progress<B: AutodiffBackend>(rows: LabelledSpectra, config: &CheckedConfig, progress: &mut dyn FnMut(&Progress), device: &B::Device) -> Result<Trained<B::InnerBackend>> {
    fit_scene_with_progress::<B>(&rows_scene(rows.x.to_vec(), rows.bands, rows.labels, config)?, config, progress, device)
}

/// [`fit_rows`] on an array of spectra (`n x bands`, any memory layout) and one label per row
/// (0: unlabelled).
pub fn fit_array<B: AutodiffBackend>(x: ArrayView2<f32>, labels: &[u32], config: &CheckedConfig, device: &B::Device) -> Result<Trained<B::InnerBackend>> {
    fit_scene::<B>(&rows_scene(x.iter().copied().collect(), x.ncols(), labels, config)?, config, device)
}

/// Rows of spectra as a scene one pixel wide, with their labels, for a configuration that can take
/// rows.
fn rows_scene(x: Vec<f32>, bands: usize, labels: &[u32], config: &CheckedConfig) -> Result<Scene> {
    config.check_for_rows()?;
    if bands == 0 || !x.len().is_multiple_of(bands) {
        return Err(Error::invalid(format!("{} values are not whole rows of {bands} bands", x.len())));
    }
    let n = x.len() / bands;
    if labels.len() != n {
        return Err(Error::invalid(format!("{} labels for {n} rows of spectra", labels.len())));
    }
    let source = std::path::Path::new("rows");
    let scene = Scene::from_array(&RawArray::new(vec![n, bands], Samples::F32(x)), source)?;
    scene.with_labels(LabelMap::from_values(n, 1, labels)?, source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::backend::{Cpu, CpuTrain, Device};
    use crate::pipeline::predictor::Predictor;
    use ndarray::Array2;

    /// Two clouds of 4-band spectra, `per` rows each, their classes stored as 3 and 7: row i is
    /// of the first when i is even; the first `labelled` rows of each keep their label.
    fn two_clouds(per: usize, labelled: usize) -> (Array2<f32>, Vec<u32>, Vec<u32>) {
        let n = 2 * per;
        let truth: Vec<u32> = (0..n).map(|i| if i % 2 == 0 { 3 } else { 7 }).collect();
        let x = Array2::from_shape_fn((n, 4), |(i, b)| {
            let wobble = (((i * 37 + b * 11) % 17) as f32 - 8.0) * 4.0;
            let slope = if truth[i] == 3 { 40.0 } else { -40.0 };
            1000.0 + slope * b as f32 + wobble
        });
        let labels = (0..n).map(|i| if i < 2 * labelled { truth[i] } else { 0 }).collect();
        (x, labels, truth)
    }

    /// A tiny configuration of `model` on the spectra alone.
    fn tiny(model: ModelKind) -> CheckedConfig {
        let mut c = ExperimentConfig::rows().on(Device::Cpu);
        c.model = model;
        c.classifier = crate::eval::classifier::ClassifierKind::LogReg;
        (c.m2.hidden_classifier, c.m2.hidden_encoder, c.m2.hidden_decoder, c.m2.latent) = (vec![8], vec![8], vec![8], 2);
        (c.m1.hidden, c.m1.latent) = (vec![8], 2);
        c.labelled_batch = Some(8);
        c.train.epochs = 6;
        c.train.batch_size = 32;
        c.checked().unwrap()
    }

    #[test]
    fn each_model_fitted_on_rows_saves_loads_and_predicts_the_same() {
        let (x, labels, _) = two_clouds(60, 4);
        for kind in [ModelKind::M1, ModelKind::M2, ModelKind::M1m2, ModelKind::Classifier] {
            let model = fit_array::<CpuTrain>(x.view(), &labels, &tiny(kind), &Default::default()).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("model");
            model.save(&root).unwrap();
            let loaded = Trained::<Cpu>::load(&root, &Default::default()).unwrap();
            assert_eq!(loaded.config, *tiny(kind), "{kind:?}");
            assert_eq!(loaded.predict_proba(x.view()).unwrap(), model.predict_proba(x.view()).unwrap(), "{kind:?}");
            assert_eq!(loaded.predict(x.view()).unwrap(), model.predict(x.view()).unwrap(), "{kind:?}");
            // A folder holding a model is not overwritten.
            assert!(model.save(&root).unwrap_err().to_string().contains("already holds a run"), "{kind:?}");
        }
    }

    #[test]
    fn m2_with_a_partner_saves_it_loads_it_and_predicts_the_same() {
        let (x, labels, _) = two_clouds(60, 4);
        let mut c = tiny(ModelKind::M2).into_inner();
        c.partner = Some(crate::eval::classifier::ClassifierKind::LogReg);
        let cfg = c.checked().unwrap();
        let model = fit_array::<CpuTrain>(x.view(), &labels, &cfg, &Default::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("model");
        model.save(&root).unwrap();
        assert!(root.join("classifier.json").exists());
        let loaded = Trained::<Cpu>::load(&root, &Default::default()).unwrap();
        assert_eq!(loaded.config, *cfg);
        assert_eq!(loaded.predict_proba(x.view()).unwrap(), model.predict_proba(x.view()).unwrap());
        // Without its partner the run is damaged, not M2 alone.
        std::fs::remove_file(root.join("classifier.json")).unwrap();
        let refusal = Trained::<Cpu>::load(&root, &Default::default()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refusal.contains("classifier.json missing"), "{refusal}");
    }

    #[test]
    fn a_stored_classifier_that_does_not_fit_the_run_is_refused_naming_its_file() {
        let (x, labels, _) = two_clouds(20, 3);
        let dir = tempfile::tempdir().unwrap();
        let (wide, narrow) = (dir.path().join("wide"), dir.path().join("narrow"));
        let fit = |x: ndarray::ArrayView2<f32>, root: &std::path::Path| fit_array::<CpuTrain>(x, &labels, &tiny(ModelKind::Classifier), &Default::default()).unwrap().save(root).unwrap();
        fit(x.view(), &wide);
        fit(x.slice(ndarray::s![.., ..3]), &narrow);
        std::fs::copy(narrow.join("classifier.json"), wide.join("classifier.json")).unwrap();
        let refusal = Trained::<Cpu>::load(&wide, &Default::default()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refusal.contains("classifier.json") && refusal.contains("3 inputs and 2 classes, not the 4 and 2"), "{refusal}");
        std::fs::remove_file(wide.join("classifier.json")).unwrap();
        let refusal = Trained::<Cpu>::load(&wide, &Default::default()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refusal.contains("classifier.json missing"), "{refusal}");
        // M1's classifier reads its 2 latent dimensions: one fitted on the 3 bands is refused.
        let m1 = dir.path().join("m1");
        fit_array::<CpuTrain>(x.view(), &labels, &tiny(ModelKind::M1), &Default::default()).unwrap().save(&m1).unwrap();
        assert!(Trained::<Cpu>::load(&m1, &Default::default()).is_ok());
        std::fs::copy(narrow.join("classifier.json"), m1.join("classifier.json")).unwrap();
        let refusal = Trained::<Cpu>::load(&m1, &Default::default()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refusal.contains("classifier.json") && refusal.contains("3 inputs and 2 classes, not the 2 and 2"), "{refusal}");
    }

    #[test]
    fn m2_learns_two_clouds_from_four_labels_each_and_answers_in_the_labels_given() {
        let (x, labels, truth) = two_clouds(100, 4);
        let mut c = tiny(ModelKind::M2).into_inner();
        c.train.epochs = 20;
        c.train.learning_rate = 1e-2;
        // The default's noise on q(y|x)'s inputs is sized for 180 spatial features, not 4 bands.
        c.classifier_noise = 0.0;
        let model = fit_array::<CpuTrain>(x.view(), &labels, &c.checked().unwrap(), &Default::default()).unwrap();
        assert_eq!(model.classes(), &[3, 7]);
        // Every labelled row trains and none is held out for testing.
        assert_eq!(model.split.train, (0..8).collect::<Vec<_>>());
        assert!(model.split.test.is_empty());
        let predicted = model.predict(x.view()).unwrap();
        let unlabelled = (8..200).filter(|&i| predicted[i] == truth[i]).count();
        assert!(unlabelled >= 190, "{unlabelled} of 192 unlabelled rows right");
        let p = model.predict_proba(x.view()).unwrap();
        assert_eq!(p.dim(), (200, 2));
        for row in p.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-5);
        }
        // A view in column-major order is the same rows.
        let transposed = x.t().as_standard_layout().into_owned();
        let fortran = transposed.t();
        assert!(fortran.as_slice().is_none());
        assert_eq!(model.predict(fortran).unwrap(), predicted);
    }

    #[test]
    fn rows_refuse_what_needs_an_image_and_input_that_does_not_fit() {
        let (x, labels, _) = two_clouds(10, 2);
        let device = Default::default();
        let refusal = |cfg: ExperimentConfig, labels: &[u32]| fit_array::<CpuTrain>(x.view(), labels, &cfg.checked().unwrap(), &device).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refusal(ExperimentConfig::default(), &labels).contains("input = spatial"));
        let cut = ExperimentConfig { mrf: crate::eval::mrf::MrfConfig::default(), ..ExperimentConfig::rows() };
        assert!(refusal(cut, &labels).contains("mrf.weight"));
        assert!(refusal(ExperimentConfig::rows(), &labels[1..]).contains("19 labels for 20 rows"));
        assert!(refusal(ExperimentConfig::rows(), &[0; 20]).contains("no labelled pixel"));
        let mut bad = ExperimentConfig::rows();
        bad.train.epochs = 0;
        assert!(bad.checked().unwrap_err().to_string().contains("train.epochs"));
        let model = fit_array::<CpuTrain>(x.view(), &labels, &tiny(ModelKind::M2), &device).unwrap();
        let narrow = Array2::<f32>::zeros((3, 5));
        assert!(model.predict(narrow.view()).unwrap_err().to_string().contains("5 bands for a model of 4"));
        let mut nan = x.clone();
        nan[[2, 1]] = f32::NAN;
        assert!(model.predict(nan.view()).unwrap_err().to_string().contains("not finite"));
    }
}
