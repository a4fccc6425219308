//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// A file under the shared data folder (`../shared/data` beside the repository). `None`, with a
/// message, when it is absent; in CI (env `CI` set) its absence fails the test.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let p = dir.join("shared/data").join(rel);
        if p.exists() {
            return Some(p);
        }
        if !dir.pop() {
            break;
        }
    }
    if std::env::var_os("CI").is_some() {
        panic!("shared data file {rel} not found (../shared/data must be present in CI)");
    }
    eprintln!("skipping: shared data file {rel} not found");
    None
}

pub fn hyperssl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hyperssl")).args(args).output().expect("run hyperssl")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
