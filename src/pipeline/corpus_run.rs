//! Training M2 on a corpus of drill-core files too large to hold in memory.
//!
//! The scaling is fitted in one pass over every pixel and the spatial features on evenly spaced
//! bands of rows; the labelled pixels are split by depth blocks and their inputs gathered a
//! band of rows at a time; every epoch trains on a fresh draw of unlabelled pixels from shuffled
//! bands of rows across all files. Memory is bounded by those bands, the labelled pixels kept
//! and the epoch's draw, not by the corpus. The test pixels are scored one by one (the graph
//! cut needs whole maps: `predict` applies it file by file).

use burn::module::AutodiffModule;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

use super::config::{ExperimentConfig, Input, ModelKind};
use super::m2_run::{configured_task, initial_model};
use super::outputs;
use super::run_dir::{RunDir, RunSession};
use super::trained::ClassInfo;
use crate::atomic;
use crate::data::corpus::depth_split::{split_corpus, CorpusSplit, PixelRef, SplitRule};
use crate::data::corpus::epoch_draw::EpochDraw;
use crate::data::corpus::inputs::{fit_scaler, fit_spatial, PixelTransform};
use crate::data::corpus::Corpus;
use crate::data::readers::hdf5::CoreFile;
use crate::data::sampling::Split;
use crate::data::scaling::Scaler;
use crate::error::{Error, Result};
use crate::data::array::argmax_rows;
use crate::eval::classifier::{fit_classifier, Classifier, ClassifierKind, FittedClassifier, LabelledRows};
use crate::eval::metrics::{evaluate, Metrics};
use crate::models::backend::AutodiffBackend;
use crate::models::tensors::column_moments;
use crate::report::RunReport;
use crate::train::checkpoint::LoopState;
use crate::train::m2_task::{Inputs, M2Data, UnlabelledSource};
use crate::train::trainer::train;

/// Rows read at once when fitting the scaling and gathering labelled pixels.
const READ_ROWS: usize = 256;

/// What a corpus run gives back.
#[derive(Debug)]
pub struct CorpusOutcome {
    pub metrics: Metrics,
    pub split: CorpusSplit,
    pub train_state: LoopState,
    pub seconds: f64,
    pub files: Vec<PathBuf>,
}

/// The label values present in the corpus (under its label kind), sorted: the run's classes.
pub fn corpus_classes(corpus: &Corpus) -> Result<ClassInfo> {
    let mut values = BTreeSet::new();
    for f in corpus.files() {
        values.extend(f.read_labels(corpus.label_kind())?.into_iter().filter(|&v| v > 0));
    }
    if values.is_empty() {
        return Err(Error::invalid(format!("no labelled pixel in the {} drill-core files (under the label kind chosen)", corpus.files().len())));
    }
    let values: Vec<u32> = values.into_iter().collect();
    let names = values.iter().map(|v| format!("class {v}")).collect();
    Ok(ClassInfo { values, names })
}

/// Inputs of the pixels `at` (sorted by file and row), `at.len() x dim`, read a band of rows
/// at a time.
pub(crate) fn gather(corpus: &Corpus, transform: &PixelTransform, at: &[PixelRef]) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(at.len() * transform.dim());
    let mut rest = at;
    while let Some(first) = rest.first() {
        let n = rest.iter().take_while(|p| p.file == first.file && p.row < first.row + READ_ROWS as u32).count();
        let positions: Vec<(usize, usize)> = rest[..n].iter().map(|p| (p.row as usize, p.col as usize)).collect();
        out.extend(transform.pixels(&corpus.files()[first.file as usize], &positions)?);
        rest = &rest[n..];
    }
    Ok(out)
}

/// Inputs of the pixels of each set, `sets[i].len() x dim` each, read in one pass: the sets'
/// pixels interleave along the cores, so reading each set on its own would read most bands
/// of rows once per set.
fn gather_sets<const N: usize>(corpus: &Corpus, transform: &PixelTransform, sets: [&[PixelRef]; N]) -> Result<[Vec<f32>; N]> {
    let mut all: Vec<(PixelRef, usize)> = sets.iter().enumerate().flat_map(|(s, set)| set.iter().map(move |&p| (p, s))).collect();
    all.sort();
    let dim = transform.dim();
    let mut out: [Vec<f32>; N] = std::array::from_fn(|s| Vec::with_capacity(sets[s].len() * dim));
    // A band of rows at a time, each row going straight to its set, so no second copy of all
    // the sets' inputs is made.
    let mut rest = &all[..];
    while let Some((first, _)) = rest.first() {
        let n = rest.iter().take_while(|(p, _)| p.file == first.file && p.row < first.row + READ_ROWS as u32).count();
        let band: Vec<PixelRef> = rest[..n].iter().map(|(p, _)| *p).collect();
        for ((_, s), row) in rest[..n].iter().zip(gather(corpus, transform, &band)?.chunks_exact(dim)) {
            out[*s].extend_from_slice(row);
        }
        rest = &rest[n..];
    }
    Ok(out)
}

/// The split's pixels as indices into the files stacked in order (the layout of `split.json`).
fn stacked_indices(files: &[CoreFile], split: &CorpusSplit) -> Split {
    let offsets: Vec<usize> = files.iter().scan(0, |acc, f| Some(std::mem::replace(acc, *acc + f.n_pixels()))).collect();
    let index = |p: &PixelRef| offsets[p.file as usize] + p.row as usize * files[p.file as usize].cols + p.col as usize;
    Split { train: split.train.iter().map(index).collect(), valid: split.valid.iter().map(index).collect(), test: split.test.iter().map(index).collect(), unlabelled: Vec::new(), warnings: split.warnings.clone() }
}

struct CorpusUnlabelled(EpochDraw);

impl UnlabelledSource for CorpusUnlabelled {
    fn epoch_rows(&self, epoch: usize) -> Result<Vec<f32>> {
        self.0.rows(epoch)
    }

    fn epoch_rows_in(&self, epoch: usize, rows: std::ops::Range<usize>, _dim: usize) -> Result<Vec<f32>> {
        self.0.rows_in(epoch, rows)
    }
}

/// Unlabelled pixels held at once: an epoch that visits more (`corpus.unlabelled_per_epoch`
/// 0, every pixel) is read this many at a time, about 440 MB of the default's 422 spatial
/// features each.
const HELD_UNLABELLED: usize = 1 << 18;

/// Test pixels read and scored at once (they are not capped per class).
const SCORED_AT_ONCE: usize = 1 << 18;

/// Scores of a classifier's classes (`predict` of rows of inputs) on `test`, whose inputs are
/// read and classified a bounded number at a time.
pub(crate) fn score_in_parts(corpus: &Corpus, transform: &PixelTransform, test: &[PixelRef], k: usize, predict: impl Fn(&[f32]) -> Vec<usize>) -> Result<Metrics> {
    let mut predicted = Vec::with_capacity(test.len());
    for part in test.chunks(SCORED_AT_ONCE) {
        predicted.extend(predict(&gather(corpus, transform, part)?));
    }
    evaluate(&PixelRef::classes(test), &predicted, k)
}

/// The transforms of the run: stored ones when resuming, else fitted on the corpus.
fn transforms(corpus: &Corpus, cfg: &ExperimentConfig, dir: &RunDir, resume: bool) -> Result<PixelTransform> {
    let stored = resume && dir.scaler().exists();
    let scaler = if stored { Scaler::load(&dir.scaler())? } else { fit_scaler(corpus, &cfg.scaling, READ_ROWS)? };
    let spatial = match cfg.input {
        Input::Spectra => None,
        Input::Spatial if stored && dir.spatial().exists() => Some(atomic::read_json(&dir.spatial())?),
        Input::Spatial => Some(fit_spatial(corpus, &scaler, &cfg.spatial)?),
    };
    Ok(PixelTransform { scaler, spatial })
}

/// Trains M2 (or fits the classifier alone) on a corpus and scores its test pixels; the run
/// folder gets what `predict` needs (configuration, scaling, spatial features, classes, model)
/// and the split by depth blocks.
pub fn run_corpus<B: AutodiffBackend>(corpus: &Corpus, cfg: &ExperimentConfig, run: RunSession, device: &B::Device) -> Result<CorpusOutcome> {
    let started = Instant::now();
    let (dir, resume) = (run.dir.ok_or_else(|| Error::invalid("a corpus run keeps its split and checkpoints in a run folder"))?, run.resume);
    if !matches!(cfg.model, ModelKind::M2 | ModelKind::Classifier) {
        return Err(Error::invalid("a corpus read from disk as it trains takes --model m2 or --model classifier; M1 and M1+M2 train on a scene held in memory (a smaller folder)"));
    }
    // Propagation's graph joins every pixel's inputs in memory, which a corpus too large to hold
    // cannot; the run stores the settings it has, so `predict` and the report say what was done.
    if cfg.propagation.is_on() {
        log::warn!("label propagation needs every pixel's inputs in memory: a corpus read from disk as it trains is regularised by the graph cut alone");
    }
    if let Some(partner) = cfg.partner {
        log::warn!("M2's partner ({partner}) is fitted on a scene held in memory: a corpus read from disk as it trains is classified by q(y|x) alone");
    }
    let cfg = &ExperimentConfig { propagation: crate::eval::propagation::PropagationConfig::off(), partner: None, ..cfg.clone() };
    // The files a run trained on are stored with it, so that a resumed run reads the same.
    let files = corpus.files();
    let files_path = dir.root.join("corpus_files.json");
    if resume && files_path.exists() {
        check_same_files(&files_path, files)?;
    }
    let classes = corpus_classes(corpus)?;
    let k = classes.values.len();
    let transform = transforms(corpus, cfg, dir, resume)?;
    let split = split_by_depth(corpus, &classes, cfg, transform.halo())?;
    atomic::write(&dir.config(), cfg.to_toml().as_bytes())?;
    atomic::write_json(&files_path, &files)?;
    atomic::write_json(&dir.root.join("corpus_split.json"), &split)?;
    dir.write_model_inputs(&transform.scaler, transform.spatial.as_ref(), &stacked_indices(files, &split), &classes)?;
    let (train_state, metrics) = match cfg.model {
        ModelKind::Classifier => fit_classifier_on_corpus(corpus, cfg, (&transform, &split, k), dir)?,
        _ => train_m2_on_corpus::<B>(corpus, cfg, (&transform, &split, k), run, device)?,
    };
    atomic::write_json(&dir.metrics_pixelwise(), &metrics)?;
    let mut written = outputs::write_learning_curves(dir)?;
    let report = RunReport {
        metrics: Some(metrics.clone()),
        seconds: started.elapsed().as_secs_f64(),
        images: outputs::file_names(&written),
        ..corpus_report(corpus, cfg, &split, &classes, dir)?
    };
    written.push(outputs::write_run_report(dir, &report)?);
    Ok(CorpusOutcome { metrics, split, train_state, seconds: started.elapsed().as_secs_f64(), files: written })
}

/// What a corpus run has fitted before it trains: its inputs' transform, its split and its
/// number of classes.
pub(crate) type CorpusInputs<'a> = (&'a PixelTransform, &'a CorpusSplit, usize);

/// M2 trained on the split's labelled pixels and every epoch's draw of the corpus's pixels;
/// the loop's record and the scores of the test pixels.
fn train_m2_on_corpus<B: AutodiffBackend>(corpus: &Corpus, cfg: &ExperimentConfig, (transform, split, k): CorpusInputs, mut run: RunSession, device: &B::Device) -> Result<(LoopState, Metrics)> {
    let dim = transform.dim();
    let draw = EpochDraw::new(corpus, transform.clone(), cfg.corpus.chunk_rows, cfg.corpus.unlabelled_per_epoch, cfg.train.seed);
    let per_epoch = draw.per_epoch();
    // Epoch 0's pixels, or its first ones when it is read in parts: the output's initial
    // moments and the classifier's noise scale come from them.
    let first = draw.rows_in(0, 0..per_epoch.min(HELD_UNLABELLED))?;
    let (mean, var) = column_moments(&first, dim);
    // Training and validation pixels are capped per class; the test pixels are not, so they
    // are read after training, when the epoch's draw no longer takes memory.
    let [train_x, valid_x] = gather_sets(corpus, transform, [&split.train, &split.valid])?;
    let data = M2Data {
        dim,
        n_classes: k,
        labelled: Inputs::Fixed(train_x),
        labels: PixelRef::classes(&split.train),
        unlabelled: Inputs::Fixed(first),
        valid_x,
        valid_labels: PixelRef::classes(&split.valid),
    };
    let mut task = configured_task::<B>(data, cfg, device)?.with_source(Box::new(CorpusUnlabelled(draw)), per_epoch, HELD_UNLABELLED);
    let model = initial_model::<B>(cfg, dim, k, (&mean, &var), device);
    let outcome = train(&mut task, model, &cfg.train, run.training("m2_"), device)?;
    drop(task);
    let model = outcome.best.valid();
    let metrics = score_in_parts(corpus, transform, &split.test, k, |x| argmax_rows(&model.probabilities_of_rows(x, dim, device), k))?;
    Ok((outcome.state, metrics))
}

/// The classifier alone fitted on the split's training pixels and stored in `dir`; a record
/// of no epochs with the fit's time, and the scores of the test pixels.
fn fit_classifier_on_corpus(corpus: &Corpus, cfg: &ExperimentConfig, inputs: CorpusInputs, dir: &RunDir) -> Result<(LoopState, Metrics)> {
    let started = Instant::now();
    let classifier = fit_on_training_pixels(corpus, inputs, cfg.classifier, cfg.train.seed)?;
    atomic::write_json(&dir.classifier(), &classifier)?;
    let state = LoopState::without_epochs(started.elapsed().as_secs_f64());
    let (transform, split, k) = inputs;
    Ok((state, score_in_parts(corpus, transform, &split.test, k, |x| classifier.predict(x))?))
}

/// A classifier of `kind` fitted on the split's training pixels, read from the corpus.
pub(crate) fn fit_on_training_pixels(corpus: &Corpus, (transform, split, k): CorpusInputs, kind: ClassifierKind, seed: u64) -> Result<FittedClassifier> {
    let train_x = gather(corpus, transform, &split.train)?;
    Ok(fit_classifier(kind, LabelledRows::new(&train_x, transform.dim(), &PixelRef::classes(&split.train), k), seed)?.0)
}

/// Refuses to resume a run on other files than those it stored at `path`.
fn check_same_files(path: &std::path::Path, files: &[CoreFile]) -> Result<()> {
    let before: Vec<CoreFile> = atomic::read_json(path)?;
    if before != files {
        return Err(Error::bad(path, format!("the run trained on {} other files ({} now): resume it on the same folder and files", before.len(), files.len())));
    }
    Ok(())
}

/// The corpus's labelled pixels dealt to training, validation and test by depth blocks, test
/// pixels within `guard` rows of another set's block left out; refused when validation or
/// test gets none.
fn split_by_depth(corpus: &Corpus, classes: &ClassInfo, cfg: &ExperimentConfig, guard: usize) -> Result<CorpusSplit> {
    let rows: Vec<usize> = corpus.files().iter().map(|f| f.rows).collect();
    let dense = |f: usize| -> Result<Vec<Option<u32>>> {
        let stored = corpus.files()[f].read_labels(corpus.label_kind())?;
        Ok(stored.iter().map(|v| classes.values.binary_search(v).ok().map(|c| c as u32)).collect())
    };
    let rule = SplitRule { config: &cfg.corpus, cap: cfg.split.max_per_class.unwrap_or(cfg.corpus.max_per_class), guard, seed: cfg.split.seed };
    let split = split_corpus(&rows, corpus.cols(), classes.values.len(), dense, rule)?;
    for w in &split.warnings {
        log::warn!("{w}");
    }
    if split.test.is_empty() || split.valid.is_empty() {
        return Err(Error::invalid(format!(
            "the depth blocks left {} validation and {} test pixels: a corpus run needs both (raise corpus.valid_share or corpus.test_share, or lower corpus.block_rows)",
            split.valid.len(),
            split.test.len()
        )));
    }
    Ok(split)
}

/// The run report's description of a corpus run: its data, its sets and how they were split
/// (the scores, time and pictures are the caller's).
fn corpus_report(corpus: &Corpus, cfg: &ExperimentConfig, split: &CorpusSplit, classes: &ClassInfo, dir: &RunDir) -> Result<RunReport> {
    let files = corpus.files();
    let mut splits = vec![("labelled train".into(), split.train.len()), ("labelled validation".into(), split.valid.len()), ("test".into(), split.test.len())];
    // The classifier alone reads no unlabelled pixel; for M2, 0 asks for every pixel.
    if cfg.model != ModelKind::Classifier {
        splits.push(("unlabelled per epoch".into(), match cfg.corpus.unlabelled_per_epoch {
            0 => corpus.n_pixels(),
            n => n.min(corpus.n_pixels()),
        }));
    }
    Ok(RunReport {
        title: format!("{} on the drill-core corpus {}", cfg.model_name(), files.first().and_then(|f| f.path.parent()).map_or_else(String::new, |p| p.display().to_string())),
        data: format!("{} files of {} columns x {} bands, {} pixels; test pixels scored one by one (no graph cut)", files.len(), corpus.cols(), corpus.bands(), corpus.n_pixels()),
        splits,
        class_names: classes.names.clone(),
        metrics: None,
        config: cfg.to_toml(),
        seconds: 0.0,
        images: Vec::new(),
        notes: std::iter::once(format!(
            "split by depth blocks of {} rows dealt whole to training, validation ({:.0}%) and test ({:.0}%) with seed {}; test pixels within {} rows of another set's block left out",
            split.block_rows,
            100.0 * cfg.corpus.valid_share,
            100.0 * cfg.corpus.test_share,
            cfg.split.seed,
            split.guard_rows
        ))
        .chain(split.warnings.iter().cloned())
        .chain(dir.recorded_changes()?.iter().map(|c| c.to_string()))
        .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::corpus::depth_split::CorpusConfig;
    use crate::data::corpus::synthetic::SyntheticCorpus;
    use crate::data::readers::hdf5::LabelKind;
    use crate::data::scaling::{ScalingConfig, ScalingKind};
    use crate::pipeline::backend::CpuTrain;

    fn corpus(files: usize, rows: usize) -> (tempfile::TempDir, Corpus) {
        let dir = tempfile::tempdir().unwrap();
        SyntheticCorpus { files, rows, cols: 6, bands: 8, classes: 3, labelled_share: 0.2, dominant_share: 0.5, layer_rows: (3, 9), ..Default::default() }.write(dir.path()).unwrap();
        let corpus = Corpus::open(dir.path()).unwrap().with_label_kind(LabelKind::Mineralogy);
        (dir, corpus)
    }

    #[test]
    fn every_labelled_pixel_is_gathered_once_with_its_own_values() {
        let (_dir, corpus) = corpus(3, 40);
        let classes = corpus_classes(&corpus).unwrap();
        assert_eq!(classes.values, vec![1, 2, 3]);
        let rows: Vec<usize> = corpus.files().iter().map(|f| f.rows).collect();
        let dense = |f: usize| -> Result<Vec<Option<u32>>> { Ok(corpus.files()[f].read_labels(LabelKind::Mineralogy)?.iter().map(|v| classes.values.binary_search(v).ok().map(|c| c as u32)).collect()) };
        let config = CorpusConfig { block_rows: 4, ..Default::default() };
        let split = split_corpus(&rows, 6, 3, dense, SplitRule { config: &config, cap: usize::MAX, guard: 0, seed: 3 }).unwrap();
        // Without a cap or guard the three sets hold every labelled pixel, once.
        let mut all: Vec<PixelRef> = split.train.iter().chain(&split.valid).chain(&split.test).copied().collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
        let labelled: usize = (0..3).map(|f| dense(f).unwrap().iter().filter(|c| c.is_some()).count()).sum();
        assert_eq!(n, labelled);
        // The gathered inputs are the pixels' own stored values (no scaling).
        let scaler = Scaler::fit(&ScalingConfig { kind: ScalingKind::None, ..Default::default() }, &[0.0; 8], 8).unwrap();
        let transform = PixelTransform { scaler, spatial: None };
        let x = gather(&corpus, &transform, &all).unwrap();
        assert_eq!(x.len(), n * 8);
        for (p, got) in all.iter().zip(x.chunks_exact(8)) {
            let stored = corpus.files()[p.file as usize].read_rows(p.row as usize, 1).unwrap().samples.to_f32();
            assert_eq!(got, &stored[p.col as usize * 8..(p.col as usize + 1) * 8], "{p:?}");
        }
        // Gathered in one pass, each set gets the rows gathering it alone gives.
        let [a, b, c] = gather_sets(&corpus, &transform, [&split.train, &split.valid, &split.test]).unwrap();
        assert_eq!((a, b, c), (gather(&corpus, &transform, &split.train).unwrap(), gather(&corpus, &transform, &split.valid).unwrap(), gather(&corpus, &transform, &split.test).unwrap()));
        // split.json's indices are those of the files stacked in order.
        let stacked = stacked_indices(corpus.files(), &split);
        let p = split.test[0];
        assert_eq!(stacked.test[0], p.file as usize * 40 * 6 + p.row as usize * 6 + p.col as usize);
    }

    #[test]
    fn a_corpus_run_trains_from_disk_and_resumes_only_on_its_own_files() {
        let (_dir, corpus) = corpus(3, 40);
        let run = tempfile::tempdir().unwrap();
        let dir = RunDir::create(run.path(), false).unwrap();
        let mut cfg = ExperimentConfig::default();
        cfg.m2.hidden_classifier = vec![8];
        cfg.m2.hidden_encoder = vec![8];
        cfg.m2.hidden_decoder = vec![8];
        cfg.m2.latent = 2;
        cfg.spatial = crate::data::spatial::SpatialConfig { components: 3, box_windows: vec![3], edge_radii: vec![1], ..Default::default() };
        cfg.train.epochs = 2;
        cfg.train.batch_size = 50;
        cfg.corpus = CorpusConfig { block_rows: 4, unlabelled_per_epoch: 200, chunk_rows: 5, ..Default::default() };
        let device = Default::default();
        let out = run_corpus::<CpuTrain>(&corpus, &cfg, RunSession { dir: Some(&dir), resume: false, progress: &mut |_| {} }, &device).unwrap();
        assert_eq!(out.train_state.epochs_done, 2);
        assert_eq!(out.metrics.class_counts().iter().sum::<usize>(), out.split.test.len());
        for f in ["config.toml", "scaler.json", "spatial.json", "classes.json", "split.json", "corpus_split.json", "corpus_files.json", "m2_model.mpk", "report.md", "metrics.json"] {
            assert!(run.path().join(f).exists(), "{f} missing");
        }
        // Extending the run to a third epoch on the same files works; on other files it is refused.
        cfg.train.epochs = 3;
        let out = run_corpus::<CpuTrain>(&corpus, &cfg, RunSession { dir: Some(&dir), resume: true, progress: &mut |_| {} }, &device).unwrap();
        assert_eq!(out.train_state.epochs_done, 3);
        let fewer = Corpus::from_paths(&[corpus.files()[0].path.clone(), corpus.files()[1].path.clone()]).unwrap();
        let err = run_corpus::<CpuTrain>(&fewer, &cfg, RunSession { dir: Some(&dir), resume: true, progress: &mut |_| {} }, &device).unwrap_err().to_string();
        assert!(err.contains("corpus_files.json") && err.contains("same folder"), "{err}");
        // 0 unlabelled pixels an epoch asks for every pixel, and the report counts them.
        let every = tempfile::tempdir().unwrap();
        let all = ExperimentConfig { partner: Some(crate::eval::classifier::ClassifierKind::LogReg), corpus: CorpusConfig { unlabelled_per_epoch: 0, ..cfg.corpus.clone() }, train: crate::train::TrainConfig { epochs: 1, ..cfg.train.clone() }, ..cfg.clone() };
        let every_dir = RunDir::create(every.path(), false).unwrap();
        let out = run_corpus::<CpuTrain>(&corpus, &all, RunSession { dir: Some(&every_dir), resume: false, progress: &mut |_| {} }, &device).unwrap();
        assert_eq!(out.train_state.log.last().unwrap().step, 720u64.div_ceil(50));
        // M2's partner is fitted on a scene in memory: the corpus run goes without it and stores
        // that it did, as it does for propagation.
        let stored = ExperimentConfig::from_toml_file(&every_dir.config()).unwrap();
        assert_eq!((stored.partner, stored.propagation.is_on()), (None, false));
        let report = std::fs::read_to_string(every.path().join("report.md")).unwrap();
        let line = report.lines().find(|l| l.contains("unlabelled per epoch")).unwrap_or_default();
        assert!(line.split('|').any(|cell| cell.trim() == "720"), "{report}");
        // M1 does not stream.
        cfg.model = ModelKind::M1;
        assert!(run_corpus::<CpuTrain>(&corpus, &cfg, RunSession { dir: Some(&dir), resume: false, progress: &mut |_| {} }, &device).unwrap_err().to_string().contains("--model m2"));
    }

    #[test]
    fn the_classifier_alone_on_a_corpus_scores_as_the_same_classifier_fitted_from_the_stored_run() {
        // `corpus_baseline` reads the run's stored split and transforms back from its folder and
        // fits anew: the run's own scores must be those.
        use crate::eval::classifier::ClassifierKind;
        use crate::pipeline::corpus_baseline::{corpus_baseline, BaselineInputs};
        // Noisy enough that the classifiers err.
        let files = tempfile::tempdir().unwrap();
        SyntheticCorpus { files: 3, rows: 40, cols: 6, bands: 8, classes: 3, labelled_share: 0.2, dominant_share: 0.5, layer_rows: (3, 9), noise: 3000.0, ..Default::default() }.write(files.path()).unwrap();
        let corpus = Corpus::open(files.path()).unwrap().with_label_kind(LabelKind::Mineralogy);
        for kind in [ClassifierKind::LogReg, ClassifierKind::Svm] {
            let run = tempfile::tempdir().unwrap();
            let dir = RunDir::create(run.path(), false).unwrap();
            let mut cfg = ExperimentConfig { model: ModelKind::Classifier, classifier: kind, ..Default::default() };
            cfg.spatial = crate::data::spatial::SpatialConfig { components: 3, box_windows: vec![3], edge_radii: vec![1], ..Default::default() };
            cfg.corpus = CorpusConfig { block_rows: 4, ..Default::default() };
            let out = run_corpus::<CpuTrain>(&corpus, &cfg, RunSession { dir: Some(&dir), resume: false, progress: &mut |_| {} }, &Default::default()).unwrap();
            assert_eq!(out.train_state.epochs_done, 0);
            assert!(run.path().join("classifier.json").exists() && !run.path().join("m2_model.mpk").exists());
            let json = |m: &Metrics| serde_json::to_value(m).unwrap();
            let reference = corpus_baseline(&corpus, &dir, kind, BaselineInputs::Model).unwrap();
            assert_eq!(json(&out.metrics), json(&reference), "{kind:?}");
            assert!(out.metrics.overall_accuracy < 1.0, "a test that any classifier passes");
            let trained = crate::pipeline::trained::Trained::<crate::pipeline::backend::Cpu>::load(run.path(), &Default::default()).unwrap();
            assert!(matches!(trained.model, crate::pipeline::trained::TrainedModel::Classifier { .. }));
        }
    }
}
