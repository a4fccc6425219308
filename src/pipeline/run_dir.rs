//! The files of a run folder.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct RunDir {
    pub root: PathBuf,
}

impl RunDir {
    /// Creates the folder. An existing folder with a run in it is only reused when resuming, so
    /// that a finished run is never overwritten by accident.
    pub fn create(root: &Path, resume: bool) -> Result<Self> {
        let dir = RunDir { root: root.to_path_buf() };
        if dir.config().exists() && !resume {
            return Err(Error::invalid(format!(
                "{} already holds a run; pass --resume to continue it or choose another --run folder",
                root.display()
            )));
        }
        std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        Ok(dir)
    }

    pub fn open(root: &Path) -> Result<Self> {
        let dir = RunDir { root: root.to_path_buf() };
        if !dir.config().exists() {
            return Err(Error::bad(root, "not a hyperssl run folder (no config.toml)"));
        }
        Ok(dir)
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
    pub fn spatial(&self) -> PathBuf {
        self.root.join("spatial.json")
    }
    pub fn scene_info(&self) -> PathBuf {
        self.root.join("scene.json")
    }
}
