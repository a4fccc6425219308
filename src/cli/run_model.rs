//! Runs the configured model on the chosen device and renders the summary the user sees.

use hyperssl::models::backend::AutodiffBackend;
use hyperssl::atomic::read_json;
use hyperssl::data::corpus::Corpus;
use hyperssl::data::Scene;
use hyperssl::pipeline::corpus_run::run_corpus;
use hyperssl::pipeline::trained::ClassInfo;
use hyperssl::pipeline::backend::{CpuTrain, Device};
use hyperssl::pipeline::run_dir::{RunDir, RunSession};
use hyperssl::pipeline::prepared::Prepared;
use hyperssl::pipeline::scene_run::{run_prepared, run_scene};
use hyperssl::pipeline::{ExperimentConfig, ModelKind};
use hyperssl::train::LoopState;

use super::train::{progress_bar, report_progress};

/// What a run trains on: a scene in memory (with its preparation when the caller shares one
/// among runs), or a corpus read from disk as it trains.
#[derive(Clone, Copy)]
pub enum Data<'a> {
    Scene(&'a Scene, Option<&'a Prepared>),
    Corpus(&'a Corpus),
}

/// Trains and evaluates on the chosen device; returns the text to print.
pub fn run(data: Data, cfg: &ExperimentConfig, dir: &RunDir, resume: bool, device: Device) -> anyhow::Result<String> {
    match device {
        Device::Cpu => run_on::<CpuTrain>(data, cfg, dir, resume),
        #[cfg(feature = "cuda")]
        Device::Cuda => run_on::<hyperssl::pipeline::backend::GpuTrain>(data, cfg, dir, resume),
        #[cfg(not(feature = "cuda"))]
        Device::Cuda => unreachable!("checked by Device::check_available"),
    }
}

fn run_on<B: AutodiffBackend>(data: Data, cfg: &ExperimentConfig, dir: &RunDir, resume: bool) -> anyhow::Result<String> {
    match data {
        Data::Scene(scene, prepared) => scene_on::<B>((scene, prepared), cfg, dir, resume),
        Data::Corpus(corpus) => corpus_on::<B>(corpus, cfg, dir, resume),
    }
}

/// Trains the configured model on a scene; returns the text to print.
fn scene_on<B: AutodiffBackend>((scene, prepared): (&Scene, Option<&Prepared>), cfg: &ExperimentConfig, dir: &RunDir, resume: bool) -> anyhow::Result<String> {
    let device = B::Device::default();
    let bar = bar_of(cfg);
    let mut progress = report_progress(&bar);
    let names = scene.labels.as_ref().map(|l| l.names.clone()).unwrap_or_default();
    let session = RunSession { dir: Some(dir), resume, progress: &mut progress };
    let out = match prepared {
        Some(p) => run_prepared::<B>(scene, cfg, p, session, &device)?,
        None => run_scene::<B>(scene, cfg, session, &device)?,
    };
    let (metrics, files) = (out.metrics, out.files);
    bar.finish_and_clear();
    let listing: String = files.iter().map(|f| format!("  {}\n", f.display())).collect();
    let scores = |what: &str, m: &hyperssl::eval::Metrics| format!("{what}: OA {:.2}%, AA {:.2}%, kappa {:.4}\n", 100.0 * m.overall_accuracy, 100.0 * m.average_accuracy, m.kappa);
    let mut pixelwise = String::new();
    if cfg.propagation.is_on() && cfg.mrf.is_on() {
        pixelwise += &scores("with the graph cut alone, no propagation (metrics_without_propagation.json)", &dir.read_metrics_without_propagation()?);
    }
    if cfg.mrf.is_on() || cfg.propagation.is_on() {
        pixelwise += &scores("the classifier's own classes (metrics_pixelwise.json)", &out.metrics_pixelwise);
    }
    Ok(format!("{}{pixelwise}\n{}; results in {}:\n{listing}", metrics.table(&names), trained(cfg, &out.train_state), dir.root.display()))
}

/// The progress bar of a run's epochs; hidden for the classifier alone, which has none.
fn bar_of(cfg: &ExperimentConfig) -> indicatif::ProgressBar {
    match cfg.model {
        ModelKind::Classifier => indicatif::ProgressBar::hidden(),
        _ => progress_bar(cfg.train.epochs),
    }
}

/// What the run trained, and for how long.
fn trained(cfg: &ExperimentConfig, state: &LoopState) -> String {
    match cfg.model {
        ModelKind::Classifier => format!("fitted {} in {:.1} s", cfg.classifier, state.elapsed),
        _ => format!("trained {} epochs ({:.1} s of training, resumed sessions included)", state.epochs_done, state.elapsed),
    }
}

/// Trains M2 (or fits the classifier alone) on a corpus read from disk; returns the text to print.
fn corpus_on<B: AutodiffBackend>(corpus: &Corpus, cfg: &ExperimentConfig, dir: &RunDir, resume: bool) -> anyhow::Result<String> {
    let device = B::Device::default();
    let bar = bar_of(cfg);
    let mut progress = report_progress(&bar);
    let out = run_corpus::<B>(corpus, cfg, RunSession { dir: Some(dir), resume, progress: &mut progress }, &device)?;
    bar.finish_and_clear();
    let names: Vec<String> = read_json::<ClassInfo>(&dir.classes())?.names;
    let listing: String = out.files.iter().map(|f| format!("  {}\n", f.display())).collect();
    Ok(format!(
        "{}test pixels: {} in depth blocks held out (each scored alone; `hyperssl predict --run {}` maps the files with the graph cut)\n\n{}; results in {}:\n{listing}",
        out.metrics.table(&names),
        out.split.test.len(),
        dir.root.display(),
        trained(cfg, &out.train_state),
        dir.root.display()
    ))
}
