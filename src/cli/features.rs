//! `hyperssl features`: M1 features of every pixel of a scene, as a .npy array
//! (height x width x latent), for other tools.

use std::path::PathBuf;

use super::run_args::RunArgs;
use hyperssl::data::readers::npy::write_npy;
use hyperssl::data::{RawArray, Samples};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A run with an M1 (m1 or m1m2) and the scene.
    #[command(flatten)]
    pub source: RunArgs,
    /// Output .npy file [default: RUN/features.npy].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write the log-variances of q(z|x) next to the means (<out>_logvar.npy).
    #[arg(long)]
    pub logvar: bool,
    /// Write a sample z ~ q(z|x) (seeded) instead of the mean.
    #[arg(long)]
    pub sample: Option<u64>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (dir, trained, scene) = args.source.load()?;
    let device = Default::default();
    let (mut mu, lv) = trained.m1_features(&scene, &device)?;
    if let Some(seed) = args.sample {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        for (m, v) in mu.iter_mut().zip(&lv) {
            let eps: f32 = rng.sample(rand_distr::StandardNormal);
            *m += (v / 2.0).exp() * eps;
        }
    }
    let latent = trained.config.m1.latent;
    // Into the run folder only while no other process writes it.
    let (out, _dir) = match args.out {
        Some(out) => (out, dir),
        None => (dir.root.join("features.npy"), dir.lock()?),
    };
    let shape = vec![scene.height, scene.width, latent];
    write_npy(&out, &RawArray::new(shape.clone(), Samples::F32(mu)))?;
    let what = if args.sample.is_some() { "a sample of q(z|x)" } else { "mean of q(z|x)" };
    println!("{}: {} x {} x {} features ({what})", out.display(), scene.height, scene.width, latent);
    if args.logvar {
        let p = out.with_file_name(format!("{}_logvar.npy", out.file_stem().unwrap_or_default().to_string_lossy()));
        write_npy(&p, &RawArray::new(shape, Samples::F32(lv)))?;
        println!("{}: log-variances", p.display());
    }
    Ok(())
}
