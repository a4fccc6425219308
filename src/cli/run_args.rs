//! The options of the subcommands that apply a finished run to a scene.

use std::path::PathBuf;

use super::scene_args::SceneArgs;
use hyperssl::data::Scene;
use hyperssl::pipeline::backend::Cpu;
use hyperssl::pipeline::run_dir::RunDir;
use hyperssl::pipeline::trained::Trained;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Run folder of a trained model.
    #[arg(long)]
    pub run: PathBuf,
    /// The scene (default: the embedded scene).
    #[command(flatten)]
    pub scene: SceneArgs,
}

impl RunArgs {
    /// The run folder, its trained model (on the CPU) and the scene.
    pub fn load(&self) -> anyhow::Result<(RunDir, Trained<Cpu>, Scene)> {
        let (dir, trained) = self.trained()?;
        let scene = self.scene.load()?;
        Ok((dir, trained, scene))
    }

    /// The run folder and its trained model (on the CPU).
    pub fn trained(&self) -> anyhow::Result<(RunDir, Trained<Cpu>)> {
        let dir = RunDir::open(&self.run)?;
        let trained = Trained::<Cpu>::load_run(&dir, &Default::default())?;
        Ok((dir, trained))
    }
}
