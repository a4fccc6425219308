//! Command-line parsing and dispatch; one file per subcommand.

mod eval;
mod experiment;
mod features;
mod flags;
mod inspect;
mod paper_mnist;
mod predict;
mod run_args;
mod run_model;
mod scene_args;
mod stderr_log;
mod train;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "hyperssl",
    version,
    about = "Semi-supervised classification of hyperspectral pixels with deep generative models (M1, M2, M1+M2)",
    long_about = "Semi-supervised classification of hyperspectral pixels with the deep generative models of \
                  Kingma et al. (2014). Without a subcommand, trains the default model on the embedded \
                  Indian Pines scene and writes the run folder (resuming it if it is already there)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Describe a scene: shape, value range, NaN/inf, class histogram.
    Inspect(inspect::Args),
    /// Train a model on a scene and evaluate it on held-out labelled pixels.
    Train(train::Args),
    /// Write the M1 features of every pixel of a scene as .npy.
    Features(features::Args),
    /// Apply a trained run to a scene: class map and uncertainty map (PNG, .npy, ENVI).
    Predict(predict::Args),
    /// Score a trained run on its test pixels.
    Eval(eval::Args),
    /// Repeat a run over seeded label draws and budgets, beside its labels-only control and SVMs on the same draws.
    Experiment(experiment::Args),
    /// The paper's MNIST benchmark (M2 or M1+M2 with 100/600/1000/3000 labels).
    PaperMnist(paper_mnist::Args),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    stderr_log::install();
    let result = match cli.command {
        Some(Command::Inspect(args)) => inspect::run(args),
        Some(Command::Train(args)) => train::run(args),
        Some(Command::Features(args)) => features::run(args),
        Some(Command::Eval(args)) => eval::run(args),
        Some(Command::Predict(args)) => predict::run(args),
        Some(Command::Experiment(args)) => experiment::run(args),
        Some(Command::PaperMnist(args)) => paper_mnist::run(args),
        None => train::run(train::Args::demo()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line of text whatever the error quotes (a path, a file's bytes).
            eprintln!("hyperssl: error: {}", hyperssl::error::printable(&flags::with_flags(&format!("{e:#}"))));
            ExitCode::from(2)
        }
    }
}
