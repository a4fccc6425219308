//! A folder of drill-core files read from disk as training goes, and predicted file by file,
//! shared out among shards and merged.

mod common;
use common::{hyperssl, stderr, stdout};
use hyperssl::data::corpus::synthetic::SyntheticCorpus;
use hyperssl::data::readers::npy::read_npy;
use hyperssl::data::Samples;
use std::path::Path;

/// Settings of a small, fast run on a small corpus.
const SMALL_CONFIG: &str = r#"
[m2]
hidden_classifier = [8]
hidden_encoder = [8]
hidden_decoder = [8]
latent = 2

[spatial]
components = 3
box_windows = [3]
edge_radii = [1, 2]

[train]
epochs = 2
batch_size = 64

[corpus]
block_rows = 6
unlabelled_per_epoch = 300
chunk_rows = 5
"#;

/// Three cores of 60 rows in `dir`, and the small configuration beside them.
fn small_corpus(dir: &Path) -> (String, String) {
    let cores = dir.join("cores");
    SyntheticCorpus { files: 3, rows: 60, cols: 8, bands: 10, classes: 3, labelled_share: 0.2, dominant_share: 0.5, layer_rows: (3, 12), ..Default::default() }.write(&cores).unwrap();
    let config = dir.join("small.toml");
    std::fs::write(&config, SMALL_CONFIG).unwrap();
    (cores.to_str().unwrap().to_string(), config.to_str().unwrap().to_string())
}

fn class_map(path: &Path) -> Vec<u32> {
    match read_npy(path).unwrap().samples {
        Samples::U32(v) => v,
        other => panic!("{}: {:?}", path.display(), other.dtype()),
    }
}

/// The class map of one file of the corpus predicted on its own (read whole into memory), in a
/// folder of its own under `dir`.
fn predicted_alone(dir: &Path, run: &str, cores: &str, stem: &str) -> Vec<u32> {
    let out = dir.join(format!("alone-{stem}"));
    let file = Path::new(cores).join(format!("{stem}.hdf5"));
    let o = hyperssl(&["predict", "--run", run, file.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    class_map(&out.join("class_map.npy"))
}

#[test]
fn a_corpus_trains_from_disk_and_shards_predict_what_one_file_predicts_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (cores, config) = small_corpus(dir.path());
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let o = hyperssl(&["train", &cores, "--stream", "--config", &config, "--run", run_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("read from disk as it goes"), "{}", stderr(&o));
    assert!(stdout(&o).contains("depth blocks"), "{}", stdout(&o));
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(report.contains("depth blocks of 6 rows"), "{report}");

    // Two shards, then the merge: every file gets its folder, the overview shows all three.
    let out = dir.path().join("maps");
    let out_s = out.to_str().unwrap();
    for shard in ["0/2", "1/2"] {
        let o = hyperssl(&["predict", "--run", run_s, &cores, "--out", out_s, "--shard", shard]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(!out.join("overview.png").exists(), "a shard drew the overview");
    }
    let o = hyperssl(&["predict", "--run", run_s, &cores, "--out", out_s, "--merge"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut table = csv::Reader::from_path(out.join("files.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = table.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        let counts: usize = row.iter().skip(4).map(|v| v.parse::<usize>().unwrap()).sum();
        assert_eq!(counts, 60 * 8, "{row:?}");
    }
    assert!(out.join("overview.png").exists() && out.join("report.md").exists());
    for stem in ["core000-labeled", "core001-labeled", "core002-labeled"] {
        for f in ["class_map.npy", "uncertainty.npy", "class_map.png", "class_map.img", "class_map.hdr", "summary.json"] {
            assert!(out.join(stem).join(f).exists(), "{stem}/{f} missing");
        }
    }

    // The same file predicted alone, read whole into memory, gives the same map.
    let streamed = class_map(&out.join("core001-labeled/class_map.npy"));
    assert_eq!(streamed, predicted_alone(dir.path(), run_s, &cores, "core001-labeled"));
    assert!(streamed.iter().all(|&v| (1..=3).contains(&v)), "stored label values expected");

    // Resuming to more epochs continues on the same files.
    let o = hyperssl(&["train", &cores, "--stream", "--run", run_s, "--resume", "--epochs", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("trained 3 epochs"), "{}", stdout(&o));
}

#[test]
fn a_damaged_file_is_named_before_training_or_skipped_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (cores, config) = small_corpus(dir.path());
    let bad = Path::new(&cores).join("core001-labeled.hdf5");
    let bytes = std::fs::read(&bad).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let run = dir.path().join("run");
    let o = hyperssl(&["train", &cores, "--stream", "--config", &config, "--run", run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("core001-labeled.hdf5") && err.lines().count() == 1, "{err}");
    assert!(!run.join("m2_model.mpk").exists());

    let o = hyperssl(&["train", &cores, "--stream", "--skip-bad-files", "--config", &config, "--run", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("skipped") && err.contains("core001-labeled.hdf5"), "{err}");
    let files = std::fs::read_to_string(run.join("corpus_files.json")).unwrap();
    assert!(files.contains("core000") && files.contains("core002") && !files.contains("core001"), "{files}");
}

#[test]
fn an_experiment_on_a_corpus_scores_every_method_on_each_runs_own_test_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let (cores, _) = small_corpus(dir.path());
    // On spatial features, so that the SVM and logistic regression on them are compared too.
    let config = dir.path().join("spatial.toml");
    std::fs::write(&config, format!("input = \"spatial\"\n{SMALL_CONFIG}")).unwrap();
    let config = config.to_str().unwrap().to_string();
    let out = dir.path().join("experiment");
    let o = hyperssl(&["experiment", &cores, "--stream", "--config", &config, "--seeds", "2", "--budgets", "4", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.starts_with("Drill-core corpus of 3 files (1440 pixels)"), "{summary}");
    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("results-pc4.json")).unwrap()).unwrap();
    let draws = results[1].as_array().unwrap();
    assert_eq!(draws.len(), 2);
    for draw in draws {
        let seed = draw["seed"].as_u64().unwrap();
        // The draw's own split: the budget caps each class's training pixels, and every
        // method is scored on exactly the run's test pixels.
        let split: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join(format!("m2-pc4-seed{seed}/corpus_split.json"))).unwrap()).unwrap();
        let mut per_class = std::collections::HashMap::new();
        for p in split["train"].as_array().unwrap() {
            *per_class.entry(p["class"].as_u64().unwrap()).or_insert(0) += 1;
        }
        assert!(per_class.values().all(|&n| n <= 4) && per_class.len() >= 2, "{per_class:?}");
        let test = split["test"].as_array().unwrap().len();
        let methods: Vec<&str> = draw["methods"].as_array().unwrap().iter().map(|m| m["method"].as_str().unwrap()).collect();
        assert_eq!(methods, ["m2 (spatial)", "m2 (spatial), labels only", "svm (spatial)", "logreg (spatial)", "svm (spectra)"]);
        for m in draw["methods"].as_array().unwrap() {
            let scored: u64 = m["metrics"]["confusion"].as_array().unwrap().iter().flat_map(|row| row.as_array().unwrap()).map(|v| v.as_u64().unwrap()).sum();
            assert_eq!(scored as usize, test, "{}", m["method"]);
        }
    }
    // The table compares the model with its control and the SVM on the same inputs.
    assert!(summary.contains("unlabelled bound: m2 (spatial) − labels only") && summary.contains("m2 (spatial) − svm (spatial)"), "{summary}");
}

#[test]
fn a_list_of_files_is_a_corpus_of_those_files_and_a_missing_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (cores, config) = small_corpus(dir.path());
    let list = dir.path().join("two-cores.txt");
    let absolute = Path::new(&cores).join("core002-labeled.hdf5");
    std::fs::write(&list, format!("# the first and last cores\ncores/core000-labeled.hdf5\n\n{}\n", absolute.display())).unwrap();
    let run = dir.path().join("run");
    let o = hyperssl(&["train", list.to_str().unwrap(), "--stream", "--config", &config, "--run", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 drill-core files"), "{}", stderr(&o));
    let files = std::fs::read_to_string(run.join("corpus_files.json")).unwrap();
    assert!(files.contains("core000") && files.contains("core002") && !files.contains("core001"), "{files}");
    // Prediction over the list maps its files alone.
    let maps = dir.path().join("maps");
    let o = hyperssl(&["predict", "--run", run.to_str().unwrap(), list.to_str().unwrap(), "--out", maps.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(maps.join("core000-labeled/class_map.npy").exists() && maps.join("core002-labeled/class_map.npy").exists());
    assert!(!maps.join("core001-labeled").exists());

    std::fs::write(&list, "cores/core000-labeled.hdf5\ncores/core009-labeled.hdf5\n").unwrap();
    let o = hyperssl(&["train", list.to_str().unwrap(), "--stream", "--config", &config, "--run", dir.path().join("run2").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("core009-labeled.hdf5") && err.lines().count() == 1, "{err}");
}

/// The classifier alone on a corpus read from disk: fitted on the depth split's training pixels,
/// and `predict` maps a file as it maps one held in memory.
#[test]
fn the_classifier_alone_fits_on_a_streamed_corpus_and_predicts_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let (cores, config) = small_corpus(dir.path());
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let o = hyperssl(&["train", &cores, "--stream", "--config", &config, "--run", run_s, "--model", "classifier", "--classifier", "logreg"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("fitted logreg in") && stdout(&o).contains("depth blocks"), "{}", stdout(&o));
    assert!(run.join("classifier.json").exists() && !run.join("m2_model.mpk").exists());
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(report.contains("LogReg on the drill-core corpus") && !report.contains("unlabelled per epoch"), "{report}");
    let maps = dir.path().join("maps");
    let o = hyperssl(&["predict", "--run", run_s, &cores, "--out", maps.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(class_map(&maps.join("core002-labeled/class_map.npy")), predicted_alone(dir.path(), run_s, &cores, "core002-labeled"));
}
