//! Runs the configured model on the chosen device and renders the summary the user sees.

use hyperssl::data::Scene;
use hyperssl::pipeline::backend::{CpuTrain, Device};
use hyperssl::pipeline::m1_run::run_m1;
use hyperssl::pipeline::run_dir::RunDir;
use hyperssl::eval::metrics::Metrics;
use hyperssl::pipeline::{ExperimentConfig, ModelKind};
use hyperssl::train::atomic::read_json;

use super::train::{progress_bar, report_progress};

/// Runs the model and returns its test metrics (for experiments).
pub fn run_metrics(scene: &Scene, cfg: &ExperimentConfig, dir: &RunDir, resume: bool, device: Device) -> anyhow::Result<Metrics> {
    run(scene, cfg, dir, resume, device)?;
    Ok(read_json(&dir.metrics())?)
}

pub fn run(scene: &Scene, cfg: &ExperimentConfig, dir: &RunDir, resume: bool, device: Device) -> anyhow::Result<String> {
    let bar = progress_bar(cfg.train.epochs);
    let mut progress = report_progress(&bar);
    let names = scene.labels.as_ref().map(|l| l.names.clone()).unwrap_or_default();
    let text = match (cfg.model, device) {
        (ModelKind::M1, Device::Cpu) => {
            let out = run_m1::<CpuTrain>(scene, cfg, Some(dir), resume, &mut progress, &Default::default())?;
            bar.finish_and_clear();
            summary(&out.metrics.table(&names), out.train_state.epochs_done, out.seconds, dir)
        }
        #[cfg(feature = "cuda")]
        (ModelKind::M1, Device::Cuda) => {
            let out = run_m1::<hyperssl::pipeline::backend::GpuTrain>(scene, cfg, Some(dir), resume, &mut progress, &Default::default())?;
            bar.finish_and_clear();
            summary(&out.metrics.table(&names), out.train_state.epochs_done, out.seconds, dir)
        }
        #[cfg(not(feature = "cuda"))]
        (_, Device::Cuda) => unreachable!("checked by Device::check_available"),
    };
    Ok(text)
}

fn summary(table: &str, epochs: usize, seconds: f64, dir: &RunDir) -> String {
    format!("{table}\ntrained {epochs} epochs in {seconds:.1} s; results in {}\n", dir.root.display())
}
