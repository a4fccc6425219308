//! Streaming a drill-core corpus: peak memory and throughput as the corpus grows.
//!
//! `cargo bench --bench corpus -- [--scales 1,4,16] [--files 2] [--rows 100]`
//!
//! For each scale s, writes s x `files` synthetic files in the drill-core layout (`rows` x 384
//! pixels x 268 bands, uint16) to a temporary folder, then, in a fresh process, fits the scaling
//! chunk by chunk and visits every pixel once in shuffled 16-row chunks. Reported: pixels per
//! second and the process's peak resident memory (VmHWM), which should stay flat as s grows.
//!
//! `cargo bench --bench corpus -- --epoch-draws RUN DIR...` times instead the drawing of a
//! training epoch's unlabelled pixels (with RUN's scaling, spatial features and corpus settings)
//! from each corpus folder: it should not grow with the corpus.

use hyperssl::atomic::read_json;
use hyperssl::data::corpus::epoch_draw::EpochDraw;
use hyperssl::data::corpus::inputs::PixelTransform;
use hyperssl::data::corpus::Corpus;
use hyperssl::data::spatial::SpatialFeatures;
use hyperssl::pipeline::ExperimentConfig;
use hyperssl::data::readers::hdf5::write_core;
use hyperssl::data::scaling::{Scaler, ScalerFitter, ScalingConfig};
use hyperssl::data::{RawArray, Samples};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const COLS: usize = 384;
const BANDS: usize = 268;

fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN) / 1024.0
}

fn write_corpus(dir: &Path, n_files: usize, rows: usize) -> Vec<PathBuf> {
    (0..n_files)
        .map(|f| {
            let values: Vec<u16> = (0..rows * COLS * BANDS).map(|i| (1000 + (i * 7 + f * 13) % 3000) as u16).collect();
            let labels: Vec<u32> = (0..rows * COLS).map(|i| if i % 5 == 0 { (i % 12) as u32 + 1 } else { 0 }).collect();
            let path = dir.join(format!("core{f:03}-labeled.hdf5"));
            write_core(&path, &RawArray::new(vec![rows, COLS, BANDS], Samples::U16(values)), &labels).expect("write fixture");
            path
        })
        .collect()
}

/// One measurement, in its own process so that VmHWM is this corpus's alone.
fn measure(dir: &Path) {
    let started = Instant::now();
    let corpus = Corpus::open(dir).expect("open corpus");
    let mut fitter = ScalerFitter::new(ScalingConfig::default(), corpus.bands()).expect("fitter");
    for chunk in corpus.chunks(16, 0) {
        fitter.update(&chunk.expect("chunk").pixels).expect("fit");
    }
    let scaler = fitter.finish().expect("scaler");
    let mut seen = 0usize;
    for chunk in corpus.chunks(16, 1) {
        let chunk = chunk.expect("chunk");
        let x = scaler.transformed(&chunk.pixels).expect("scale");
        seen += x.len() / corpus.bands();
    }
    assert_eq!(seen, corpus.n_pixels());
    let secs = started.elapsed().as_secs_f64();
    println!("{} {} {:.3} {:.1}", corpus.files().len(), corpus.n_pixels(), secs, peak_mib());
}

/// Seconds to draw and transform each of `epochs` epochs of a run's unlabelled pixels from a
/// corpus, with the run's stored scaling and spatial features and its corpus settings.
fn time_epoch_draws(run: &Path, dir: &Path, epochs: usize) {
    let cfg = ExperimentConfig::from_toml_file(&run.join("config.toml")).expect("config.toml");
    let scaler = Scaler::load(&run.join("scaler.json")).expect("scaler.json");
    let spatial: Option<SpatialFeatures> = run.join("spatial.json").exists().then(|| read_json(&run.join("spatial.json")).expect("spatial.json"));
    let corpus = Corpus::open(dir).expect("open corpus");
    let draw = EpochDraw::new(&corpus, PixelTransform { scaler, spatial }, cfg.corpus.chunk_rows, cfg.corpus.unlabelled_per_epoch, 0);
    let mut secs: Vec<f64> = (0..epochs)
        .map(|e| {
            let started = Instant::now();
            let x = draw.rows(e).expect("draw");
            assert_eq!(x.len(), draw.per_epoch() * draw.dim());
            started.elapsed().as_secs_f64()
        })
        .collect();
    secs.sort_by(f64::total_cmp);
    println!("| {} | {} | {} | {:.2} | {:.2} |", corpus.files().len(), corpus.n_pixels(), draw.per_epoch(), secs[secs.len() / 2], secs[0]);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--epoch-draws") {
        // --epoch-draws RUN DIR [DIR...]: the median draw of 5 epochs on each corpus.
        println!("| files | pixels | pixels an epoch | median s to draw an epoch | fastest s |\n|---:|---:|---:|---:|---:|");
        for dir in args[i + 2..].iter().filter(|a| !a.starts_with("--")) {
            time_epoch_draws(Path::new(&args[i + 1]), Path::new(dir), 5);
        }
        return;
    }
    if let Some(dir) = std::env::args().skip_while(|a| a != "--measure").nth(1) {
        measure(Path::new(&dir));
        return;
    }
    if !std::env::args().any(|a| a == "--bench" || a == "--run") {
        println!("usage: cargo bench --bench corpus -- [--scales 1,4,16] [--files 2] [--rows 100]");
        return;
    }
    let scales: Vec<usize> = arg::<String>("--scales", "1,4,16".into()).split(',').filter_map(|s| s.parse().ok()).collect();
    let files: usize = arg("--files", 2);
    let rows: usize = arg("--rows", 100);
    let me = std::env::current_exe().expect("own path");
    println!("| corpus | files | pixels | seconds (fit scaling + one shuffled pass) | pixels read / s (both passes) | peak MiB |");
    println!("|---|---:|---:|---:|---:|---:|");
    for s in scales {
        let tmp = tempfile::tempdir().expect("temporary folder");
        write_corpus(tmp.path(), s * files, rows);
        let out = Command::new(&me).arg("--measure").arg(tmp.path()).output().expect("run measurement");
        let line = String::from_utf8_lossy(&out.stdout);
        let v: Vec<f64> = line.split_whitespace().filter_map(|t| t.parse().ok()).collect();
        if v.len() != 4 {
            println!("| {s}x | failed: {} |", String::from_utf8_lossy(&out.stderr).trim());
            continue;
        }
        println!("| {s}x | {} | {} | {:.2} | {:.0} | {:.0} |", v[0], v[1], v[2], 2.0 * v[1] / v[2], v[3]);
    }
}
