//! M2 and M1+M2 runs: the generative semi-supervised model on the scaled spectra, or on the
//! latent features of an M1 trained first on every pixel of the pool; q(y|x) is the classifier.

use burn::module::AutodiffModule;
use crate::models::backend::{AutodiffBackend, Backend};
use serde::{Deserialize, Serialize};
use std::time::Instant;

use super::config::{ExperimentConfig, ModelKind};
use super::m1_run::{prepare_split, train_m1, Prepared};
use super::features::dist_qz;
use super::outputs;
use super::run_dir::RunDir;
use super::trained::ClassInfo;
use crate::data::sampling::Split;
use crate::data::Scene;
use crate::error::{Error, Result};
use crate::models::tensors::{column_moments, matrix, to_vec};
use crate::models::M2;
use crate::train::atomic;
use crate::train::checkpoint::LoopState;
use super::outcome::RunOutcome;
use crate::train::m1_task::gather_rows;
use crate::train::m2_task::{Inputs, M2Data, M2Task};
use crate::train::trainer::{train, Progress, RunFiles};

/// Which M1 latent dimensions feed M2, stored with an M1+M2 run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeatureSelection {
    pub kept: Vec<usize>,
    pub latent: usize,
}

impl FeatureSelection {
    /// Dimensions whose mean varies across the given rows with a standard deviation above
    /// `threshold`; all of them if none does.
    pub fn fit(mu: &[f32], latent: usize, threshold: f64) -> Self {
        let (_, var) = column_moments(mu, latent);
        let mut kept: Vec<usize> = (0..latent).filter(|&j| (var[j] as f64).sqrt() > threshold).collect();
        if kept.is_empty() {
            kept = (0..latent).collect();
        }
        FeatureSelection { kept, latent }
    }

    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        x.chunks_exact(self.latent).flat_map(|row| self.kept.iter().map(move |&j| row[j])).collect()
    }
}

/// Class probabilities q(y|x) of every row, in chunks.
pub fn probabilities<B: Backend>(model: &M2<B>, x: &[f32], dim: usize, device: &B::Device) -> Vec<f32> {
    let chunk = (16_384 / model.n_classes().max(1)).clamp(1, 1024);
    x.chunks(chunk * dim).flat_map(|c| to_vec(model.probabilities(matrix::<B>(c.to_vec(), c.len() / dim, dim, device)))).collect()
}

pub fn argmax_rows(p: &[f32], k: usize) -> Vec<usize> {
    p.chunks_exact(k)
        .map(|row| row.iter().enumerate().fold(0, |best, (i, &v)| if v > row[best] { i } else { best }))
        .collect()
}

/// Trains M2 on `features` (row-major, `dim` wide; `logvar` for sampled M1 features) and scores
/// the test pixels.
#[allow(clippy::too_many_arguments)]
fn train_m2<B: AutodiffBackend>(
    p: &Prepared,
    features: &[f32],
    logvar: Option<&[f32]>,
    dim: usize,
    cfg: &ExperimentConfig,
    dir: Option<&RunDir>,
    resume: bool,
    progress: &mut dyn FnMut(&Progress),
    device: &B::Device,
) -> Result<(M2<B::InnerBackend>, LoopState)> {
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
    let mut task = M2Task::<B>::new(data, cfg.alpha, cfg.train.batch_size, cfg.train.seed, device.clone())?;
    task.noise = cfg.train.noise;
    task.labelled_batch = cfg.labelled_batch;
    task.min_labelled = cfg.min_labelled_batch;
    let model = M2::<B>::new(&cfg.m2, dim, p.n_classes, cfg.train.seed, device)
        .init_output(&mean, &var, cfg.m2.initial_noise)
        .with_row_chunks(cfg.row_chunks);
    let files = dir.map(|d| RunFiles::in_dir(&d.root, "m2_"));
    let outcome = train(&mut task, model, &cfg.train, files.as_ref(), resume, progress, device)?;
    Ok((outcome.best.valid(), outcome.state))
}

pub fn run_m2<B: AutodiffBackend>(
    scene: &Scene,
    cfg: &ExperimentConfig,
    dir: Option<&RunDir>,
    resume: bool,
    progress: &mut dyn FnMut(&Progress),
    device: &B::Device,
) -> Result<RunOutcome> {
    run_m2_split::<B>(scene, cfg, None, dir, resume, progress, device)
}

/// [`run_m2`] on a split given by the caller.
pub fn run_m2_split<B: AutodiffBackend>(
    scene: &Scene,
    cfg: &ExperimentConfig,
    split: Option<Split>,
    dir: Option<&RunDir>,
    resume: bool,
    progress: &mut dyn FnMut(&Progress),
    device: &B::Device,
) -> Result<RunOutcome> {
    let started = Instant::now();
    let p = prepare_split(scene, cfg, split, dir)?;
    // M2 resumes only from a checkpoint trained on the features it gets now: not when M1 has
    // just trained further.
    let (features, logvar, dim, resume_m2) = match cfg.model {
        ModelKind::M2 => (p.x.clone(), None, scene.bands, resume),
        ModelKind::M1m2 => {
            let mut m1_cfg = cfg.clone();
            m1_cfg.train.epochs = cfg.m1_epochs.unwrap_or(cfg.train.epochs);
            let m1_outcome = train_m1::<B>(&p, &m1_cfg, dir, resume, progress, device)?;
            let m1_unchanged = m1_outcome.epochs_trained == 0;
            let m1 = m1_outcome.best;
            let (mu, lv) = dist_qz(&m1, &p.x, scene.bands, device);
            let pool = p.split.pool();
            let latent = m1.latent_dim();
            let sel = FeatureSelection::fit(&gather_rows(&mu, latent, pool), latent, cfg.feature_std_threshold);
            if let Some(d) = dir {
                atomic::write_json(&d.root.join("m1m2_features.json"), &sel)?;
            }
            let dim = sel.kept.len();
            (sel.apply(&mu), Some(sel.apply(&lv)), dim, resume && m1_unchanged)
        }
        ModelKind::M1 => return Err(Error::invalid("run_m2 trains M2 or M1+M2")),
    };
    let (model, state) = train_m2::<B>(&p, &features, logvar.as_deref(), dim, cfg, dir, resume_m2, progress, device)?;
    let probs = probabilities(&model, &features, dim, device);
    let predicted = argmax_rows(&probs, p.n_classes);
    let metrics = p.score(&predicted)?;
    let mut files = Vec::new();
    if let Some(d) = dir {
        atomic::write_json(&d.metrics(), &metrics)?;
        let classes = ClassInfo::of(scene.labels.as_ref().expect("checked by prepare"));
        files = outputs::write_run_maps(d, scene, &classes, &p.split, &predicted, &probs)?;
        if cfg.model == ModelKind::M2 && scene.width > 1 && p.bands > 1 {
            let classes_of = |idx: &[usize]| p.classes_of(idx);
            files.push(outputs::write_m2_spectra(d, &model, &p.x, p.bands, &p.split, &classes, &classes_of, scene.wavelengths.as_deref(), device)?);
        }
        files.extend(outputs::write_learning_curves(d)?);
        let title = format!("{} on {}", if cfg.model == ModelKind::M2 { "M2" } else { "M1+M2" }, scene.source.display());
        let report = outputs::write_report(d, &title, scene, &p.split, &classes, &metrics, &cfg.to_toml(), started.elapsed().as_secs_f64(), &files)?;
        files.push(report);
    }
    Ok(RunOutcome { split: p.split, metrics, predicted, probabilities: probs, train_state: state, seconds: started.elapsed().as_secs_f64(), files })
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
        let flat = FeatureSelection::fit(&[0.0; 6], 3, 0.1);
        assert_eq!(flat.kept, vec![0, 1, 2]);
    }

    #[test]
    fn argmax_of_rows() {
        assert_eq!(argmax_rows(&[0.1, 0.7, 0.2, 0.5, 0.3, 0.2], 3), vec![1, 0]);
    }
}
