//! The files of a run folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::config::{ExperimentConfig, SettingChange};
use super::run_lock::RunLock;
use super::trained::ClassInfo;
use crate::atomic;
use crate::data::sampling::Split;
use crate::data::scaling::Scaler;
use crate::data::spatial::SpatialFeatures;
use crate::eval::propagation::Seeds;
use crate::error::{Error, Result};
use crate::train::trainer::{Progress, RunFiles, Session};

/// Where a run keeps what it trains, and whom it tells of its progress.
pub struct RunSession<'a> {
    /// The run folder (none: a model fitted in memory, nothing written).
    pub dir: Option<&'a RunDir>,
    /// Continue from the checkpoints in `dir`, if any.
    pub resume: bool,
    /// Called after every evaluation of the training.
    pub progress: &'a mut dyn FnMut(&Progress),
}

impl<'a> RunSession<'a> {
    /// A run in memory that reports nothing.
    pub fn in_memory(progress: &'a mut dyn FnMut(&Progress)) -> Self {
        RunSession { dir: None, resume: false, progress }
    }

    /// The training session of the model whose files in the run folder start with `prefix`.
    pub fn training(&mut self, prefix: &str) -> Session<'_> {
        Session { files: self.dir.map(|d| RunFiles::in_dir(&d.root, prefix)), resume: self.resume, progress: &mut *self.progress }
    }

    /// The same session, resumed or not as `resume` says.
    pub fn resuming(&mut self, resume: bool) -> RunSession<'_> {
        RunSession { dir: self.dir, resume, progress: &mut *self.progress }
    }
}

/// How a folder that already holds a run is refused (the command line names its flags after it).
pub const RUN_EXISTS: &str = "already holds a run: resume it or choose another folder";

#[derive(Debug, Clone)]
pub struct RunDir {
    pub root: PathBuf,
    /// Held by a folder opened for writing, as long as any copy of it lives.
    lock: Option<Arc<RunLock>>,
}

impl RunDir {
    /// Creates the folder and locks it for this process. An existing folder with a run in it is
    /// only reused when resuming, so that a finished run is never overwritten by accident.
    pub fn create(root: &Path, resume: bool) -> Result<Self> {
        let lock = RunLock::acquire(root)?;
        let dir = RunDir { root: root.to_path_buf(), lock: Some(Arc::new(lock)) };
        if dir.config().exists() && !resume {
            return Err(Error::invalid(format!(
                "{} {RUN_EXISTS}",
                root.display()
            )));
        }
        Ok(dir)
    }

    /// Opens a finished run for reading.
    pub fn open(root: &Path) -> Result<Self> {
        let dir = RunDir { root: root.to_path_buf(), lock: None };
        if !dir.config().exists() {
            return Err(Error::bad(root, "not a hyperssl run folder (no config.toml)"));
        }
        Ok(dir)
    }

    /// Locks a folder opened for reading, before writing into it.
    pub fn lock(mut self) -> Result<Self> {
        if self.lock.is_none() {
            self.lock = Some(Arc::new(RunLock::acquire(&self.root)?));
        }
        Ok(self)
    }

    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    pub fn scaler(&self) -> PathBuf {
        self.root.join("scaler.json")
    }
    pub fn split(&self) -> PathBuf {
        self.root.join("split.json")
    }
    pub fn classes(&self) -> PathBuf {
        self.root.join("classes.json")
    }
    pub fn classifier(&self) -> PathBuf {
        self.root.join("classifier.json")
    }
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.json")
    }
    /// Scores of the classifier's own classes, before the class map is regularised.
    pub fn metrics_pixelwise(&self) -> PathBuf {
        self.root.join("metrics_pixelwise.json")
    }
    /// Scores of the graph cut alone on the classifier's output (runs with propagation on).
    pub fn metrics_without_propagation(&self) -> PathBuf {
        self.root.join("metrics_without_propagation.json")
    }

    pub fn read_metrics_without_propagation(&self) -> Result<crate::eval::metrics::Metrics> {
        atomic::read_json(&self.metrics_without_propagation())
    }

    pub fn write_metrics_without_propagation(&self, metrics: Option<&crate::eval::metrics::Metrics>) -> Result<()> {
        match metrics {
            Some(m) => atomic::write_json(&self.metrics_without_propagation(), m),
            None => Ok(()),
        }
    }
    pub fn spatial(&self) -> PathBuf {
        self.root.join("spatial.json")
    }
    /// M1+M2: which M1 dimensions feed M2, and their ranges.
    pub fn m1m2_features(&self) -> PathBuf {
        self.root.join("m1m2_features.json")
    }

    /// Writes what a model needs beside its networks to be applied again (read back by
    /// `Trained::load_run`): the scaling, the spatial features of spatial inputs, the split and
    /// the classes.
    pub fn write_model_inputs(&self, scaler: &Scaler, spatial: Option<&SpatialFeatures>, split: &Split, classes: &ClassInfo) -> Result<()> {
        scaler.save(&self.scaler())?;
        if let Some(s) = spatial {
            atomic::write_json(&self.spatial(), s)?;
        }
        atomic::write_json(&self.split(), split)?;
        atomic::write_json(&self.classes(), classes)
    }
    /// The labelled pixels' model inputs and classes, the nodes through which label
    /// propagation spreads their classes (runs with propagation on).
    pub fn seeds(&self) -> PathBuf {
        self.root.join("seeds.json")
    }

    /// Writes the propagation's labelled nodes (nothing when there are none).
    pub fn write_seeds(&self, seeds: &Seeds) -> Result<()> {
        if seeds.is_empty() {
            return Ok(());
        }
        atomic::write_json(&self.seeds(), seeds)
    }

    pub fn scene_info(&self) -> PathBuf {
        self.root.join("scene.json")
    }
    /// Settings changed by later commands (time, setting, old, new), oldest first.
    pub fn config_changes(&self) -> PathBuf {
        self.root.join("config_changes.csv")
    }

    /// The settings the run was last started with; none before its first start.
    pub fn stored_config(&self) -> Result<Option<ExperimentConfig>> {
        let path = self.config();
        if path.exists() {
            ExperimentConfig::from_toml_file(&path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Adds `changes`, stamped with the current time (UTC), to the run's record of them.
    pub fn record_changes(&self, changes: &[SettingChange]) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let when = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let mut rows = self.recorded_changes()?;
        rows.extend(changes.iter().map(|c| RecordedChange { time: when.clone(), change: c.clone() }));
        let path = self.config_changes();
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(["time", "setting", "old", "new"]).map_err(|e| Error::bad(&path, e.to_string()))?;
        for r in &rows {
            let c = &r.change;
            out.write_record([&r.time, &c.setting, &c.old, &c.new]).map_err(|e| Error::bad(&path, e.to_string()))?;
        }
        let bytes = out.into_inner().map_err(|e| Error::bad(&path, e.to_string()))?;
        crate::atomic::write(&path, &bytes)
    }

    /// The changes recorded so far; none for a run never changed.
    pub fn recorded_changes(&self) -> Result<Vec<RecordedChange>> {
        let path = self.config_changes();
        if !path.exists() {
            return Ok(Vec::new());
        }
        let mut reader = csv::Reader::from_path(&path).map_err(|e| Error::bad(&path, e.to_string()))?;
        reader
            .records()
            .map(|r| {
                let r = r.map_err(|e| Error::bad(&path, e.to_string()))?;
                match (r.get(0), r.get(1), r.get(2), r.get(3)) {
                    (Some(t), Some(s), Some(o), Some(n)) => Ok(RecordedChange {
                        time: t.into(),
                        change: SettingChange { setting: s.into(), old: o.into(), new: n.into() },
                    }),
                    _ => Err(Error::bad(&path, "a row without its four fields (time, setting, old, new)")),
                }
            })
            .collect()
    }
}

/// A setting change with the time it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedChange {
    pub time: String,
    pub change: SettingChange,
}

impl std::fmt::Display for RecordedChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.change;
        write!(f, "{}: {} changed from {} to {}", self.time, c.setting, c.old, c.new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_changes_accumulate_and_read_back_with_commas_intact() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path(), false).unwrap();
        assert!(run.recorded_changes().unwrap().is_empty());
        let change = |s: &str, o: &str, n: &str| SettingChange { setting: s.into(), old: o.into(), new: n.into() };
        run.record_changes(&[change("train.epochs", "12", "20")]).unwrap();
        run.record_changes(&[]).unwrap();
        run.record_changes(&[change("m2.hidden_encoder", "[100]", "[100, 50]")]).unwrap();
        let got = run.recorded_changes().unwrap();
        assert_eq!(got.iter().map(|r| r.change.clone()).collect::<Vec<_>>(), vec![change("train.epochs", "12", "20"), change("m2.hidden_encoder", "[100]", "[100, 50]")]);
        // RFC 3339 in UTC, to the second.
        assert!(got.iter().all(|r| r.time.len() == 20 && r.time.ends_with('Z')), "{:?}", got);
        assert!(got[0].to_string().ends_with("train.epochs changed from 12 to 20"));
    }
}
