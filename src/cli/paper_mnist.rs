//! `hyperssl paper-mnist`: the paper's MNIST benchmark (Table 1), M2 or M1+M2, and its test error.

use std::path::PathBuf;
use std::time::Instant;

use hyperssl::pipeline::backend::{CpuTrain, Device};
use hyperssl::pipeline::scene_run::run_scene_split;
use hyperssl::pipeline::mnist::{mnist_scene, paper_config, paper_split};
use hyperssl::pipeline::run_dir::{RunDir, RunSession};
use hyperssl::pipeline::ModelKind;
use hyperssl::atomic;

use super::train::{progress_bar, report_progress};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Labelled training digits, balanced over the ten classes (paper: 100, 600, 1000, 3000).
    #[arg(long, default_value_t = 100)]
    pub labels: usize,
    /// m2 or m1m2.
    #[arg(long, value_enum, default_value_t = ModelKind::M1m2)]
    pub model: ModelKind,
    /// Folder with the MNIST idx files.
    #[arg(long, default_value = "../shared/data/mnist")]
    pub data: PathBuf,
    /// Epochs of M2 (the reference code ran 3000).
    #[arg(long, default_value_t = 150)]
    pub epochs: usize,
    /// Epochs of M1 for m1m2.
    #[arg(long, default_value_t = 60)]
    pub m1_epochs: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 100)]
    pub batch_size: usize,
    /// Adam's step size (the reference code: 3e-4 for 3000 epochs).
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    pub lr: f64,
    /// Labelled digits in every M2 step [default: labels / steps per epoch, as the paper's code; with --device cuda a smaller share is repeated to 10 rows].
    #[arg(long)]
    pub labelled_batch: Option<usize>,
    /// Weight of M2's classification term, beta = alpha * N_total / N_labelled (the default is the
    /// paper's).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub alpha: f64,
    /// Evaluations without improvement before stopping.
    #[arg(long, default_value_t = 40)]
    pub patience: usize,
    #[arg(long, value_enum, default_value_t)]
    pub device: Device,
    /// Run folder [default: runs/mnist-<model>-<labels>-seed<seed>].
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Continue a killed run from its last checkpoint, or extend a finished one to more --epochs.
    #[arg(long)]
    pub resume: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    args.device.check_available()?;
    if args.model == ModelKind::M1 {
        anyhow::bail!("paper-mnist reproduces M2 and M1+M2: use --model m2 or m1m2");
    }
    let started = Instant::now();
    let mut cfg = paper_config(args.model, args.labels);
    cfg.train.epochs = args.epochs;
    cfg.train.seed = args.seed;
    cfg.train.batch_size = args.batch_size;
    cfg.train.learning_rate = args.lr;
    cfg.train.patience = args.patience;
    args.device.configure(&mut cfg);
    cfg.labelled_batch = args.labelled_batch;
    cfg.alpha = args.alpha;
    cfg.split.seed = args.seed;
    cfg.m1_epochs = Some(args.m1_epochs);
    // Refused here rather than after M1 has trained.
    cfg.check()?;
    let scene = mnist_scene(&args.data)?;
    let split = paper_split(&scene, args.labels, args.seed)?;
    let name = args.model.config_name();
    let root = args.run.clone().unwrap_or_else(|| PathBuf::from(format!("runs/mnist-{name}-{}-seed{}", args.labels, args.seed)));
    let dir = RunDir::create(&root, args.resume)?;
    eprintln!("MNIST {name}, {} labels, seed {}: 50,000 train / 10,000 valid / 10,000 test -> {}", args.labels, args.seed, root.display());
    let bar = progress_bar(cfg.train.epochs);
    let mut progress = report_progress(&bar);
    let out = match args.device {
        Device::Cpu => run_scene_split::<CpuTrain>(&scene, &cfg, Some(split), RunSession { dir: Some(&dir), resume: args.resume, progress: &mut progress }, &Default::default())?,
        #[cfg(feature = "cuda")]
        Device::Cuda => run_scene_split::<hyperssl::pipeline::backend::GpuTrain>(&scene, &cfg, Some(split), RunSession { dir: Some(&dir), resume: args.resume, progress: &mut progress }, &Default::default())?,
        #[cfg(not(feature = "cuda"))]
        Device::Cuda => unreachable!("checked by Device::check_available"),
    };
    bar.finish_and_clear();
    let error = 100.0 * (1.0 - out.metrics.overall_accuracy);
    let seconds = started.elapsed().as_secs_f64();
    let result = serde_json::json!({
        "model": name, "labels": args.labels, "seed": args.seed, "test_error_percent": error,
        "epochs_run": out.train_state.epochs_done, "seconds": seconds, "resumed": args.resume,
        "device": format!("{:?}", args.device).to_lowercase(),
    });
    atomic::write_json(&dir.root.join("paper_mnist.json"), &result)?;
    let trained = hyperssl::pipeline::trained::Trained::<hyperssl::pipeline::backend::Cpu>::load_run(&dir, &Default::default())?;
    if let Some(p) = hyperssl::pipeline::outputs::write_generated_digits(&dir, &trained, 28, 10, &Default::default())? {
        println!("{}", p.display());
    }
    let session = if args.resume { " this session" } else { "" };
    println!(
        "MNIST {name} with {} labels: test error {error:.2}% ({} epochs, {seconds:.0} s{session}); {}",
        args.labels,
        out.train_state.epochs_done,
        dir.root.join("paper_mnist.json").display()
    );
    Ok(())
}
