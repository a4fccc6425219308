//! `hyperssl train`, `features` and `eval` end to end on a tiny synthetic scene.

mod common;
use common::{hyperssl, stderr, stdout, write_scene};
use hyperssl::data::readers::npy::{read_npy, write_npy};
use hyperssl::data::{RawArray, Samples};
use std::path::Path;

const TINY: [&str; 12] = ["--epochs", "3", "--hidden", "16", "--latent", "4", "--batch-size", "32", "--per-class", "5", "--classifier", "logreg"];

/// `hyperssl train` with `args` and the tiny model settings.
fn train_tiny(args: &[&str]) -> std::process::Output {
    let mut all = vec!["train"];
    all.extend_from_slice(args);
    all.extend(TINY);
    hyperssl(&all)
}

#[test]
fn train_then_eval_and_features_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let args = ["--model", "m1", img.as_str(), "--labels", lab.as_str(), "--run", run_s];
    let o = train_tiny(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in ["OA", "AA", "kappa", "majority-class baseline"] {
        assert!(out.contains(needle), "{out}");
    }
    for f in ["config.toml", "scaler.json", "split.json", "m1_model.mpk", "m1_checkpoint.bin", "m1_log.csv", "classifier.json", "metrics.json"] {
        assert!(run.join(f).exists(), "{f} missing");
    }
    let trained: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();

    // The same run folder again without --resume is refused, not overwritten.
    let o = train_tiny(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));

    let o = hyperssl(&["eval", "--run", run_s, img.as_str(), "--labels", lab.as_str()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let evaluated: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(trained["overall_accuracy"], evaluated["overall_accuracy"]);
    assert_eq!(trained["confusion"], evaluated["confusion"]);

    let feats = dir.path().join("f.npy");
    let o = hyperssl(&["features", "--run", run_s, img.as_str(), "--out", feats.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let a = read_npy(&feats).unwrap();
    assert_eq!(a.shape, vec![24, 24, 4]);
}

#[test]
fn same_seed_same_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let mut metrics = Vec::new();
    for name in ["a", "b"] {
        let run = dir.path().join(name);
        // The default model: M2 on spatial features, its map regularised.
        let o = train_tiny(&[img.as_str(), "--labels", lab.as_str(), "--seed", "4", "--run", run.to_str().unwrap(), "--m2-hidden", "16"]);
        assert!(o.status.success(), "{}", stderr(&o));
        // Everything but the wall-clock time must agree.
        let mut m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
        m.as_object_mut().unwrap().remove("seconds");
        metrics.push(m.to_string());
        let log = std::fs::read_to_string(run.join("m2_log.csv")).unwrap();
        metrics.push(log.lines().map(|l| l.split(',').nth(3).unwrap_or("").to_string()).collect::<Vec<_>>().join(";"));
    }
    assert_eq!(metrics[0], metrics[2], "metrics differ between identical runs");
    assert_eq!(metrics[1], metrics[3], "validation bounds differ between identical runs");
    let model = |name: &str| std::fs::read(dir.path().join(name).join("m2_model.mpk")).unwrap();
    assert!(model("a") == model("b"), "identical runs wrote different model files");
}

#[test]
fn nan_in_the_scene_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), true);
    let o = train_tiny(&[img.as_str(), "--labels", lab.as_str(), "--run", dir.path().join("r").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("scene.npy") && err.contains("NaN"), "{err}");
}

/// Trains with `extra` options and checks the run is refused before it starts: exit status 2,
/// `needle` in the error, no run folder.
fn assert_refused(extra: &[&str], needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let run = dir.path().join("r");
    let mut args = vec![img.as_str(), "--labels", lab.as_str(), "--run", run.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = train_tiny(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(needle) && !run.exists(), "{}", stderr(&o));
}

#[test]
fn a_non_positive_initial_noise_is_refused() {
    assert_refused(&["--initial-noise", "0"], "initial_noise");
}

#[test]
fn an_empty_labelled_batch_is_refused() {
    assert_refused(&["--model", "m2", "--labelled-batch", "0"], "--labelled-batch");
}

#[test]
fn a_negative_alpha_is_refused() {
    assert_refused(&["--model", "m2", "--alpha=-1"], "alpha (--alpha) must be a non-negative number");
}

#[test]
fn scene_without_labels_cannot_train() {
    let dir = tempfile::tempdir().unwrap();
    let (img, _) = write_scene(dir.path(), false);
    let o = hyperssl(&["train", img.as_str(), "--run", dir.path().join("r").to_str().unwrap(), "--epochs", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--labels"), "{}", stderr(&o));
}

#[test]
fn m2_and_m1m2_train_and_evaluate_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    for model in ["m2", "m1m2"] {
        let run = dir.path().join(model);
        let run_s = run.to_str().unwrap();
        let o = train_tiny(&["--model", model, img.as_str(), "--labels", lab.as_str(), "--run", run_s, "--m2-hidden", "16"]);
        assert!(o.status.success(), "{model}: {}", stderr(&o));
        assert!(run.join("m2_model.mpk").exists() && run.join("m2_log.csv").exists());
        assert_eq!(model == "m1m2", run.join("m1m2_features.json").exists());
        let trained = std::fs::read_to_string(run.join("metrics.json")).unwrap();
        let o = hyperssl(&["eval", "--run", run_s, img.as_str(), "--labels", lab.as_str()]);
        assert!(o.status.success(), "{model}: {}", stderr(&o));
        let evaluated = std::fs::read_to_string(run.join("metrics.json")).unwrap();
        assert_eq!(trained, evaluated, "{model}: eval must reproduce the run's metrics");
    }
}

#[test]
fn run_writes_pictures_and_predict_reproduces_its_map() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let o = train_tiny(&["--model", "m1", "--input", "spectra", img.as_str(), "--labels", lab.as_str(), "--run", run_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for f in ["class_map.png", "ground_truth.png", "errors.png", "uncertainty.png", "spectra.png", "learning_curves_m1.png", "report.md", "class_map.npy"] {
        assert!(run.join(f).exists(), "{f} missing");
        if f != "class_map.npy" {
            assert!(out.contains(run.join(f).to_str().unwrap()), "the path of {f} is printed: {out}");
        }
    }
    // The class map is the scene upscaled, with a legend beside it; its colours follow the labels.
    let map = image::open(run.join("class_map.png")).unwrap().to_rgb8();
    assert!(map.width() > 24 * 4 && map.height() >= 24 * 4);
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(report.contains("kappa") && report.contains("class_map.png"), "{report}");

    let pred = predict_repeats_the_map(&run, &img, dir.path());
    assert!(pred.join("class_map.png").exists() && pred.join("uncertainty.png").exists());
}

/// Runs `predict` of `run` on `img` into `dir/pred`, checks that it gives the run's 24 x 24 class
/// map pixel for pixel and its uncertainty, and returns that folder.
fn predict_repeats_the_map(run: &Path, img: &str, dir: &Path) -> std::path::PathBuf {
    let pred = dir.join("pred");
    let o = hyperssl(&["predict", "--run", run.to_str().unwrap(), img, "--out", pred.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let a = read_npy(&run.join("class_map.npy")).unwrap();
    let b = read_npy(&pred.join("class_map.npy")).unwrap();
    assert_eq!(a.shape, vec![24, 24]);
    assert_eq!(a, b, "predict must reproduce the run's map pixel for pixel");
    let (a, b) = (uncertainty(run), uncertainty(&pred));
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5), "predict must repeat the run's uncertainty");
    pred
}

/// The uncertainty map a run or a prediction wrote in `dir`.
fn uncertainty(dir: &Path) -> Vec<f32> {
    match read_npy(&dir.join("uncertainty.npy")).unwrap().samples {
        Samples::F32(v) => v,
        other => panic!("uncertainty.npy holds {other:?}"),
    }
}

/// The uncertainty map is that of the map's own decision: where label propagation weighs the
/// classifier's probabilities, the map's uncertainty is theirs, lower on this scene of three
/// clean stripes where the labelled pixels agree with the classifier; without propagation it is
/// the classifier's.
#[test]
fn the_uncertainty_map_is_that_of_the_probabilities_propagation_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    let mut runs = Vec::new();
    for (name, neighbours) in [("alone", "0"), ("propagated", "10")] {
        let run = dir.path().join(name);
        let args = ["--model", "classifier", "--mrf-weight", "0", "--propagation-neighbours", neighbours, "--run", run.to_str().unwrap()];
        let o = train_tiny(&[&[img.as_str(), "--labels", lab.as_str()][..], &args[..]].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        runs.push(uncertainty(&run));
    }
    let (alone, propagated) = (&runs[0], &runs[1]);
    assert_eq!(alone.len(), 24 * 24);
    assert!(propagated.iter().all(|u| (0.0..=1.0).contains(u)));
    assert!(mean(propagated) < 0.9 * mean(alone), "propagated {} against the classifier's {}", mean(propagated), mean(alone));
    predict_repeats_the_map(&dir.path().join("propagated"), &img, dir.path());
}

/// The default model reads spatial features and regularises its map (propagation, graph cut);
/// `predict` must fit nothing again (it reads `spatial.json` and `seeds.json`) and repeat the
/// run's regularised map.
#[test]
fn the_default_model_stores_its_spatial_features_and_predict_repeats_its_map() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let o = train_tiny(&[img.as_str(), "--labels", lab.as_str(), "--run", run_s, "--m2-hidden", "16"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["spatial.json", "seeds.json", "m2_model.mpk", "metrics_pixelwise.json", "metrics_without_propagation.json", "class_map.npy"] {
        assert!(run.join(f).exists(), "{f} missing");
    }
    predict_repeats_the_map(&run, &img, dir.path());
}

/// Covariance descriptors in the propagation's graph alone: the labelled pixels stored as the
/// graph's nodes carry them, and `predict` repeats the map.
#[test]
fn graph_only_descriptors_are_stored_with_the_seeds_and_predict_repeats_the_map() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let o = train_tiny(&[img.as_str(), "--labels", lab.as_str(), "--run", run_s, "--m2-hidden", "16", "--covariance-components", "3", "--covariance-in", "graph"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json = |f: &str| -> serde_json::Value { serde_json::from_str(&std::fs::read_to_string(run.join(f)).unwrap()).unwrap() };
    let (spatial, seeds) = (json("spatial.json"), json("seeds.json"));
    assert_eq!(spatial["config"]["covariance"]["graph_only"], true);
    // 8 bands give 8 components, each with 2 box and 3 edge-aware means; the default's profiles
    // (an opening and a closing of 4 components from 4 disks); then 3 x 4 / 2 descriptors.
    let graph = 8 * 6 + 2 * 4 * 4 + 6;
    assert_eq!(spatial["mean"].as_array().unwrap().len(), graph);
    let n_seeds = seeds["classes"].as_array().unwrap().len();
    assert!(n_seeds >= 15);
    assert_eq!(seeds["inputs"].as_array().unwrap().len(), n_seeds * graph);
    assert!(std::fs::read_to_string(run.join("config.toml")).unwrap().contains("graph_only = true"));
    predict_repeats_the_map(&run, &img, dir.path());
}

/// Morphological profiles of another number of components than the default's: stored with the
/// run's settings, as wide as asked, and `predict`, whose tiles read the rows the profiles
/// reach, repeats the map.
#[test]
fn morphological_profiles_are_stored_with_the_features_and_predict_repeats_the_map() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let run = dir.path().join("run");
    let o = train_tiny(&[img.as_str(), "--labels", lab.as_str(), "--run", run.to_str().unwrap(), "--m2-hidden", "16", "--morphology-components", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let spatial: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("spatial.json")).unwrap()).unwrap();
    assert_eq!(spatial["config"]["morphology"]["components"], 2);
    // 8 components with their 5 means, an opening and a closing of 2 components from 4 disks,
    // then the 8 x 9 / 2 descriptors.
    assert_eq!(spatial["mean"].as_array().unwrap().len(), 8 * 6 + 2 * 2 * 4 + 36);
    assert!(std::fs::read_to_string(run.join("config.toml")).unwrap().contains("[spatial.morphology]"));
    predict_repeats_the_map(&run, &img, dir.path());
}

/// The default's models read covariance descriptors of 20 components (here all 8 there are)
/// beside the other spatial features and the morphological profiles of 4; with `--covariance-in graph` only the propagation's graph
/// reads them, and the model is the one trained without them, byte for byte.
#[test]
fn the_default_model_reads_the_descriptors_and_in_the_graph_alone_they_leave_it_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let run = |name: &str, extra: &[&str]| {
        let run = dir.path().join(name);
        let mut args = vec![img.as_str(), "--labels", lab.as_str(), "--run", run.to_str().unwrap(), "--m2-hidden", "16"];
        args.extend_from_slice(extra);
        let o = train_tiny(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        run
    };
    let default = run("default", &[]);
    let graph = run("graph", &["--covariance-in", "graph"]);
    let without = run("without", &["--covariance-components", "0"]);
    let read = |run: &Path, f: &str| std::fs::read(run.join(f)).unwrap();
    let json = |run: &Path, f: &str| -> serde_json::Value { serde_json::from_slice(&read(run, f)).unwrap() };
    let width = |run: &Path| json(run, "spatial.json")["mean"].as_array().unwrap().len();
    // 8 components, each with 2 box and 3 edge-aware means; an opening and a closing of 4
    // components from 4 disks; then the 8 x 9 / 2 descriptors.
    let (means, profiles) = (8 * 6, 2 * 4 * 4);
    assert_eq!((width(&default), width(&graph), width(&without)), (means + profiles + 36, means + profiles + 36, means + profiles));
    assert_eq!(json(&default, "spatial.json")["config"]["morphology"]["components"], 4);
    assert_eq!(json(&default, "spatial.json")["config"]["covariance"]["graph_only"], false);
    assert_ne!(read(&default, "m2_model.mpk"), read(&without, "m2_model.mpk"));
    assert_eq!(read(&graph, "m2_model.mpk"), read(&without, "m2_model.mpk"));
    assert_eq!(read(&graph, "metrics_pixelwise.json"), read(&without, "metrics_pixelwise.json"));
    // Every run stores the same labelled pixels as the graph's nodes, each a row of its graph.
    let rows = |run: &Path| json(run, "seeds.json")["inputs"].as_array().unwrap().len() / width(run);
    assert_eq!((rows(&default), rows(&graph)), (rows(&without), rows(&without)));
}

#[test]
fn predict_refuses_a_scene_with_other_bands() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let run = dir.path().join("run");
    assert!(train_tiny(&[img.as_str(), "--labels", lab.as_str(), "--run", run.to_str().unwrap()]).status.success());
    let other = dir.path().join("other.npy");
    write_npy(&other, &RawArray::new(vec![4, 4, 5], Samples::F32(vec![1.0; 80]))).unwrap();
    let o = hyperssl(&["predict", "--run", run.to_str().unwrap(), other.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("other.npy") && err.contains("8 bands") && err.contains("5"), "{err}");
}

#[test]
fn metrics_json_holds_the_report_facts() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let run = dir.path().join("run");
    assert!(train_tiny(&[img.as_str(), "--labels", lab.as_str(), "--run", run.to_str().unwrap()]).status.success());
    let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    for key in ["overall_accuracy", "average_accuracy", "kappa", "majority_baseline", "confusion", "data", "splits", "config", "seconds", "images"] {
        assert!(m.get(key).is_some(), "metrics.json lacks {key}: {m}");
    }
    assert_eq!(m["splits"]["labelled train"], 15);
    assert!(m["images"].as_array().unwrap().iter().any(|v| v == "class_map.png"));
    // The test pixels by region add up to the test set and the OA.
    let r = &m["regions"];
    let count = |key: &str| r[key].as_u64().unwrap_or_else(|| panic!("regions.{key} missing: {m}")) as f64;
    assert_eq!(count("test_in_labelled") + count("test_elsewhere"), m["n"].as_f64().unwrap());
    let oa = (count("correct_in_labelled") + count("correct_elsewhere")) / m["n"].as_f64().unwrap();
    assert!((oa - m["overall_accuracy"].as_f64().unwrap()).abs() < 1e-12, "{m}");
    assert!(count("labelled_regions") >= 1.0 && count("labelled_regions") <= count("regions"));
}

/// `--resume` with more epochs extends a finished run to what a fresh run of that length gives;
/// for M1+M2 the longer M1 gives new features, so M2 is trained again from the start.
#[test]
fn resume_with_more_epochs_equals_a_longer_run() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    // Each log without its time column, one row per epoch.
    let train = |name: &str, epochs: &str, resume: bool| {
        let run = dir.path().join(name);
        let mut args = vec!["train", "--model", "m1m2", img.as_str(), "--labels", lab.as_str(), "--run", run.to_str().unwrap(), "--m2-hidden", "16"];
        // TINY without its epochs.
        args.extend(&TINY[2..]);
        args.extend(["--epochs", epochs, "--eval-every", "1"]);
        if resume {
            args.push("--resume");
        }
        let o = hyperssl(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let rows = |log: &str| -> Vec<String> {
            let text = std::fs::read_to_string(run.join(log)).unwrap();
            text.lines().skip(1).map(|l| l.split(',').enumerate().filter(|(i, _)| *i != 1).map(|(_, v)| v).collect::<Vec<_>>().join(",")).collect()
        };
        (rows("m1_log.csv"), rows("m2_log.csv"), read_npy(&run.join("class_map.npy")).unwrap())
    };
    let short = train("a", "2", false);
    assert_eq!((short.0.len(), short.1.len()), (2, 2));
    let extended = train("a", "4", true);
    let fresh = train("b", "4", false);
    assert_eq!(extended.0, fresh.0, "M1 extended by two epochs must train as a fresh 4-epoch M1");
    assert_eq!(extended.1, fresh.1, "M2 must be trained again on the longer M1's features");
    assert_eq!(extended.2, fresh.2);
}

/// `experiment` on an image scores every method by region too: the table has the two region
/// columns and a line on the share, and the model's numbers are those of its run's metrics.json.
#[test]
fn an_experiment_on_an_image_scores_each_method_by_region() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let out = dir.path().join("experiment");
    let mut args = vec!["experiment", img.as_str(), "--labels", lab.as_str(), "--seeds", "1", "--budgets", "5", "--out", out.to_str().unwrap()];
    args.extend(TINY.iter().filter(|a| !["--per-class", "5"].contains(a)));
    let o = hyperssl(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("| OA % in labelled regions | OA % elsewhere |"), "{summary}");
    assert!(summary.contains("\n5 labels/class: ") && summary.contains("of the test pixels lie in labelled regions"), "{summary}");
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("m2-pc5-seed0/metrics.json")).unwrap()).unwrap();
    let r = &run["regions"];
    let oa_in = r["correct_in_labelled"].as_f64().unwrap() / r["test_in_labelled"].as_f64().unwrap();
    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("results-pc5.json")).unwrap()).unwrap();
    let model = &results[0]["methods"][0];
    assert_eq!(model["method"], "m2+logreg (spatial) + propagation + graph cut");
    assert!((model["oa_in_labelled_regions"]["mean"].as_f64().unwrap() - oa_in).abs() < 1e-12, "{model} against {r}");
    // Every method of the draw, the baselines included, is scored by region on the same pixels.
    for m in results[1][0]["methods"].as_array().unwrap() {
        assert_eq!(m["metrics"]["regions"]["test_in_labelled"], r["test_in_labelled"], "{}", m["method"]);
    }
}

/// The classifier alone: fitted without a training loop, stored as `classifier.json` beside the
/// spatial features, and `predict` repeats its regularised map; in `experiment` its rows take
/// the place of the baseline it repeats, with no labels-only control.
#[test]
fn the_classifier_alone_fits_predicts_its_map_and_takes_its_baselines_place_in_an_experiment() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let run = dir.path().join("run");
    let o = hyperssl(&["train", img.as_str(), "--labels", lab.as_str(), "--run", run.to_str().unwrap(), "--model", "classifier", "--classifier", "logreg", "--per-class", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("fitted logreg in"), "{}", stdout(&o));
    assert!(run.join("classifier.json").exists() && run.join("spatial.json").exists());
    assert!(!run.join("m2_model.mpk").exists());
    assert!(std::fs::read_to_string(run.join("report.md")).unwrap().contains("LogReg on "));
    predict_repeats_the_map(&run, &img, dir.path());

    let out = dir.path().join("experiment");
    let o = hyperssl(&["experiment", img.as_str(), "--labels", lab.as_str(), "--seeds", "1", "--budgets", "5", "--out", out.to_str().unwrap(), "--model", "classifier", "--classifier", "logreg"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("results-pc5.json")).unwrap()).unwrap();
    let methods: Vec<&str> = results[1][0]["methods"].as_array().unwrap().iter().map(|m| m["method"].as_str().unwrap()).collect();
    let logreg: Vec<&&str> = methods.iter().filter(|m| m.starts_with("logreg (spatial)")).collect();
    assert_eq!(logreg, [&"logreg (spatial) + propagation + graph cut", &"logreg (spatial) + graph cut", &"logreg (spatial), pixelwise"], "{methods:?}");
    assert!(methods.contains(&"svm (spatial), pixelwise") && !methods.iter().any(|m| m.contains("labels only")), "{methods:?}");
    // The model's row is its run folder's map, on the draw `train` made with the same seed.
    let stored = |root: &Path| -> f64 { serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(root.join("metrics.json")).unwrap()).unwrap()["overall_accuracy"].as_f64().unwrap() };
    assert_eq!(results[1][0]["methods"][0]["metrics"]["overall_accuracy"].as_f64().unwrap(), stored(&out.join("classifier-pc5-seed0")));
    assert_eq!(stored(&out.join("classifier-pc5-seed0")), stored(&run));
}

/// M2 with a partner classifier (the default's logistic regression): `train` stores it beside
/// M2 and names it in the report, `predict` repeats the map made from both, `experiment` names
/// the model with it, `--partner none` leaves it out; asking a partner of another model is one
/// line and exit 2.
#[test]
fn m2_with_a_partner_stores_it_predicts_its_map_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let run = dir.path().join("run");
    let mut args = vec!["train", img.as_str(), "--labels", lab.as_str(), "--run", run.to_str().unwrap(), "--partner", "logreg"];
    args.extend(TINY);
    let o = hyperssl(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(run.join("classifier.json").exists() && run.join("m2_model.mpk").exists());
    assert!(std::fs::read_to_string(run.join("report.md")).unwrap().contains("M2 with LogReg on "));
    assert!(std::fs::read_to_string(run.join("config.toml")).unwrap().contains("partner = \"logreg\""));
    predict_repeats_the_map(&run, &img, dir.path());

    let out = dir.path().join("experiment");
    let mut args = vec!["experiment", img.as_str(), "--labels", lab.as_str(), "--seeds", "1", "--budgets", "5", "--out", out.to_str().unwrap(), "--partner", "logreg"];
    args.extend(TINY.iter().filter(|a| !["--per-class", "5"].contains(a)));
    let o = hyperssl(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("| m2+logreg (spatial) + propagation + graph cut |") && summary.contains("| m2+logreg (spatial), labels only, pixelwise |"), "{summary}");

    let alone = dir.path().join("alone");
    let mut args = vec!["train", img.as_str(), "--labels", lab.as_str(), "--run", alone.to_str().unwrap(), "--partner", "none"];
    args.extend(TINY);
    let o = hyperssl(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!alone.join("classifier.json").exists() && alone.join("m2_model.mpk").exists());
    assert!(std::fs::read_to_string(alone.join("report.md")).unwrap().contains("M2 on "));

    let o = hyperssl(&["train", img.as_str(), "--labels", lab.as_str(), "--run", dir.path().join("m1").to_str().unwrap(), "--model", "m1", "--partner", "svm"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("takes model = m2"), "{}", stderr(&o));
}
