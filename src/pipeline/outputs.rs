//! The pictures and the report a run leaves in its folder, and those `predict` writes.

use crate::models::backend::Backend;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

use super::run_dir::RunDir;
use super::trained::ClassInfo;
use crate::data::sampling::Split;
use crate::data::readers::envi::{self, Classification};
use crate::data::readers::npy::write_npy;
use crate::data::{RawArray, Samples, Scene};
use crate::error::Result;
use crate::models::m2::class_indices;
use crate::models::tensors::{matrix, to_vec};
use crate::models::{M1, M2};
use crate::report::{self, ClassSpectra, ReconstructionSpectra, RunReport};
use crate::data::array::gather_rows;
use crate::train::m1_task::normal_noise;

fn save(path: PathBuf, image: &image::RgbImage, written: &mut Vec<PathBuf>) -> Result<()> {
    report::save_png(&path, image)?;
    written.push(path);
    Ok(())
}

/// A model's prediction over the pixels of a map.
#[derive(Debug, Clone, Copy)]
pub struct Prediction<'a> {
    /// The class index of every pixel.
    pub classes: &'a [usize],
    /// The class probabilities the map was decided from, `n_pixels x n_classes`, row-major:
    /// what the uncertainty map shows.
    pub probabilities: &'a [f32],
}

/// class_map.npy (stored label values, height x width), uncertainty.npy, class_map.png and
/// uncertainty.png for any scene: what `predict` writes, and what a run writes for its own scene.
pub fn write_prediction(out: &Path, scene: &Scene, classes: &ClassInfo, prediction: Prediction) -> Result<Vec<PathBuf>> {
    write_prediction_maps(out, (scene.height, scene.width), &scene.source.display().to_string(), classes, prediction)
}

/// [`write_prediction`] for a `(height, width)` map of the image called `name`.
pub fn write_prediction_maps(out: &Path, (h, w): (usize, usize), name: &str, classes: &ClassInfo, prediction: Prediction) -> Result<Vec<PathBuf>> {
    let Prediction { classes: predicted, probabilities } = prediction;
    // Stored label values rather than dense indices, so the array reads like the ground truth.
    let values: Vec<u32> = predicted.iter().map(|&k| classes.values[k]).collect();
    let npy = out.join("class_map.npy");
    write_npy(&npy, &RawArray::new(vec![h, w], Samples::U32(values)))?;
    let mut written = vec![npy];
    let map = report::class_map(predicted, h, w, &classes.names, &format!("predicted classes: {name}"))?;
    save(out.join(report::CLASS_MAP), &map.image, &mut written)?;
    let unc = report::normalised_entropy(probabilities, classes.names.len())?;
    let npy = out.join("uncertainty.npy");
    write_npy(&npy, &RawArray::new(vec![h, w], Samples::F32(unc.clone())))?;
    written.push(npy);
    let map = report::uncertainty_map(&unc, h, w, "uncertainty of the map: entropy of its class probabilities / ln K")?;
    save(out.join(report::UNCERTAINTY), &map.image, &mut written)?;
    Ok(written)
}

/// `path` (an ENVI classification image, with its `.hdr`) of a `(height, width)` map of class
/// indices, for ENVI, GDAL and Spectral Python.
pub fn write_envi_map(path: &Path, (h, w): (usize, usize), classes: &ClassInfo, predicted: &[usize]) -> Result<()> {
    // 0 is ENVI's "unclassified"; the classes follow from 1.
    let dense: Vec<u8> = predicted.iter().map(|&k| (k + 1).min(255) as u8).collect();
    let colours = report::palette::class_colours(classes.names.len());
    let map = Classification { labels: &dense, lines: h, samples: w, class_names: &classes.names, colours: &colours };
    envi::write_classification(path, &map)
}

/// The maps of a run on its own scene: prediction, uncertainty, ground truth and test errors.
pub fn write_run_maps(dir: &RunDir, scene: &Scene, classes: &ClassInfo, split: &Split, prediction: Prediction) -> Result<Vec<PathBuf>> {
    if scene.width <= 1 {
        // A list of samples (MNIST digits), not an image: there is no map to draw.
        return Ok(Vec::new());
    }
    let mut written = write_prediction(&dir.root, scene, classes, prediction)?;
    let predicted = prediction.classes;
    let (h, w) = (scene.height, scene.width);
    if let Some(labels) = &scene.labels {
        let gt = report::class_map(&labels.classes, h, w, &classes.names, "ground truth")?;
        save(dir.root.join(report::GROUND_TRUTH), &gt.image, &mut written)?;
        let mut test_truth: Vec<Option<usize>> = vec![None; h * w];
        for &i in &split.test {
            test_truth[i] = labels.classes[i].map(|c| c as usize);
        }
        let outcomes = report::outcomes(&test_truth, predicted)?;
        let errs = report::errors_map(&outcomes, h, w, "test pixels: right and wrong")?;
        save(dir.root.join(report::ERRORS), &errs.image, &mut written)?;
    }
    Ok(written)
}

/// learning_curves.png from every training log of the run.
pub fn write_learning_curves(dir: &RunDir) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (prefix, file) in [("m1_", "learning_curves_m1.png"), ("m2_", report::LEARNING_CURVES)] {
        let log = dir.root.join(format!("{prefix}log.csv"));
        if log.exists() {
            save(dir.root.join(file), &report::learning_curves_from_log(&log)?, &mut written)?;
        }
    }
    Ok(written)
}

/// What the pictures of spectra draw from: the scene's scaled spectra (`n x bands`), its
/// labelled training pixels with their classes, and the bands' wavelengths where known.
pub struct SceneSpectra<'a> {
    pub x: &'a [f32],
    pub bands: usize,
    pub train: &'a [usize],
    pub train_classes: &'a [usize],
    pub wavelengths: Option<&'a [f32]>,
}

/// Mean real spectrum of the labelled training pixels of each of `k` classes (scaled values).
fn class_means(s: &SceneSpectra, k: usize) -> Vec<Vec<f32>> {
    let (x, bands) = (s.x, s.bands);
    let mut sums = vec![vec![0f32; bands]; k];
    let mut counts = vec![0usize; k];
    for (&i, &c) in s.train.iter().zip(s.train_classes) {
        counts[c] += 1;
        for (s, v) in sums[c].iter_mut().zip(&x[i * bands..(i + 1) * bands]) {
            *s += v;
        }
    }
    sums.into_iter().zip(counts).map(|(s, n)| s.into_iter().map(|v| v / n.max(1) as f32).collect()).collect()
}

/// spectra.png for M2: each class's mean training spectrum and spectra p(x|y,z) generates for
/// it with z ~ N(0, I).
pub fn write_m2_spectra<B: Backend>(dir: &RunDir, m2: &M2<B>, spectra: &SceneSpectra, classes: &ClassInfo, device: &B::Device) -> Result<PathBuf> {
    let (k, bands) = (classes.names.len(), spectra.bands);
    let means = class_means(spectra, k);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let per = 3;
    let y: Vec<usize> = (0..k).flat_map(|c| std::iter::repeat_n(c, per)).collect();
    let z = normal_noise::<B, _>(&mut rng, k * per, m2.latent_dim(), device);
    let gen = to_vec(m2.generate(class_indices::<B>(&y, device), z));
    let panels: Vec<ClassSpectra> = (0..k)
        .map(|c| ClassSpectra {
            name: classes.names[c].clone(),
            real_mean: means[c].clone(),
            generated: (0..per).map(|j| gen[(c * per + j) * bands..(c * per + j + 1) * bands].to_vec()).collect(),
        })
        .collect();
    let path = dir.root.join(report::SPECTRA);
    report::save_png(&path, &report::class_spectra(&panels, spectra.wavelengths, "class means (real) and spectra generated by M2")?)?;
    Ok(path)
}

/// spectra.png for M1: real spectra next to their reconstructions, and free samples.
pub fn write_m1_spectra<B: Backend>(dir: &RunDir, m1: &M1<B>, spectra: &SceneSpectra, device: &B::Device) -> Result<PathBuf> {
    let (train, bands) = (spectra.train, spectra.bands);
    let pick: Vec<usize> = train.iter().step_by((train.len() / 4).max(1)).take(4).copied().collect();
    let real = gather_rows(spectra.x, bands, &pick);
    let (mu, _) = m1.dist_qz(matrix::<B>(real.clone(), pick.len(), bands, device));
    let rec = to_vec(m1.decode_mean(mu));
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let samples = to_vec(m1.decode_mean(normal_noise::<B, _>(&mut rng, 4, m1.latent_dim(), device)));
    let rows = |v: &[f32]| v.chunks(bands).map(|r| r.to_vec()).collect::<Vec<_>>();
    let spec = ReconstructionSpectra { real: rows(&real), reconstructed: rows(&rec), samples: rows(&samples) };
    let path = dir.root.join(report::SPECTRA);
    report::save_png(&path, &report::reconstruction_spectra(&spec, spectra.wavelengths, "M1: real spectra, reconstructions and samples")?)?;
    Ok(path)
}

/// What report.md says of a run on a scene: its data, its sets, its classes, and the notes
/// (split warnings, settings changed on resume). The title, scores, configuration, time and
/// pictures are the caller's; [`write_run_report`] writes it.
pub fn scene_report(dir: &RunDir, scene: &Scene, split: &Split, classes: &ClassInfo) -> Result<RunReport> {
    Ok(RunReport {
        title: String::new(),
        data: format!("{}: {} x {} pixels, {} bands ({})", scene.source.display(), scene.height, scene.width, scene.bands, scene.dtype),
        splits: vec![
            ("labelled train".into(), split.train.len()),
            ("labelled validation".into(), split.valid.len()),
            ("test".into(), split.test.len()),
            ("unlabelled pool".into(), split.unlabelled.len()),
        ],
        class_names: classes.names.clone(),
        metrics: None,
        config: String::new(),
        seconds: 0.0,
        images: Vec::new(),
        // A run's settings changed after it began (on --resume) are part of what made its result.
        notes: split.warnings.iter().cloned().chain(dir.recorded_changes()?.iter().map(|c| c.to_string())).collect(),
    })
}

/// The file names of `paths`, as a report links its pictures.
pub fn file_names(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).collect()
}

/// report.md of a run and metrics.json with the report's facts beside the metrics.
pub fn write_run_report(dir: &RunDir, run: &RunReport) -> Result<PathBuf> {
    let metrics = run.metrics.as_ref().ok_or_else(|| crate::Error::invalid("a run report needs its metrics"))?;
    let path = dir.root.join(report::REPORT);
    report::write_markdown(&path, run)?;
    // metrics.json carries the same facts as report.md, for other tools.
    let mut json = serde_json::to_value(metrics).map_err(|e| crate::Error::invalid(e.to_string()))?;
    if let Some(obj) = json.as_object_mut() {
        obj.insert("title".into(), run.title.clone().into());
        obj.insert("data".into(), run.data.clone().into());
        obj.insert("splits".into(), run.splits.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(*v))).collect::<serde_json::Map<_, _>>().into());
        obj.insert("class_names".into(), run.class_names.clone().into());
        obj.insert("config".into(), run.config.clone().into());
        obj.insert("seconds".into(), run.seconds.into());
        obj.insert("images".into(), run.images.clone().into());
        obj.insert("notes".into(), run.notes.clone().into());
    }
    crate::atomic::write_json(&dir.metrics(), &json)?;
    Ok(path)
}

/// digits.png: for each class, images the model generates with the class fixed and the style
/// z ~ N(0, I) varying (the paper's Figure 1). For M1+M2, M2 generates M1 latent features (the
/// dimensions M1+M2 dropped are set to their prior mean, 0) and M1's decoder draws the image.
pub fn write_generated_digits<B: Backend>(dir: &RunDir, trained: &super::trained::Trained<B>, side: usize, per_class: usize, device: &B::Device) -> Result<Option<PathBuf>> {
    use super::trained::TrainedModel;
    let k = trained.classes.names.len();
    let y: Vec<usize> = (0..k).flat_map(|c| std::iter::repeat_n(c, per_class)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let images = match &trained.model {
        TrainedModel::M2 { model, .. } => {
            let z = normal_noise::<B, _>(&mut rng, y.len(), model.latent_dim(), device);
            to_vec(model.generate(class_indices::<B>(&y, device), z))
        }
        TrainedModel::M1m2 { m1, selection, m2 } => {
            let z2 = normal_noise::<B, _>(&mut rng, y.len(), m2.latent_dim(), device);
            let kept = to_vec(m2.generate(class_indices::<B>(&y, device), z2));
            let mut z1 = vec![0f32; y.len() * selection.latent];
            for (row, feats) in kept.chunks(selection.kept.len()).enumerate() {
                for (&j, &v) in selection.kept.iter().zip(feats) {
                    z1[row * selection.latent + j] = v;
                }
            }
            to_vec(m1.decode_mean(matrix::<B>(z1, y.len(), selection.latent, device)))
        }
        TrainedModel::M1 { .. } | TrainedModel::Classifier { .. } => return Ok(None),
    };
    let d = side * side;
    if images.len() != y.len() * d {
        return Ok(None);
    }
    let rows: Vec<report::ImageRow> = (0..k)
        .map(|c| report::ImageRow {
            label: trained.classes.names[c].clone(),
            images: (0..per_class).map(|j| images[(c * per_class + j) * d..(c * per_class + j + 1) * d].iter().map(|v| v.clamp(0.0, 1.0)).collect()).collect(),
        })
        .collect();
    let (image, _) = report::image_grid(&rows, side, "generated digits: one row per class, style z ~ N(0, I)")?;
    let path = dir.root.join(report::DIGITS);
    report::save_png(&path, &image)?;
    Ok(Some(path))
}
