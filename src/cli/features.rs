//! `hyperssl features`: M1 features of every pixel of a scene, as a .npy array
//! (height x width x latent), for other tools.

use std::path::PathBuf;

use super::scene_args::SceneArgs;
use hyperssl::data::readers::npy::write_npy;
use hyperssl::data::{RawArray, Samples};
use hyperssl::pipeline::backend::Cpu;
use hyperssl::pipeline::run_dir::RunDir;
use hyperssl::pipeline::trained::Trained;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Run folder of a trained M1 model.
    #[arg(long)]
    pub run: PathBuf,
    #[command(flatten)]
    pub scene: SceneArgs,
    /// Output .npy file [default: RUN/features.npy].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write the log-variances of q(z|x) next to the means (<out>_logvar.npy).
    #[arg(long)]
    pub logvar: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let dir = RunDir::open(&args.run)?;
    let device = Default::default();
    let trained = Trained::<Cpu>::load(&dir, &device)?;
    let scene = args.scene.load()?;
    let (mu, lv) = trained.m1_features(&scene, &device)?;
    let latent = trained.config.m1.latent;
    let out = args.out.unwrap_or_else(|| dir.root.join("features.npy"));
    let shape = vec![scene.height, scene.width, latent];
    write_npy(&out, &RawArray::new(shape.clone(), Samples::F32(mu)))?;
    println!("{}: {} x {} x {} features (mean of q(z|x))", out.display(), scene.height, scene.width, latent);
    if args.logvar {
        let p = out.with_file_name(format!("{}_logvar.npy", out.file_stem().unwrap_or_default().to_string_lossy()));
        write_npy(&p, &RawArray::new(shape, Samples::F32(lv)))?;
        println!("{}: log-variances", p.display());
    }
    Ok(())
}
