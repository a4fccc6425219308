//! `hyperssl experiment`: a model over several seeded label draws and label budgets, beside an
//! RBF SVM on the raw spectra of the same draws; mean ± std of OA, AA and kappa.

use std::path::PathBuf;

use super::scene_args::SceneArgs;
use super::train::TrainOptions;
use hyperssl::data::sampling;
use hyperssl::eval::classifier::ClassifierKind;
use hyperssl::pipeline::baseline::raw_spectra_baseline;
use hyperssl::pipeline::experiment::{summarise, SeedResult, Summary};
use hyperssl::pipeline::run_dir::RunDir;
use hyperssl::pipeline::ModelKind;
use hyperssl::train::atomic;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub scene: SceneArgs,
    #[command(flatten)]
    pub options: TrainOptions,
    /// Number of seeded draws (seeds 0..N).
    #[arg(long, default_value_t = 10)]
    pub seeds: u64,
    /// Labelled pixels per class, one experiment each (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "10")]
    pub budgets: Vec<usize>,
    /// Folder for the per-seed runs and the summary (a killed experiment resumes from it).
    #[arg(long, default_value = "runs/experiment")]
    pub out: PathBuf,
}

/// The model as a table names it: M1 with the classifier fitted on its features; M2 and M1+M2
/// classify with their own q(y|x).
fn model_label(cfg: &hyperssl::pipeline::ExperimentConfig) -> String {
    match cfg.model {
        ModelKind::M1 => format!("m1+{:?}", cfg.classifier).to_lowercase(),
        ModelKind::M2 => "m2".into(),
        ModelKind::M1m2 => "m1+m2".into(),
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let scene = args.scene.load()?;
    args.options.device.check_available()?;
    std::fs::create_dir_all(&args.out)?;
    let mut summaries: Vec<Summary> = Vec::new();
    for &budget in &args.budgets {
        let mut results = Vec::new();
        for seed in 0..args.seeds {
            let mut opts = args.options.clone();
            opts.per_class = Some(budget);
            opts.seed = Some(seed);
            let cfg = opts.config()?;
            let name = format!("{:?}", cfg.model).to_lowercase();
            let root = args.out.join(format!("{name}-pc{budget}-seed{seed}"));
            let dir = RunDir::create(&root, true)?;
            let started = std::time::Instant::now();
            eprintln!("{name}: {budget} labels per class, seed {seed} -> {}", root.display());
            let model = super::run_model::run_metrics(&scene, &cfg, &dir, true, opts.device)?;
            let seconds = started.elapsed().as_secs_f64();
            let split = sampling::split(scene.labels.as_ref().expect("checked by the run"), &cfg.split)?;
            let baseline = raw_spectra_baseline(&scene, &split, &cfg.scaling, ClassifierKind::Svm, seed)?;
            eprintln!(
                "  OA {:.1}% AA {:.1}% kappa {:.3} | raw SVM OA {:.1}% AA {:.1}% | {seconds:.0} s",
                100.0 * model.overall_accuracy,
                100.0 * model.average_accuracy,
                model.kappa,
                100.0 * baseline.overall_accuracy,
                100.0 * baseline.average_accuracy
            );
            results.push(SeedResult { seed, model, baseline, seconds });
        }
        let cfg = args.options.config()?;
        let model_name = model_label(&cfg);
        let s = summarise(&model_name, "svm on raw spectra", budget, &results);
        atomic::write_json(&args.out.join(format!("results-pc{budget}.json")), &(&s, &results))?;
        summaries.push(s);
    }
    let mut table = String::from(Summary::markdown_header());
    table.push('\n');
    for s in &summaries {
        table.push_str(&s.markdown_row());
        table.push('\n');
    }
    atomic::write(&args.out.join("summary.md"), table.as_bytes())?;
    print!("{table}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperssl::pipeline::ExperimentConfig;

    #[test]
    fn tables_name_the_classifier_only_for_m1() {
        let label = |model| model_label(&ExperimentConfig { model, classifier: ClassifierKind::Svm, ..Default::default() });
        assert_eq!(label(ModelKind::M1), "m1+svm");
        assert_eq!(label(ModelKind::M2), "m2");
        assert_eq!(label(ModelKind::M1m2), "m1+m2");
    }
}
