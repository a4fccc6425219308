//! A finished run read back from its folder: configuration, scaling, split, class names and the
//! trained model, so that features, evaluation and prediction use exactly what training produced.

use crate::models::backend::Backend;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::{ExperimentConfig, Input, ModelKind};
use super::features::dist_qz;
use super::m2_run::FeatureSelection;
use super::run_dir::RunDir;
use crate::data::corpus::inputs::PixelTransform;
use crate::data::readers::hdf5::CoreFile;
use crate::data::sampling::Split;
use crate::data::scaling::Scaler;
use crate::data::spatial::SpatialFeatures;
use crate::data::{LabelMap, Scene};
use crate::error::{Error, Result};
use crate::data::array::argmax_rows;
use crate::eval::classifier::{check_matrix, Classifier, FittedClassifier};
use crate::eval::class_map::{regularised_map, ClassMap, Regularisers, SceneOutput};
use crate::eval::mrf::{class_map, ProbabilityMap};
use crate::eval::propagation::Seeds;
use crate::eval::metrics::{evaluate, Metrics};
use crate::models::{M1, M2};
use crate::atomic::read_json;
use crate::atomic;
use crate::train::checkpoint::{load_model, save_model};
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

/// Rows of a drill-core file predicted at once.
pub const CORE_BAND_ROWS: usize = 64;

/// Pixels per tile of a whole-scene prediction.
pub const PREDICTION_TILE: usize = 4096;

// The variants are held one at a time, never in bulk, so their sizes need not match.
#[allow(clippy::large_enum_variant)]
pub enum TrainedModel<B: Backend> {
    M1 { model: M1<B>, classifier: FittedClassifier },
    /// `partner`: a classifier on the same inputs whose probabilities are averaged with
    /// q(y|x)'s (the configuration's `partner`).
    M2 { model: M2<B>, partner: Option<FittedClassifier> },
    M1m2 { m1: M1<B>, selection: FeatureSelection, m2: M2<B> },
    Classifier { classifier: FittedClassifier },
}

impl<B: Backend> TrainedModel<B> {
    /// The classes and class probabilities (`n x k`) of rows of model inputs (`dim` wide).
    pub fn predict_inputs(&self, x: &[f32], dim: usize, k: usize, device: &B::Device) -> (Vec<usize>, Vec<f32>) {
        match self {
            TrainedModel::M1 { model, classifier } => {
                let f = dist_qz(model, x, dim, device).0;
                // The SVM's class is its vote, which its coupled probabilities need not agree with.
                (classifier.predict(&f), classifier.predict_proba(&f))
            }
            TrainedModel::M2 { model, partner } => {
                let mut p = model.probabilities_of_rows(x, dim, device);
                if let Some(partner) = partner {
                    p.iter_mut().zip(partner.predict_proba(x)).for_each(|(q, c)| *q = 0.5 * (*q + c));
                }
                (argmax_rows(&p, k), p)
            }
            TrainedModel::M1m2 { m1, selection, m2 } => {
                let f = selection.apply(&dist_qz(m1, x, dim, device).0);
                let p = m2.probabilities_of_rows(&f, selection.kept.len(), device);
                (argmax_rows(&p, k), p)
            }
            TrainedModel::Classifier { classifier } => (classifier.predict(x), classifier.predict_proba(x)),
        }
    }
}

/// A trained model with everything it needs to predict: the configuration it was trained with,
/// the scaling and spatial features fitted on its scene, the split, and the class values and
/// names. Made by fitting (`pipeline::fit`) or read back from a run folder ([`Trained::load`]).
pub struct Trained<B: Backend> {
    pub config: ExperimentConfig,
    pub scaler: Scaler,
    /// The spatial features' transform of a run on spatial inputs.
    pub spatial: Option<SpatialFeatures>,
    pub split: Split,
    pub classes: ClassInfo,
    /// The labelled pixels as nodes of the propagation's graph (empty when it is off).
    pub seeds: Seeds,
    pub model: TrainedModel<B>,
}

fn load_m1<B: Backend>(dir: &RunDir, cfg: &ExperimentConfig, bands: usize, device: &B::Device) -> Result<M1<B>> {
    let path = RunFiles::in_dir(&dir.root, "m1_").best_model;
    if !path.exists() {
        return Err(Error::bad(&dir.root, "the run has no trained M1 yet (m1_model.mpk missing): finish it with --resume"));
    }
    load_model(&path, M1::new(&cfg.m1, bands, cfg.train.seed, device), device).map_err(|e| sizes_from_config(e, dir))
}

/// The classifier of a run: of the classifier alone, M2's partner or M1's on its features
/// (`dim` values a pixel: the run's inputs, or M1's latent dimensions); refused when it does not
/// fit those and the run's classes (`k`).
fn load_classifier(dir: &RunDir, dim: usize, k: usize) -> Result<FittedClassifier> {
    let path = dir.classifier();
    if !path.exists() {
        return Err(Error::bad(&dir.root, "the run has no fitted classifier yet (classifier.json missing): finish it with --resume"));
    }
    let classifier: FittedClassifier = read_json(&path)?;
    if (classifier.dim(), classifier.n_classes()) != (dim, k) {
        let (d, c) = (classifier.dim(), classifier.n_classes());
        return Err(Error::bad(&path, format!("a classifier of {d} inputs and {c} classes, not the {dim} and {k} of the run's other files")));
    }
    Ok(classifier)
}

/// A model file whose parameters do not fit the layer sizes that `config.toml` gives may be
/// sound beside a damaged configuration: the error names both files.
fn sizes_from_config(e: Error, dir: &RunDir) -> Error {
    match e {
        Error::BadData { path, message } if message.contains("layer sizes") => {
            Error::bad(path, format!("{message}, which {} gives", dir.config().display()))
        }
        other => other,
    }
}

fn load_m2<B: Backend>(dir: &RunDir, cfg: &ExperimentConfig, dim: usize, k: usize, device: &B::Device) -> Result<M2<B>> {
    let path = RunFiles::in_dir(&dir.root, "m2_").best_model;
    if !path.exists() {
        return Err(Error::bad(&dir.root, "the run has no trained M2 yet (m2_model.mpk missing): finish it with --resume"));
    }
    load_model(&path, M2::new(&cfg.m2, dim, k, cfg.train.seed, device), device).map_err(|e| sizes_from_config(e, dir))
}

impl<B: Backend> Trained<B> {
    /// Reads the model stored in the run folder at `root` (by [`Trained::save`] or a
    /// command-line run).
    pub fn load(root: &std::path::Path, device: &B::Device) -> Result<Self> {
        Self::load_run(&RunDir::open(root)?, device)
    }

    /// [`Trained::load`] from an opened run folder.
    pub fn load_run(dir: &RunDir, device: &B::Device) -> Result<Self> {
        let config = ExperimentConfig::from_toml_file(&dir.config())?;
        let scaler = Scaler::load(&dir.scaler())?;
        let spatial: Option<SpatialFeatures> = match config.input {
            Input::Spectra => None,
            Input::Spatial => Some(read_json(&dir.spatial())?),
        };
        let split: Split = read_json(&dir.split())?;
        let classes: ClassInfo = read_json(&dir.classes())?;
        let (dim, k) = (spatial.as_ref().map_or(scaler.bands(), |s| s.dim()), classes.values.len());
        let model = match config.model {
            ModelKind::M1 => {
                let model = load_m1(dir, &config, dim, device)?;
                let classifier = load_classifier(dir, model.latent_dim(), k)?;
                TrainedModel::M1 { model, classifier }
            }
            ModelKind::M2 => {
                let partner = config.partner.map(|_| load_classifier(dir, dim, k)).transpose()?;
                TrainedModel::M2 { model: load_m2(dir, &config, dim, k, device)?, partner }
            }
            ModelKind::M1m2 => {
                let selection: FeatureSelection = read_json(&dir.m1m2_features())?;
                let m2 = load_m2(dir, &config, selection.kept.len(), k, device)?;
                TrainedModel::M1m2 { m1: load_m1(dir, &config, dim, device)?, selection, m2 }
            }
            ModelKind::Classifier => TrainedModel::Classifier { classifier: load_classifier(dir, dim, k)? },
        };
        // A run without the file propagates nothing: it was written before propagation existed,
        // or with it off.
        let seeds = if dir.seeds().exists() { read_json(&dir.seeds())? } else { Seeds::default() };
        Ok(Trained { config, scaler, spatial, split, classes, seeds, model })
    }

    /// Refuses a scene of another sensor (band count) or with NaN/inf values.
    fn check_scene(&self, scene: &Scene) -> Result<()> {
        self.scaler.check_bands(scene.bands).map_err(|e| Error::bad(&scene.source, format!("{e}: not the sensor this model was trained on")))?;
        scene.check_finite()
    }

    /// Values per pixel the models take (bands, or spatial features).
    fn dim(&self) -> usize {
        self.spatial.as_ref().map_or(self.scaler.bands(), |s| s.dim())
    }

    /// Values per pixel in the propagation's graph: the models' and any graph-only features.
    fn graph_dim(&self) -> usize {
        self.spatial.as_ref().map_or(self.scaler.bands(), |s| s.graph_dim())
    }

    /// What the models see of every pixel of the scene (scaled spectra or spatial features,
    /// with the stored transforms), after checking its bands and values.
    pub fn inputs(&self, scene: &Scene) -> Result<Vec<f32>> {
        self.check_scene(scene)?;
        let scaled = self.scaler.transformed(&scene.pixels)?;
        match &self.spatial {
            None => Ok(scaled),
            Some(s) => s.transform(&scaled, scene.height, scene.width),
        }
    }

    /// Means and log-variances of M1's q(z|x) for every pixel (runs with an M1).
    pub fn m1_features(&self, scene: &Scene, device: &B::Device) -> Result<(Vec<f32>, Vec<f32>)> {
        let m1 = self.m1()?;
        Ok(dist_qz(m1, &self.inputs(scene)?, self.dim(), device))
    }

    /// [`Trained::m1_features`] of rows of spectra (`n x bands`, row-major), for a model on the
    /// spectra alone.
    pub fn m1_features_of_rows(&self, x: &[f32], device: &B::Device) -> Result<(Vec<f32>, Vec<f32>)> {
        let m1 = self.m1()?;
        Ok(dist_qz(m1, &self.rows_as_inputs(x)?, self.dim(), device))
    }

    fn m1(&self) -> Result<&M1<B>> {
        match &self.model {
            TrainedModel::M1 { model, .. } => Ok(model),
            TrainedModel::M1m2 { m1, .. } => Ok(m1),
            TrainedModel::M2 { .. } => Err(Error::invalid("an M2 run has no M1 features")),
            TrainedModel::Classifier { .. } => Err(Error::invalid("a run of the classifier alone has no M1 features")),
        }
    }

    /// Rows of spectra scaled as the model's inputs, refused for a model that reads neighbours.
    fn rows_as_inputs(&self, x: &[f32]) -> Result<Vec<f32>> {
        if self.spatial.is_some() {
            return Err(Error::invalid("this model reads each pixel's neighbours (spatial features): predict a scene, not rows of spectra"));
        }
        check_matrix(x, self.scaler.bands()).map_err(|e| Error::invalid(format!("spectra for a model of {} bands: {e}", self.scaler.bands())))?;
        self.scaler.transformed(x)
    }

    /// The class map (the class of every pixel) and the class probabilities (`n_pixels x
    /// n_classes`). The scene is cut into tiles of about [`PREDICTION_TILE`] pixels that the
    /// cores share; each tile is scaled, encoded and classified on its own, so the memory
    /// beyond the scene is a few tiles' worth whatever the scene's size. Spatial features
    /// read a tile's neighbouring rows from the scene's projection, which every tile shares. The
    /// class map is then regularised over the whole scene when the run's configuration says so:
    /// the run's labelled pixels ([`Trained::seeds`]) propagated over the scene's graph, then
    /// the graph cut. The probabilities returned are the classifier's own.
    pub fn predict_scene(&self, scene: &Scene, device: &B::Device) -> Result<(Vec<usize>, Vec<f32>)>
    where
        Self: Sync,
    {
        let (map, probabilities) = self.predict_map(scene, device)?;
        Ok((map.classes, probabilities))
    }

    /// The class map of [`Trained::predict_scene`] with the probabilities it was decided from
    /// ([`ClassMap::probabilities`]: label propagation's where it ran, which the uncertainty
    /// map shows), beside the classifier's own probabilities.
    pub fn predict_map(&self, scene: &Scene, device: &B::Device) -> Result<(ClassMap, Vec<f32>)>
    where
        Self: Sync,
    {
        self.predict_scene_tiled(scene, PREDICTION_TILE, device)
    }

    /// [`Trained::predict_map`] with tiles of `tile` pixels (whole rows of them for spatial
    /// inputs).
    pub fn predict_scene_tiled(&self, scene: &Scene, tile: usize, device: &B::Device) -> Result<(ClassMap, Vec<f32>)>
    where
        Self: Sync,
    {
        self.check_scene(scene)?;
        // Propagation's graph joins every pixel's inputs, so they are kept when it is on.
        let keep = self.config.propagation.is_on() && !self.seeds.is_empty();
        // A tile's model inputs, and its graph rows where they hold more (kept in their place).
        let classify = |x: Vec<f32>, graph_rows: Option<Vec<f32>>| -> Result<(Vec<usize>, Vec<f32>, Vec<f32>)> {
            let (c, p) = self.predict_inputs(&x, device)?;
            Ok((c, p, if keep { graph_rows.unwrap_or(x) } else { Vec::new() }))
        };
        let parts = match &self.spatial {
            None => scene.pixels.par_chunks(tile.max(1) * scene.bands).map(|t| classify(self.scaler.transformed(t)?, None)).collect::<Result<Vec<_>>>()?,
            Some(spatial) => {
                let projected = spatial.project(&self.scaler.transformed(&scene.pixels)?);
                let rows = (tile / scene.width).max(1);
                let bands: Vec<std::ops::Range<usize>> = (0..scene.height).step_by(rows).map(|r| r..(r + rows).min(scene.height)).collect();
                let graph_rows = keep && spatial.has_graph_only_features();
                let tile_inputs = |r: std::ops::Range<usize>| {
                    if graph_rows {
                        let g = spatial.graph_features(&projected, scene.height, scene.width, r);
                        classify(spatial.model_columns(&g), Some(g))
                    } else {
                        classify(spatial.features(&projected, scene.height, scene.width, r), None)
                    }
                };
                bands.into_par_iter().map(tile_inputs).collect::<Result<Vec<_>>>()?
            }
        };
        let k = self.classes.values.len();
        let mut classes = Vec::with_capacity(scene.n_pixels());
        let mut probs = Vec::with_capacity(scene.n_pixels() * k);
        // Sized once: growing it by doubling held up to three copies of the scene's inputs.
        let mut inputs = Vec::with_capacity(if keep { scene.n_pixels() * self.graph_dim() } else { 0 });
        for (c, p, x) in parts {
            classes.extend(c);
            probs.extend(p);
            inputs.extend(x);
        }
        let out = SceneOutput { classes: &classes, probs: &probs, k, height: scene.height, width: scene.width, inputs: &inputs, dim: self.graph_dim() };
        let map = regularised_map(&out, &self.seeds, &Regularisers { propagation: &self.config.propagation, mrf: &self.config.mrf });
        Ok((map, probs))
    }

    /// The class map and class probabilities of one drill-core file, read a band of
    /// [`CORE_BAND_ROWS`] rows (and the rows its windows reach) at a time, so that memory
    /// holds a band of pixels and the file's probabilities, never the file's pixels. The map
    /// is regularised over the whole file by the graph cut when the run's configuration says so
    /// (label propagation, whose graph joins every pixel's inputs, is left out here).
    pub fn predict_core(&self, file: &CoreFile, device: &B::Device) -> Result<(Vec<usize>, Vec<f32>)> {
        let transform = PixelTransform { scaler: self.scaler.clone(), spatial: self.spatial.clone() };
        let k = self.classes.values.len();
        let mut classes = Vec::with_capacity(file.n_pixels());
        let mut probs = Vec::with_capacity(file.n_pixels() * k);
        for first in (0..file.rows).step_by(CORE_BAND_ROWS) {
            let x = transform.rows(file, first..(first + CORE_BAND_ROWS).min(file.rows))?;
            let (c, p) = self.predict_inputs(&x, device)?;
            classes.extend(c);
            probs.extend(p);
        }
        let map = ProbabilityMap { probs: &probs, k, height: file.rows, width: file.cols };
        let classes = class_map(classes, map, &self.config.mrf);
        Ok((classes, probs))
    }

    /// The classifier's classes and probabilities for one tile of model inputs.
    fn predict_inputs(&self, x: &[f32], device: &B::Device) -> Result<(Vec<usize>, Vec<f32>)> {
        Ok(self.model.predict_inputs(x, self.dim(), self.classes.values.len(), device))
    }

    /// The classes and class probabilities (`n x classes`, row-major) of rows of spectra
    /// (`n x bands`, row-major) of a model trained on the spectra alone. The classes are dense
    /// indices; [`Trained::label_values`] gives their stored label values.
    pub fn predict_rows(&self, x: &[f32]) -> Result<(Vec<usize>, Vec<f32>)> {
        self.predict_rows_on(x, &Default::default())
    }

    /// [`Trained::predict_rows`] on a given device.
    pub fn predict_rows_on(&self, x: &[f32], device: &B::Device) -> Result<(Vec<usize>, Vec<f32>)> {
        self.predict_inputs(&self.rows_as_inputs(x)?, device)
    }

    /// The stored label value of each dense class.
    pub fn label_values(&self, classes: &[usize]) -> Vec<u32> {
        classes.iter().map(|&c| self.classes.values[c]).collect()
    }

    /// Writes the model as a run folder that [`Trained::load`] (and the command line's `predict`)
    /// read: configuration, scaling, spatial features, split, classes and the trained networks.
    /// The folder is created; one that already holds a run is refused.
    pub fn save(&self, root: &std::path::Path) -> Result<()> {
        let dir = RunDir::create(root, false)?;
        dir.write_model_inputs(&self.scaler, self.spatial.as_ref(), &self.split, &self.classes)?;
        dir.write_seeds(&self.seeds)?;
        let path = |prefix: &str| RunFiles::in_dir(root, prefix).best_model;
        match &self.model {
            TrainedModel::M1 { model, classifier } => {
                save_model::<B, _>(&path("m1_"), model)?;
                atomic::write_json(&dir.classifier(), classifier)?;
            }
            TrainedModel::M2 { model, partner } => {
                save_model::<B, _>(&path("m2_"), model)?;
                if let Some(partner) = partner {
                    atomic::write_json(&dir.classifier(), partner)?;
                }
            }
            TrainedModel::M1m2 { m1, selection, m2 } => {
                save_model::<B, _>(&path("m1_"), m1)?;
                atomic::write_json(&dir.m1m2_features(), selection)?;
                save_model::<B, _>(&path("m2_"), m2)?;
            }
            TrainedModel::Classifier { classifier } => atomic::write_json(&dir.classifier(), classifier)?,
        }
        // Last: a folder with config.toml is a finished run.
        atomic::write(&dir.config(), self.config.to_toml().as_bytes())
    }

    /// Metrics on the stored test pixels of the scene the run trained on.
    pub fn evaluate(&self, scene: &Scene, device: &B::Device) -> Result<Metrics>
    where
        Self: Sync,
    {
        let labels = scene.labels.as_ref().ok_or_else(|| Error::bad(&scene.source, "no label map to evaluate against"))?;
        let (pred, _) = self.predict_scene(scene, device)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::array::{RawArray, Samples};
    use crate::data::scaling::ScalingConfig;
    use crate::data::spatial::{CovarianceConfig, MorphologyConfig, SpatialConfig};
    use crate::eval::mrf::{regularise, MrfConfig};
    use crate::eval::propagation::PropagationConfig;
    use crate::models::M2Config;

    type B = crate::pipeline::backend::Cpu;

    /// An untrained M2 run of `k` classes whose scaling is fitted on `pixels` (`bands` wide).
    fn m2_run(pixels: &[f32], bands: usize, k: usize, hidden: usize, seed: u64) -> Trained<B> {
        let cfg = M2Config { hidden_classifier: vec![hidden], hidden_encoder: vec![hidden], hidden_decoder: vec![hidden], latent: 2, ..Default::default() };
        Trained {
            config: ExperimentConfig { model: ModelKind::M2, ..ExperimentConfig::spectral() },
            scaler: Scaler::fit(&ScalingConfig::default(), pixels, bands).unwrap(),
            spatial: None,
            split: Split::default(),
            seeds: Seeds::default(),
            classes: ClassInfo { values: (1..=k as u32).collect(), names: (0..k).map(|c| format!("class {c}")).collect() },
            model: TrainedModel::M2 { partner: None, model: M2::<B>::new(&cfg, bands, k, seed, &Default::default()) },
        }
    }

    fn scene(pixels: Vec<f32>, n: usize, bands: usize, name: &str) -> Scene {
        Scene::from_array(&RawArray::new(vec![n, 1, bands], Samples::F32(pixels)), std::path::Path::new(name)).unwrap()
    }

    #[test]
    fn tiles_give_the_prediction_of_one_pass() {
        let device = Default::default();
        let (n, bands, k) = (53, 4, 3);
        let pixels: Vec<f32> = (0..n * bands).map(|i| ((i * 37 % 101) as f32).sin() * 100.0 + 200.0).collect();
        let trained = m2_run(&pixels, bands, k, 5, 3);
        let scene = scene(pixels, n, bands, "t.npy");
        let (whole_c, whole_p) = trained.predict_scene(&scene, &device).unwrap();
        let (tiled, tiled_p) = trained.predict_scene_tiled(&scene, 7, &device).unwrap();
        let tiled_c = tiled.classes;
        assert_eq!(whole_p.len(), n * k);
        assert_eq!(whole_c, tiled_c);
        for (a, b) in whole_p.iter().zip(&tiled_p) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        // Not a constant prediction: the model's classes differ between pixels.
        assert!(whole_p.chunks(k).any(|r| (r[0] - whole_p[0]).abs() > 1e-4));
    }

    #[test]
    fn row_tiles_of_spatial_inputs_give_the_prediction_of_one_pass() {
        // Spatial features read neighbouring rows, which a tile takes from the shared
        // projection; the regularised map is the same for any tiling, and it is the graph cut of
        // the tiles' probabilities.
        // With and without covariance descriptors (whose 5 x 5 window reaches as far as the
        // edge-aware radius 2), and with morphological profiles (which reach 3 rows).
        let plain = SpatialConfig { components: 3, box_windows: vec![3], edge_radii: vec![1, 2], ..Default::default() };
        let covariance = CovarianceConfig { components: 2, window: 5, neighbours: 6, weight: 0.5, graph_only: false };
        let morphology = MorphologyConfig { components: 2, radii: vec![1, 2], steps: 1, weight: 2.0 };
        for config in [plain.clone(), SpatialConfig { covariance, ..plain.clone() }, SpatialConfig { morphology, ..plain }] {
            tiles_give_one_pass(&config);
        }
    }

    /// With descriptors in the propagation's graph alone, the tiles' graph rows make the map
    /// that the whole scene's graph rows and the models' own inputs make.
    #[test]
    fn row_tiles_with_graph_only_features_give_the_propagated_map_of_one_pass() {
        let device = Default::default();
        let (h, w, bands, k) = (9, 7, 5, 3);
        let pixels: Vec<f32> = (0..h * w * bands).map(|i| ((i * 37 % 101) as f32).sin() * 100.0 + 200.0 + 40.0 * ((i / bands) % w / 3) as f32).collect();
        let mut trained = m2_run(&pixels, bands, k, 5, 3);
        let covariance = CovarianceConfig { components: 2, window: 5, neighbours: 6, weight: 0.5, graph_only: true };
        let config = SpatialConfig { components: 3, box_windows: vec![3], edge_radii: vec![1, 2], covariance, ..Default::default() };
        let scaled = trained.scaler.transformed(&pixels).unwrap();
        let spatial = SpatialFeatures::fit(&config, &scaled, h, w, bands).unwrap();
        let graph = spatial.graph_transform(&scaled, h, w).unwrap();
        let cfg = M2Config { hidden_classifier: vec![5], hidden_encoder: vec![5], hidden_decoder: vec![5], latent: 2, ..Default::default() };
        trained.model = TrainedModel::M2 { partner: None, model: M2::<B>::new(&cfg, spatial.dim(), k, 3, &device) };
        // Three labelled pixels, one per class, as the graph's nodes.
        trained.seeds = Seeds::gather(&graph, spatial.graph_dim(), &[3, 30, 60], vec![0, 1, 2]);
        trained.config.input = Input::Spatial;
        trained.config.mrf = MrfConfig::off();
        trained.config.propagation = PropagationConfig { neighbours: 4, max_candidates: 1000, ..Default::default() };
        let scene = Scene::from_array(&RawArray::new(vec![h, w, bands], Samples::F32(pixels)), std::path::Path::new("s.npy")).unwrap();
        let models = spatial.transform(&scaled, h, w).unwrap();
        trained.spatial = Some(spatial.clone());
        let (classes, probs) = trained.model.predict_inputs(&models, spatial.dim(), k, &device);
        let out = SceneOutput { classes: &classes, probs: &probs, k, height: h, width: w, inputs: &graph, dim: spatial.graph_dim() };
        let expected = regularised_map(&out, &trained.seeds, &Regularisers { propagation: &trained.config.propagation, mrf: &trained.config.mrf });
        let expected_decided = expected.propagated.as_ref().expect("propagation is on");
        for tile in [h * w, 1, 2 * w] {
            let (map, p) = trained.predict_scene_tiled(&scene, tile, &device).unwrap();
            assert_eq!(map.classes, expected.classes, "tile {tile}");
            let decided = map.propagated.expect("propagation is on");
            assert!(decided.iter().zip(expected_decided).all(|(a, b)| (a - b).abs() < 1e-5), "tile {tile}: the map's probabilities are those propagated over the whole scene");
            assert!(p.iter().zip(&probs).all(|(a, b)| (a - b).abs() < 1e-6), "tile {tile}: the probabilities are the classifier's own");
        }
    }

    fn tiles_give_one_pass(config: &SpatialConfig) {
        let device = Default::default();
        let (h, w, bands, k) = (9, 7, 5, 3);
        let pixels: Vec<f32> = (0..h * w * bands).map(|i| ((i * 37 % 101) as f32).sin() * 100.0 + 200.0 + 40.0 * ((i / bands) % w / 3) as f32).collect();
        let mut trained = m2_run(&pixels, bands, k, 5, 3);
        let scaled = trained.scaler.transformed(&pixels).unwrap();
        let spatial = SpatialFeatures::fit(config, &scaled, h, w, bands).unwrap();
        let cfg = M2Config { hidden_classifier: vec![5], hidden_encoder: vec![5], hidden_decoder: vec![5], latent: 2, ..Default::default() };
        trained.model = TrainedModel::M2 { partner: None, model: M2::<B>::new(&cfg, spatial.dim(), k, 3, &device) };
        trained.spatial = Some(spatial);
        trained.config.input = Input::Spatial;
        trained.config.mrf = MrfConfig { weight: 1.0, sweeps: 3 };
        let scene = Scene::from_array(&RawArray::new(vec![h, w, bands], Samples::F32(pixels)), std::path::Path::new("s.npy")).unwrap();
        let (whole, whole_p) = trained.predict_scene_tiled(&scene, h * w, &device).unwrap();
        let whole_c = whole.classes;
        for tile in [1, 2 * w, 4 * w + 3] {
            let (map, p) = trained.predict_scene_tiled(&scene, tile, &device).unwrap();
            assert_eq!(map.classes, whole_c, "tile {tile}");
            for (a, b) in whole_p.iter().zip(&p) {
                assert!((a - b).abs() < 1e-6, "tile {tile}: {a} vs {b}");
            }
        }
        assert_eq!(whole_c, regularise(&whole_p, k, h, w, &trained.config.mrf));
    }

    #[test]
    fn a_core_predicted_band_by_band_from_disk_is_its_prediction_in_memory() {
        use crate::data::corpus::synthetic::SyntheticCorpus;
        use crate::data::readers::hdf5::{open_core, read_core_scene, LabelKind};
        let device = Default::default();
        let dir = tempfile::tempdir().unwrap();
        // 150 rows: three bands of CORE_BAND_ROWS, the last one short.
        let spec = SyntheticCorpus { files: 1, rows: 150, cols: 7, bands: 6, classes: 3, dominant_share: 0.4, layer_rows: (5, 30), ..Default::default() };
        let path = spec.write(dir.path()).unwrap().remove(0);
        let scene = read_core_scene(std::slice::from_ref(&path), LabelKind::All).unwrap();
        let k = 3;
        let mut trained = m2_run(&scene.pixels, 6, k, 5, 3);
        let config = SpatialConfig { components: 3, box_windows: vec![5], edge_radii: vec![1, 3], ..Default::default() };
        let scaled = trained.scaler.transformed(&scene.pixels).unwrap();
        let spatial = SpatialFeatures::fit(&config, &scaled, 150, 7, 6).unwrap();
        let cfg = M2Config { hidden_classifier: vec![5], hidden_encoder: vec![5], hidden_decoder: vec![5], latent: 2, ..Default::default() };
        trained.model = TrainedModel::M2 { partner: None, model: M2::<B>::new(&cfg, spatial.dim(), k, 3, &device) };
        trained.spatial = Some(spatial);
        trained.config.input = Input::Spatial;
        trained.config.mrf = MrfConfig { weight: 1.0, sweeps: 3 };
        let (in_memory_c, in_memory_p) = trained.predict_scene(&scene, &device).unwrap();
        let (streamed_c, streamed_p) = trained.predict_core(&open_core(&path).unwrap(), &device).unwrap();
        assert_eq!(streamed_c, in_memory_c);
        assert_eq!(streamed_p, in_memory_p);
        // More than one class: the comparison is not of two constant maps.
        assert!(in_memory_c.iter().any(|&c| c != in_memory_c[0]));
    }

    #[test]
    fn a_scene_of_other_bands_is_refused() {
        let trained = m2_run(&[1.0, 2.0, 3.0, 4.0], 4, 2, 3, 0);
        let err = trained.predict_scene(&scene(vec![1.0; 10], 2, 5, "other.npy"), &Default::default()).unwrap_err().to_string();
        assert!(err.contains("other.npy") && err.contains("sensor"), "{err}");
    }
}
