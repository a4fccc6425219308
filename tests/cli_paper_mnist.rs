//! `hyperssl paper-mnist` end to end on the real digits, one short epoch per phase.

mod common;
use common::{hyperssl, shared, stderr};

#[test]
fn paper_mnist_runs_and_draws_generated_digits() {
    let Some(dir) = shared("mnist/train-images.idx3-ubyte.gz") else { return };
    let data = dir.parent().unwrap().to_str().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("mnist");
    let o = hyperssl(&[
        "paper-mnist", "--labels", "100", "--model", "m1m2", "--data", &data, "--epochs", "1", "--m1-epochs", "1",
        "--run", run.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let result: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("paper_mnist.json")).unwrap()).unwrap();
    let err = result["test_error_percent"].as_f64().unwrap();
    // One epoch of each phase: far from the paper, but well above chance (90% error).
    assert!(err > 0.0 && err < 80.0, "test error {err}");
    let split: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("split.json")).unwrap()).unwrap();
    assert_eq!(split["train"].as_array().unwrap().len(), 100);
    assert_eq!(split["valid"].as_array().unwrap().len(), 10_000);
    assert_eq!(split["test"].as_array().unwrap().len(), 10_000);
    let digits = image::open(run.join("digits.png")).unwrap().to_rgb8();
    // Ten rows of 28 x 28 images drawn at twice their size.
    assert!(digits.height() >= 10 * 56 && digits.width() >= 10 * 56, "{}x{}", digits.width(), digits.height());
}

#[test]
fn labels_must_be_a_multiple_of_ten() {
    let Some(dir) = shared("mnist/train-images.idx3-ubyte.gz") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let o = hyperssl(&["paper-mnist", "--labels", "15", "--data", dir.parent().unwrap().to_str().unwrap(), "--run", tmp.path().join("r").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("multiple of 10"), "{}", stderr(&o));
}

#[test]
fn bad_settings_are_refused_before_training() {
    for (flag, value, needle) in [
        ("--alpha", "-1", "alpha (--alpha) must be a non-negative number"),
        ("--m1-epochs", "0", "m1_epochs (--m1-epochs) must be at least 1"),
        ("--epochs", "0", "train.epochs (--epochs) must be at least 1"),
        ("--lr", "-1", "train.learning_rate (--lr) must be a positive number, not -1"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let o = hyperssl(&["paper-mnist", flag, value, "--data", tmp.path().to_str().unwrap(), "--run", tmp.path().join("r").to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}");
        assert!(stderr(&o).contains(needle), "{flag} {value}: {}", stderr(&o));
        assert!(!tmp.path().join("r").exists());
    }
}
