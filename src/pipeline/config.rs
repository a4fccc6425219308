//! The whole configuration of a run, as one serialisable struct (a TOML file or CLI flags).

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::data::corpus::depth_split::CorpusConfig;
use crate::data::sampling::SplitConfig;
use crate::data::scaling::ScalingConfig;
use crate::data::spatial::{CovarianceConfig, MorphologyConfig, SpatialConfig};
use super::backend::Device;
use crate::error::{Error, Result};
use crate::eval::classifier::ClassifierKind;
use crate::eval::mrf::MrfConfig;
use crate::eval::propagation::PropagationConfig;
use crate::models::{Activation, Likelihood, M1Config, M2Config};
use crate::train::{Keep, TrainConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Variational autoencoder features + a classifier.
    M1,
    /// The semi-supervised generative model on the scaled spectra; q(y|x) classifies.
    M2,
    /// M2 trained on M1's latent features (the paper's best model).
    M1m2,
    /// The classifier (`--classifier`: an SVM or logistic regression) on the inputs themselves,
    /// no generative model: fitted in seconds where M2 trains for a minute or more.
    Classifier,
}

impl ModelKind {
    /// The model's name in `config.toml` and on the command line (serde's lowercase), which
    /// run folders and messages use too.
    pub fn config_name(self) -> &'static str {
        match self {
            ModelKind::M1 => "m1",
            ModelKind::M2 => "m2",
            ModelKind::M1m2 => "m1m2",
            ModelKind::Classifier => "classifier",
        }
    }

    /// How titles and tables name the model; `classifier` is the one a configuration fits (M1's
    /// on its features, or the classifier alone).
    pub fn name(self, classifier: ClassifierKind) -> String {
        match self {
            ModelKind::M1 => format!("M1 + {classifier:?}"),
            ModelKind::M2 => "M2".into(),
            ModelKind::M1m2 => "M1+M2".into(),
            ModelKind::Classifier => format!("{classifier:?}"),
        }
    }
}

/// What the models see of a pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Input {
    /// Its scaled spectrum alone.
    Spectra,
    /// Its spatial features: the spectrum's principal components with their local and
    /// edge-aware means (see `data::spatial`).
    Spatial,
}

impl Input {
    /// What runs written before spatial inputs existed used.
    fn spectra() -> Self {
        Input::Spectra
    }
}

/// Settings a configuration file written before they existed must read as "off".
fn no_mrf() -> MrfConfig {
    MrfConfig::off()
}

fn no_propagation() -> PropagationConfig {
    PropagationConfig::off()
}

fn one() -> f64 {
    1.0
}

/// The configuration of a run. The default is the model that did best on hyperspectral scenes
/// (M2 on spatial features, its map regularised by label propagation and a graph cut; see the
/// README's tables);
/// [`ExperimentConfig::spectral`] is the paper's setting on the spectra alone. A configuration
/// file written before a setting existed reads that setting as it behaved then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExperimentConfig {
    pub model: ModelKind,
    #[serde(default = "Input::spectra")]
    pub input: Input,
    /// A file without `[spatial]` reads it as it was before the covariance descriptors.
    #[serde(default)]
    pub spatial: SpatialConfig,
    /// The graph-cut regularisation of the class map (weight 0: off).
    #[serde(default = "no_mrf")]
    pub mrf: MrfConfig,
    /// Label propagation over the scene's graph before the graph cut (neighbours 0: off).
    #[serde(default = "no_propagation")]
    pub propagation: PropagationConfig,
    pub classifier: ClassifierKind,
    /// M2: a classifier fitted on the same labelled pixels and inputs whose class probabilities
    /// are averaged with q(y|x)'s, so that the pixelwise classes and the map weigh both; None:
    /// q(y|x) alone. A file without it means None.
    #[serde(default)]
    pub partner: Option<ClassifierKind>,
    /// Fraction of the unlabelled pool held out to compute the validation bound.
    pub holdout: f64,
    /// M1: epochs over which the KL weight rises from 0 to 1 (0 = the plain bound throughout).
    pub kl_warmup: usize,
    pub m1: M1Config,
    pub m2: M2Config,
    /// Weight of M2's classification term: beta = alpha * N_total / N_labelled (paper: 0.1).
    pub alpha: f64,
    /// M2: weight of the unlabelled bound in the objective (1: the paper's; 0: q(y|x) learns
    /// from the labelled pixels alone, the control that shows what the unlabelled ones add).
    #[serde(default = "one")]
    pub unlabelled_weight: f64,
    /// M2: q(y|x)'s classification term sees its labelled inputs with Gaussian noise of this many
    /// standard deviations of each input (over the unlabelled pool) added; 0: none.
    #[serde(default)]
    pub classifier_noise: f64,
    /// M2: labelled pixels in every step; default (None) the reference code's share,
    /// N_labelled / steps per epoch. More lower the noise of the labelled terms (each then
    /// counts for less, so the objective keeps its weights). A file without it means None.
    #[serde(default)]
    pub labelled_batch: Option<usize>,
    /// M2: the fewest labelled rows a step takes when `labelled_batch` is not set (a smaller
    /// share is repeated); set from the device (see `Device::min_labelled_batch`).
    pub min_labelled_batch: usize,
    /// M2: run the many-row layers in row chunks; set from the device (see
    /// `Device::row_chunks`).
    pub row_chunks: bool,
    /// M1+M2 keeps the M1 latent dimensions whose posterior mean varies across pixels more than
    /// this (standard deviation), as the reference code does.
    pub feature_std_threshold: f64,
    /// Epochs of the M1 phase of M1+M2 (default: `train.epochs`).
    pub m1_epochs: Option<usize>,
    pub train: TrainConfig,
    pub split: SplitConfig,
    pub scaling: ScalingConfig,
    /// How a corpus too large to hold is split and visited (folders of drill-core files).
    #[serde(default)]
    pub corpus: CorpusConfig,
}

impl Default for ExperimentConfig {
    /// M2 on spatial features with local covariance descriptors of 20 components and the
    /// morphological profiles of 4, its map regularised by label propagation and a graph cut:
    /// q(y|x) of 100 hidden units trained on noisy copies of 160 class-balanced labelled pixels
    /// a step, 40 epochs, the last kept, its probabilities averaged with those of logistic
    /// regression on the same inputs.
    fn default() -> Self {
        let m2_hidden = vec![100];
        let spectral = ExperimentConfig::spectral();
        ExperimentConfig {
            model: ModelKind::M2,
            input: Input::Spatial,
            spatial: SpatialConfig { covariance: CovarianceConfig::on(20), morphology: MorphologyConfig::on(4), ..SpatialConfig::default() },
            mrf: MrfConfig::default(),
            propagation: PropagationConfig::default(),
            partner: Some(ClassifierKind::LogReg),
            alpha: 5000.0,
            classifier_noise: 1.5,
            labelled_batch: Some(160),
            m2: M2Config {
                hidden_classifier: m2_hidden.clone(),
                hidden_encoder: m2_hidden.clone(),
                hidden_decoder: m2_hidden,
                latent: 50,
                activation: Activation::Softplus,
                likelihood: Likelihood::GaussianBand,
                initial_noise: 0.1,
            },
            train: TrainConfig { learning_rate: 1e-3, epochs: 40, eval_every: 2, keep: Keep::Last, ..spectral.train.clone() },
            ..spectral
        }
    }
}

impl ExperimentConfig {
    /// The paper's setting on the spectra alone: M1 (and the M2 of the paper's code) with no
    /// spatial features and no regularisation.
    pub fn spectral() -> Self {
        ExperimentConfig {
            model: ModelKind::M1,
            input: Input::Spectra,
            spatial: SpatialConfig::default(),
            mrf: MrfConfig::off(),
            propagation: PropagationConfig::off(),
            unlabelled_weight: 1.0,
            classifier_noise: 0.0,
            classifier: ClassifierKind::Svm,
            partner: None,
            holdout: 0.05,
            kl_warmup: 0,
            m1: M1Config::default(),
            m2: M2Config::default(),
            alpha: 0.1,
            labelled_batch: None,
            min_labelled_batch: 1,
            row_chunks: false,
            feature_std_threshold: 0.1,
            m1_epochs: None,
            train: TrainConfig::default(),
            split: SplitConfig::default(),
            scaling: ScalingConfig::default(),
            corpus: CorpusConfig::default(),
        }
    }

    /// M2 on the spectra alone, for rows of pixels with no image around them: the settings of the
    /// README's "M2 and M1+M2 on Indian Pines" table (M2 58.1% OA at 10 labels per class over 10
    /// seeds, the raw-spectra SVM 55.1%): 100 hidden units, alpha 5,000, 160 labelled rows a
    /// step, 40 epochs at 1e-3 stopping when the held-out bound has not improved for 5
    /// evaluations.
    pub fn rows() -> Self {
        let spectral = ExperimentConfig::spectral();
        let hidden = vec![100];
        ExperimentConfig {
            model: ModelKind::M2,
            alpha: 5000.0,
            labelled_batch: Some(160),
            m2: M2Config { hidden_classifier: hidden.clone(), hidden_encoder: hidden.clone(), hidden_decoder: hidden, initial_noise: 0.1, ..spectral.m2.clone() },
            train: TrainConfig { learning_rate: 1e-3, epochs: 40, eval_every: 2, patience: 5, ..spectral.train.clone() },
            ..spectral
        }
    }

    /// This configuration with the settings that follow from the device it will train on (see
    /// [`Device::configure`]); the command line does this for every run.
    pub fn on(mut self, device: Device) -> Self {
        device.configure(&mut self);
        self
    }

    /// This configuration once [`ExperimentConfig::check`] accepts it.
    pub fn checked(self) -> Result<CheckedConfig> {
        self.check()?;
        Ok(CheckedConfig(self))
    }

    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        // Every setting has a default, so an empty file would read as the defaults: in a run
        // folder that is a damaged file, never what the model was trained with.
        if text.trim().is_empty() {
            return Err(Error::bad(path, "empty configuration file"));
        }
        toml::from_str(&text).map_err(|e| Error::bad(path, format!("invalid configuration: {e}")))
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("configuration serialises")
    }

    /// Whether a scene prepared for `other` (its split, scaling, model inputs and
    /// propagation's seeds: `prepared::Prepared`) serves a run of this configuration as it is:
    /// the model and its training may differ, not what it is prepared with.
    pub fn prepares_like(&self, other: &ExperimentConfig) -> bool {
        self.split == other.split && self.scaling == other.scaling && self.input == other.input && self.spatial == other.spatial && self.propagation == other.propagation
    }

    /// The settings that differ from `old`, by their dotted names in config.toml, sorted by name.
    pub fn changes_from(&self, old: &ExperimentConfig) -> Vec<SettingChange> {
        let (old, new) = (flat_settings(old), flat_settings(self));
        let mut names: Vec<&String> = new.keys().chain(old.keys()).collect();
        names.sort();
        names.dedup();
        let shown = |v: Option<&String>| v.cloned().unwrap_or_else(|| "(unset)".into());
        names
            .into_iter()
            .filter(|n| old.get(*n) != new.get(*n))
            .map(|n| SettingChange { setting: n.clone(), old: shown(old.get(n)), new: shown(new.get(n)) })
            .collect()
    }

    /// Refuses values that would only fail (or silently mislead) deep into training: checked
    /// once the flags and the file are merged, before any data is read.
    pub fn check(&self) -> Result<()> {
        let t = &self.train;
        for (what, value) in [
            ("train.epochs", t.epochs),
            ("m1_epochs", self.m1_epochs.unwrap_or(1)),
            ("train.patience", t.patience),
            ("train.batch_size", t.batch_size),
            ("train.eval_every", t.eval_every),
        ] {
            if value == 0 {
                return Err(Error::invalid(format!("{what} must be at least 1")));
            }
        }
        if !(t.learning_rate.is_finite() && t.learning_rate > 0.0) {
            return Err(Error::invalid(format!("train.learning_rate must be a positive number, not {}", t.learning_rate)));
        }
        if self.labelled_batch == Some(0) {
            return Err(Error::invalid("labelled_batch must be at least 1"));
        }
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(Error::invalid(format!(
                "alpha must be a non-negative number, not {}",
                self.alpha
            )));
        }
        for (what, value) in [("unlabelled_weight", self.unlabelled_weight), ("classifier_noise", self.classifier_noise)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::invalid(format!("{what} must be a non-negative number, not {value}")));
            }
        }
        // Refused even when the input is spectra: a bad setting in a file is a mistake either way.
        self.spatial.check()?;
        // The split's sizes, which a corpus run's depth split reads too.
        self.split.check()?;
        self.mrf.check()?;
        self.propagation.check()?;
        self.corpus.check()?;
        self.m1.check()?;
        self.m2.check()?;
        if let Some(partner) = self.partner {
            if self.model != ModelKind::M2 {
                return Err(Error::invalid(format!("partner = {partner} averages a classifier with M2's q(y|x): it takes model = m2, not model = {}", self.model.config_name())));
            }
        }
        Ok(())
    }

    /// `model` in place of the configured one; a partner, which only M2 takes, goes with any
    /// other (set it again after this to have it refused).
    pub fn set_model(&mut self, model: ModelKind) {
        self.model = model;
        if model != ModelKind::M2 {
            self.partner = None;
        }
    }

    /// How titles name the model: [`ModelKind::name`], with M2's partner when it has one.
    pub fn model_name(&self) -> String {
        match self.partner {
            Some(partner) if self.model == ModelKind::M2 => format!("M2 with {partner:?}"),
            _ => self.model.name(self.classifier),
        }
    }
}

/// A configuration that [`ExperimentConfig::check`] accepted; fitting takes only these, so a bad
/// value is refused once, before any data is read.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedConfig(ExperimentConfig);

impl std::ops::Deref for CheckedConfig {
    type Target = ExperimentConfig;
    fn deref(&self) -> &ExperimentConfig {
        &self.0
    }
}

impl CheckedConfig {
    /// Refuses what rows of spectra without an image cannot have: spatial features and the
    /// graph cut both read a pixel's neighbours.
    pub(crate) fn check_for_rows(&self) -> Result<()> {
        if self.input == Input::Spatial {
            return Err(Error::invalid("input = spatial reads each pixel's neighbours in an image: rows of spectra take input = spectra (ExperimentConfig::rows)"));
        }
        if self.propagation.is_on() {
            return Err(Error::invalid("propagation spreads labels over a scene's pixels: rows of spectra take propagation.neighbours = 0 (ExperimentConfig::rows)"));
        }
        if self.mrf.weight > 0.0 {
            return Err(Error::invalid("mrf.weight regularises a class map over an image: rows of spectra take 0 (ExperimentConfig::rows)"));
        }
        Ok(())
    }

    pub fn into_inner(self) -> ExperimentConfig {
        self.0
    }
}

/// One setting of a run that a later command changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingChange {
    pub setting: String,
    pub old: String,
    pub new: String,
}

/// Every leaf of the configuration as `table.key` -> its TOML text.
fn flat_settings(cfg: &ExperimentConfig) -> std::collections::BTreeMap<String, String> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut std::collections::BTreeMap<String, String>) {
        for (k, v) in table {
            let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            match v {
                toml::Value::Table(t) => walk(&name, t, out),
                v => {
                    out.insert(name, v.to_string());
                }
            }
        }
    }
    let table: toml::Table = toml::Table::try_from(cfg).expect("configuration serialises");
    let mut out = std::collections::BTreeMap::new();
    walk("", &table, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_models_config_name_is_the_one_config_toml_reads() {
        for model in [ModelKind::M1, ModelKind::M2, ModelKind::M1m2, ModelKind::Classifier] {
            assert_eq!(serde_json::to_value(model).unwrap(), serde_json::json!(model.config_name()));
            assert_eq!(serde_json::from_value::<ModelKind>(serde_json::json!(model.config_name())).unwrap(), model);
        }
    }

    #[test]
    fn changes_name_each_differing_setting_with_its_old_and_new_value() {
        let old = ExperimentConfig::default();
        assert!(old.changes_from(&old).is_empty());
        let mut new = old.clone();
        new.train.epochs = old.train.epochs + 5;
        new.labelled_batch = None;
        new.m2.hidden_encoder = vec![7, 8];
        let changes = new.changes_from(&old);
        let change = |setting: &str, old: String, new: &str| SettingChange { setting: setting.into(), old, new: new.into() };
        assert_eq!(
            changes,
            vec![
                change("labelled_batch", old.labelled_batch.unwrap().to_string(), "(unset)"),
                change("m2.hidden_encoder", format!("{:?}", old.m2.hidden_encoder).replace(",", ", "), "[7, 8]"),
                change("train.epochs", old.train.epochs.to_string(), &(old.train.epochs + 5).to_string()),
            ]
        );
    }

    #[test]
    fn a_file_without_the_newer_settings_reads_them_as_they_behaved_before() {
        // An older run's config.toml: every setting it knew, none of the spatial ones.
        let mut old: toml::Table = toml::from_str(&ExperimentConfig::spectral().to_toml()).unwrap();
        for key in ["input", "spatial", "mrf", "unlabelled_weight", "classifier_noise"] {
            old.remove(key);
        }
        old.get_mut("train").unwrap().as_table_mut().unwrap().remove("keep");
        let read: ExperimentConfig = toml::from_str(&toml::to_string(&old).unwrap()).unwrap();
        assert_eq!(read, ExperimentConfig::spectral());
        // And a file written now reads back as it was.
        let now = ExperimentConfig::default();
        assert_eq!(toml::from_str::<ExperimentConfig>(&now.to_toml()).unwrap(), now);
    }

    fn refusal(edit: impl FnOnce(&mut ExperimentConfig)) -> String {
        let mut c = ExperimentConfig::default();
        edit(&mut c);
        c.check().unwrap_err().to_string()
    }

    #[test]
    fn check_accepts_the_defaults_and_refuses_each_bad_value() {
        assert!(ExperimentConfig::default().check().is_ok());
        assert!(ExperimentConfig::spectral().check().is_ok());
        assert!(refusal(|c| c.unlabelled_weight = -0.5).contains("unlabelled_weight must"));
        assert!(refusal(|c| c.classifier_noise = f64::NAN).contains("classifier_noise must"));
        assert!(refusal(|c| c.spatial.box_windows = vec![2]).contains("odd"));
        assert!(refusal(|c| {
            c.input = Input::Spectra;
            c.spatial.box_windows = vec![2];
        })
        .contains("odd"));
        assert!(refusal(|c| c.mrf.weight = -1.0).contains("mrf.weight"));
        assert!(refusal(|c| c.labelled_batch = Some(0)).contains("labelled_batch must"));
        assert!(refusal(|c| c.alpha = -1.0).contains("alpha must be a non-negative number, not -1"));
        assert!(refusal(|c| c.alpha = f64::NAN).contains("not NaN"));
        assert!(refusal(|c| c.m2.initial_noise = 0.0).contains("m2.initial_noise"));
        assert!(refusal(|c| c.m1.initial_noise = f64::INFINITY).contains("m1.initial_noise"));
        // Network shapes, named as in config.toml.
        assert!(refusal(|c| c.m2.latent = 0).contains("m2.latent must be at least 1"));
        assert!(refusal(|c| c.m1.latent = 0).contains("m1.latent must be at least 1"));
        assert!(refusal(|c| c.m2.hidden_encoder = vec![100, 0]).contains("m2.hidden_encoder has a layer of 0 units (layer 2 of 2)"));
        assert!(refusal(|c| c.m1.hidden = vec![0]).contains("m1.hidden has a layer of 0 units"));
        let no_hidden_layer = ExperimentConfig { m2: crate::models::M2Config { hidden_decoder: Vec::new(), ..ExperimentConfig::default().m2 }, ..Default::default() };
        assert!(no_hidden_layer.check().is_ok(), "a linear network is a shape");
        assert!(refusal(|c| c.train.epochs = 0).contains("train.epochs must be at least 1"));
        assert!(refusal(|c| c.m1_epochs = Some(0)).contains("m1_epochs must"));
        assert!(refusal(|c| c.train.patience = 0).contains("train.patience must"));
        assert!(refusal(|c| c.train.batch_size = 0).contains("train.batch_size must"));
        assert!(refusal(|c| c.train.eval_every = 0).contains("train.eval_every must"));
        assert!(refusal(|c| c.train.learning_rate = 0.0).contains("train.learning_rate must be a positive number, not 0"));
        assert!(refusal(|c| c.train.learning_rate = f64::NAN).contains("not NaN"));
        // The split's sizes are refused with the rest, before any data is read (a corpus run
        // reads its cap through its own depth split).
        assert!(refusal(|c| c.split.max_per_class = Some(0)).contains("max_per_class must be at least 1"));
        assert!(refusal(|c| c.split.spatial_block = Some(0)).contains("spatial_block must be at least 1"));
    }
}
