//! `hyperssl eval`: scores a trained run on the test pixels it held out.

use super::run_args::RunArgs;
use hyperssl::atomic::write_json;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub source: RunArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (dir, trained, scene) = args.source.load()?;
    // It rewrites the run's metrics.json: not while another process writes the run.
    let dir = dir.lock()?;
    let device = Default::default();
    let metrics = trained.evaluate(&scene, &device)?;
    let names = scene.labels.as_ref().map(|l| l.names.clone()).unwrap_or_default();
    print!("{}", metrics.table(&names));
    // Keep what the run wrote beside the metrics (data, split, config, time); replace the metrics.
    let mut json: serde_json::Value = std::fs::read_to_string(dir.metrics()).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_else(|| serde_json::json!({}));
    if let (Some(obj), serde_json::Value::Object(fresh)) = (json.as_object_mut(), serde_json::to_value(&metrics)?) {
        obj.extend(fresh);
    }
    write_json(&dir.metrics(), &json)?;
    println!("metrics written to {}", dir.metrics().display());
    Ok(())
}
