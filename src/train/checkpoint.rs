//! Checkpoints. Everything needed to continue a run (the last parameters, the optimiser state,
//! the best parameters and the loop's state) goes into one file that is replaced atomically, so a
//! run killed at any moment resumes from a consistent state.

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder};
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::atomic;
use super::log::LogRow;
use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"HSSLCKP1";

/// The loop's own state at an evaluation point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopState {
    /// Epochs completed.
    pub epochs_done: usize,
    /// Optimiser steps taken.
    pub step: u64,
    pub best_score: f64,
    pub best_epoch: usize,
    pub not_improving: usize,
    pub learning_rate: f64,
    /// Seconds of training before this point (summed over resumed sessions).
    pub elapsed: f64,
    pub divergences: usize,
    pub finished: bool,
    pub log: Vec<LogRow>,
}

impl LoopState {
    /// The state before the first epoch.
    pub fn start(learning_rate: f64) -> Self {
        LoopState {
            epochs_done: 0,
            step: 0,
            best_score: f64::MIN,
            best_epoch: 0,
            not_improving: 0,
            learning_rate,
            elapsed: 0.0,
            divergences: 0,
            finished: false,
            log: Vec::new(),
        }
    }

    /// The record of a model fitted without a training loop (the classifier alone): no epochs,
    /// finished, `seconds` of fitting.
    pub fn without_epochs(seconds: f64) -> Self {
        LoopState { finished: true, elapsed: seconds, ..LoopState::start(0.0) }
    }
}

fn recorder() -> NamedMpkBytesRecorder<FullPrecisionSettings> {
    NamedMpkBytesRecorder::new()
}

pub fn model_bytes<B: Backend, M: Module<B>>(model: &M) -> Result<Vec<u8>> {
    Recorder::<B>::record(&recorder(), model.clone().into_record(), ())
        .map_err(|e| Error::invalid(format!("cannot serialise model: {e}")))
}

pub fn model_from_bytes<B: Backend, M: Module<B>>(template: M, bytes: Vec<u8>, device: &B::Device, path: &Path) -> Result<M> {
    let record = Recorder::<B>::load(&recorder(), bytes, device)
        .map_err(|e| Error::bad(path, format!("cannot read model parameters: {e}")))?;
    let wanted = parameter_shapes(&template);
    // burn takes a stored tensor's shape as it is (or panics on a rank it does not expect), so
    // parameters stored for other layer sizes are caught here rather than deep in training.
    let model = crate::error::quietly(std::panic::AssertUnwindSafe(|| template.load_record(record)))
        .map_err(|why| Error::bad(path, format!("the stored parameters do not fit this model's layer sizes ({why})")))?;
    let stored = parameter_shapes(&model);
    if stored != wanted {
        let first = wanted.iter().zip(&stored).find(|(w, s)| w != s);
        let detail = match first {
            Some((w, s)) => format!("a {s:?} parameter where the model has {w:?}"),
            None => format!("{} parameters where the model has {}", stored.len(), wanted.len()),
        };
        return Err(Error::bad(path, format!("the stored parameters do not fit this model's layer sizes ({detail})")));
    }
    Ok(model)
}

/// The shape of every float parameter, in the module's order.
fn parameter_shapes<B: Backend, M: Module<B>>(model: &M) -> Vec<Vec<usize>> {
    struct Shapes(Vec<Vec<usize>>);
    impl<B: Backend> burn::module::ModuleVisitor<B> for Shapes {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<burn::tensor::Tensor<B, D>>) {
            self.0.push(param.val().dims().to_vec());
        }
    }
    let mut shapes = Shapes(Vec::new());
    model.visit(&mut shapes);
    shapes.0
}

pub fn record_bytes<B: Backend, R: Record<B>>(record: R) -> Result<Vec<u8>> {
    Recorder::<B>::record(&recorder(), record, ()).map_err(|e| Error::invalid(format!("cannot serialise optimiser state: {e}")))
}

pub fn record_from_bytes<B: Backend, R: Record<B>>(bytes: Vec<u8>, device: &B::Device, path: &Path) -> Result<R> {
    Recorder::<B>::load(&recorder(), bytes, device).map_err(|e| Error::bad(path, format!("cannot read optimiser state: {e}")))
}

/// Saves a model's parameters on their own (the file that `features`, `eval` and `predict` use).
pub fn save_model<B: Backend, M: Module<B>>(path: &Path, model: &M) -> Result<()> {
    atomic::write(path, &model_bytes::<B, M>(model)?)
}

pub fn load_model<B: Backend, M: Module<B>>(path: &Path, template: M, device: &B::Device) -> Result<M> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    model_from_bytes(template, bytes, device, path)
}

/// The raw sections of a checkpoint file.
pub struct CheckpointParts {
    pub state: LoopState,
    pub last: Vec<u8>,
    pub optimizer: Vec<u8>,
    pub best: Vec<u8>,
}

/// Where the checkpoint before the last is kept: `m2_checkpoint.bin` -> `m2_checkpoint.prev.bin`.
pub fn previous(path: &Path) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!("{stem}.prev.bin"))
}

/// Writes a checkpoint, keeping the one it replaces as [`previous`]: a resume falls back to it
/// when the newest cannot be read (a damaged disk, a file edited by hand).
pub fn write_checkpoint(path: &Path, parts: &CheckpointParts) -> Result<()> {
    let state = serde_json::to_vec(&parts.state).map_err(|e| Error::invalid(e.to_string()))?;
    let sections: [&[u8]; 4] = [&state, &parts.last, &parts.optimizer, &parts.best];
    let mut out = Vec::with_capacity(sections.iter().map(|s| s.len() + 8).sum::<usize>() + 12);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    for s in sections {
        out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        out.extend_from_slice(s);
    }
    if path.exists() {
        let prev = previous(path);
        std::fs::rename(path, &prev).map_err(|e| Error::io(&prev, e))?;
    }
    atomic::write(path, &out)
}

pub fn read_checkpoint(path: &Path) -> Result<CheckpointParts> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |m: &str| Error::bad(path, format!("corrupt checkpoint: {m}"));
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        return Err(bad("wrong magic"));
    }
    let n = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let mut pos: usize = 12;
    let mut sections = Vec::with_capacity(4);
    for _ in 0..n.min(16) {
        let len_end = pos.checked_add(8).filter(|&e| e <= bytes.len()).ok_or_else(|| bad("truncated"))?;
        let len = u64::from_le_bytes(bytes[pos..len_end].try_into().unwrap()) as usize;
        let end = len_end.checked_add(len).filter(|&e| e <= bytes.len()).ok_or_else(|| bad("truncated"))?;
        sections.push(bytes[len_end..end].to_vec());
        pos = end;
    }
    if sections.len() != 4 {
        return Err(bad("expected 4 sections"));
    }
    let best = sections.pop().unwrap();
    let optimizer = sections.pop().unwrap();
    let last = sections.pop().unwrap();
    let state: LoopState = serde_json::from_slice(&sections[0]).map_err(|e| bad(&e.to_string()))?;
    Ok(CheckpointParts { state, last, optimizer, best })
}
