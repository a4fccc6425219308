//! Writes a synthetic drill-core corpus in the seed layout (`/hsimage/data`, rows x cols x
//! bands of uint16, and `/hsimage/labels`): layers of one mineral class each in depth bands,
//! one class taking most of them, a few percent of the pixels labelled (minerals 1-99 and
//! lithology above 100).
//!
//! `cargo run --release --example make_corpus -- OUT_DIR [--files 4] [--rows 500] [--cols 384]
//! [--bands 268] [--classes 10] [--labelled 0.02] [--dominant 0.8] [--seed 0]`

use hyperssl::data::corpus::synthetic::SyntheticCorpus;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first().filter(|a| !a.starts_with("--")).map(PathBuf::from) else {
        eprintln!("usage: make_corpus OUT_DIR [--files N] [--rows N] [--cols N] [--bands N] [--classes N] [--labelled F] [--dominant F] [--seed N]");
        std::process::exit(2);
    };
    let value = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    fn parsed<T: std::str::FromStr>(name: &str, v: Option<String>, default: T) -> T {
        match v {
            None => default,
            Some(s) => s.parse().unwrap_or_else(|_| {
                eprintln!("error: {name} {s} is not a valid value");
                std::process::exit(2)
            }),
        }
    }
    let d = SyntheticCorpus::default();
    let spec = SyntheticCorpus {
        files: parsed("--files", value("--files"), d.files),
        rows: parsed("--rows", value("--rows"), d.rows),
        cols: parsed("--cols", value("--cols"), d.cols),
        bands: parsed("--bands", value("--bands"), d.bands),
        classes: parsed("--classes", value("--classes"), d.classes),
        labelled_share: parsed("--labelled", value("--labelled"), d.labelled_share),
        dominant_share: parsed("--dominant", value("--dominant"), d.dominant_share),
        seed: parsed("--seed", value("--seed"), d.seed),
        ..d
    };
    let started = Instant::now();
    match spec.write(&out) {
        Ok(paths) => eprintln!("wrote {} files of {} x {} x {} to {} in {:.1} s", paths.len(), spec.rows, spec.cols, spec.bands, out.display(), started.elapsed().as_secs_f64()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
