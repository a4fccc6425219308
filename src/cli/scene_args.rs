//! The options every subcommand uses to name a scene.

use clap::{Args as ClapArgs, ValueEnum};
use hyperssl::data::corpus::Corpus;
use hyperssl::data::readers::hdf5::{list_core_files, read_core_list, read_core_scene, LabelKind};
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
    /// Image file (.npy, .mat, ENVI .hdr/data, .hdf5), a folder of drill-core HDF5 files, or a
    /// .txt list of such files (one path a line, relative to the list's folder). Without it,
    /// the embedded Indian Pines scene is used.
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
    /// Leave out, with a warning, drill-core files of the folder that cannot be read or do not
    /// match the others (default: such a file is an error).
    #[arg(long)]
    pub skip_bad_files: bool,
}

/// A folder of more values than this is read from disk as training goes.
const STREAM_ABOVE_VALUES: usize = 1 << 28;

/// Why a folder of `pixels` x `bands` values is not read into memory whole (None when it is
/// small enough): a command that holds its scene would need several times its size.
fn too_large_to_hold(pixels: usize, bands: usize) -> Option<String> {
    beyond_memory(pixels, bands).then(|| {
        format!("{pixels} pixels x {bands} bands ({:.1} GB as 32-bit floats) are more than this command holds in memory", pixels as f64 * bands as f64 * 4.0 / 1e9)
    })
}

/// Whether a folder of `pixels` x `bands` values is more than memory should hold.
fn beyond_memory(pixels: usize, bands: usize) -> bool {
    pixels.saturating_mul(bands) > STREAM_ABOVE_VALUES
}

impl SceneArgs {
    fn label_kind(&self) -> LabelKind {
        match self.label_kind {
            Labels::Mineralogy => LabelKind::Mineralogy,
            Labels::Lithology => LabelKind::Lithology,
            Labels::All => LabelKind::All,
        }
    }

    /// The drill-core files of a folder or list given as the scene, each checked before any
    /// long work (or skipped with a warning under --skip-bad-files); None when the scene is one
    /// image.
    pub fn checked_corpus(&self) -> anyhow::Result<Option<Corpus>> {
        let Some(files) = self.core_files()? else { return Ok(None) };
        let (corpus, skipped) = Corpus::open_checked(&files, self.label_kind(), self.skip_bad_files)?;
        for s in skipped {
            log::warn!("{s}");
        }
        Ok(Some(corpus))
    }

    /// The drill-core files the scene names: a folder's, or those of a .txt list; None when
    /// it is one image.
    fn core_files(&self) -> anyhow::Result<Option<Vec<PathBuf>>> {
        let Some(path) = &self.scene else { return Ok(None) };
        if path.is_dir() {
            return Ok(Some(list_core_files(path)?));
        }
        let listed = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt"));
        Ok(if listed { Some(read_core_list(path)?) } else { None })
    }

    /// The name of a corpus in run folders and reports: its folder's or its list's (without
    /// `.txt`).
    pub fn corpus_name(&self) -> String {
        let name = self.scene.as_ref().and_then(|p| p.file_name()).map_or_else(|| "corpus".into(), |s| s.to_string_lossy().into_owned());
        match name.strip_suffix(".txt") {
            Some(stem) if !stem.is_empty() => stem.to_string(),
            _ => name,
        }
    }

    /// Whether a corpus is to be read from disk as training goes: when `force` is set or it is
    /// larger than memory should hold.
    pub fn streams(corpus: &Corpus, force: bool) -> bool {
        force || beyond_memory(corpus.n_pixels(), corpus.bands())
    }

    /// The files of a checked corpus stacked into one scene in memory.
    pub fn corpus_scene(&self, corpus: &Corpus) -> anyhow::Result<Scene> {
        let paths: Vec<PathBuf> = corpus.files().iter().map(|f| f.path.clone()).collect();
        Ok(read_core_scene(&paths, self.label_kind())?)
    }

    pub fn load(&self) -> anyhow::Result<Scene> {
        let Some(image) = &self.scene else {
            return Ok(embedded::indian_pines()?);
        };
        if let Some(corpus) = self.checked_corpus()? {
            if let Some(why) = too_large_to_hold(corpus.n_pixels(), corpus.bands()) {
                anyhow::bail!("{}: {why}; `train` and `predict` read such a folder from disk as they go", image.display());
            }
            return self.corpus_scene(&corpus);
        }
        let spec = SceneSpec {
            image: image.clone(),
            labels: self.labels.clone(),
            variable: self.variable.clone(),
            label_variable: self.label_variable.clone(),
            label_kind: self.label_kind(),
        };
        Ok(load_scene(&spec)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_beyond_the_streaming_size_are_refused_with_their_size() {
        assert_eq!(too_large_to_hold(1 << 20, 256), None);
        let why = too_large_to_hold(67_000_000, 268).expect("the first users' corpus");
        assert!(why.contains("67000000 pixels x 268 bands (71.8 GB"), "{why}");
        assert!(too_large_to_hold((1 << 20) + 1, 256).is_some());
    }
}
