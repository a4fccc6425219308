//! Training M2: every minibatch mixes labelled and unlabelled pixels in a fixed ratio, as in the
//! paper's reference code.
//!
//! An epoch is one pass over the unlabelled pixels in `n_batches = ceil(n_u / batch_size)` steps
//! of nearly equal size (at most `batch_size`); each step adds `max(1, ceil(n_l / n_batches))`
//! labelled pixels. The labelled pixels are drawn again every epoch, class-balanced: classes are
//! visited round-robin in a shuffled order (reshuffled every round) and each class's pixels are
//! cycled in a shuffled order (reshuffled when used up), so each class gets the same number of
//! draws up to one and a pixel repeats only after the other pixels of its class were used.
//!
//! Validation is the accuracy of argmax q(y|x) on the labelled validation set (the bound
//! reported with it is the mean labelled bound there). Without a validation set, a part of the
//! unlabelled pixels given to the task is held out (a tenth, at least 1 and at most 10 000,
//! chosen with the task's seed) and the score is their mean unlabelled bound.

use std::ops::Range;

use burn::module::AutodiffModule;
use crate::models::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::m1_task::normal_noise;
use crate::data::array::gather_rows;
use super::config::TrainConfig;
use super::noise::Noise;
use super::trainer::{part_rows, StepOutput, TrainTask, Validation};
use crate::error::{Error, Result};
use crate::models::m2::{
    class_indices, classification_weight, eval_chunk, objective_share, LabelledBatch, UnlabelledBatch,
};
use crate::models::tensors::{column_moments, matrix, to_vec};
use crate::models::M2;

/// Rows of one example set, row-major `n x dim`.
#[derive(Debug, Clone, PartialEq)]
pub enum Inputs {
    /// The features themselves.
    Fixed(Vec<f32>),
    /// A Gaussian per row (M1's q(z1|x) for M1+M2): a fresh sample is drawn for every
    /// minibatch; evaluation uses the means.
    Sampled { mean: Vec<f32>, logvar: Vec<f32> },
}

impl Inputs {
    /// The fixed values, or the means.
    pub fn means(&self) -> &[f32] {
        match self {
            Inputs::Fixed(x) => x,
            Inputs::Sampled { mean, .. } => mean,
        }
    }

    pub fn rows(&self, dim: usize) -> usize {
        self.means().len() / dim.max(1)
    }

    /// Rows `idx`, sampled afresh for `Sampled`.
    fn draw<R: Rng>(&self, dim: usize, idx: &[usize], rng: &mut R) -> Vec<f32> {
        match self {
            Inputs::Fixed(x) => gather_rows(x, dim, idx),
            Inputs::Sampled { mean, logvar } => {
                let mut out = gather_rows(mean, dim, idx);
                let lv = gather_rows(logvar, dim, idx);
                for (m, lv) in out.iter_mut().zip(lv) {
                    *m += (0.5 * lv).exp() * rng.sample::<f32, _>(StandardNormal);
                }
                out
            }
        }
    }

    fn select(&self, dim: usize, idx: &[usize]) -> Inputs {
        match self {
            Inputs::Fixed(x) => Inputs::Fixed(gather_rows(x, dim, idx)),
            Inputs::Sampled { mean, logvar } => Inputs::Sampled {
                mean: gather_rows(mean, dim, idx),
                logvar: gather_rows(logvar, dim, idx),
            },
        }
    }

    fn check(&self, dim: usize, what: &str) -> Result<()> {
        let x = self.means();
        if !x.len().is_multiple_of(dim) {
            return Err(Error::invalid(format!(
                "{what}: {} values are not rows of {dim}",
                x.len()
            )));
        }
        check_finite(x, what)?;
        if let Inputs::Sampled { mean, logvar } = self {
            if logvar.len() != mean.len() {
                return Err(Error::invalid(format!(
                    "{what}: {} log-variances for {} means",
                    logvar.len(),
                    mean.len()
                )));
            }
            check_finite(logvar, what)?;
        }
        Ok(())
    }
}

fn check_finite(x: &[f32], what: &str) -> Result<()> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::invalid(format!("{what}: value {i} is {}", x[i]))),
        None => Ok(()),
    }
}

/// Unlabelled rows drawn afresh for every epoch, for data too large to hold at once.
pub trait UnlabelledSource: Send + Sync {
    /// The rows (row-major) epoch `epoch` trains on: the same rows for the same epoch, and as
    /// many every epoch as the task was built with.
    fn epoch_rows(&self, epoch: usize) -> Result<Vec<f32>>;

    /// Rows `rows` of [`UnlabelledSource::epoch_rows`] (each `dim` values wide), for epochs
    /// read a segment at a time. Sources that can read a part alone override this, so that
    /// the whole epoch is never held.
    fn epoch_rows_in(&self, epoch: usize, rows: Range<usize>, dim: usize) -> Result<Vec<f32>> {
        let all = self.epoch_rows(epoch)?;
        all.get(rows.start * dim..rows.end * dim)
            .map(<[f32]>::to_vec)
            .ok_or_else(|| Error::invalid(format!("epoch {epoch} has {} unlabelled rows, not the {} asked for", all.len() / dim.max(1), rows.end)))
    }
}

/// An epoch of more unlabelled rows than are held at once, read a segment of steps at a time:
/// each segment's rows are shuffled among themselves, and its labelled rows drawn with them.
#[derive(Debug, Clone, Copy)]
struct Segments {
    /// Unlabelled rows an epoch visits.
    per_epoch: usize,
    /// Steps of one segment.
    steps: usize,
    /// This epoch's seed of the segments' draws (from the epoch's random numbers).
    seed: u64,
    /// The segment whose rows are held.
    held: Option<usize>,
}

/// The examples M2 trains on.
#[derive(Debug, Clone)]
pub struct M2Data {
    pub dim: usize,
    pub n_classes: usize,
    pub labelled: Inputs,
    /// Class index of every labelled row.
    pub labels: Vec<usize>,
    pub unlabelled: Inputs,
    /// Validation rows (means for M1+M2) and their classes; may be empty.
    pub valid_x: Vec<f32>,
    pub valid_labels: Vec<usize>,
}

impl M2Data {
    /// Refuses rows of the wrong width, labels that do not match their rows in number and class
    /// indices beyond `n_classes`.
    fn check(&self) -> Result<()> {
        let dim = self.dim;
        self.labelled.check(dim, "labelled pixels")?;
        self.unlabelled.check(dim, "unlabelled pixels")?;
        Inputs::Fixed(self.valid_x.clone()).check(dim, "validation pixels")?;
        if self.labels.len() != self.labelled.rows(dim) || self.labels.is_empty() {
            return Err(Error::invalid(format!("{} labels for {} labelled pixels (need at least one)", self.labels.len(), self.labelled.rows(dim))));
        }
        if self.valid_labels.len() != self.valid_x.len() / dim {
            return Err(Error::invalid(format!("{} validation labels for {} validation pixels", self.valid_labels.len(), self.valid_x.len() / dim)));
        }
        if let Some(&c) = self.labels.iter().chain(&self.valid_labels).find(|&&c| c >= self.n_classes) {
            return Err(Error::invalid(format!("class index {c} with only {} classes", self.n_classes)));
        }
        Ok(())
    }
}

pub struct M2Task<B: AutodiffBackend> {
    pub dim: usize,
    pub n_classes: usize,
    pub labelled: Inputs,
    pub labels: Vec<usize>,
    /// The unlabelled rows trained on (without the held-out ones).
    pub unlabelled: Inputs,
    pub valid_x: Vec<f32>,
    pub valid_labels: Vec<usize>,
    /// Unlabelled rows scored when there is no validation set.
    pub held_out: Vec<f32>,
    pub alpha: f64,
    pub batch_size: usize,
    pub seed: u64,
    /// Where the step's noise is drawn.
    pub noise: Noise,
    /// Labelled pixels in every step instead of the reference code's share (see
    /// `labelled_per_step`); None keeps the share.
    pub labelled_batch: Option<usize>,
    /// The fewest labelled rows a step takes when `labelled_batch` is not set (1: the share as
    /// it is). A smaller share is repeated to reach it (see `labelled_repeats`).
    pub min_labelled: usize,
    /// What the unlabelled bound counts for (1: the paper's objective; 0: the unlabelled rows
    /// are not drawn, and q(y|x) learns from the labelled rows alone).
    pub unlabelled_weight: f32,
    /// Standard deviation of the noise added to each input of the classification term's
    /// labelled rows (empty: none); see [`M2Task::set_classifier_noise`].
    classifier_noise: Vec<f32>,
    beta: f32,
    /// Labelled rows of each class.
    by_class: Vec<Vec<usize>>,
    /// This epoch's order of the unlabelled rows.
    order: Vec<usize>,
    /// This epoch's labelled rows, `labelled_per_step` for every step.
    drawn: Vec<usize>,
    /// Where each epoch's unlabelled rows come from, when not all held, and the epoch whose
    /// rows `unlabelled` holds.
    source: Option<(Box<dyn UnlabelledSource>, usize)>,
    /// Set when an epoch is read a segment at a time.
    segments: Option<Segments>,
    /// The first unlabelled row and the first step that `order` and `drawn` start at (the
    /// held segment's; 0 for a whole epoch).
    base: (usize, usize),
    device: B::Device,
}

impl<B: AutodiffBackend> M2Task<B> {
    /// A task over `data`, with the batch size, seed and noise of `train`.
    pub fn new(data: M2Data, alpha: f64, train: &TrainConfig, device: B::Device) -> Result<Self> {
        let TrainConfig { batch_size, seed, noise, .. } = *train;
        if data.dim == 0 || data.n_classes == 0 || batch_size == 0 {
            return Err(Error::invalid("M2 needs a positive dimension, class count and batch size"));
        }
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(Error::invalid(format!("alpha must be a non-negative number, not {alpha}")));
        }
        data.check()?;
        let M2Data { dim, n_classes, labelled, labels, unlabelled, valid_x, valid_labels } = data;
        let (unlabelled, held_out) = if valid_labels.is_empty() {
            hold_out(unlabelled, dim, seed)?
        } else if unlabelled.rows(dim) == 0 {
            return Err(Error::invalid("M2 needs unlabelled pixels"));
        } else {
            (unlabelled, Vec::new())
        };
        let mut by_class = vec![Vec::new(); n_classes];
        for (i, &c) in labels.iter().enumerate() {
            by_class[c].push(i);
        }
        let beta = classification_weight(alpha, labels.len(), unlabelled.rows(dim));
        let mut task = M2Task {
            dim,
            n_classes,
            labelled,
            labels,
            unlabelled,
            valid_x,
            valid_labels,
            held_out,
            alpha,
            batch_size,
            seed,
            noise,
            labelled_batch: None,
            min_labelled: 1,
            unlabelled_weight: 1.0,
            classifier_noise: Vec::new(),
            beta,
            by_class,
            order: Vec::new(),
            drawn: Vec::new(),
            source: None,
            segments: None,
            base: (0, 0),
            device,
        };
        // Usable before the first epoch too.
        task.start_epoch(0, &mut ChaCha8Rng::seed_from_u64(seed));
        Ok(task)
    }

    /// Draws each epoch's `per_epoch` unlabelled rows from `source`, holding at most about
    /// `held` of them at once. An epoch that fits is read whole, and epoch 0's rows are those
    /// the task was built with (which must be `source`'s for epoch 0). A larger epoch is read
    /// a segment of steps at a time (the rows the task was built with then only set the
    /// classifier's noise scale): memory is bounded by `held`, not by the epoch.
    pub fn with_source(mut self, source: Box<dyn UnlabelledSource>, per_epoch: usize, held: usize) -> Self {
        self.source = Some((source, 0));
        if per_epoch > held {
            let steps = (held / self.batch_size).max(1);
            self.segments = Some(Segments { per_epoch, steps, seed: 0, held: None });
            self.beta = classification_weight(self.alpha, self.labels.len(), per_epoch);
            self.start_epoch(0, &mut ChaCha8Rng::seed_from_u64(self.seed));
        }
        self
    }

    fn n_unlabelled(&self) -> usize {
        self.segments.map_or_else(|| self.unlabelled.rows(self.dim), |s| s.per_epoch)
    }

    /// The first unlabelled row of step `step` in the epoch's order.
    fn first_row(&self, step: usize) -> usize {
        step * self.n_unlabelled() / self.steps_per_epoch().max(1)
    }

    /// `steps` steps' labelled rows, `labelled_per_step` each: a class-balanced draw, each
    /// distinct row repeated `labelled_repeats` times within its step.
    fn draw_steps(&self, steps: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
        let repeats = self.labelled_repeats();
        let distinct = self.labelled_per_step() / repeats;
        self.draw_labelled(steps * distinct, rng)
            .chunks(distinct)
            .flat_map(|step| (0..repeats).flat_map(move |_| step.iter().copied()))
            .collect()
    }

    /// q(y|x)'s classification term sees its labelled rows with Gaussian noise of `scale`
    /// standard deviations of each input over the unlabelled rows added, a fresh draw every
    /// step (0: none). A smoother classifier than one fitted to a few exact points.
    pub fn set_classifier_noise(&mut self, scale: f64) {
        if scale <= 0.0 {
            self.classifier_noise.clear();
            return;
        }
        let (_, var) = column_moments(self.unlabelled.means(), self.dim);
        self.classifier_noise = var.iter().map(|v| (scale * (*v as f64).sqrt()) as f32).collect();
    }

    /// Labelled rows in every minibatch: `labelled_batch` when set, else the reference code's
    /// share, N_labelled / steps per epoch (rounded up), times `labelled_repeats`.
    pub fn labelled_per_step(&self) -> usize {
        self.labelled_batch
            .unwrap_or_else(|| self.labelled_share() * self.labelled_repeats())
            .max(1)
    }

    /// How many times each step repeats its share of labelled pixels to reach `min_labelled`
    /// rows (1 with `labelled_batch` set). Each copy counts for 1 / repeats and has its own
    /// noise: the classification term is the share's exactly, and the labelled bound the
    /// share's averaged over more samples of z.
    pub fn labelled_repeats(&self) -> usize {
        match self.labelled_batch {
            Some(_) => 1,
            None => self.min_labelled.max(1).div_ceil(self.labelled_share()),
        }
    }

    fn labelled_share(&self) -> usize {
        self.labels
            .len()
            .div_ceil(self.steps_per_epoch().max(1))
            .max(1)
    }

    /// What each labelled pixel of a step counts for: 1 with the reference share; share / batch
    /// with a larger labelled batch, so that more labelled pixels a step lower the noise of the
    /// labelled terms without giving them more weight against the unlabelled ones.
    pub fn labelled_weight(&self) -> f32 {
        self.labelled_share() as f32 / self.labelled_per_step() as f32
    }

    /// The weight of the classification term, alpha * N / N_labelled.
    pub fn beta(&self) -> f32 {
        self.beta
    }

    fn draw_labelled(&self, count: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
        let classes: Vec<usize> = (0..self.n_classes)
            .filter(|&c| !self.by_class[c].is_empty())
            .collect();
        let mut pools: Vec<Vec<usize>> = vec![Vec::new(); self.n_classes];
        let mut round: Vec<usize> = Vec::new();
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            if round.is_empty() {
                round = classes.clone();
                round.shuffle(rng);
            }
            let c = round.pop().unwrap_or(0);
            if pools[c].is_empty() {
                pools[c] = self.by_class[c].clone();
                pools[c].shuffle(rng);
            }
            out.extend(pools[c].pop());
        }
        out
    }
}

/// One part of an M2 step: the labelled rows (first part only) and a share of the unlabelled
/// (none when they do not count).
pub struct M2Part<B: AutodiffBackend> {
    labelled: Option<LabelledBatch<B>>,
    unlabelled: Option<UnlabelledBatch<B>>,
    /// The whole step's examples, labelled ones counted with their weight.
    step_weight: f32,
}

impl<B: AutodiffBackend> TrainTask<B> for M2Task<B> {
    type Model = M2<B>;
    type Part = M2Part<B>;

    fn steps_per_epoch(&self) -> usize {
        self.n_unlabelled().div_ceil(self.batch_size)
    }

    fn examples_per_epoch(&self) -> usize {
        self.n_unlabelled() + self.steps_per_epoch() * self.labelled_per_step()
    }

    fn prepare_epoch(&mut self, epoch: usize) -> Result<()> {
        let Some((source, held)) = &self.source else { return Ok(()) };
        if *held == epoch || self.segments.is_some() {
            return Ok(());
        }
        let x = source.epoch_rows(epoch)?;
        check_drawn(epoch, &x, self.n_unlabelled(), self.dim)?;
        self.unlabelled = Inputs::Fixed(x);
        if let Some((_, held)) = &mut self.source {
            *held = epoch;
        }
        Ok(())
    }

    fn prepare_step(&mut self, epoch: usize, step: usize) -> Result<()> {
        let Some(segments) = self.segments else { return Ok(()) };
        let segment = step / segments.steps;
        if segments.held == Some(segment) {
            return Ok(());
        }
        let first_step = segment * segments.steps;
        let end_step = (first_step + segments.steps).min(self.steps_per_epoch());
        let rows = self.first_row(first_step)..self.first_row(end_step);
        let Some((source, _)) = &self.source else { return Err(Error::invalid("an epoch read in segments needs a source of unlabelled rows")) };
        let x = source.epoch_rows_in(epoch, rows.clone(), self.dim)?;
        check_drawn(epoch, &x, rows.len(), self.dim)?;
        self.unlabelled = Inputs::Fixed(x);
        let mut rng = ChaCha8Rng::seed_from_u64(segments.seed);
        rng.set_stream(segment as u64);
        self.order = (0..rows.len()).collect();
        self.order.shuffle(&mut rng);
        self.drawn = self.draw_steps(end_step - first_step, &mut rng);
        self.base = (rows.start, first_step);
        self.segments = Some(Segments { held: Some(segment), ..segments });
        Ok(())
    }

    fn start_epoch(&mut self, _epoch: usize, rng: &mut ChaCha8Rng) {
        match &mut self.segments {
            // The segments' rows and orders are drawn as the steps reach them.
            Some(segments) => {
                segments.seed = rng.random();
                segments.held = None;
            }
            None => {
                self.order = (0..self.n_unlabelled()).collect();
                self.order.shuffle(rng);
                self.drawn = self.draw_steps(self.steps_per_epoch(), rng);
                self.base = (0, 0);
            }
        }
        self.noise.start_epoch::<B>(rng, &self.device);
    }

    fn draw(&self, model: &M2<B>, step: usize, parts: usize, rng: &mut ChaCha8Rng) -> Vec<M2Part<B>> {
        let m = self.labelled_per_step();
        let (row0, step0) = self.base;
        let idx_u = &self.order[self.first_row(step) - row0..self.first_row(step + 1) - row0];
        let idx_l = &self.drawn[(step - step0) * m..(step - step0 + 1) * m];
        let (dim, latent, dev) = (self.dim, model.latent_dim(), &self.device);
        let labels: Vec<usize> = idx_l.iter().map(|&i| self.labels[i]).collect();
        let weight = self.labelled_weight();
        let x_l = self.labelled.draw(dim, idx_l, rng);
        let x_classify = (!self.classifier_noise.is_empty()).then(|| {
            let noisy: Vec<f32> = x_l
                .chunks_exact(dim)
                .flat_map(|row| row.iter().zip(&self.classifier_noise).map(|(&v, &s)| v + s * rng.sample::<f32, _>(StandardNormal)).collect::<Vec<_>>())
                .collect();
            matrix(noisy, m, dim, dev)
        });
        let labelled = LabelledBatch {
            x: matrix(x_l, m, dim, dev),
            y: class_indices(&labels, dev),
            eps: self.noise.normal::<B>(rng, m, latent, dev),
            weight,
            x_classify,
        };
        // The objective keeps its scale when the unlabelled rows do not count: the labelled
        // rows' gradient is the same as in the full objective.
        let step_weight = weight * m as f32 + idx_u.len() as f32;
        if self.unlabelled_weight == 0.0 {
            return vec![M2Part { labelled: Some(labelled), unlabelled: None, step_weight }];
        }
        let x_u = self.unlabelled.draw(dim, idx_u, rng);
        // The labelled rows go with the first part; the unlabelled rows are shared out.
        let mut labelled = Some(labelled);
        part_rows(idx_u.len(), parts)
            .into_iter()
            .map(|rows| M2Part {
                labelled: labelled.take(),
                unlabelled: Some(UnlabelledBatch {
                    x: matrix(x_u[rows.start * dim..rows.end * dim].to_vec(), rows.len(), dim, dev),
                    eps: self.noise.normal::<B>(rng, rows.len() * self.n_classes, latent, dev),
                    weight: self.unlabelled_weight,
                }),
                step_weight,
            })
            .collect()
    }

    fn loss(&self, model: &M2<B>, part: M2Part<B>) -> StepOutput<B> {
        let o = objective_share(model, part.labelled, part.unlabelled, self.beta, part.step_weight);
        let terms = Tensor::cat(vec![o.bound, o.reconstruction, o.kl], 0).detach();
        StepOutput {
            loss: o.loss,
            terms,
        }
    }

    fn validate(&self, model: &<M2<B> as AutodiffModule<B>>::InnerModule) -> Validation {
        if self.valid_labels.is_empty() {
            let held_out = Rows { x: &self.held_out, dim: self.dim };
            let bound = mean_unlabelled_bound(model, held_out, self.seed, &self.device);
            Validation {
                score: bound,
                bound,
                accuracy: f64::NAN,
            }
        } else {
            let valid = Rows { x: &self.valid_x, dim: self.dim };
            let (accuracy, bound) = accuracy_and_bound(model, valid, &self.valid_labels, self.seed, &self.device);
            Validation {
                score: accuracy,
                bound,
                accuracy,
            }
        }
    }
}

/// Rows of model inputs, `n x dim`, row-major.
#[derive(Clone, Copy)]
struct Rows<'a> {
    x: &'a [f32],
    dim: usize,
}

/// Accuracy of argmax q(y|x) and the mean labelled bound (noise from `seed`) on `rows` of
/// classes `labels`.
fn accuracy_and_bound<B: Backend>(model: &M2<B>, rows: Rows, labels: &[usize], seed: u64, device: &B::Device) -> (f64, f64) {
    let Rows { x, dim } = rows;
    let n = labels.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let correct = model
        .classes_of_rows(x, dim, device)
        .iter()
        .zip(labels)
        .filter(|(p, y)| p == y)
        .count();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut total = 0.0f64;
    let chunk = eval_chunk(1);
    for start in (0..n).step_by(chunk) {
        let end = (start + chunk).min(n);
        let xb = matrix::<B>(x[start * dim..end * dim].to_vec(), end - start, dim, device);
        let eps = normal_noise::<B, _>(&mut rng, end - start, model.latent_dim(), device);
        let bound = model
            .labelled_bound(xb, class_indices(&labels[start..end], device), eps)
            .sum();
        total += to_vec(bound)[0] as f64;
    }
    (correct as f64 / n as f64, total / n as f64)
}

/// Mean unlabelled bound U(x) over `rows`, with noise from `seed`.
fn mean_unlabelled_bound<B: Backend>(model: &M2<B>, rows: Rows, seed: u64, device: &B::Device) -> f64 {
    let Rows { x, dim } = rows;
    let n = x.len() / dim;
    if n == 0 {
        return f64::NAN;
    }
    let k = model.n_classes();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut total = 0.0f64;
    for chunk in x.chunks(eval_chunk(k) * dim) {
        let rows = chunk.len() / dim;
        let eps = normal_noise::<B, _>(&mut rng, rows * k, model.latent_dim(), device);
        let bound = model
            .unlabelled_bound(matrix::<B>(chunk.to_vec(), rows, dim, device), eps)
            .sum();
        total += to_vec(bound)[0] as f64;
    }
    total / n as f64
}

/// Refuses what a source gave for `epoch` unless it is `rows` rows of `dim` finite values.
fn check_drawn(epoch: usize, x: &[f32], rows: usize, dim: usize) -> Result<()> {
    if x.len() != rows * dim {
        return Err(Error::invalid(format!("epoch {epoch} drew {} unlabelled values, not {rows} rows of {dim}", x.len())));
    }
    check_finite(x, "unlabelled pixels")
}

/// Without a validation set, a tenth of the unlabelled rows (1 to 10,000, drawn with `seed`)
/// are held out to score the bound on: the rows left to train on and the held-out inputs.
fn hold_out(unlabelled: Inputs, dim: usize, seed: u64) -> Result<(Inputs, Vec<f32>)> {
    let n_u = unlabelled.rows(dim);
    if n_u < 2 {
        return Err(Error::invalid("without a validation set M2 needs at least 2 unlabelled pixels"));
    }
    let (kept, held) = crate::data::sampling::hold_out(n_u, 0.1, seed);
    Ok((unlabelled.select(dim, &kept), gather_rows(unlabelled.means(), dim, &held)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Training settings with `batch_size` and `seed`, the rest at their defaults.
    fn schedule(batch_size: usize, seed: u64) -> TrainConfig {
        TrainConfig { batch_size, seed, ..Default::default() }
    }
    use crate::models::{Activation, Likelihood, M2Config};
    use crate::train::{train, TrainConfig};
    use crate::train::trainer::Session;
    use burn::backend::{Autodiff, Flex};

    type AB = Autodiff<Flex>;

    fn small(hidden: usize, latent: usize) -> M2Config {
        M2Config {
            hidden_classifier: vec![hidden],
            hidden_encoder: vec![hidden],
            hidden_decoder: vec![hidden],
            latent,
            activation: Activation::Softplus,
            likelihood: Likelihood::GaussianBand,
            initial_noise: 1.0,
        }
    }

    /// `n` points around the centres `3 e_c` in `dim` dimensions, classes in turn.
    fn blobs(n: usize, dim: usize, classes: usize, rng: &mut ChaCha8Rng) -> (Vec<f32>, Vec<usize>) {
        let mut x = Vec::with_capacity(n * dim);
        let labels: Vec<usize> = (0..n).map(|i| i % classes).collect();
        for &c in &labels {
            for j in 0..dim {
                let centre = if j == c { 3.0 } else { 0.0 };
                x.push(centre + 0.5 * rng.sample::<f32, _>(StandardNormal));
            }
        }
        (x, labels)
    }

    /// Three blobs in 5 dimensions: 5 labelled rows per class, 200 unlabelled, `valid` validation.
    fn blob_data(valid: usize) -> M2Data {
        let (dim, k) = (5, 3);
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let (xl, yl) = blobs(5 * k, dim, k, &mut rng);
        let (xu, _) = blobs(200, dim, k, &mut rng);
        let (xv, yv) = blobs(valid, dim, k, &mut rng);
        M2Data {
            dim,
            n_classes: k,
            labelled: Inputs::Fixed(xl),
            labels: yl,
            unlabelled: Inputs::Fixed(xu),
            valid_x: xv,
            valid_labels: yv,
        }
    }

    #[test]
    fn a_floor_on_the_labelled_rows_repeats_a_smaller_share() {
        let mut task = M2Task::<AB>::new(blob_data(0), 0.1, &schedule(32, 1), Default::default()).unwrap();
        assert_eq!(task.labelled_per_step(), 3);
        task.start_epoch(0, &mut ChaCha8Rng::seed_from_u64(5));
        let plain = task.drawn.clone();
        task.min_labelled = 10;
        // A share of 3 repeated 4 times, each copy counting a quarter.
        assert_eq!((task.labelled_repeats(), task.labelled_per_step(), task.labelled_weight()), (4, 12, 0.25));
        task.start_epoch(0, &mut ChaCha8Rng::seed_from_u64(5));
        assert_eq!(task.drawn.len(), 4 * plain.len());
        for (step, rows) in task.drawn.chunks(12).enumerate() {
            // The same pixels as without the floor, each step's share four times over.
            assert_eq!(rows, [&plain[3 * step..3 * step + 3]; 4].concat().as_slice(), "step {step}");
        }
        task.min_labelled = 2;
        assert_eq!((task.labelled_per_step(), task.labelled_weight()), (3, 1.0));
        // An explicit labelled batch is taken as it is.
        task.labelled_batch = Some(1);
        assert_eq!((task.labelled_repeats(), task.labelled_per_step(), task.labelled_weight()), (1, 1, 3.0));
    }

    #[test]
    fn a_larger_labelled_batch_reuses_every_label_evenly_at_a_lower_weight() {
        let k = 3;
        let mut task = M2Task::<AB>::new(blob_data(0), 0.1, &schedule(32, 1), Default::default()).unwrap();
        // 180 unlabelled rows after the held-out tenth: 6 steps, 15 labels, a share of 3.
        assert_eq!((task.steps_per_epoch(), task.labelled_per_step()), (6, 3));
        assert_eq!(task.labelled_weight(), 1.0);
        task.labelled_batch = Some(12);
        assert_eq!(task.labelled_per_step(), 12);
        assert_eq!(task.labelled_weight(), 0.25);
        task.start_epoch(0, &mut ChaCha8Rng::seed_from_u64(5));
        // 72 draws of 15 labels: each label 4 or 5 times, each class 24 times.
        let mut uses = vec![0; 15];
        for &i in &task.drawn {
            uses[i] += 1;
        }
        assert_eq!(task.drawn.len(), 72);
        assert!(uses.iter().all(|&u| u == 4 || u == 5), "{uses:?}");
        for c in 0..k {
            assert_eq!(task.drawn.iter().filter(|&&i| task.labels[i] == c).count(), 24);
        }
    }

    #[test]
    fn the_parts_of_a_step_add_up_to_the_whole_step_and_its_gradient() {
        let data = blob_data(0);
        let (dim, k) = (data.dim, data.n_classes);
        let mut task = M2Task::<AB>::new(data, 0.1, &schedule(32, 1), Default::default()).unwrap();
        let model = M2::<AB>::new(&small(8, 2), dim, k, 2, &Default::default());
        let run = |task: &mut M2Task<AB>, parts: usize| {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            task.start_epoch(0, &mut rng);
            let drawn = task.draw(&model, 1, parts, &mut rng);
            assert_eq!(drawn.len(), parts);
            assert_eq!(drawn.iter().filter(|p| p.labelled.is_some()).count(), 1);
            let (mut sums, mut grad) = (vec![0.0f32; 4], vec![0.0f32; dim * 8]);
            for part in drawn {
                let out = task.loss(&model, part);
                let t = [to_vec(out.loss.clone()), to_vec(out.terms)].concat();
                sums.iter_mut().zip(t).for_each(|(a, b)| *a += b);
                let grads = out.loss.backward();
                let g = to_vec(model.encoder.first.input.weight.grad(&grads).unwrap());
                grad.iter_mut().zip(g).for_each(|(a, b)| *a += b);
            }
            (sums, grad)
        };
        let (one, three) = (run(&mut task, 1), run(&mut task, 3));
        for (a, b) in one.0.iter().zip(&three.0).chain(one.1.iter().zip(&three.1)) {
            assert!((a - b).abs() < 1e-4 * (1.0 + a.abs()), "{a} vs {b}");
        }
        assert!(one.1.iter().any(|g| g.abs() > 1e-3), "the gradient is not trivially zero");
    }

    #[test]
    fn learns_well_separated_blobs_from_five_labels_per_class() {
        let data = blob_data(90);
        let (dim, k) = (data.dim, data.n_classes);
        let dev = Default::default();
        let mut task = M2Task::<AB>::new(data, 0.1, &schedule(32, 1), dev).unwrap();
        assert_eq!((task.steps_per_epoch(), task.labelled_per_step()), (7, 3));
        let model = M2::new(&small(16, 2), dim, k, 2, &dev);
        let cfg = TrainConfig {
            epochs: 60,
            eval_every: 5,
            patience: 100,
            batch_size: 32,
            learning_rate: 1e-2,
            seed: 5,
            ..Default::default()
        };
        let out = train(&mut task, model, &cfg, Session { files: None, resume: false, progress: &mut |_| {} }, &dev).unwrap();
        let last = out.state.log.last().unwrap();
        assert!(
            out.state.best_score > 0.9,
            "best validation accuracy {}",
            out.state.best_score
        );
        assert!(last.bound_valid.is_finite() && last.bound_minibatch.is_finite());
        assert!(
            out.state.log.first().unwrap().bound_valid < last.bound_valid,
            "the bound improves"
        );
    }

    #[test]
    fn a_hundred_classes_train_a_step() {
        let (dim, k) = (20, 100);
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let x: Vec<f32> = (0..300 * dim).map(|_| rng.sample(StandardNormal)).collect();
        let labels: Vec<usize> = (0..200).map(|i| i % k).collect();
        let data = M2Data {
            dim,
            n_classes: k,
            labelled: Inputs::Fixed(x[..200 * dim].to_vec()),
            labels,
            unlabelled: Inputs::Sampled {
                mean: x[200 * dim..].to_vec(),
                logvar: vec![-2.0; 100 * dim],
            },
            valid_x: Vec::new(),
            valid_labels: Vec::new(),
        };
        let dev = Default::default();
        let mut task = M2Task::<AB>::new(data, 0.1, &schedule(32, 1), dev).unwrap();
        // A tenth of the unlabelled rows is held out for scoring.
        assert_eq!(
            (task.held_out.len() / dim, task.unlabelled.rows(dim)),
            (10, 90)
        );
        let model = M2::new(&small(8, 3), dim, k, 2, &dev);
        let cfg = TrainConfig {
            epochs: 1,
            batch_size: 32,
            learning_rate: 1e-3,
            ..Default::default()
        };
        let out = train(&mut task, model, &cfg, Session { files: None, resume: false, progress: &mut |_| {} }, &dev).unwrap();
        let row = out.state.log.last().unwrap();
        assert!(
            row.bound_minibatch.is_finite() && row.reconstruction.is_finite() && row.kl.is_finite(),
            "{row:?}"
        );
        assert!(row.bound_valid.is_finite() && row.valid_accuracy.is_nan());
        assert_eq!(out.state.step, 3);
    }

    fn tiny_data(labels: Vec<usize>, n_u: usize) -> M2Data {
        let dim = 2;
        M2Data {
            dim,
            n_classes: 3,
            labelled: Inputs::Fixed(vec![0.5; labels.len() * dim]),
            labels,
            unlabelled: Inputs::Fixed(vec![0.1; n_u * dim]),
            valid_x: vec![0.0; 2 * dim],
            valid_labels: vec![0, 2],
        }
    }

    #[test]
    fn without_the_unlabelled_term_a_step_is_its_labelled_rows_alone() {
        let data = blob_data(0);
        let (dim, k) = (data.dim, data.n_classes);
        let mut task = M2Task::<AB>::new(data, 0.1, &schedule(32, 1), Default::default()).unwrap();
        let model = M2::<AB>::new(&small(8, 2), dim, k, 2, &Default::default());
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        task.start_epoch(0, &mut rng);
        let full = task.draw(&model, 0, 2, &mut rng);
        assert!(full.len() == 2 && full.iter().all(|p| p.unlabelled.is_some()));
        task.unlabelled_weight = 0.0;
        let alone = task.draw(&model, 0, 2, &mut rng);
        assert_eq!(alone.len(), 1);
        assert!(alone[0].labelled.is_some() && alone[0].unlabelled.is_none());
        // Its loss is the labelled rows' share of the full step's: same divisor.
        assert_eq!(alone[0].step_weight, full[0].step_weight);
    }

    #[test]
    fn classifier_noise_has_the_asked_spread_and_leaves_the_bound_its_rows() {
        let data = blob_data(0);
        let (dim, k) = (data.dim, data.n_classes);
        let (_, var) = column_moments(data.unlabelled.means(), dim);
        let mut task = M2Task::<AB>::new(data, 0.1, &schedule(32, 1), Default::default()).unwrap();
        task.labelled_batch = Some(4000);
        task.set_classifier_noise(0.5);
        let model = M2::<AB>::new(&small(8, 2), dim, k, 2, &Default::default());
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        task.start_epoch(0, &mut rng);
        let part = task.draw(&model, 0, 1, &mut rng).pop().unwrap();
        let labelled = part.labelled.unwrap();
        let (x, noisy) = (to_vec(labelled.x.inner()), to_vec(labelled.x_classify.unwrap().inner()));
        assert_eq!(var.len(), dim);
        for (j, &var_j) in var.iter().enumerate() {
            let d: Vec<f64> = x.iter().zip(&noisy).skip(j).step_by(dim).map(|(a, b)| (b - a) as f64).collect();
            let sd = (d.iter().map(|v| v * v).sum::<f64>() / d.len() as f64).sqrt();
            let want = 0.5 * (var_j as f64).sqrt();
            assert!((sd - want).abs() < 0.05 * want, "input {j}: noise sd {sd}, want {want}");
        }
        task.set_classifier_noise(0.0);
        let part = task.draw(&model, 0, 1, &mut rng).pop().unwrap();
        assert!(part.labelled.unwrap().x_classify.is_none());
    }

    #[test]
    fn labelled_draws_are_class_balanced() {
        // Class 0 has 9 pixels, class 2 has 2, class 1 none.
        let labels = [vec![0; 9], vec![2; 2]].concat();
        let mut task = M2Task::<AB>::new(
            tiny_data(labels.clone(), 100),
            0.1,
            &schedule(10, 1),
            Default::default(),
        )
        .unwrap();
        assert_eq!((task.steps_per_epoch(), task.labelled_per_step()), (10, 2));
        task.start_epoch(0, &mut ChaCha8Rng::seed_from_u64(3));
        let drawn: Vec<usize> = task.drawn.iter().map(|&i| labels[i]).collect();
        assert_eq!(drawn.len(), 20);
        assert_eq!(drawn.iter().filter(|&&c| c == 0).count(), 10);
        assert_eq!(drawn.iter().filter(|&&c| c == 2).count(), 10);
        // The 9 pixels of class 0 are all used before any repeats.
        let mut first: Vec<usize> = task
            .drawn
            .iter()
            .copied()
            .filter(|&i| labels[i] == 0)
            .take(9)
            .collect();
        first.sort_unstable();
        assert_eq!(first, (0..9).collect::<Vec<_>>());
    }

    #[test]
    fn sampled_inputs_have_the_given_mean_and_variance() {
        let inputs = Inputs::Sampled {
            mean: vec![1.0, -2.0],
            logvar: vec![0.0, 4f32.ln()],
        };
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let n = 20_000;
        let v = inputs.draw(2, &vec![0; n], &mut rng);
        for (j, (mean, var)) in [(1.0f64, 1.0f64), (-2.0, 4.0)].into_iter().enumerate() {
            let col: Vec<f64> = v.iter().skip(j).step_by(2).map(|&x| x as f64).collect();
            let m = col.iter().sum::<f64>() / n as f64;
            let s = col.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64;
            assert!(
                (m - mean).abs() < 0.05 && (s - var).abs() < 0.1 * var,
                "column {j}: mean {m}, variance {s}"
            );
        }
        assert_eq!(inputs.means(), &[1.0, -2.0]);
    }

    /// Rows of epoch e are all e + 1; counts the epochs asked for.
    struct CountingSource {
        rows: usize,
        dim: usize,
        asked: std::sync::Mutex<Vec<usize>>,
    }

    impl UnlabelledSource for CountingSource {
        fn epoch_rows(&self, epoch: usize) -> Result<Vec<f32>> {
            self.asked.lock().unwrap().push(epoch);
            Ok(vec![epoch as f32 + 1.0; self.rows * self.dim])
        }
    }

    #[test]
    fn a_source_gives_each_epoch_its_rows_and_the_rows_held_are_not_drawn_again() {
        let source = std::sync::Arc::new(CountingSource { rows: 200, dim: 5, asked: Default::default() });
        struct Shared(std::sync::Arc<CountingSource>);
        impl UnlabelledSource for Shared {
            fn epoch_rows(&self, epoch: usize) -> Result<Vec<f32>> {
                self.0.epoch_rows(epoch)
            }
        }
        let mut data = blob_data(6);
        data.unlabelled = Inputs::Fixed(source.epoch_rows(0).unwrap());
        source.asked.lock().unwrap().clear();
        let mut task = M2Task::<AB>::new(data, 1.0, &schedule(50, 1), Default::default()).unwrap().with_source(Box::new(Shared(source.clone())), 200, 200);
        task.prepare_epoch(0).unwrap();
        assert!(source.asked.lock().unwrap().is_empty(), "epoch 0's rows were drawn again");
        task.prepare_epoch(2).unwrap();
        task.prepare_epoch(2).unwrap();
        assert_eq!(*source.asked.lock().unwrap(), vec![2]);
        assert!(task.unlabelled.means().iter().all(|&v| v == 3.0));
        // A source that gives another count of rows is an error, not a silent change of epoch.
        let short = CountingSource { rows: 199, dim: 5, asked: Default::default() };
        let mut task = M2Task::<AB>::new(blob_data(6), 1.0, &schedule(50, 1), Default::default()).unwrap().with_source(Box::new(short), 200, 200);
        assert!(task.prepare_epoch(1).unwrap_err().to_string().contains("not 200 rows of 5"));
    }

    /// An epoch whose unlabelled row `i` of epoch `e` holds `e + i / 1000` in every column,
    /// recording the rows asked for.
    struct TracedSource {
        rows: usize,
        dim: usize,
        asked: std::sync::Mutex<Vec<Range<usize>>>,
    }

    impl UnlabelledSource for TracedSource {
        fn epoch_rows(&self, epoch: usize) -> Result<Vec<f32>> {
            self.epoch_rows_in(epoch, 0..self.rows, self.dim)
        }
        fn epoch_rows_in(&self, epoch: usize, rows: Range<usize>, dim: usize) -> Result<Vec<f32>> {
            self.asked.lock().unwrap().push(rows.clone());
            Ok(rows.flat_map(|i| vec![epoch as f32 + i as f32 / 1000.0; dim]).collect())
        }
    }

    impl UnlabelledSource for std::sync::Arc<TracedSource> {
        fn epoch_rows(&self, epoch: usize) -> Result<Vec<f32>> {
            self.as_ref().epoch_rows(epoch)
        }
        fn epoch_rows_in(&self, epoch: usize, rows: Range<usize>, dim: usize) -> Result<Vec<f32>> {
            self.as_ref().epoch_rows_in(epoch, rows, dim)
        }
    }

    #[test]
    fn an_epoch_larger_than_held_is_read_in_segments_and_visits_every_row_once() {
        let source = std::sync::Arc::new(TracedSource { rows: 230, dim: 5, asked: Default::default() });
        let held_first = source.epoch_rows_in(0, 0..60, 5).unwrap();
        source.asked.lock().unwrap().clear();
        let data = M2Data { unlabelled: Inputs::Fixed(held_first), ..blob_data(6) };
        // Batches of 20 rows, at most 60 held: segments of 3 steps over 12 steps.
        let mut task = M2Task::<AB>::new(data, 1.0, &schedule(20, 1), Default::default()).unwrap().with_source(Box::new(source.clone()), 230, 60);
        assert_eq!(task.steps_per_epoch(), 12);
        let m = task.labelled_per_step();
        for epoch in [0, 1] {
            let mut rng = ChaCha8Rng::seed_from_u64(epoch as u64);
            task.prepare_epoch(epoch).unwrap();
            task.start_epoch(epoch, &mut rng);
            let mut visited = Vec::new();
            let mut labelled = Vec::new();
            for step in 0..12 {
                task.prepare_step(epoch, step).unwrap();
                let (row0, step0) = task.base;
                let rows: Vec<usize> = task.order[task.first_row(step) - row0..task.first_row(step + 1) - row0].iter().map(|&i| i + row0).collect();
                // The step's rows come from the held segment, shuffled within it.
                let held = task.unlabelled.means();
                assert!(rows.iter().all(|&r| (row0..row0 + held.len() / 5).contains(&r)), "step {step}: {rows:?}");
                assert_eq!(row0, task.first_row(step0));
                for &r in &rows {
                    assert_eq!(held[(r - row0) * 5], epoch as f32 + r as f32 / 1000.0);
                }
                visited.extend(rows);
                labelled.extend_from_slice(&task.drawn[(step - step0) * m..(step - step0 + 1) * m]);
            }
            visited.sort();
            assert_eq!(visited, (0..230).collect::<Vec<_>>(), "epoch {epoch}");
            assert!(labelled.iter().all(|&i| i < task.labels.len()));
            // Only segments were read, each once, none larger than held.
            let asked = std::mem::take(&mut *source.asked.lock().unwrap());
            assert_eq!(asked, vec![0..57, 57..115, 115..172, 172..230]);
        }
        // The same epoch's random numbers give the same order.
        let order = |task: &mut M2Task<AB>| {
            task.start_epoch(1, &mut ChaCha8Rng::seed_from_u64(1));
            task.prepare_step(1, 4).unwrap();
            task.order.clone()
        };
        assert_eq!(order(&mut task), order(&mut task));
    }

    #[test]
    fn training_on_an_epoch_read_in_segments_holds_no_more_rows_than_asked() {
        let source = std::sync::Arc::new(TracedSource { rows: 300, dim: 5, asked: Default::default() });
        let data = M2Data { unlabelled: Inputs::Fixed(source.epoch_rows_in(0, 0..100, 5).unwrap()), ..blob_data(30) };
        let (dim, k) = (data.dim, data.n_classes);
        let dev = Default::default();
        let mut task = M2Task::<AB>::new(data, 0.1, &schedule(25, 1), dev).unwrap().with_source(Box::new(source.clone()), 300, 100);
        let model = M2::new(&small(8, 2), dim, k, 2, &dev);
        let cfg = TrainConfig { epochs: 2, batch_size: 25, learning_rate: 1e-3, ..Default::default() };
        let out = train(&mut task, model, &cfg, Session { files: None, resume: false, progress: &mut |_| {} }, &dev).unwrap();
        let row = out.state.log.last().unwrap();
        assert!(row.bound_minibatch.is_finite() && row.bound_valid.is_finite(), "{row:?}");
        let asked = source.asked.lock().unwrap();
        // Two epochs of three segments (of 4 steps of 25 rows), none read whole.
        assert_eq!(asked.len(), 1 + 2 * 3, "{asked:?}");
        assert!(asked.iter().all(|r| r.len() <= 100), "{asked:?}");
    }

    #[test]
    fn bad_inputs_are_errors() {
        let dev = Default::default();
        let err = |d: M2Data| {
            M2Task::<AB>::new(d, 0.1, &schedule(4, 1), dev)
                .err()
                .expect("must fail")
                .to_string()
        };
        assert!(err(tiny_data(vec![0, 3], 5)).contains("class index 3"));
        let mut d = tiny_data(vec![0, 1], 5);
        d.labels.pop();
        assert!(err(d).contains("1 labels for 2"));
        let mut d = tiny_data(vec![0, 1], 5);
        d.unlabelled = Inputs::Fixed(vec![0.0, f32::NAN]);
        assert!(err(d).contains("NaN"));
        let mut d = tiny_data(vec![0, 1], 5);
        d.labelled = Inputs::Sampled {
            mean: vec![0.0; 4],
            logvar: vec![0.0; 3],
        };
        assert!(err(d).contains("log-variances"));
        let mut d = tiny_data(vec![0, 1], 1);
        d.valid_labels.clear();
        d.valid_x.clear();
        assert!(err(d).contains("at least 2 unlabelled"));
    }
}
