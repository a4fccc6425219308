//! Helpers shared by the integration tests.
#![allow(dead_code)]

use hyperssl::data::readers::npy::write_npy;
use hyperssl::data::{RawArray, Samples};
use std::path::{Path, PathBuf};
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

/// A 24 x 24 scene of 8 bands with three classes whose spectra differ in slope.
pub fn write_scene(dir: &Path, poison: bool) -> (String, String) {
    let (h, w, b) = (24, 24, 8);
    let mut px = Vec::with_capacity(h * w * b);
    let mut labels = Vec::with_capacity(h * w);
    for r in 0..h {
        for c in 0..w {
            let class = (c / 8) as u8; // three vertical stripes
            for k in 0..b {
                let noise = (((r * 31 + c * 17 + k * 7) % 13) as f32 - 6.0) * 0.01;
                px.push(1000.0 + 100.0 * class as f32 * k as f32 + 50.0 * noise);
            }
            labels.push(if (r + c) % 3 == 0 { class + 1 } else { 0 });
        }
    }
    if poison {
        px[5] = f32::NAN;
    }
    let img = dir.join("scene.npy");
    let lab = dir.join("gt.npy");
    write_npy(&img, &RawArray::new(vec![h, w, b], Samples::F32(px))).unwrap();
    write_npy(&lab, &RawArray::new(vec![h, w], Samples::U8(labels))).unwrap();
    (img.to_str().unwrap().to_string(), lab.to_str().unwrap().to_string())
}
