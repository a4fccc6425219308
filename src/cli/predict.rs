//! `hyperssl predict`: applies a trained run (its stored scaling and model) to a scene of the same
//! sensor and writes the class map and the uncertainty map.

use std::path::PathBuf;

use super::run_args::RunArgs;
use hyperssl::data::readers::envi;
use hyperssl::pipeline::outputs::write_prediction;
use hyperssl::pipeline::run_lock::RunLock;
use hyperssl::report::palette::class_colours;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub source: RunArgs,
    /// Output folder [default: RUN/predict-<scene>].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (dir, trained, scene) = args.source.load()?;
    let device = Default::default();
    let stem = scene.source.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "scene".into());
    let out = args.out.unwrap_or_else(|| dir.root.join(format!("predict-{stem}")));
    // Held until the maps are written: two predictions into one folder would mix their files.
    let _lock = RunLock::acquire(&out)?;
    let (classes, probs) = trained.predict(&scene, &device)?;
    let mut files = write_prediction(&out, &scene, &trained.classes, &classes, &probs)?;
    if envi::find_pair(&scene.source).is_ok() {
        let img = out.join("class_map.img");
        let dense: Vec<u8> = classes.iter().map(|&k| (k + 1).min(255) as u8).collect();
        envi::write_classification(&img, &dense, scene.height, scene.width, &trained.classes.names, &class_colours(trained.classes.names.len()))?;
        files.push(img);
    }
    for f in files {
        println!("{}", f.display());
    }
    Ok(())
}
