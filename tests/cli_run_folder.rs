//! Run folders under misuse: two writers at once, resuming without flags, damaged input files.

mod common;
use common::{hyperssl, stderr, stdout, write_scene};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A small, fast model; the epochs are given by each test.
const SMALL: [&str; 10] = ["--hidden", "16", "--m2-hidden", "16", "--latent", "4", "--batch-size", "32", "--per-class", "5"];

/// The tiny scene in a fresh folder, and a run folder beside it to train into.
struct Fixture {
    dir: tempfile::TempDir,
    img: String,
    lab: String,
    run: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (img, lab) = write_scene(dir.path(), false);
        let run = dir.path().join("run");
        Fixture { dir, img, lab, run }
    }

    fn run_str(&self) -> &str {
        self.run.to_str().unwrap()
    }

    /// `hyperssl train` on the scene into the run folder, with `extra`.
    fn train_args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["train", &self.img, "--labels", &self.lab, "--run", self.run_str()];
        args.extend_from_slice(extra);
        args
    }

    fn train(&self, extra: &[&str]) -> Output {
        hyperssl(&self.train_args(extra))
    }

    /// The small model trained with `extra` (epochs among them); it must succeed.
    fn trained(&self, extra: &[&str]) -> Output {
        let mut args = SMALL.to_vec();
        args.extend_from_slice(extra);
        let o = self.train(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        o
    }
}

/// Waits until `file` holds text containing `needle`.
fn wait_for(file: &Path, needle: &str) -> String {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{} never held {needle:?}", file.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_second_writer_is_refused_while_the_first_trains_and_takes_over_once_it_is_killed() {
    let f = Fixture::new();
    let (run, run_s) = (&f.run, f.run_str());
    let mut long = SMALL.to_vec();
    long.extend(["--epochs", "1000000", "--patience", "1000000", "--eval-every", "1"]);
    let mut first = Command::new(env!("CARGO_BIN_EXE_hyperssl"))
        .args(f.train_args(&long))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let holder = wait_for(&run.join("run.lock"), &format!("process {}", first.id()));
    // Training has begun once the log has a row (written with each checkpoint).
    wait_for(&run.join("m2_log.csv"), ",\n");

    let second = f.train(&["--resume"]);
    let err = stderr(&second);
    assert_eq!(second.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&holder) && err.contains(run_s), "{err}");
    // A fresh run into the same folder is refused the same way, before it looks at the folder.
    let third = f.train(&SMALL);
    assert_eq!(third.status.code(), Some(2));
    assert!(stderr(&third).contains(&holder), "{}", stderr(&third));

    // Killed, the first leaves its lock file behind; the next writer takes the folder over.
    first.kill().unwrap();
    first.wait().unwrap();
    f.trained(&["--resume", "--epochs", "2"]);
    assert!(run.join("class_map.npy").exists());
}

#[test]
fn resuming_without_flags_keeps_the_stored_settings_and_flags_given_are_recorded() {
    let f = Fixture::new();
    let run = &f.run;
    let trained = f.trained(&["--epochs", "3", "--alpha", "7"]);
    let config = std::fs::read(run.join("config.toml")).unwrap();
    let log = std::fs::read(run.join("m2_log.csv")).unwrap();

    // No flags: nothing retrains, nothing changes, the same result is reported.
    let again = f.train(&["--resume"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(std::fs::read(run.join("config.toml")).unwrap(), config, "the stored settings must stay as they were");
    assert_eq!(std::fs::read(run.join("m2_log.csv")).unwrap(), log, "a finished run must not train again");
    let oa = |text: &str| text.lines().find(|l| l.starts_with("OA ")).map(str::to_string);
    assert!(oa(&stdout(&trained)).is_some(), "{}", stdout(&trained));
    assert_eq!(oa(&stdout(&again)), oa(&stdout(&trained)));
    assert!(!run.join("config_changes.csv").exists());

    // A flag given changes only its setting, and the run says so.
    let longer = f.train(&["--resume", "--epochs", "5"]);
    assert!(longer.status.success(), "{}", stderr(&longer));
    let now = String::from_utf8(std::fs::read(run.join("config.toml")).unwrap()).unwrap();
    let before = String::from_utf8(config).unwrap();
    assert_eq!(now, before.replace("epochs = 3", "epochs = 5"));
    let changes = std::fs::read_to_string(run.join("config_changes.csv")).unwrap();
    assert!(changes.lines().nth(1).is_some_and(|l| l.ends_with(",train.epochs,3,5")), "{changes}");
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(report.contains("train.epochs changed from 3 to 5"), "{report}");
    assert!(stderr(&longer).contains("train.epochs changed from 3 to 5"), "{}", stderr(&longer));
}

#[test]
fn a_damaged_header_is_reported_as_one_line_of_text() {
    let dir = tempfile::tempdir().unwrap();
    let (img, _) = write_scene(dir.path(), false);
    let mut bytes = std::fs::read(&img).unwrap();
    // Inside the header's text: a line break, a terminal escape, a bell and a byte that is not UTF-8.
    bytes[12..16].copy_from_slice(&[b'\n', 0x1b, 0x07, 0xff]);
    let bad = dir.path().join("bad.npy");
    std::fs::write(&bad, &bytes).unwrap();
    let o = hyperssl(&["inspect", bad.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.starts_with("hyperssl: error: ") && err.contains(bad.to_str().unwrap()), "{err}");
    let body = err.trim_end_matches('\n');
    assert!(body.chars().all(|c| !c.is_control()), "{err:?}");
    assert!(body.contains("\\n\\x1b\\x07\\xff"), "{err}");
}

#[test]
fn a_file_size_limit_mid_run_is_one_line_and_leaves_a_run_that_resumes() {
    let f = Fixture::new();
    let (run, run_s) = (&f.run, f.run_str());
    f.trained(&["--epochs", "3", "--eval-every", "1"]);
    let checkpoint = std::fs::metadata(run.join("m2_checkpoint.bin")).unwrap().len();

    // bash counts the limit in KiB: half a checkpoint lets the small files through, not it.
    let limit_kib = (checkpoint / 2 / 1024).max(1);
    let limited = Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -f {limit_kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_hyperssl"))
        .args(f.train_args(&["--resume", "--epochs", "6"]))
        .output()
        .unwrap();
    let err = stderr(&limited);
    assert_eq!(limited.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("hyperssl: error")).count(), 1, "{err}");
    assert!(err.contains("File too large") && err.contains(".tmp"), "{err}");
    let leftovers: Vec<_> = std::fs::read_dir(run).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).filter(|n| n.to_string_lossy().ends_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // What is on disk still serves: the model predicts, and the run resumes to its end.
    let predicted = hyperssl(&["predict", "--run", run_s, &f.img, "--out", f.dir.path().join("p").to_str().unwrap()]);
    assert!(predicted.status.success(), "{}", stderr(&predicted));
    let resumed = f.trained(&["--resume", "--epochs", "6"]);
    assert!(stdout(&resumed).contains("trained 6 epochs"), "{}", stdout(&resumed));
}

#[test]
fn each_damaged_file_of_a_run_is_named_by_predict_without_a_panic() {
    let f = Fixture::new();
    let (dir, img, run) = (f.dir.path(), &f.img, &f.run);
    f.trained(&["--epochs", "2"]);
    for name in ["m2_model.mpk", "scaler.json", "spatial.json", "config.toml", "classes.json"] {
        for cut in [0.5, 0.0] {
            let copy = dir.join(format!("copy-{name}-{cut}"));
            std::fs::create_dir(&copy).unwrap();
            for file in std::fs::read_dir(run).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()) {
                std::fs::copy(&file, copy.join(file.file_name().unwrap())).unwrap();
            }
            let bytes = std::fs::read(run.join(name)).unwrap();
            std::fs::write(copy.join(name), &bytes[..(bytes.len() as f64 * cut) as usize]).unwrap();
            let o = hyperssl(&["predict", "--run", copy.to_str().unwrap(), img]);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{name} cut to {cut}: {err}");
            assert_eq!(err.lines().count(), 1, "{name} cut to {cut}: {err}");
            assert!(err.contains(&copy.join(name).display().to_string()), "{name} cut to {cut}: {err}");
        }
    }
}
