//! The options every subcommand uses to name a scene.

use clap::{Args as ClapArgs, ValueEnum};
use hyperssl::data::readers::hdf5::LabelKind;
use hyperssl::data::readers::source::{load_scene, SceneSpec};
use hyperssl::data::{embedded, Scene};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum Labels {
    /// Drill cores: mineral classes (1-99).
    #[default]
    Mineralogy,
    /// Drill cores: lithology classes (>100).
    Lithology,
    /// Every nonzero label value.
    All,
}

#[derive(ClapArgs, Debug, Clone, Default)]
pub struct SceneArgs {
    /// Image file (.npy, .mat, ENVI .hdr/data, .hdf5) or a folder of drill-core HDF5 files.
    /// Without it, the embedded Indian Pines scene is used.
    pub scene: Option<PathBuf>,
    /// Label map file (0 = unlabelled).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Variable of the image inside a .mat file (or dataset inside an HDF5 file).
    #[arg(long)]
    pub variable: Option<String>,
    /// Variable of the labels inside a .mat file.
    #[arg(long)]
    pub label_variable: Option<String>,
    /// Which drill-core labels to use.
    #[arg(long, value_enum, default_value_t)]
    pub label_kind: Labels,
}

impl SceneArgs {
    pub fn load(&self) -> anyhow::Result<Scene> {
        let Some(image) = &self.scene else {
            return Ok(embedded::indian_pines()?);
        };
        let spec = SceneSpec {
            image: image.clone(),
            labels: self.labels.clone(),
            variable: self.variable.clone(),
            label_variable: self.label_variable.clone(),
            label_kind: match self.label_kind {
                Labels::Mineralogy => LabelKind::Mineralogy,
                Labels::Lithology => LabelKind::Lithology,
                Labels::All => LabelKind::All,
            },
        };
        Ok(load_scene(&spec)?)
    }
}
