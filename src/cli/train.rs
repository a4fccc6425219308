//! `hyperssl train`: fit a model on a scene and evaluate it on held-out labelled pixels.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

use super::scene_args::SceneArgs;
use hyperssl::data::corpus::Corpus;
use hyperssl::data::sampling::TrainSize;
use hyperssl::eval::classifier::ClassifierKind;
use hyperssl::models::{Activation, Likelihood};
use hyperssl::pipeline::backend::Device;
use hyperssl::pipeline::run_dir::RunDir;
use hyperssl::pipeline::config::Input;
use hyperssl::pipeline::{ExperimentConfig, ModelKind};
use hyperssl::train::Progress;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct Args {
    #[command(flatten)]
    pub scene: SceneArgs,
    /// Read a folder of drill-core files from disk as training goes, whatever its size (a
    /// folder of more than 2^28 values is always read so).
    #[arg(long)]
    pub stream: bool,
    #[command(flatten)]
    pub options: TrainOptions,
}

/// The settings a run starts from when no configuration file is given.
#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Defaults {
    /// M2 on spatial features, its map regularised by label propagation and the graph cut: the
    /// recommended model.
    #[default]
    Spatial,
    /// The settings from before spatial features (M1 + SVM on the scaled spectra, alpha 0.1,
    /// the best validation epoch kept): what the older tables of the README were made with.
    Spectral,
}

/// Where the local covariance descriptors go (`spatial.covariance.graph_only`).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CovarianceIn {
    /// Beside the other spatial features: the models read them, and the propagation's graph.
    Inputs,
    /// In the propagation's graph alone.
    Graph,
}

/// M2's partner classifier (`partner`), or none.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partner {
    /// Logistic regression on the same inputs.
    #[value(name = "logreg")]
    LogReg,
    /// The RBF SVM on the same inputs (its Platt probabilities).
    Svm,
    /// q(y|x) alone.
    None,
}

impl Partner {
    fn kind(self) -> Option<ClassifierKind> {
        match self {
            Partner::LogReg => Some(ClassifierKind::LogReg),
            Partner::Svm => Some(ClassifierKind::Svm),
            Partner::None => None,
        }
    }
}

/// Options that override the configuration file (or the defaults).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TrainOptions {
    /// Model to train [default: m2, on spatial features, its map regularised].
    #[arg(long, value_enum)]
    pub model: Option<ModelKind>,
    /// What the model sees of a pixel: its spectrum, or spatial features computed from the image
    /// alone (principal components with their local and edge-aware means, local covariance
    /// descriptors and morphological profiles) [default: spatial].
    #[arg(long, value_enum)]
    pub input: Option<Input>,
    /// Weight of the graph-cut regularisation of the class map (cost of two neighbours in
    /// different classes, in nats); 0 switches it off [default: 3].
    #[arg(long)]
    pub mrf_weight: Option<f64>,
    /// Neighbours of every pixel in the graph over which the labelled pixels' classes spread
    /// before the graph cut (nearest in the model's inputs); 0 switches propagation off
    /// [default: 10].
    #[arg(long)]
    pub propagation_neighbours: Option<usize>,
    /// Spatial features: the local covariance descriptor of the leading N principal components
    /// over each pixel's 25 nearest pixels of its 11 x 11 window; 0 leaves it out [default: 20;
    /// 0 with --defaults spectral].
    #[arg(long)]
    pub covariance_components: Option<usize>,
    /// Where the covariance descriptors go: beside the models' inputs (and so in the
    /// propagation's graph), or in the propagation's graph alone [default: inputs].
    #[arg(long, value_enum)]
    pub covariance_in: Option<CovarianceIn>,
    /// Spatial features: the morphological profiles of the leading N principal components
    /// (openings and closings by reconstruction from disks of radius 1, 3, 5 and 7); 0 leaves
    /// them out [default: 4; 0 with --defaults spectral].
    #[arg(long)]
    pub morphology_components: Option<usize>,
    /// M2: noise added to q(y|x)'s labelled inputs, in standard deviations of each input
    /// [default: 1.5].
    #[arg(long)]
    pub classifier_noise: Option<f64>,
    /// M2: weight of the unlabelled bound (0: q(y|x) learns from the labelled pixels alone) [default: 1].
    #[arg(long)]
    pub unlabelled_weight: Option<f64>,
    /// Settings a run starts from before the flags given here (instead of --config) [default: spatial].
    #[arg(long, value_enum, conflicts_with = "config")]
    pub defaults: Option<Defaults>,
    /// TOML file with the whole configuration (flags given here override it).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Run folder for the model, log, checkpoints and metrics [default: runs/<model>-<scene>-seed<seed>].
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Continue a killed run from its last checkpoint with its stored settings (flags given here
    /// change them, and the run records each change), or extend a finished one to more --epochs.
    #[arg(long)]
    pub resume: bool,
    /// Labelled training pixels per class.
    #[arg(long)]
    pub per_class: Option<usize>,
    /// Labelled training pixels as a fraction of each class (instead of --per-class).
    #[arg(long, conflicts_with = "per_class")]
    pub fraction: Option<f64>,
    /// Labelled validation pixels per class.
    #[arg(long)]
    pub valid_per_class: Option<usize>,
    /// At most this many labelled pixels of any class are used (balances dominant classes).
    #[arg(long)]
    pub max_per_class: Option<usize>,
    /// Spatially disjoint split: blocks of this many pixels a side go wholly to train or test.
    #[arg(long)]
    pub spatial_block: Option<usize>,
    /// Drill-core corpus read from disk: rows of the depth blocks that go wholly to training,
    /// validation or test [default: 64].
    #[arg(long)]
    pub depth_block: Option<usize>,
    /// Drill-core corpus read from disk: unlabelled pixels each epoch trains on, drawn from
    /// shuffled bands of rows across all files, read 262,144 at a time; 0 = every pixel
    /// [default: 100000].
    #[arg(long)]
    pub unlabelled_per_epoch: Option<usize>,
    #[arg(long)]
    pub seed: Option<u64>,
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Adam learning rate.
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Evaluations without improvement before stopping.
    #[arg(long)]
    pub patience: Option<usize>,
    /// Evaluate every this many epochs.
    #[arg(long)]
    pub eval_every: Option<usize>,
    /// Hidden layer sizes, comma-separated (e.g. 500,500).
    #[arg(long, value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// Hidden layer sizes of M2's three networks, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub m2_hidden: Option<Vec<usize>>,
    /// Weight of M2's classification term (beta = alpha * N_total / N_labelled).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// M2: labelled pixels in every step [default: N_labelled / steps per epoch, as the paper's code; with --device cuda a smaller share is repeated to 10 rows].
    #[arg(long)]
    pub labelled_batch: Option<usize>,
    /// M1: epochs over which the KL weight rises from 0 to 1.
    #[arg(long)]
    pub kl_warmup: Option<usize>,
    /// Size of the latent space.
    #[arg(long)]
    pub latent: Option<usize>,
    /// Fraction of each input's variance that the Gaussian p(x|.) of M1 and M2 starts with as noise.
    #[arg(long)]
    pub initial_noise: Option<f64>,
    #[arg(long, value_enum)]
    pub activation: Option<Activation>,
    #[arg(long, value_enum)]
    pub likelihood: Option<Likelihood>,
    /// Classifier fitted on M1 features, or on the inputs with `--model classifier` [default: svm].
    #[arg(long, value_enum)]
    pub classifier: Option<ClassifierKind>,
    /// M2: a classifier fitted on the same labelled pixels and inputs whose class probabilities
    /// are averaged with q(y|x)'s [default: logreg with the spatial defaults, none with
    /// --defaults spectral].
    #[arg(long, value_enum)]
    pub partner: Option<Partner>,
    #[arg(long, value_enum, default_value_t)]
    pub device: Device,
}

impl TrainOptions {
    /// The settings of a new run: the configuration file or the chosen defaults, with the flags
    /// given over them.
    pub fn config(&self) -> anyhow::Result<ExperimentConfig> {
        let base = self.chosen_base()?.unwrap_or_default();
        self.over(base)
    }

    /// The settings of a resumed run: those it was stored with, unless a configuration file or
    /// defaults are named, with only the flags given over them.
    pub fn resumed_config(&self, stored: ExperimentConfig) -> anyhow::Result<ExperimentConfig> {
        let base = self.chosen_base()?.unwrap_or(stored);
        self.over(base)
    }

    /// The settings named by --config or --defaults, if either is given.
    fn chosen_base(&self) -> anyhow::Result<Option<ExperimentConfig>> {
        Ok(match (&self.config, self.defaults) {
            (Some(p), _) => Some(ExperimentConfig::from_toml_file(p)?),
            (None, Some(Defaults::Spatial)) => Some(ExperimentConfig::default()),
            (None, Some(Defaults::Spectral)) => Some(ExperimentConfig::spectral()),
            (None, None) => None,
        })
    }

    /// `c` with every flag given set in it, checked.
    fn over(&self, mut c: ExperimentConfig) -> anyhow::Result<ExperimentConfig> {
        if let Some(m) = self.model {
            c.set_model(m);
        }
        if let Some(i) = self.input {
            c.input = i;
        }
        if let Some(n) = self.propagation_neighbours {
            c.propagation.neighbours = n;
        }
        if let Some(n) = self.covariance_components {
            c.spatial.covariance.components = n;
        }
        if let Some(n) = self.morphology_components {
            c.spatial.morphology.components = n;
        }
        if let Some(place) = self.covariance_in {
            c.spatial.covariance.graph_only = place == CovarianceIn::Graph;
        }
        if let Some(w) = self.mrf_weight {
            c.mrf.weight = w;
        }
        if let Some(n) = self.per_class {
            c.split.train = TrainSize::PerClass(n);
        }
        if let Some(f) = self.fraction {
            c.split.train = TrainSize::Fraction(f);
        }
        if let Some(n) = self.valid_per_class {
            c.split.valid = TrainSize::PerClass(n);
        }
        if self.max_per_class.is_some() {
            c.split.max_per_class = self.max_per_class;
        }
        if self.spatial_block.is_some() {
            c.split.spatial_block = self.spatial_block;
        }
        if let Some(s) = self.seed {
            c.split.seed = s;
            c.train.seed = s;
        }
        macro_rules! set {
            ($field:expr, $opt:expr) => {
                if let Some(v) = $opt.clone() {
                    $field = v;
                }
            };
        }
        set!(c.train.epochs, self.epochs);
        set!(c.train.batch_size, self.batch_size);
        set!(c.train.learning_rate, self.lr);
        set!(c.train.patience, self.patience);
        set!(c.train.eval_every, self.eval_every);
        set!(c.m1.hidden, self.hidden);
        set!(c.m1.latent, self.latent);
        set!(c.m1.activation, self.activation);
        set!(c.m1.initial_noise, self.initial_noise);
        set!(c.m2.initial_noise, self.initial_noise);
        set!(c.m1.likelihood, self.likelihood);
        set!(c.classifier, self.classifier);
        if let Some(p) = self.partner {
            c.partner = p.kind();
        }
        set!(c.alpha, self.alpha);
        set!(c.classifier_noise, self.classifier_noise);
        set!(c.unlabelled_weight, self.unlabelled_weight);
        if self.labelled_batch.is_some() {
            c.labelled_batch = self.labelled_batch;
        }
        set!(c.kl_warmup, self.kl_warmup);
        set!(c.corpus.block_rows, self.depth_block);
        set!(c.corpus.unlabelled_per_epoch, self.unlabelled_per_epoch);
        self.device.configure(&mut c);
        if let Some(h) = &self.m2_hidden {
            c.m2.hidden_classifier = h.clone();
            c.m2.hidden_encoder = h.clone();
            c.m2.hidden_decoder = h.clone();
        }
        if let Some(l) = self.latent {
            c.m2.latent = l;
        }
        match &self.config {
            // The bad value came from the file or from a flag over it: say both.
            Some(p) => c.check().with_context(|| format!("{} with the flags given", p.display()))?,
            None => c.check()?,
        }
        Ok(c)
    }
}

/// A progress bar over epochs on the terminal; hidden when stderr is not a terminal.
pub fn progress_bar(max_epochs: usize) -> ProgressBar {
    let bar = ProgressBar::new(max_epochs as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} epoch {pos}/{len} [{elapsed_precise}] {wide_bar} {msg}")
            .expect("valid template"),
    );
    bar
}

pub fn report_progress(bar: &ProgressBar) -> impl FnMut(&Progress) + '_ {
    move |p: &Progress| {
        bar.set_position(p.epoch as u64);
        let r = &p.row;
        let acc = if r.valid_accuracy.is_nan() { String::new() } else { format!(" valid acc {:.3}", r.valid_accuracy) };
        bar.set_message(format!("bound {:.2} valid {:.2}{acc} (no improvement x{})", r.bound_minibatch, r.bound_valid, r.not_improving));
        if !r.event.is_empty() {
            bar.println(format!("warning: {}", r.event));
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // A folder's files are checked once, whether it is then read from disk or into memory.
    let scene = match args.scene.checked_corpus()? {
        Some(corpus) if SceneArgs::streams(&corpus, args.stream) => return run_corpus(&args, &corpus),
        Some(corpus) => args.scene.corpus_scene(&corpus)?,
        None => args.scene.load()?,
    };
    let stem = match &args.scene.scene {
        Some(p) => p.file_stem().map(|s| s.to_string_lossy().replace(".npy", "")).unwrap_or_else(|| "scene".into()),
        None => "indian-pines".to_string(),
    };
    let (dir, cfg) = run_folder(&args.options, &stem)?;
    let model_name = cfg.model.config_name();
    eprintln!("training {model_name} on {} ({} x {} x {}), run folder {}", scene.source.display(), scene.height, scene.width, scene.bands, dir.root.display());
    let summary = super::run_model::run(super::run_model::Data::Scene(&scene, None), &cfg, &dir, args.options.resume, args.options.device)
        .with_context(|| format!("run in {}", dir.root.display()))?;
    print!("{summary}");
    Ok(())
}

/// Trains M2 on a corpus read from disk as it goes.
fn run_corpus(args: &Args, corpus: &Corpus) -> anyhow::Result<()> {
    let stem = args.scene.corpus_name();
    let (dir, cfg) = run_folder(&args.options, &stem)?;
    eprintln!(
        "training {:?} on {} drill-core files ({} pixels of {} bands), read from disk as it goes; run folder {}",
        cfg.model,
        corpus.files().len(),
        corpus.n_pixels(),
        corpus.bands(),
        dir.root.display()
    );
    let summary = super::run_model::run(super::run_model::Data::Corpus(corpus), &cfg, &dir, args.options.resume, args.options.device)
        .with_context(|| format!("run in {}", dir.root.display()))?;
    print!("{summary}");
    Ok(())
}

/// The run folder (created, or opened to resume) and the run's settings: a resumed run keeps
/// its stored settings, and what the flags change is recorded in the folder.
fn run_folder(options: &TrainOptions, stem: &str) -> anyhow::Result<(RunDir, ExperimentConfig)> {
    let cfg = options.config()?;
    options.device.check_available()?;
    let model_name = cfg.model.config_name();
    let root = options.run.clone().unwrap_or_else(|| PathBuf::from(format!("runs/{model_name}-{stem}-seed{}", cfg.train.seed)));
    let dir = RunDir::create(&root, options.resume)?;
    let cfg = match dir.stored_config()? {
        Some(stored) if options.resume => {
            let cfg = options.resumed_config(stored.clone())?;
            let changes = cfg.changes_from(&stored);
            for c in &changes {
                eprintln!("resuming with {} changed from {} to {}", c.setting, c.old, c.new);
            }
            dir.record_changes(&changes)?;
            cfg
        }
        _ => cfg,
    };
    Ok((dir, cfg))
}

impl Args {
    /// The main job: the default model on the embedded scene with 10 labels per class, in
    /// runs/demo, resumed if present.
    pub fn demo() -> Self {
        let mut args = Args::default();
        args.options.run = Some(PathBuf::from("runs/demo"));
        args.options.resume = true;
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        options: TrainOptions,
    }

    fn config(args: &[&str]) -> ExperimentConfig {
        let all: Vec<&str> = std::iter::once("hyperssl").chain(args.iter().copied()).collect();
        Cli::parse_from(all).options.config().unwrap()
    }

    #[test]
    fn the_spectral_defaults_are_the_settings_from_before_spatial_features_and_flags_still_apply() {
        // The device sets how a step is split; everything else comes from the defaults.
        let on_this_device = |mut c: ExperimentConfig, got: &ExperimentConfig| {
            c.train.step_parts = got.train.step_parts;
            c
        };
        let got = config(&[]);
        assert_eq!(got, on_this_device(ExperimentConfig::default(), &got));
        let got = config(&["--defaults", "spectral"]);
        assert_eq!(got, on_this_device(ExperimentConfig::spectral(), &got));
        let c = config(&["--defaults", "spectral", "--model", "m2", "--alpha", "50"]);
        assert_eq!((c.model, c.alpha, c.input), (ModelKind::M2, 50.0, Input::Spectra));
        assert_ne!(ExperimentConfig::default().input, ExperimentConfig::spectral().input);
    }
}
