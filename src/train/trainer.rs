//! The optimisation loop shared by every model: Adam over minibatches, evaluation every few
//! epochs, the best parameters kept, early stopping, recovery from non-finite numbers, and a
//! checkpoint at every evaluation.

use burn::module::AutodiffModule;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsAccumulator, GradientsParams, Optimizer};
use crate::models::backend::AutodiffBackend;
use burn::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::atomic;
use super::checkpoint::{self, CheckpointParts, LoopState};
use super::config::{Keep, TrainConfig};
use super::log::{to_csv, LogRow};
use crate::error::{Error, Result};
use crate::models::tensors::to_vec;

/// What one optimiser step computed.
pub struct StepOutput<B: AutodiffBackend> {
    /// The scalar to minimise.
    pub loss: Tensor<B, 1>,
    /// Per-example means to log, `[3]`: bound, reconstruction, KL. Detached by the loop.
    pub terms: Tensor<B, 1>,
}

/// The validation result at an evaluation point.
#[derive(Debug, Clone, Copy)]
pub struct Validation {
    /// Higher is better; drives early stopping and the choice of the best parameters.
    pub score: f64,
    pub bound: f64,
    /// NaN when the model does not classify.
    pub accuracy: f64,
}

/// A model with its data: what the loop needs to know about it.
///
/// A step's minibatch is drawn in parts of consecutive rows whose losses add up to the step's
/// loss; the loop runs the parts' forward and backward passes side by side and sums their
/// gradients (see `TrainConfig::step_parts`).
pub trait TrainTask<B: AutodiffBackend>: Sync {
    type Model: AutodiffModule<B> + Clone + Sync;
    /// The inputs of one part of a step: its rows and their noise.
    type Part: Send;

    fn steps_per_epoch(&self) -> usize;
    /// Number of training examples one epoch visits (for throughput).
    fn examples_per_epoch(&self) -> usize;
    /// Loads what epoch `epoch` needs from outside memory, before [`TrainTask::start_epoch`]
    /// (nothing for tasks whose examples are all held).
    fn prepare_epoch(&mut self, _epoch: usize) -> Result<()> {
        Ok(())
    }
    /// Loads what step `step` of epoch `epoch` needs from outside memory, before its draw
    /// (nothing for tasks that hold their whole epoch).
    fn prepare_step(&mut self, _epoch: usize, _step: usize) -> Result<()> {
        Ok(())
    }
    /// Reshuffles for a new epoch (`epoch` counts from 0, across resumed sessions).
    fn start_epoch(&mut self, epoch: usize, rng: &mut ChaCha8Rng);
    /// Draws step `step`'s minibatch as at most `parts` parts (at least one). The random
    /// numbers are drawn in the same order whatever the number of parts.
    fn draw(&self, model: &Self::Model, step: usize, parts: usize, rng: &mut ChaCha8Rng) -> Vec<Self::Part>;
    /// One part's share of the step's loss and logged terms.
    fn loss(&self, model: &Self::Model, part: Self::Part) -> StepOutput<B>;
    fn validate(&self, model: &<Self::Model as AutodiffModule<B>>::InnerModule) -> Validation;
}

/// Row ranges of `parts` nearly equal parts of `rows` consecutive rows (fewer parts when there
/// are fewer rows; one empty part when there are none).
pub fn part_rows(rows: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let p = parts.min(rows).max(1);
    (0..p).map(|i| i * rows / p..(i + 1) * rows / p).collect()
}

/// Which optimiser step to take: its index within the epoch, its learning rate, and the parts
/// its minibatch is cut into (run on the rayon pool's threads).
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub index: usize,
    pub learning_rate: f64,
    pub parts: usize,
}

/// One optimiser step: draws the minibatch, runs each part forward and backward (on the rayon
/// pool's threads when there are several), sums their gradients and Adam-steps the model.
/// Returns the model and the step's logged terms.
pub fn optimiser_step<B, T, O>(task: &T, model: T::Model, optim: &mut O, step: Step, rng: &mut ChaCha8Rng) -> (T::Model, Tensor<B::InnerBackend, 1>)
where
    B: AutodiffBackend,
    T: TrainTask<B>,
    O: Optimizer<T::Model, B>,
{
    let run = |part: T::Part, model: &T::Model| {
        let out = task.loss(model, part);
        (GradientsParams::from_grads(out.loss.backward(), model), out.terms.inner())
    };
    let Step { index, learning_rate, parts } = step;
    let mut drawn = task.draw(&model, index, parts.max(1), rng);
    let (grads, terms) = if drawn.len() == 1 {
        run(drawn.pop().expect("one part"), &model)
    } else {
        // Each part on its own copy of the parameters (the same values and ids, fresh graph
        // nodes): burn's autodiff deadlocks when graphs that share parameter nodes are built and
        // run backward on several threads at once.
        use rayon::prelude::*;
        let (grads, terms): (Vec<_>, Vec<_>) =
            drawn.into_par_iter().map(|part| run(part, &T::Model::from_inner(model.valid()))).unzip();
        let mut sum = GradientsAccumulator::<T::Model>::new();
        grads.into_iter().for_each(|g| sum.accumulate(&model, g));
        (sum.grads(), terms.into_iter().reduce(|a, b| a + b).expect("at least one part"))
    };
    (optim.step(learning_rate, model, grads), terms)
}

/// Progress reported after every evaluation.
#[derive(Debug, Clone)]
pub struct Progress {
    pub epoch: usize,
    pub max_epochs: usize,
    pub row: LogRow,
}

pub struct TrainOutcome<M> {
    /// The parameters with the best validation score.
    pub best: M,
    pub state: LoopState,
    /// Epochs trained by this call (0 when a resumed run had already finished).
    pub epochs_trained: usize,
}

/// Where a run keeps its checkpoint and log.
#[derive(Debug, Clone)]
pub struct RunFiles {
    pub checkpoint: PathBuf,
    pub log: PathBuf,
    pub best_model: PathBuf,
}

impl RunFiles {
    pub fn in_dir(dir: &Path, prefix: &str) -> Self {
        RunFiles {
            checkpoint: dir.join(format!("{prefix}checkpoint.bin")),
            log: dir.join(format!("{prefix}log.csv")),
            best_model: dir.join(format!("{prefix}model.mpk")),
        }
    }
}

/// Where one call of [`train`] keeps its log and checkpoint, and whom it tells of its progress.
pub struct Session<'a> {
    /// The log and checkpoint (none: nothing is written, nothing resumed).
    pub files: Option<RunFiles>,
    /// Continue from the checkpoint in `files`, if there is one.
    pub resume: bool,
    /// Called after every evaluation.
    pub progress: &'a mut dyn FnMut(&Progress),
}

fn epoch_rng(seed: u64, epoch: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Stream 0 is left for fixed validation noise.
    rng.set_stream(epoch as u64 + 1);
    rng
}

/// Trains `model` on `task`. With the session's `files`, writes the log and a checkpoint at
/// every evaluation; with `resume`, continues from the checkpoint there (if any) and reaches
/// the result an uninterrupted run would have reached. A finished run is extended when `config` now allows
/// more epochs or more patience: the loop is deterministic, so its first epochs are the ones
/// already trained (only an evaluation forced by the old last epoch may differ).
pub fn train<B: AutodiffBackend, T: TrainTask<B>>(task: &mut T, model: T::Model, config: &TrainConfig, session: Session, device: &B::Device) -> Result<TrainOutcome<T::Model>> {
    let Session { files, resume, progress } = session;
    let files = files.as_ref();
    if config.batch_size == 0 || config.eval_every == 0 {
        return Err(Error::invalid("batch size and evaluation interval must be positive"));
    }
    let mut optim = adam(config).init::<B, T::Model>();
    let mut model = model;
    let mut best = model.clone();
    let mut state = LoopState::start(config.learning_rate);
    if let (true, Some(f)) = (resume, files) {
        if let Some(restored) = restore::<B, T::Model, _>(&f.checkpoint, &model, &optim, device)? {
            (model, best, optim, state) = restored;
            state.finished = reached_the_end(&state, config);
        }
    }
    let epochs_before = state.epochs_done;
    // The last good point to return to when numbers stop being finite.
    let mut snapshot = (model.clone(), optim.clone(), state.clone());
    let session_start = Instant::now();
    let elapsed_before = state.elapsed;

    while !state.finished && state.epochs_done < config.epochs {
        let epoch = state.epochs_done;
        let terms;
        (model, terms) = run_epoch(task, model, &mut optim, &mut state, config)?;
        let last_epoch = state.epochs_done == config.epochs;
        if !state.epochs_done.is_multiple_of(config.eval_every) && !last_epoch {
            continue;
        }
        let terms: Vec<f64> = terms.map(to_vec).unwrap_or_default().iter().map(|&v| v as f64).collect();
        let valid = task.validate(&model.valid());
        let finite = terms.iter().all(|v| v.is_finite()) && valid.score.is_finite();
        state.elapsed = elapsed_before + session_start.elapsed().as_secs_f64();
        let mut event = String::new();
        if !finite {
            let lr = back_off(&mut state, config, epoch)?;
            let kept = state.clone();
            (model, optim, state) = snapshot.clone();
            state.learning_rate = lr;
            state.divergences = kept.divergences;
            state.log = kept.log;
            state.elapsed = kept.elapsed;
            event = format!("non-finite loss at epoch {}: restored epoch {}, learning rate halved to {lr:e}", epoch + 1, state.epochs_done);
        } else if config.keep == Keep::Last || valid.score > state.best_score {
            state.best_score = valid.score;
            state.best_epoch = state.epochs_done;
            state.not_improving = 0;
            best = model.clone();
        } else {
            state.not_improving += 1;
        }
        let row = log_row(&state, epoch, finite.then_some((&terms, &valid)), event);
        state.log.push(row.clone());
        if reached_the_end(&state, config) {
            state.finished = true;
        }
        if let Some(f) = files {
            save(f, &state, &model, &optim, &best)?;
        }
        snapshot = (model.clone(), optim.clone(), state.clone());
        progress(&Progress { epoch: state.epochs_done, max_epochs: config.epochs, row });
    }
    let epochs_trained = state.epochs_done.saturating_sub(epochs_before);
    Ok(TrainOutcome { best, state, epochs_trained })
}

/// Adam with the configuration's betas and weight decay.
fn adam(config: &TrainConfig) -> AdamConfig {
    let adam = AdamConfig::new().with_beta_1(config.beta1).with_beta_2(config.beta2).with_epsilon(1e-8);
    if config.weight_decay > 0.0 {
        adam.with_weight_decay(Some(WeightDecayConfig::new(config.weight_decay)))
    } else {
        adam
    }
}

/// The mean of an epoch's loss terms, left on the device (None for an epoch of no steps).
type EpochTerms<B> = Option<Tensor<<B as burn::tensor::backend::AutodiffBackend>::InnerBackend, 1>>;

/// One epoch of optimiser steps on `task`: the model after it and the mean of the task's loss
/// terms over its steps (not read back from the device until an evaluation needs it).
fn run_epoch<B, T, O>(task: &mut T, model: T::Model, optim: &mut O, state: &mut LoopState, config: &TrainConfig) -> Result<(T::Model, EpochTerms<B>)>
where
    B: AutodiffBackend,
    T: TrainTask<B>,
    O: Optimizer<T::Model, B>,
{
    let epoch = state.epochs_done;
    let mut rng = epoch_rng(config.seed, epoch);
    task.prepare_epoch(epoch)?;
    task.start_epoch(epoch, &mut rng);
    let mut model = model;
    let mut sum: Option<Tensor<B::InnerBackend, 1>> = None;
    let steps = task.steps_per_epoch();
    for s in 0..steps {
        super::interrupt::check(epoch)?;
        task.prepare_step(epoch, s)?;
        let terms;
        (model, terms) = optimiser_step(task, model, optim, Step { index: s, learning_rate: state.learning_rate, parts: config.step_parts }, &mut rng);
        sum = Some(match sum {
            Some(acc) => acc + terms,
            None => terms,
        });
        state.step += 1;
    }
    state.epochs_done += 1;
    Ok((model, sum.map(|t| t.div_scalar(steps.max(1) as f32))))
}

/// After non-finite numbers at `epoch`: counts the divergence and gives the halved learning
/// rate to go back to the last good parameters with, or an error once there were too many.
fn back_off(state: &mut LoopState, config: &TrainConfig, epoch: usize) -> Result<f64> {
    state.divergences += 1;
    if state.divergences > config.max_divergences {
        return Err(Error::Training(format!(
            "non-finite loss at epoch {} after {} learning-rate halvings; check the data \
             scaling or lower --lr",
            epoch + 1,
            config.max_divergences
        )));
    }
    Ok(state.learning_rate / 2.0)
}

/// The log's row for an evaluation after `epoch`, with the epoch's mean loss terms and the
/// validation (`None` when they were not finite: NaN in the row).
fn log_row(state: &LoopState, epoch: usize, measured: Option<(&Vec<f64>, &Validation)>, event: String) -> LogRow {
    let term = |i: usize| measured.map_or(f64::NAN, |(terms, _)| terms.get(i).copied().unwrap_or(f64::NAN));
    LogRow {
        step: state.step,
        time_elapsed: state.elapsed,
        bound_minibatch: term(0),
        bound_valid: measured.map_or(f64::NAN, |(_, v)| v.bound),
        not_improving: state.not_improving,
        reconstruction: term(1),
        kl: term(2),
        valid_accuracy: measured.map_or(f64::NAN, |(_, v)| v.accuracy),
        epoch: epoch + 1,
        learning_rate: state.learning_rate,
        event,
    }
}

type Restored<M, O> = (M, M, O, LoopState);

/// The state saved in the checkpoint at `path`, or in the one before it when the newest cannot
/// be read; `None` when there is neither. An unreadable checkpoint with no readable one before
/// it is an error naming it: starting again silently would throw away the run.
fn restore<B: AutodiffBackend, M: AutodiffModule<B>, O: Optimizer<M, B>>(
    path: &Path,
    template: &M,
    optim: &O,
    device: &B::Device,
) -> Result<Option<Restored<M, O>>> {
    let read = |path: &Path| -> Result<Restored<M, O>> {
        let parts = checkpoint::read_checkpoint(path)?;
        let model = checkpoint::model_from_bytes(template.clone(), parts.last, device, path)?;
        let best = checkpoint::model_from_bytes(template.clone(), parts.best, device, path)?;
        let record = checkpoint::record_from_bytes(parts.optimizer, device, path)?;
        let optim = crate::error::quietly(std::panic::AssertUnwindSafe(|| optim.clone().load_record(record)))
            .map_err(|why| Error::bad(path, format!("the stored optimiser state does not fit this model ({why})")))?;
        Ok((model, best, optim, parts.state))
    };
    let prev = checkpoint::previous(path);
    match (path.exists(), prev.exists()) {
        (false, false) => Ok(None),
        // Killed between setting the last checkpoint aside and writing the new one.
        (false, true) => read(&prev).map(Some),
        (true, _) => match read(path) {
            Ok(r) => Ok(Some(r)),
            Err(newest) if prev.exists() => match read(&prev) {
                Ok(r) => {
                    log::warn!("{newest}; resuming from the checkpoint before it, {}", prev.display());
                    Ok(Some(r))
                }
                Err(_) => Err(newest),
            },
            Err(e) => Err(e),
        },
    }
}

/// Whether a run with this state has nothing left to do under `config`: out of epochs or out of
/// patience.
fn reached_the_end(state: &LoopState, config: &TrainConfig) -> bool {
    state.not_improving >= config.patience || state.epochs_done >= config.epochs
}

fn save<B: AutodiffBackend, M: AutodiffModule<B>, O: Optimizer<M, B>>(
    f: &RunFiles,
    state: &LoopState,
    model: &M,
    optim: &O,
    best: &M,
) -> Result<()> {
    let best_bytes = checkpoint::model_bytes::<B, M>(best)?;
    // The best model on its own first: a crash between the two writes leaves an older checkpoint
    // whose own best section is still consistent.
    atomic::write(&f.best_model, &best_bytes)?;
    atomic::write(&f.log, to_csv(&state.log).as_bytes())?;
    checkpoint::write_checkpoint(
        &f.checkpoint,
        &CheckpointParts {
            state: state.clone(),
            last: checkpoint::model_bytes::<B, M>(model)?,
            optimizer: checkpoint::record_bytes::<B, _>(optim.to_record())?,
            best: best_bytes,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::tensors::to_vec;
    use crate::models::{Activation, Likelihood, M1Config, M1};
    use crate::train::m1_task::M1Task;
    use burn::backend::{Autodiff, Flex};
    use std::sync::atomic::{AtomicUsize, Ordering};

    type AB = Autodiff<Flex>;

    fn data(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n * dim).map(|i| ((i % dim) as f32 / dim as f32) + 0.1 * rng.random::<f32>()).collect()
    }

    fn setup(epochs: usize) -> (M1Task<AB>, M1<AB>, TrainConfig) {
        let dim = 6;
        let tc = TrainConfig { epochs, eval_every: 1, patience: 100, batch_size: 16, learning_rate: 1e-2, seed: 3, ..Default::default() };
        let task = M1Task::new(data(64, dim, 1), data(16, dim, 2), dim, &tc, Default::default()).unwrap();
        let cfg = M1Config { hidden: vec![8], latent: 2, activation: Activation::Softplus, likelihood: Likelihood::GaussianBand, ..Default::default() };
        let model = M1::new(&cfg, dim, 3, &Default::default());
        (task, model, tc)
    }

    /// `train` on a fresh `setup(epochs)`, without progress reports.
    fn run(epochs: usize, files: Option<&RunFiles>, resume: bool) -> TrainOutcome<M1<AB>> {
        let (mut task, model, cfg) = setup(epochs);
        train(&mut task, model, &cfg, Session { files: files.cloned(), resume, progress: &mut |_| {} }, &Default::default()).unwrap()
    }

    fn valid_bounds(s: &LoopState) -> Vec<f64> {
        s.log.iter().map(|r| r.bound_valid).collect()
    }

    fn params(m: &M1<AB>) -> Vec<f32> {
        let x = crate::models::tensors::matrix::<Flex>(data(4, 6, 9), 4, 6, &Default::default());
        to_vec(m.valid().dist_qz(x).0)
    }

    #[test]
    fn a_stopped_token_ends_training_after_the_step_and_the_run_resumes_to_the_same_result() {
        use crate::train::interrupt::{stoppable, StopToken};
        let dir = tempfile::tempdir().unwrap();
        let files = RunFiles::in_dir(dir.path(), "m1_");
        let token = StopToken::new();
        let (mut task, model, cfg) = setup(5);
        let mut evaluations = 0;
        let stopped = stoppable(&token, || {
            train(&mut task, model, &cfg, Session { files: Some(files.clone()), resume: false, progress: &mut |p| {
                evaluations += 1;
                if p.epoch == 2 {
                    token.stop();
                }
            } }, &Default::default())
        });
        let Err(Error::Interrupted { epoch }) = stopped else { panic!("not interrupted") };
        assert_eq!((epoch, evaluations), (3, 2));
        // The token belongs to the code run under it: another training on this thread goes on.
        let resumed = run(5, Some(&files), true);
        let full = run(5, None, false);
        assert_eq!(resumed.state.epochs_done, 5);
        assert_eq!(params(&resumed.best), params(&full.best));
    }

    #[test]
    fn resume_after_a_kill_matches_an_uninterrupted_run() {
        let full = run(5, None, false);

        let dir = tempfile::tempdir().unwrap();
        let files = RunFiles::in_dir(dir.path(), "");
        let (mut task, model, cfg) = setup(5);
        // Kill the run right after the checkpoint of epoch 2.
        let killed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            train(&mut task, model, &cfg, Session { files: Some(files.clone()), resume: false, progress: &mut |p| {
                if p.epoch == 2 {
                    panic!("killed")
                }
            } }, &Default::default())
        }));
        assert!(killed.is_err());
        let resumed = run(5, Some(&files), true);
        assert_eq!(resumed.state.step, full.state.step);
        assert_eq!(params(&resumed.best), params(&full.best));
        assert_eq!(valid_bounds(&resumed.state), valid_bounds(&full.state));
        assert_eq!(crate::train::log::read_csv(&files.log).unwrap().len(), 5);
    }

    /// Trains 3 of 5 epochs into `dir`, as a run killed after its third checkpoint.
    fn three_epochs_in(dir: &Path) -> RunFiles {
        let files = RunFiles::in_dir(dir, "");
        run(3, Some(&files), false);
        assert!(files.checkpoint.exists() && checkpoint::previous(&files.checkpoint).exists());
        files
    }

    #[test]
    fn a_damaged_checkpoint_gives_way_to_the_one_before_and_the_run_ends_the_same() {
        let full = run(5, None, false);
        // Cut in half; a byte of the loop's state (JSON, after the 20 bytes of magic and lengths) garbled.
        let damages: [fn(&mut Vec<u8>); 2] = [|b| b.truncate(b.len() / 2), |b| b[24] = b'#'];
        for damage in damages {
            let dir = tempfile::tempdir().unwrap();
            let files = three_epochs_in(dir.path());
            let mut bytes = std::fs::read(&files.checkpoint).unwrap();
            damage(&mut bytes);
            std::fs::write(&files.checkpoint, bytes).unwrap();
            let resumed = run(5, Some(&files), true);
            // From the checkpoint of epoch 2: three more epochs to the same end.
            assert_eq!(resumed.epochs_trained, 3);
            assert_eq!(params(&resumed.best), params(&full.best));
            assert_eq!(valid_bounds(&resumed.state), valid_bounds(&full.state));
        }
    }

    #[test]
    fn a_run_killed_between_setting_its_checkpoint_aside_and_writing_the_next_resumes() {
        let full = run(5, None, false);
        let dir = tempfile::tempdir().unwrap();
        let files = three_epochs_in(dir.path());
        std::fs::remove_file(&files.checkpoint).unwrap();
        let resumed = run(5, Some(&files), true);
        assert_eq!(params(&resumed.best), params(&full.best));
    }

    #[test]
    fn unreadable_checkpoints_with_nothing_to_fall_back_on_are_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let files = three_epochs_in(dir.path());
        std::fs::write(&files.checkpoint, b"HSSLCKP1 cut short").unwrap();
        std::fs::write(checkpoint::previous(&files.checkpoint), b"").unwrap();
        let (mut task, model, cfg) = setup(5);
        let err = train(&mut task, model, &cfg, Session { files: Some(files.clone()), resume: true, progress: &mut |_| {} }, &Default::default()).err().unwrap().to_string();
        assert!(err.contains(&files.checkpoint.display().to_string()) && err.contains("corrupt checkpoint"), "{err}");
    }

    #[test]
    fn a_checkpoint_of_other_layer_sizes_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let files = three_epochs_in(dir.path());
        let (mut task, _, cfg) = setup(5);
        let wider = M1Config { hidden: vec![13], latent: 2, activation: Activation::Softplus, likelihood: Likelihood::GaussianBand, ..Default::default() };
        let model = M1::new(&wider, 6, 3, &Default::default());
        let err = train(&mut task, model, &cfg, Session { files: Some(files.clone()), resume: true, progress: &mut |_| {} }, &Default::default()).err().unwrap().to_string();
        assert!(err.contains("do not fit"), "{err}");
    }

    #[test]
    fn resuming_a_finished_run_with_more_epochs_extends_it() {
        let full = run(5, None, false);

        let dir = tempfile::tempdir().unwrap();
        let files = RunFiles::in_dir(dir.path(), "");
        let short = run(3, Some(&files), false);
        assert!(short.state.finished);
        assert_eq!(short.epochs_trained, 3);
        let extended = run(5, Some(&files), true);
        assert_eq!(extended.epochs_trained, 2);
        assert_eq!(extended.state.epochs_done, 5);
        assert_eq!(params(&extended.best), params(&full.best));
        assert_eq!(valid_bounds(&extended.state), valid_bounds(&full.state));
        // Resumed again with the same epochs, the finished run is only re-reported.
        let again = run(5, Some(&files), true);
        assert_eq!(again.epochs_trained, 0);
        assert_eq!(params(&again.best), params(&full.best));
    }

    /// Wraps M1 training and poisons the loss with NaN on chosen epochs; `score` replaces the
    /// validation score by one of the epoch.
    struct Poisoned {
        inner: M1Task<AB>,
        epoch: AtomicUsize,
        poison: fn(usize) -> bool,
        score: Option<fn(usize) -> f64>,
    }

    impl TrainTask<AB> for Poisoned {
        type Model = M1<AB>;
        type Part = <M1Task<AB> as TrainTask<AB>>::Part;
        fn steps_per_epoch(&self) -> usize {
            self.inner.steps_per_epoch()
        }
        fn examples_per_epoch(&self) -> usize {
            self.inner.examples_per_epoch()
        }
        fn start_epoch(&mut self, epoch: usize, rng: &mut ChaCha8Rng) {
            self.epoch.fetch_add(1, Ordering::Relaxed);
            self.inner.start_epoch(epoch, rng)
        }
        fn draw(&self, model: &M1<AB>, step: usize, parts: usize, rng: &mut ChaCha8Rng) -> Vec<Self::Part> {
            self.inner.draw(model, step, parts, rng)
        }
        fn loss(&self, model: &M1<AB>, part: Self::Part) -> StepOutput<AB> {
            let out = self.inner.loss(model, part);
            if (self.poison)(self.epoch.load(Ordering::Relaxed)) {
                StepOutput { loss: out.loss.mul_scalar(f32::NAN), terms: out.terms.mul_scalar(f32::NAN) }
            } else {
                out
            }
        }
        fn validate(&self, model: &M1<Flex>) -> Validation {
            let v = self.inner.validate(model);
            match self.score {
                Some(f) => Validation { score: f(self.epoch.load(Ordering::Relaxed)), ..v },
                None => v,
            }
        }
    }

    #[test]
    fn keeping_the_last_parameters_trains_every_epoch_whatever_the_score() {
        // A score that only gets worse: Best stops after `patience` evaluations and keeps the
        // first epoch; Last trains all epochs and keeps the last.
        let outcome = |keep: Keep, score: fn(usize) -> f64| {
            let (inner, model, cfg) = setup(6);
            let mut task = Poisoned { inner, epoch: AtomicUsize::new(0), poison: |_| false, score: Some(score) };
            let cfg = TrainConfig { patience: 2, keep, ..cfg };
            train(&mut task, model, &cfg, Session { files: None, resume: false, progress: &mut |_| {} }, &Default::default()).unwrap()
        };
        let worse = |e: usize| -(e as f64);
        let (best, last) = (outcome(Keep::Best, worse), outcome(Keep::Last, worse));
        assert_eq!((best.state.epochs_done, best.state.best_epoch), (3, 1));
        assert_eq!((last.state.epochs_done, last.state.best_epoch), (6, 6));
        // The same six epochs with a score that always improves keep the sixth too.
        let improving = outcome(Keep::Best, |e| e as f64);
        assert_eq!(improving.state.best_epoch, 6);
        assert_eq!(params(&last.best), params(&improving.best));
        assert_ne!(params(&best.best), params(&last.best));
    }

    #[test]
    fn non_finite_loss_restores_parameters_and_halves_the_rate() {
        let (inner, model, cfg) = setup(5);
        let mut task = Poisoned { inner, epoch: AtomicUsize::new(0), poison: |e| e == 3, score: None };
        let out = train(&mut task, model, &cfg, Session { files: None, resume: false, progress: &mut |_| {} }, &Default::default()).unwrap();
        assert_eq!(out.state.divergences, 1);
        assert_eq!(out.state.learning_rate, cfg.learning_rate / 2.0);
        assert!(out.state.log.iter().any(|r| r.event.contains("learning rate halved")));
        assert!(params(&out.best).iter().all(|v| v.is_finite()));
    }

    #[test]
    fn repeated_divergence_is_an_error() {
        let (inner, model, cfg) = setup(10);
        let mut task = Poisoned { inner, epoch: AtomicUsize::new(0), poison: |e| e >= 2, score: None };
        let err = train(&mut task, model, &cfg, Session { files: None, resume: false, progress: &mut |_| {} }, &Default::default()).err().expect("must fail");
        assert!(err.to_string().contains("non-finite loss"), "{err}");
    }

    #[test]
    fn training_improves_the_validation_bound() {
        let out = run(8, None, false);
        let first = out.state.log.first().unwrap().bound_valid;
        assert!(out.state.best_score > first, "best {} vs first {first}", out.state.best_score);
    }
}
