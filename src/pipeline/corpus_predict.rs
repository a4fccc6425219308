//! Prediction over a folder of drill-core files, one file at a time, and the summary of all of
//! them: an overview image of every core side by side and a table of each file's classes.
//!
//! Each file gets a folder of its own under the output folder, so that machines sharing the
//! files out (`--shard I/N`) never write the same place; the summary is drawn from those
//! folders afterwards, for whichever files have one.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::run_lock::RunLock;
use super::outputs::{write_envi_map, write_prediction_maps, Prediction};
use super::trained::{ClassInfo, Trained};
use crate::atomic;
use crate::data::readers::hdf5::CoreFile;
use crate::data::readers::npy::read_npy;
use crate::data::Samples;
use crate::error::{Error, Result};
use crate::models::backend::Backend;
use crate::report;

/// Name of the summary each file's folder holds.
const SUMMARY: &str = "summary.json";

/// The tallest the overview image's cores are drawn (longer cores are subsampled).
const OVERVIEW_ROWS: usize = 1200;

/// What one file's prediction holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSummary {
    pub file: PathBuf,
    pub rows: usize,
    pub cols: usize,
    /// Pixels predicted in each class.
    pub counts: Vec<usize>,
    /// Mean over the file's pixels of the probability of the class predicted.
    pub mean_confidence: f64,
}

/// One of N equal shares of a file list: the files whose position is `index` modulo `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = Error;

    /// `I/N` with 0 <= I < N (a Slurm or Kubernetes array index over N tasks).
    fn from_str(s: &str) -> Result<Shard> {
        let parsed = s.split_once('/').and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) if index < count => Ok(Shard { index, count }),
            _ => Err(Error::invalid(format!("shard '{s}' is not I/N with 0 <= I < N (for example 0/4)"))),
        }
    }
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// This shard's files, in their order.
    pub fn of<T: Clone>(&self, files: &[T]) -> Vec<T> {
        files.iter().skip(self.index).step_by(self.count.max(1)).cloned().collect()
    }
}

/// The folder of `file`'s maps under `out`: its file name without the extension.
pub fn file_folder(out: &Path, file: &Path) -> PathBuf {
    out.join(file.file_stem().map_or_else(|| "core".into(), |s| s.to_string_lossy().into_owned()))
}

/// Predicts one file and writes its maps (class and uncertainty, .npy and PNG), an ENVI
/// classification image and its summary into its folder under `out`.
pub fn predict_file<B: Backend>(trained: &Trained<B>, file: &CoreFile, out: &Path, device: &B::Device) -> Result<(FileSummary, Vec<PathBuf>)>
where
    Trained<B>: Sync,
{
    let folder = file_folder(out, &file.path);
    // Held while the folder is written: a second run on the same file would mix its maps.
    let _lock = RunLock::acquire(&folder)?;
    let (classes, probs) = trained.predict_core(file, device)?;
    let k = trained.classes.values.len();
    let prediction = Prediction { classes: &classes, probabilities: &probs };
    let mut written = write_prediction_maps(&folder, (file.rows, file.cols), &file.path.display().to_string(), &trained.classes, prediction)?;
    let img = folder.join("class_map.img");
    write_envi_map(&img, (file.rows, file.cols), &trained.classes, &classes)?;
    written.push(img);
    let mut counts = vec![0; k];
    let mut confidence = 0.0;
    for (&c, p) in classes.iter().zip(probs.chunks_exact(k)) {
        counts[c] += 1;
        confidence += p[c] as f64;
    }
    let summary = FileSummary { file: file.path.clone(), rows: file.rows, cols: file.cols, counts, mean_confidence: confidence / classes.len().max(1) as f64 };
    let path = folder.join(SUMMARY);
    atomic::write_json(&path, &summary)?;
    written.push(path);
    Ok((summary, written))
}

/// Draws `overview.png` (every predicted core side by side, in the order of `files`) and writes
/// `files.csv` and `report.md` (pixels per class and mean confidence of each file) into `out`,
/// from the folders of the files that have been predicted; returns what it wrote and the files
/// not yet predicted.
pub fn summarise(out: &Path, files: &[PathBuf], classes: &ClassInfo) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut done = Vec::new();
    let mut missing = Vec::new();
    for f in files {
        let path = file_folder(out, f).join(SUMMARY);
        match path.exists() {
            true => done.push((atomic::read_json::<FileSummary>(&path)?, file_folder(out, f))),
            false => missing.push(f.clone()),
        }
    }
    if done.is_empty() {
        return Err(Error::bad(out, "no predicted file here yet (each has a folder with summary.json)"));
    }
    let k = classes.values.len();
    let tallest = done.iter().map(|(s, _)| s.rows).max().unwrap_or(1);
    let step = tallest.div_ceil(OVERVIEW_ROWS).max(1);
    let height = tallest.div_ceil(step);
    let gap = 4;
    let widths: Vec<usize> = done.iter().map(|(s, _)| s.cols.div_ceil(step)).collect();
    let width = widths.iter().sum::<usize>() + gap * (done.len() - 1);
    let mut canvas: Vec<Option<usize>> = vec![None; height * width];
    let mut x0 = 0;
    for ((summary, folder), &w) in done.iter().zip(&widths) {
        let path = folder.join("class_map.npy");
        let map = read_npy(&path)?;
        let Samples::U32(values) = &map.samples else {
            return Err(Error::bad(&path, "expected the uint32 class map predict writes"));
        };
        if map.shape != [summary.rows, summary.cols] {
            return Err(Error::bad(&path, format!("shape {:?} but the summary says {} x {}", map.shape, summary.rows, summary.cols)));
        }
        for r in 0..summary.rows.div_ceil(step) {
            for c in 0..w {
                let v = values[r * step * summary.cols + c * step];
                canvas[r * width + x0 + c] = classes.values.binary_search(&v).ok();
            }
        }
        x0 += w + gap;
    }
    let title = format!("{} cores, left to right in file order (one row and column in {step})", done.len());
    let picture = report::class_map(&canvas, height, width, &classes.names, &title)?;
    let overview = out.join("overview.png");
    report::save_png(&overview, &picture.image)?;

    let mut csv = csv::Writer::from_writer(Vec::new());
    let header: Vec<String> = ["file", "rows", "cols", "mean_confidence"].iter().map(|s| s.to_string()).chain(classes.names.iter().cloned()).collect();
    let fail = |e: csv::Error| Error::invalid(format!("files.csv: {e}"));
    csv.write_record(&header).map_err(fail)?;
    let mut table = format!("| file | pixels | mean confidence | {} |\n|---|---:|---:|{}\n", classes.names.join(" | "), "---:|".repeat(k));
    for (s, _) in &done {
        let mut row = vec![s.file.display().to_string(), s.rows.to_string(), s.cols.to_string(), format!("{:.4}", s.mean_confidence)];
        row.extend(s.counts.iter().map(|c| c.to_string()));
        csv.write_record(&row).map_err(fail)?;
        let counts: Vec<String> = s.counts.iter().map(|c| c.to_string()).collect();
        let _ = writeln!(table, "| {} | {} | {:.3} | {} |", s.file.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()), s.rows * s.cols, s.mean_confidence, counts.join(" | "));
    }
    let csv_path = out.join("files.csv");
    atomic::write(&csv_path, &csv.into_inner().map_err(|e| Error::invalid(format!("files.csv: {e}")))?)?;
    let mut text = format!("# Prediction over {} drill-core files\n\n![overview](overview.png)\n\nPixels predicted in each class and the mean probability of the class predicted, per file:\n\n{table}", done.len());
    if !missing.is_empty() {
        let _ = writeln!(text, "\nNot predicted yet ({}): {}", missing.len(), missing.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    let report_path = out.join(report::REPORT);
    atomic::write(&report_path, text.as_bytes())?;
    Ok((vec![overview, csv_path, report_path], missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_file_list() {
        let files: Vec<usize> = (0..11).collect();
        for n in 1..=12 {
            let mut all: Vec<usize> = (0..n).flat_map(|i| Shard { index: i, count: n }.of(&files)).collect();
            let sizes: Vec<usize> = (0..n).map(|i| Shard { index: i, count: n }.of(&files).len()).collect();
            all.sort();
            assert_eq!(all, files, "{n} shards");
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{n} shards: {sizes:?}");
        }
        assert_eq!("2/4".parse::<Shard>().unwrap(), Shard { index: 2, count: 4 });
        for bad in ["4/4", "1", "a/2", "-1/3", "1/0"] {
            assert!(bad.parse::<Shard>().unwrap_err().to_string().contains("I/N"), "{bad}");
        }
    }
}
