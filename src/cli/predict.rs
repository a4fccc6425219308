//! `hyperssl predict`: applies a trained run (its stored scaling and model) to a scene of the same
//! sensor and writes the class map and the uncertainty map.

use std::path::PathBuf;

use super::run_args::RunArgs;
use hyperssl::data::readers::envi;
use hyperssl::data::corpus::Corpus;
use hyperssl::pipeline::corpus_predict::{predict_file, summarise, Shard};
use hyperssl::pipeline::outputs::{write_envi_map, write_prediction, Prediction};
use hyperssl::pipeline::run_lock::RunLock;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub source: RunArgs,
    /// Output folder [default: RUN/predict-<scene>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Folder of drill-core files: predict only share I of N of its files (0 <= I < N; the
    /// files at positions I, I + N, ...), for N machines under a job-array scheduler.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Folder of drill-core files: predict nothing; draw the overview and the table of every
    /// file predicted so far into --out (after the shards have run).
    #[arg(long)]
    pub merge: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(corpus) = args.source.scene.checked_corpus()? {
        return run_corpus(&args, &corpus);
    }
    if args.shard.is_some() || args.merge {
        anyhow::bail!("--shard and --merge apply to a folder of drill-core files");
    }
    let (dir, trained, scene) = args.source.load()?;
    let device = Default::default();
    let stem = scene.source.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "scene".into());
    let out = args.out.unwrap_or_else(|| dir.root.join(format!("predict-{stem}")));
    // Held until the maps are written: two predictions into one folder would mix their files.
    let _lock = RunLock::acquire(&out)?;
    let (map, probs) = trained.predict_map(&scene, &device)?;
    // The uncertainty shown is that of the map's own decision.
    let mut files = write_prediction(&out, &scene, &trained.classes, Prediction { classes: &map.classes, probabilities: map.probabilities(&probs) })?;
    if envi::find_pair(&scene.source).is_ok() {
        let img = out.join("class_map.img");
        write_envi_map(&img, (scene.height, scene.width), &trained.classes, &map.classes)?;
        files.push(img);
    }
    for f in files {
        println!("{}", f.display());
    }
    Ok(())
}

/// Predicts the files of a folder (or this shard's share of them), one folder of maps per file,
/// then the overview and the table when the whole list is done here or --merge asks for them.
fn run_corpus(args: &Args, corpus: &Corpus) -> anyhow::Result<()> {
    let (dir, trained) = args.source.trained()?;
    let device = Default::default();
    let shard: Shard = args.shard.as_deref().map(str::parse).transpose()?.unwrap_or(Shard::WHOLE);
    let name = args.source.scene.corpus_name();
    let out = args.out.clone().unwrap_or_else(|| dir.root.join(format!("predict-{name}")));
    let mine = shard.of(corpus.files());
    if !args.merge {
        for (i, file) in mine.iter().enumerate() {
            eprintln!("predicting {} ({} of {}, {} x {} pixels)", file.path.display(), i + 1, mine.len(), file.rows, file.cols);
            let (_, files) = predict_file(&trained, file, &out, &device)?;
            for f in files {
                println!("{}", f.display());
            }
        }
    }
    if args.merge || shard == Shard::WHOLE {
        let _lock = RunLock::acquire(&out)?;
        let all: Vec<PathBuf> = corpus.files().iter().map(|f| f.path.clone()).collect();
        let (files, missing) = summarise(&out, &all, &trained.classes)?;
        for f in files {
            println!("{}", f.display());
        }
        if !missing.is_empty() {
            log::warn!("{} of the {} files have no prediction in {} yet; the overview shows the others", missing.len(), all.len(), out.display());
        }
    }
    Ok(())
}
