//! `hyperssl experiment`: a model over several seeded label draws and label budgets, beside its
//! controls and baselines on the same draws; mean ± std of OA, AA and kappa for each, and on an
//! image of OA in the regions of the label map that hold a labelled pixel and in the others.
//!
//! On every draw: the model (its regularised class map and, when the regulariser is on, its
//! own pixelwise classes); the same model without the unlabelled bound (M2 and M1+M2), which
//! shows what the unlabelled pixels add; an RBF SVM and logistic regression on the same inputs
//! (spatial features, with and without the regulariser); and the RBF SVM on the raw spectra.
//! A folder of drill-core files read from disk gets the same methods on each corpus run's
//! split, scored pixel by pixel (see [`run_corpus`]).

use std::path::PathBuf;
use std::time::Instant;

use super::run_model::Data;
use super::scene_args::SceneArgs;
use hyperssl::data::corpus::Corpus;
use hyperssl::eval::MrfConfig;
use hyperssl::eval::propagation::PropagationConfig;
use hyperssl::pipeline::corpus_baseline::{corpus_baseline, BaselineInputs};
use super::train::TrainOptions;
use hyperssl::eval::classifier::ClassifierKind;
use hyperssl::pipeline::baseline::{baseline, raw_spectra_baseline};
use hyperssl::pipeline::config::Input;
use hyperssl::pipeline::prepared::prepare_split;
use hyperssl::pipeline::experiment::{summarise, Comparison, MethodResult, SeedResult, Summary};
use hyperssl::pipeline::run_dir::RunDir;
use hyperssl::pipeline::run_lock::RunLock;
use hyperssl::pipeline::{ExperimentConfig, ModelKind};
use hyperssl::atomic::{self, read_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub scene: SceneArgs,
    #[command(flatten)]
    pub options: TrainOptions,
    /// Number of seeded draws (seeds 0..N).
    #[arg(long, default_value_t = 10)]
    pub seeds: u64,
    /// Labelled pixels per class, one experiment each (comma-separated); on a folder read
    /// from disk, each class's cap of training pixels.
    #[arg(long, value_delimiter = ',', default_value = "10")]
    pub budgets: Vec<usize>,
    /// Folder for the per-seed runs and the summary (a killed experiment resumes from it).
    #[arg(long, default_value = "runs/experiment")]
    pub out: PathBuf,
    /// Read a folder of drill-core files from disk as each run trains, whatever its size
    /// (folders larger than memory should hold always are).
    #[arg(long)]
    pub stream: bool,
}

/// The model as a table names it: M1 with the classifier fitted on its features; M2 and M1+M2
/// classify with their own q(y|x); then what it sees.
fn model_label(cfg: &ExperimentConfig) -> String {
    let model = match cfg.model {
        ModelKind::M1 => format!("m1+{:?}", cfg.classifier).to_lowercase(),
        ModelKind::M2 => match cfg.partner {
            Some(partner) => format!("m2+{partner}"),
            None => "m2".into(),
        },
        ModelKind::M1m2 => "m1+m2".into(),
        ModelKind::Classifier => cfg.classifier.to_string(),
    };
    format!("{model} ({})", input_label(cfg.input))
}

fn input_label(input: Input) -> &'static str {
    match input {
        Input::Spectra => "spectra",
        Input::Spatial => "spatial",
    }
}

/// A method's scores on one draw: its regularised class map (None when no regulariser is on),
/// that map without the propagation (None when propagation is off) and its own classes.
struct Scores {
    map: Option<hyperssl::eval::Metrics>,
    without_propagation: Option<hyperssl::eval::Metrics>,
    pixelwise: hyperssl::eval::Metrics,
}

/// Which of a method's maps a row holds.
#[derive(Clone, Copy)]
enum Map {
    /// After every regulariser that is on.
    Regularised,
    /// After the graph cut alone.
    CutOnly,
    /// The classifier's own classes.
    Pixelwise,
}

/// A method's rows, the most regularised map first, named by [`row`].
fn method_rows(label: &str, cfg: &ExperimentConfig, scores: Scores, seconds: f64) -> Vec<MethodResult> {
    let mut rows = Vec::new();
    let mut seconds = Some(seconds);
    // With the cut off, the map without propagation is the classifier's own classes: no row of
    // its own, and none named after a cut that did not run.
    let cut_only = scores.without_propagation.filter(|_| cfg.mrf.is_on());
    for (map, metrics) in [(Map::Regularised, scores.map), (Map::CutOnly, cut_only), (Map::Pixelwise, Some(scores.pixelwise))] {
        if let Some(metrics) = metrics {
            rows.push(MethodResult { method: row(label, cfg, map), metrics, seconds: seconds.take().unwrap_or(0.0) });
        }
    }
    rows
}

/// The name of the row of a method's map: the label with the regularisers that made it.
fn row(label: &str, cfg: &ExperimentConfig, map: Map) -> String {
    let (propagation, cut) = (cfg.propagation.is_on(), cfg.mrf.is_on());
    match map {
        _ if !propagation && !cut => label.to_string(),
        Map::Pixelwise => format!("{label}, pixelwise"),
        Map::Regularised if propagation && cut => format!("{label} + propagation + graph cut"),
        Map::Regularised if propagation => format!("{label} + propagation"),
        Map::Regularised | Map::CutOnly => format!("{label} + graph cut"),
    }
}

/// The per-draw differences every table shows: what the unlabelled bound adds (the model over
/// its labels-only control, both regularised alike); with propagation on, what the unlabelled
/// pixels add in all (the model's map over the control's graph cut alone, which uses no
/// unlabelled pixel); and what the model adds over the SVM on the same spatial features (both
/// pixelwise, so that no regulariser is counted).
fn comparisons(label: &str, cfg: &ExperimentConfig, with_control: bool) -> Vec<Comparison> {
    let control = format!("{label}, labels only");
    let mut out = Vec::new();
    if with_control {
        out.push(Comparison { label: format!("unlabelled bound: {label} − labels only"), method: row(label, cfg, Map::Regularised), reference: row(&control, cfg, Map::Regularised) });
        if cfg.propagation.is_on() && cfg.mrf.is_on() {
            out.push(Comparison { label: format!("unlabelled pixels: {label} + propagation − labels only, graph cut alone"), method: row(label, cfg, Map::Regularised), reference: row(&control, cfg, Map::CutOnly) });
        }
    }
    // The SVM alone as the model is not compared with itself.
    if cfg.input == Input::Spatial && !repeats_the_model(cfg, ClassifierKind::Svm, false) {
        out.push(Comparison { label: format!("{label} − svm (spatial), both pixelwise"), method: row(label, cfg, Map::Pixelwise), reference: row("svm (spatial)", cfg, Map::Pixelwise) });
    }
    out
}

/// Trains (or resumes) the run in `root` and reads back its scores: (class map, pixelwise,
/// seconds). The seconds are those of the session that finished the run, the draw's shared
/// `preparation` included, kept in `seconds.json`, so that an experiment repeated over
/// finished runs (to add a baseline, say) reports the training time, not the time to read the
/// runs back.
fn model_scores(data: Data, cfg: &ExperimentConfig, root: &std::path::Path, device: hyperssl::pipeline::backend::Device, preparation: f64) -> anyhow::Result<(Scores, f64)> {
    let dir = RunDir::create(root, true)?;
    if let Some(stored) = dir.stored_config()? {
        dir.record_changes(&cfg.changes_from(&stored))?;
    }
    let started = Instant::now();
    // A corpus run scores its test pixels one by one: it makes no map of them.
    let maps = matches!(data, Data::Scene(..));
    super::run_model::run(data, cfg, &dir, true, device)?;
    let seconds_file = root.join("seconds.json");
    let seconds = match read_json::<f64>(&seconds_file) {
        Ok(s) => s,
        Err(_) => {
            let s = preparation + started.elapsed().as_secs_f64();
            atomic::write_json(&seconds_file, &s)?;
            s
        }
    };
    let regularised = maps && (cfg.mrf.is_on() || cfg.propagation.is_on());
    let scores = Scores {
        map: if regularised { Some(read_json(&dir.metrics())?) } else { None },
        without_propagation: if maps && cfg.propagation.is_on() { Some(read_json(&dir.metrics_without_propagation())?) } else { None },
        pixelwise: read_json(&dir.metrics_pixelwise())?,
    };
    Ok((scores, seconds))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let scene = match args.scene.checked_corpus()? {
        Some(corpus) if SceneArgs::streams(&corpus, args.stream) => return run_corpus(&args, &corpus),
        Some(corpus) => args.scene.corpus_scene(&corpus)?,
        None => args.scene.load()?,
    };
    over_draws(&args, String::new(), |budget, seed| {
        let mut opts = args.options.clone();
        opts.per_class = Some(budget);
        opts.seed = Some(seed);
        let cfg = opts.config()?;
        eprintln!("{}: {budget} labels per class, seed {seed}", model_label(&cfg));
        // One preparation of the draw (split, scaling, spatial features, seeds) serves every
        // method on it, and so does the first spread of its propagation's graph; each method's
        // time includes the preparation.
        let started = Instant::now();
        let prepared = prepare_split(&scene, &cfg, None)?;
        let draw = Draw { budget, seed, preparation: started.elapsed().as_secs_f64() };
        let (mut methods, compared) = model_rows(&args, Data::Scene(&scene, Some(&prepared)), &cfg, &cfg, draw)?;
        let split = &prepared.split;
        if cfg.input == Input::Spatial {
            // Two classic classifiers on the same features: the SVM, usually the stronger
            // pixelwise, and logistic regression, whose probabilities are a likelihood fit of
            // all classes at once.
            for (kind, name) in [(ClassifierKind::Svm, "svm (spatial)"), (ClassifierKind::LogReg, "logreg (spatial)")] {
                if repeats_the_model(&cfg, kind, false) {
                    continue;
                }
                let started = Instant::now();
                let scores = baseline(&prepared, &cfg, kind)?;
                let scores = Scores { map: scores.regularised, without_propagation: scores.without_propagation, pixelwise: scores.pixelwise };
                methods.extend(method_rows(name, &cfg, scores, draw.preparation + started.elapsed().as_secs_f64()));
            }
        }
        if !repeats_the_model(&cfg, ClassifierKind::Svm, true) {
            let started = Instant::now();
            let raw = raw_spectra_baseline(&scene, split, &cfg)?;
            methods.push(MethodResult { method: "svm (spectra)".into(), metrics: raw, seconds: started.elapsed().as_secs_f64() });
        }
        Ok((methods, compared))
    })
}

/// Whether a baseline classifier of `kind` (on the spectra, or on the model's inputs) is the
/// model itself, the classifier alone fitted on the same pixels: its rows are the model's.
fn repeats_the_model(cfg: &ExperimentConfig, kind: ClassifierKind, on_spectra: bool) -> bool {
    cfg.model == ModelKind::Classifier && cfg.classifier == kind && (!on_spectra || cfg.input == Input::Spectra)
}

/// Every budget's draws (seeds 0..N), each giving its methods' rows and the comparisons to
/// draw from them, summarised per budget in `results-pc{budget}.json` and in `summary.md`
/// under `preface`.
fn over_draws(args: &Args, preface: String, mut draw: impl FnMut(usize, u64) -> anyhow::Result<(Vec<MethodResult>, Vec<Comparison>)>) -> anyhow::Result<()> {
    args.options.device.check_available()?;
    // One experiment per folder: two would resume each other's runs and overwrite the table.
    let _lock = RunLock::acquire(&args.out)?;
    let mut table = format!("{preface}{}\n", Summary::markdown_header());
    let mut notes = String::new();
    for &budget in &args.budgets {
        let mut results = Vec::new();
        let mut compared = Vec::new();
        for seed in 0..args.seeds {
            let methods;
            (methods, compared) = draw(budget, seed)?;
            for m in &methods {
                eprintln!("  {:<40} OA {:.1}% AA {:.1}% kappa {:.3} {:.0} s", m.method, 100.0 * m.metrics.overall_accuracy, 100.0 * m.metrics.average_accuracy, m.metrics.kappa, m.seconds);
            }
            results.push(SeedResult { seed, methods });
        }
        let s = summarise(budget, &results, &compared);
        atomic::write_json(&args.out.join(format!("results-pc{budget}.json")), &(&s, &results))?;
        table.push_str(&s.markdown_rows());
        if let Some(note) = s.region_note() {
            notes.push_str(&format!("\n{note}\n"));
        }
    }
    table.push_str(&notes);
    atomic::write(&args.out.join("summary.md"), table.as_bytes())?;
    print!("{table}");
    Ok(())
}

/// A draw of the experiment, and the seconds its preparation took (shared by its methods, and
/// added to the time of each).
#[derive(Clone, Copy)]
struct Draw {
    budget: usize,
    seed: u64,
    preparation: f64,
}

/// The model's rows on `draw` and, for M2 and M1+M2 with the unlabelled bound on, its
/// labels-only control's, named by `named`'s regularisers; with the comparisons the table
/// draws from them.
fn model_rows(args: &Args, data: Data, cfg: &ExperimentConfig, named: &ExperimentConfig, draw: Draw) -> anyhow::Result<(Vec<MethodResult>, Vec<Comparison>)> {
    let label = model_label(cfg);
    let (budget, seed) = (draw.budget, draw.seed);
    let (scores, seconds) = model_scores(data, cfg, &model_root(args, cfg, "", (budget, seed)), args.options.device, draw.preparation)?;
    let mut methods = method_rows(&label, named, scores, seconds);
    let with_control = matches!(cfg.model, ModelKind::M2 | ModelKind::M1m2) && cfg.unlabelled_weight > 0.0;
    if with_control {
        let control = ExperimentConfig { unlabelled_weight: 0.0, ..cfg.clone() };
        let root = model_root(args, cfg, "-labels-only", (budget, seed));
        let (scores, seconds) = model_scores(data, &control, &root, args.options.device, draw.preparation)?;
        methods.extend(method_rows(&format!("{label}, labels only"), named, scores, seconds));
    }
    Ok((methods, comparisons(&label, named, with_control)))
}

/// The run folder of the model (`variant` "") or its labels-only control ("-labels-only") on
/// the draw `(budget, seed)`.
fn model_root(args: &Args, cfg: &ExperimentConfig, variant: &str, (budget, seed): (usize, u64)) -> PathBuf {
    let model = cfg.model.config_name();
    args.out.join(format!("{model}{variant}-pc{budget}-seed{seed}"))
}

/// The experiment on a folder of drill-core files read from disk as each run trains. A budget
/// is the training pixels each class gives at most (the depth split's cap, `--max-per-class`
/// of a corpus run) and a seed draws the depth blocks' sets; per draw, the model's corpus run,
/// its labels-only control, and the SVM and logistic regression on the run's inputs and the
/// SVM on the scaled spectra, each fitted on the run's training pixels. Every method scores
/// the run's test pixels (held-out depth blocks) one by one: no map is made, so the rows carry
/// no regulariser.
fn run_corpus(args: &Args, corpus: &Corpus) -> anyhow::Result<()> {
    let preface = format!(
        "Drill-core corpus of {} files ({} pixels), read from disk: test pixels of held-out depth blocks, each classified alone (no map, no regulariser).\n\n",
        corpus.files().len(),
        corpus.n_pixels()
    );
    over_draws(args, preface, |budget, seed| {
        let mut opts = args.options.clone();
        opts.max_per_class = Some(budget);
        opts.seed = Some(seed);
        let cfg = opts.config()?;
        // The rows are named as for a run without regulariser: every score is pixelwise.
        let named = ExperimentConfig { mrf: MrfConfig::off(), propagation: PropagationConfig::off(), ..cfg.clone() };
        eprintln!("{}: at most {budget} training pixels per class, seed {seed}", model_label(&cfg));
        let (mut methods, compared) = model_rows(args, Data::Corpus(corpus), &cfg, &named, Draw { budget, seed, preparation: 0.0 })?;
        let dir = RunDir::open(&model_root(args, &cfg, "", (budget, seed)))?;
        let mut baselines = vec![(ClassifierKind::Svm, BaselineInputs::Model, "svm (spatial)"), (ClassifierKind::LogReg, BaselineInputs::Model, "logreg (spatial)")];
        if cfg.input == Input::Spectra {
            baselines.clear();
        }
        baselines.retain(|&(kind, inputs, _)| !repeats_the_model(&cfg, kind, inputs == BaselineInputs::Spectra));
        baselines.push((ClassifierKind::Svm, BaselineInputs::Spectra, "svm (spectra)"));
        for (kind, inputs, method) in baselines {
            let started = Instant::now();
            let metrics = corpus_baseline(corpus, &dir, kind, inputs)?;
            methods.push(MethodResult { method: method.into(), metrics, seconds: started.elapsed().as_secs_f64() });
        }
        Ok((methods, compared))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_name_the_classifier_only_for_m1_and_the_input_always() {
        let label = |model, input| model_label(&ExperimentConfig { model, input, classifier: ClassifierKind::Svm, partner: None, ..Default::default() });
        assert_eq!(label(ModelKind::M1, Input::Spectra), "m1+svm (spectra)");
        assert_eq!(label(ModelKind::M2, Input::Spatial), "m2 (spatial)");
        assert_eq!(label(ModelKind::M1m2, Input::Spatial), "m1+m2 (spatial)");
        // The classifier alone is named as the baseline it repeats, whose rows it replaces.
        assert_eq!(label(ModelKind::Classifier, Input::Spatial), "svm (spatial)");
        let logreg = ExperimentConfig { model: ModelKind::Classifier, classifier: ClassifierKind::LogReg, partner: None, ..Default::default() };
        assert_eq!(model_label(&logreg), "logreg (spatial)");
        // M2 with a partner classifier (the default's) names it.
        assert_eq!(model_label(&ExperimentConfig::default()), "m2+logreg (spatial)");
        let svm = ExperimentConfig { partner: Some(ClassifierKind::Svm), ..Default::default() };
        assert_eq!(model_label(&svm), "m2+svm (spatial)");
    }

    #[test]
    fn only_the_baseline_the_classifier_alone_repeats_is_left_out() {
        let mut cfg = ExperimentConfig { model: ModelKind::Classifier, classifier: ClassifierKind::Svm, ..Default::default() };
        // On spatial features: the SVM on them, not the SVM on the spectra nor logistic regression.
        assert!(repeats_the_model(&cfg, ClassifierKind::Svm, false));
        assert!(!repeats_the_model(&cfg, ClassifierKind::Svm, true) && !repeats_the_model(&cfg, ClassifierKind::LogReg, false));
        cfg.input = Input::Spectra;
        assert!(repeats_the_model(&cfg, ClassifierKind::Svm, true));
        cfg.model = ModelKind::M2;
        assert!(!repeats_the_model(&cfg, ClassifierKind::Svm, true) && !repeats_the_model(&cfg, ClassifierKind::Svm, false));
    }

    #[test]
    fn the_classifier_alone_is_compared_with_the_svm_unless_it_is_the_svm() {
        let mut cfg = ExperimentConfig { model: ModelKind::Classifier, classifier: ClassifierKind::LogReg, ..Default::default() };
        let c = comparisons(&model_label(&cfg), &cfg, false);
        assert_eq!((c.len(), c[0].method.as_str(), c[0].reference.as_str()), (1, "logreg (spatial), pixelwise", "svm (spatial), pixelwise"));
        cfg.classifier = ClassifierKind::Svm;
        assert!(comparisons(&model_label(&cfg), &cfg, false).is_empty());
    }

    #[test]
    fn a_map_made_without_the_graph_cut_has_no_row_named_after_it() {
        let m = hyperssl::eval::evaluate(&[0, 1], &[0, 1], 2).unwrap();
        let scores = || Scores { map: Some(m.clone()), without_propagation: Some(m.clone()), pixelwise: m.clone() };
        let names = |cfg: &ExperimentConfig| method_rows("m", cfg, scores(), 0.0).into_iter().map(|r| r.method).collect::<Vec<_>>();
        let mut cfg = ExperimentConfig::default();
        assert_eq!(names(&cfg), ["m + propagation + graph cut", "m + graph cut", "m, pixelwise"]);
        cfg.mrf.weight = 0.0;
        assert_eq!(names(&cfg), ["m + propagation", "m, pixelwise"]);
    }

    #[test]
    fn comparisons_name_rows_that_the_methods_write() {
        let cfg = ExperimentConfig::default();
        let label = model_label(&cfg);
        let c = comparisons(&label, &cfg, true);
        // The rows with_regulariser writes for the model, the control and the SVM.
        let mut written: Vec<String> = Vec::new();
        for name in [label.clone(), format!("{label}, labels only"), "svm (spatial)".into()] {
            let m = hyperssl::eval::evaluate(&[0, 1], &[0, 1], 2).unwrap();
            let scores = Scores { map: Some(m.clone()), without_propagation: Some(m.clone()), pixelwise: m };
            written.extend(method_rows(&name, &cfg, scores, 0.0).into_iter().map(|r| r.method));
        }
        assert_eq!(c.len(), 3);
        for comparison in &c {
            assert!(written.contains(&comparison.method) && written.contains(&comparison.reference), "{comparison:?} not in {written:?}");
        }
        assert_eq!(c[0].method, "m2+logreg (spatial) + propagation + graph cut");
        assert_eq!(c[1].reference, "m2+logreg (spatial), labels only + graph cut");
        assert_eq!(c[2].reference, "svm (spatial), pixelwise");
        let spectral = ExperimentConfig { model: ModelKind::M2, ..ExperimentConfig::spectral() };
        let c = comparisons(&model_label(&spectral), &spectral, true);
        assert_eq!((c.len(), c[0].method.as_str(), c[0].reference.as_str()), (1, "m2 (spectra)", "m2 (spectra), labels only"));
    }
}
