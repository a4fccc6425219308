//! A scene made ready for a run of any model ([`Prepared`]): the split, the scaling fitted on
//! the training pool, the model inputs of every pixel and the propagation's seeds; how a run on
//! it is scored and its folder written.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use super::config::{ExperimentConfig, Input};
use super::trained::ClassInfo;
use super::outputs;
use super::run_dir::RunDir;
use crate::data::sampling::{self, Split};
use crate::data::scaling::Scaler;
use crate::data::spatial::SpatialFeatures;
use crate::data::{LabelMap, Scene};
use crate::report::RunReport;
use crate::error::{Error, Result};
use crate::eval::classifier::{fit_classifier, ClassifierKind, FitReport, FittedClassifier, LabelledRows};
use crate::eval::metrics::{evaluate, Metrics};
use crate::eval::class_map::{map_from_reach, regularised_map, ClassMap, Regularisers, SceneOutput};
use crate::eval::propagation::{spread, PropagationConfig, Seeds};
use crate::eval::regions::{region_accuracy, ClassGrid};
use crate::atomic;
use crate::data::array::gather_rows;

/// A scene made ready for training: the split, the scaling fitted on the training pool and
/// what the models see of every pixel.
pub struct Prepared {
    pub split: Split,
    pub scaler: Scaler,
    /// The spatial features' transform, for spatial inputs.
    pub spatial: Option<SpatialFeatures>,
    /// Every pixel of the scene as the models see it (scaled spectra or spatial features),
    /// row-major `n_pixels x dim`.
    pub x: Vec<f32>,
    pub dim: usize,
    /// The rows of the propagation's graph, `n_pixels x graph_dim`, when they hold more than
    /// the models' inputs (graph-only spatial features); None when they are `x`.
    pub graph: Option<Vec<f32>>,
    pub height: usize,
    pub width: usize,
    pub n_classes: usize,
    /// Dense class of every pixel (None = unlabelled).
    pub classes: Vec<Option<u16>>,
    /// The labelled pixels (training and validation) as nodes of the propagation's graph; none
    /// when propagation is off.
    pub seeds: Seeds,
    /// The seeds' classes spread over the graph, with the settings that spread them: made by
    /// the first class map, and read by every later one of these settings (the classifiers
    /// of one draw share a scene's graph and seeds; only their probabilities differ).
    pub(crate) reach: OnceLock<(PropagationConfig, Vec<f32>)>,
    /// The configuration it was prepared for; runs of others that prepare like it may share it.
    pub(crate) config: ExperimentConfig,
}

impl Prepared {
    /// Classes of labelled pixels (the split only holds labelled ones in train/valid/test).
    pub fn classes_of(&self, idx: &[usize]) -> Vec<usize> {
        idx.iter().map(|&i| self.classes[i].map_or(0, |c| c as usize)).collect()
    }

    /// A classifier of `kind` fitted on the training pixels' rows of `x` (every pixel, `dim`
    /// wide: the inputs themselves or features made from them).
    pub fn fit_classifier(&self, kind: ClassifierKind, (x, dim): (&[f32], usize), seed: u64) -> Result<(FittedClassifier, FitReport)> {
        let train_x = gather_rows(x, dim, &self.split.train);
        fit_classifier(kind, LabelledRows::new(&train_x, dim, &self.classes_of(&self.split.train), self.n_classes), seed)
    }

    /// The rows of the propagation's graph and their width.
    pub fn graph_rows(&self) -> (&[f32], usize) {
        match (&self.graph, &self.spatial) {
            (Some(g), Some(s)) => (g, s.graph_dim()),
            _ => (&self.x, self.dim),
        }
    }

    /// Metrics of a prediction of every pixel, on the test pixels.
    pub fn score(&self, predicted: &[usize]) -> Result<Metrics> {
        let test_pred: Vec<usize> = self.split.test.iter().map(|&i| predicted[i]).collect();
        let mut metrics = evaluate(&self.classes_of(&self.split.test), &test_pred, self.n_classes)?;
        if self.width > 1 {
            // An image, not a list of samples: how much of the score comes from pixels in a
            // region beside one whose label the run used (training or validation).
            let shown = self.split.labels_used();
            let grid = ClassGrid { classes: &self.classes, height: self.height, width: self.width };
            metrics.regions = Some(region_accuracy(grid, (&shown, &self.split.test), predicted));
        }
        Ok(metrics)
    }

    /// The class map of the run from the classifier's classes and probabilities: the labelled
    /// pixels' classes propagated over the scene's graph and the graph cut, each when the
    /// configuration has it on, else the classes as they are; with the probabilities that
    /// decided it.
    pub fn class_map(&self, pixelwise: &[usize], probabilities: &[f32], cfg: &ExperimentConfig) -> ClassMap {
        let (inputs, dim) = self.graph_rows();
        let out = SceneOutput { classes: pixelwise, probs: probabilities, k: self.n_classes, height: self.height, width: self.width, inputs, dim };
        if !cfg.propagation.is_on() || self.seeds.is_empty() {
            return regularised_map(&out, &self.seeds, &Regularisers { propagation: &cfg.propagation, mrf: &cfg.mrf });
        }
        let spread_now = || spread(inputs, dim, &self.seeds, self.n_classes, &cfg.propagation);
        match self.reach.get_or_init(|| (cfg.propagation.clone(), spread_now())) {
            (settings, reached) if *settings == cfg.propagation => map_from_reach(&out, reached, &cfg.mrf),
            _ => map_from_reach(&out, &spread_now(), &cfg.mrf),
        }
    }

    /// Scores of the class map that the graph cut alone makes of the classifier's output, when
    /// propagation is on (None when off): what the propagation adds is the difference.
    pub fn score_without_propagation(&self, pixelwise: &[usize], probabilities: &[f32], cfg: &ExperimentConfig) -> Result<Option<Metrics>> {
        if !cfg.propagation.is_on() {
            return Ok(None);
        }
        let cut_only = ExperimentConfig { propagation: PropagationConfig::off(), ..cfg.clone() };
        Ok(Some(self.score(&self.class_map(pixelwise, probabilities, &cut_only).classes)?))
    }
}

/// What the models see of a scene's pixels, and the rows of the propagation's graph where
/// they hold more.
pub struct ModelInputs {
    /// The spatial features' transform, fitted on the scene, for spatial inputs.
    pub spatial: Option<SpatialFeatures>,
    pub x: Vec<f32>,
    /// The graph's rows when propagation is on and some features are the graph's alone.
    pub graph: Option<Vec<f32>>,
}

/// The model inputs of a scene's scaled pixels: the pixels themselves, or their spatial
/// features (the transform fitted on this scene).
pub fn model_inputs(cfg: &ExperimentConfig, scaled: Vec<f32>, height: usize, width: usize, bands: usize) -> Result<ModelInputs> {
    match cfg.input {
        Input::Spectra => Ok(ModelInputs { spatial: None, x: scaled, graph: None }),
        Input::Spatial => {
            let spatial = SpatialFeatures::fit(&cfg.spatial, &scaled, height, width, bands)?;
            if cfg.propagation.is_on() && spatial.has_graph_only_features() {
                let graph = spatial.graph_transform(&scaled, height, width)?;
                return Ok(ModelInputs { x: spatial.model_columns(&graph), graph: Some(graph), spatial: Some(spatial) });
            }
            let x = spatial.transform(&scaled, height, width)?;
            Ok(ModelInputs { spatial: Some(spatial), x, graph: None })
        }
    }
}

/// Checks the scene, draws the split and fits the scaling on the pool (never on test pixels),
/// then makes the model inputs and the propagation's seeds (which a run writes to its folder).
pub fn prepare(scene: &Scene, cfg: &ExperimentConfig) -> Result<Prepared> {
    prepare_split(scene, cfg, None)
}

/// [`prepare`] with a split given by the caller (a benchmark's fixed train/valid/test sets)
/// instead of one drawn from the configuration.
pub fn prepare_split(scene: &Scene, cfg: &ExperimentConfig, split: Option<Split>) -> Result<Prepared> {
    let labels = scene.labels.as_ref().ok_or_else(|| {
        Error::invalid(format!("{} has no label map: pass --labels to train and evaluate a classifier", scene.source.display()))
    })?;
    scene.check_finite()?;
    // A split drawn here has its warnings said here; a caller's split is the caller's to report.
    let split = match split {
        Some(s) => s,
        None => draw_split(labels, cfg)?,
    };
    // A caller's split may hold no test pixels: a model fitted on every label (`pipeline::fit`).
    if split.train.is_empty() {
        return Err(Error::invalid("the split left no training pixels"));
    }
    let scaler = Scaler::fit(&cfg.scaling, &scene.gather(split.pool()), scene.bands)?;
    // Spatial features come from the image alone, every pixel of it: the spectra of test pixels
    // shape their neighbours' features, their labels never enter.
    let ModelInputs { spatial, x, graph } = model_inputs(cfg, scaler.transformed(&scene.pixels)?, scene.height, scene.width, scene.bands)?;
    let dim = spatial.as_ref().map_or(scene.bands, |s| s.dim());
    let (height, width, n_classes, classes) = (scene.height, scene.width, labels.n_classes(), labels.classes.clone());
    let mut p = Prepared { seeds: Seeds::default(), split, scaler, spatial, x, dim, graph, height, width, n_classes, classes, reach: OnceLock::new(), config: cfg.clone() };
    if cfg.propagation.is_on() {
        let labelled: Vec<usize> = p.split.train.iter().chain(&p.split.valid).copied().collect();
        let classes = p.classes_of(&labelled);
        let (rows, width) = p.graph_rows();
        p.seeds = Seeds::gather(rows, width, &labelled, classes);
    }
    Ok(p)
}

/// The split `cfg` draws from `labels`, its warnings logged; an error when it leaves no test
/// pixel to score.
fn draw_split(labels: &LabelMap, cfg: &ExperimentConfig) -> Result<Split> {
    let s = sampling::split(labels, &cfg.split)?;
    for w in &s.warnings {
        log::warn!("{w}");
    }
    if s.test.is_empty() {
        return Err(Error::invalid("the split left no test pixels"));
    }
    Ok(s)
}

/// A scene run's classes and scores, as its run folder records them.
pub(crate) struct ScoredRun<'a> {
    pub title: String,
    pub started: Instant,
    pub pixelwise: &'a [usize],
    pub predicted: &'a [usize],
    /// The classifier's probabilities.
    pub probabilities: &'a [f32],
    /// The probabilities the class map was decided from (propagated, where propagation ran):
    /// what the uncertainty map shows.
    pub map_probabilities: &'a [f32],
    pub metrics: &'a Metrics,
    pub metrics_pixelwise: &'a Metrics,
}

impl Prepared {
    /// Writes what a run of `cfg` on this scene needs to be repeated and applied into `d`: its
    /// configuration, the scaling, spatial features, split and classes, and the propagation's
    /// seeds.
    pub(crate) fn write_inputs(&self, d: &RunDir, cfg: &ExperimentConfig, classes: &ClassInfo) -> Result<()> {
        atomic::write(&d.config(), cfg.to_toml().as_bytes())?;
        d.write_model_inputs(&self.scaler, self.spatial.as_ref(), &self.split, classes)?;
        d.write_seeds(&self.seeds)
    }

    /// Writes a scene run's metrics, maps, learning curves and report into `d`, with the
    /// picture of spectra that `draw_spectra` makes (if any) for a model of the spectra
    /// themselves; returns the files written.
    pub(crate) fn write_run(
        &self,
        d: &RunDir,
        (scene, cfg): (&Scene, &ExperimentConfig),
        run: &ScoredRun,
        draw_spectra: impl FnOnce(&outputs::SceneSpectra, &ClassInfo) -> Result<Option<PathBuf>>,
    ) -> Result<Vec<PathBuf>> {
        atomic::write_json(&d.metrics(), run.metrics)?;
        atomic::write_json(&d.metrics_pixelwise(), run.metrics_pixelwise)?;
        d.write_metrics_without_propagation(self.score_without_propagation(run.pixelwise, run.probabilities, cfg)?.as_ref())?;
        let classes = ClassInfo::of(scene.labels.as_ref().expect("checked by prepare"));
        let mut files = outputs::write_run_maps(d, scene, &classes, &self.split, outputs::Prediction { classes: run.predicted, probabilities: run.map_probabilities })?;
        if self.spatial.is_none() {
            let train_classes = self.classes_of(&self.split.train);
            let spectra = outputs::SceneSpectra { x: &self.x, bands: self.dim, train: &self.split.train, train_classes: &train_classes, wavelengths: scene.wavelengths.as_deref() };
            files.extend(draw_spectra(&spectra, &classes)?);
        }
        files.extend(outputs::write_learning_curves(d)?);
        let mut report = RunReport {
            title: run.title.clone(),
            metrics: Some(run.metrics.clone()),
            config: cfg.to_toml(),
            seconds: run.started.elapsed().as_secs_f64(),
            images: outputs::file_names(&files),
            ..outputs::scene_report(d, scene, &self.split, &classes)?
        };
        report.notes.extend(run.metrics.regions.map(|r| r.sentence()));
        files.push(outputs::write_run_report(d, &report)?);
        Ok(files)
    }
}
