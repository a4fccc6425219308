//! Baseline: an RBF SVM on raw Indian Pines spectra.
//!
//! Every band is min-max scaled over all pixels; per seed, 10 labelled pixels of each class are
//! drawn for training (seeded shuffle) and all other labelled pixels are the test set. C and gamma
//! are chosen by stratified CV on the training pixels.
//!
//! cargo run --release --example svm_indian_pines -- [--seeds N] [--per-class N] [--kind svm|logreg]

use std::path::Path;
use std::time::Instant;

use clap::ValueEnum;
use hyperssl::eval::{evaluate, fit_classifier, Classifier, ClassifierKind, LabelledRows};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/indian_pines");

use hyperssl::data::embedded::CLASS_NAMES;

fn main() -> anyhow::Result<()> {
    let mut seeds = 10u64;
    let mut per_class = 10usize;
    let mut kind = ClassifierKind::Svm;
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair
            .get(1)
            .ok_or_else(|| anyhow::anyhow!("{} needs a value", pair[0]))?;
        match pair[0].as_str() {
            "--seeds" => seeds = value.parse()?,
            "--per-class" => per_class = value.parse()?,
            "--kind" => kind = ClassifierKind::from_str(value, true).map_err(anyhow::Error::msg)?,
            other => anyhow::bail!("unknown option {other}"),
        }
    }

    let cube_path = Path::new(DATA).join("Indian_pines_corrected.npy");
    let gt_path = Path::new(DATA).join("Indian_pines_gt.npy");
    if !cube_path.exists() || !gt_path.exists() {
        anyhow::bail!("{} not found", cube_path.display());
    }
    let (cube_shape, cube) = read_npy(&cube_path)?;
    let (gt_shape, gt) = read_npy(&gt_path)?;
    anyhow::ensure!(
        cube_shape.len() == 3 && gt_shape.len() == 2,
        "unexpected shapes {cube_shape:?} {gt_shape:?}"
    );
    let bands = cube_shape[2];
    let pixels = cube_shape[0] * cube_shape[1];
    anyhow::ensure!(
        gt_shape[0] * gt_shape[1] == pixels,
        "cube and ground truth differ in size"
    );
    let features = min_max_scale(&cube, bands);

    // Labelled pixels of each class (ground truth 1..=16 -> class 0..16).
    let n_classes = CLASS_NAMES.len();
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (p, &label) in gt.iter().enumerate() {
        if label > 0.0 {
            by_class[label as usize - 1].push(p);
        }
    }

    let names: Vec<String> = CLASS_NAMES.iter().map(|s| s.to_string()).collect();
    let (mut oas, mut aas, mut kappas) = (Vec::new(), Vec::new(), Vec::new());
    for seed in 0..seeds {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut train, mut test) = (Vec::new(), Vec::new());
        for (c, members) in by_class.iter().enumerate() {
            let mut shuffled = members.clone();
            shuffled.shuffle(&mut rng);
            let take = per_class.min(shuffled.len());
            train.extend(shuffled[..take].iter().map(|&p| (p, c)));
            test.extend(shuffled[take..].iter().map(|&p| (p, c)));
        }
        let gather = |set: &[(usize, usize)]| -> (Vec<f32>, Vec<usize>) {
            let mut x = Vec::with_capacity(set.len() * bands);
            for &(p, _) in set {
                x.extend_from_slice(&features[p * bands..(p + 1) * bands]);
            }
            (x, set.iter().map(|&(_, c)| c).collect())
        };
        let (x_train, y_train) = gather(&train);
        let (x_test, y_test) = gather(&test);

        let start = Instant::now();
        let (model, report) = fit_classifier(kind, LabelledRows::new(&x_train, bands, &y_train, n_classes), seed)?;
        let fit_time = start.elapsed();
        let predicted = model.predict(&x_test);
        let metrics = evaluate(&y_test, &predicted, n_classes)?;
        println!(
            "seed {seed}: OA {:.2}%  AA {:.2}%  kappa {:.4}  [{report}; fit {:.2}s, total {:.2}s]",
            100.0 * metrics.overall_accuracy,
            100.0 * metrics.average_accuracy,
            metrics.kappa,
            fit_time.as_secs_f64(),
            start.elapsed().as_secs_f64()
        );
        if seed == 0 {
            println!("{}", metrics.table(&names));
        }
        oas.push(metrics.overall_accuracy);
        aas.push(metrics.average_accuracy);
        kappas.push(metrics.kappa);
    }
    let summary = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let std = (v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (v.len().max(2) - 1) as f64)
            .sqrt();
        (mean, std)
    };
    let ((oa, oa_sd), (aa, aa_sd), (kappa, kappa_sd)) =
        (summary(&oas), summary(&aas), summary(&kappas));
    println!(
        "{kind}, {per_class} training pixels per class, {seeds} seeds: OA {:.1} +- {:.1}  AA {:.1} +- {:.1}  kappa {:.3} +- {:.3}",
        100.0 * oa,
        100.0 * oa_sd,
        100.0 * aa,
        100.0 * aa_sd,
        kappa,
        kappa_sd
    );
    Ok(())
}

/// Scales every band to [0, 1] over all pixels (a constant band becomes 0).
fn min_max_scale(cube: &[f32], bands: usize) -> Vec<f32> {
    let mut lo = vec![f32::INFINITY; bands];
    let mut hi = vec![f32::NEG_INFINITY; bands];
    for pixel in cube.chunks_exact(bands) {
        for (b, &v) in pixel.iter().enumerate() {
            lo[b] = lo[b].min(v);
            hi[b] = hi[b].max(v);
        }
    }
    let mut out = cube.to_vec();
    for pixel in out.chunks_exact_mut(bands) {
        for (b, v) in pixel.iter_mut().enumerate() {
            let range = hi[b] - lo[b];
            *v = if range > 0.0 {
                (*v - lo[b]) / range
            } else {
                0.0
            };
        }
    }
    out
}

/// The shape and values (as f32, in C order) of a .npy file, through the crate's reader.
fn read_npy(path: &Path) -> anyhow::Result<(Vec<usize>, Vec<f32>)> {
    let array = hyperssl::data::readers::npy::read_npy(path)?;
    Ok((array.shape, array.samples.to_f32()))
}
