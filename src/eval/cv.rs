//! Stratified k-fold cross-validation on the labelled pixels: the folds, how many there are,
//! and the scores of the hyperparameter grid points.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::classifier::Hyperparameters;

/// Most folds ever used.
pub const MAX_FOLDS: usize = 5;

/// One split of the training samples: indices into the training set.
#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// The cross-validated accuracy of one grid point.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CvScore {
    pub hyperparameters: Hyperparameters,
    /// Mean over folds of the accuracy on the held-out fold.
    pub mean_accuracy: f64,
    /// Standard deviation of the fold accuracies (population form).
    pub std_accuracy: f64,
}

impl CvScore {
    pub fn from_fold_accuracies(hyperparameters: Hyperparameters, accuracies: &[f64]) -> Self {
        let n = accuracies.len().max(1) as f64;
        let mean = accuracies.iter().sum::<f64>() / n;
        let var = accuracies
            .iter()
            .map(|a| (a - mean) * (a - mean))
            .sum::<f64>()
            / n;
        CvScore {
            hyperparameters,
            mean_accuracy: mean,
            std_accuracy: var.sqrt(),
        }
    }
}

/// The CV score of every grid point, in the order of `points`, from `accuracy(point, fold)`.
pub fn grid_scores(
    points: &[Hyperparameters],
    n_folds: usize,
    accuracy: impl Fn(usize, usize) -> f64,
) -> Vec<CvScore> {
    points
        .iter()
        .enumerate()
        .map(|(p, &h)| {
            let per_fold: Vec<f64> = (0..n_folds).map(|f| accuracy(p, f)).collect();
            CvScore::from_fold_accuracies(h, &per_fold)
        })
        .collect()
}

/// Number of samples of each class.
pub fn class_counts(y: &[usize], n_classes: usize) -> Vec<usize> {
    let mut counts = vec![0usize; n_classes];
    for &c in y {
        if let Some(slot) = counts.get_mut(c) {
            *slot += 1;
        }
    }
    counts
}

/// Folds for stratified CV: min(MAX_FOLDS, smallest count of a class that has samples).
/// None when that is below 2, i.e. some class has a single sample and cannot be both
/// trained on and tested.
pub fn fold_count(y: &[usize], n_classes: usize) -> Option<usize> {
    let smallest = class_counts(y, n_classes)
        .into_iter()
        .filter(|&c| c > 0)
        .min()?;
    let k = smallest.min(MAX_FOLDS);
    (k >= 2).then_some(k)
}

/// Stratified k folds: each class's samples are shuffled (seeded) and dealt round-robin over
/// the folds, continuing where the previous class stopped so that the folds have nearly equal
/// sizes. Every fold holds at least one sample of each class when k <= the smallest class count.
pub fn stratified_k_fold(y: &[usize], n_classes: usize, k: usize, seed: u64) -> Vec<Fold> {
    let k = k.max(1);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (i, &c) in y.iter().enumerate() {
        if let Some(members) = by_class.get_mut(c) {
            members.push(i);
        }
    }
    let mut fold_of = vec![0usize; y.len()];
    let mut next = 0usize;
    for members in &mut by_class {
        members.shuffle(&mut rng);
        for &i in members.iter() {
            fold_of[i] = next % k;
            next += 1;
        }
    }
    (0..k)
        .map(|f| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..y.len()).partition(|&i| fold_of[i] == f);
            Fold { train, test }
        })
        .collect()
}

/// Index of the best score; ties go to the earliest grid point, so grids should be ordered from
/// the most to the least regularized.
pub fn best_score(scores: &[CvScore]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, s) in scores.iter().enumerate() {
        match best {
            Some(b) if s.mean_accuracy <= scores[b].mean_accuracy + 1e-12 => {}
            _ => best = Some(i),
        }
    }
    best
}

/// Test data: bell-shaped blobs around the given centres, `per_class` rows each.
#[cfg(test)]
pub(crate) fn blobs(
    centres: &[&[f32]],
    spread: f32,
    per_class: usize,
    seed: u64,
) -> (Vec<f32>, Vec<usize>) {
    use rand::Rng;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (c, centre) in centres.iter().enumerate() {
        for _ in 0..per_class {
            for &m in centre.iter() {
                // Sum of uniforms: a cheap bell shape with unit-ish variance.
                let noise: f32 = (0..4).map(|_| rng.random::<f32>() - 0.5).sum::<f32>() * 1.7;
                x.push(m + spread * noise);
            }
            y.push(c);
        }
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_count_follows_smallest_class() {
        assert_eq!(fold_count(&[0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1], 2), Some(3));
        assert_eq!(
            fold_count(
                &[0; 20].iter().chain(&[1; 30]).copied().collect::<Vec<_>>(),
                2
            ),
            Some(5)
        );
        // Class 2 is empty and does not count; class 1 has a single sample.
        assert_eq!(fold_count(&[0, 0, 1], 3), None);
        assert_eq!(fold_count(&[0, 0, 1, 1], 3), Some(2));
        assert_eq!(fold_count(&[], 3), None);
    }

    #[test]
    fn folds_are_stratified_disjoint_and_cover_everything() {
        let y: Vec<usize> = (0..47)
            .map(|i| {
                if i < 12 {
                    0
                } else if i < 30 {
                    1
                } else {
                    2
                }
            })
            .collect();
        let folds = stratified_k_fold(&y, 3, 4, 7);
        assert_eq!(folds.len(), 4);
        let mut seen = vec![0usize; y.len()];
        for fold in &folds {
            assert_eq!(fold.train.len() + fold.test.len(), y.len());
            for &i in &fold.test {
                seen[i] += 1;
                assert!(!fold.train.contains(&i));
            }
            let counts = class_counts(&fold.test.iter().map(|&i| y[i]).collect::<Vec<_>>(), 3);
            // 12, 18 and 17 samples over 4 folds: 3, 4 or 5 per fold.
            assert_eq!(counts[0], 3);
            assert!(
                (4..=5).contains(&counts[1]) && (4..=5).contains(&counts[2]),
                "{counts:?}"
            );
        }
        assert!(seen.iter().all(|&s| s == 1));
        let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
        assert!(
            sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
            "{sizes:?}"
        );
    }

    #[test]
    fn folds_depend_on_the_seed_only() {
        let y: Vec<usize> = (0..30).map(|i| i % 3).collect();
        assert_eq!(
            stratified_k_fold(&y, 3, 5, 1),
            stratified_k_fold(&y, 3, 5, 1)
        );
        assert_ne!(
            stratified_k_fold(&y, 3, 5, 1),
            stratified_k_fold(&y, 3, 5, 2)
        );
    }

    #[test]
    fn best_score_prefers_the_first_of_equals() {
        let s = |a: f64| CvScore::from_fold_accuracies(Hyperparameters::LogReg { lambda: a }, &[a]);
        assert_eq!(best_score(&[s(0.5), s(0.9), s(0.9), s(0.7)]), Some(1));
        assert_eq!(best_score(&[]), None);
        let score =
            CvScore::from_fold_accuracies(Hyperparameters::LogReg { lambda: 1.0 }, &[0.5, 1.0]);
        assert!((score.mean_accuracy - 0.75).abs() < 1e-12);
        assert!((score.std_accuracy - 0.25).abs() < 1e-12);
    }

    #[test]
    fn grid_scores_average_each_point_over_its_folds() {
        let points = [Hyperparameters::LogReg { lambda: 1.0 }, Hyperparameters::LogReg { lambda: 2.0 }];
        // Point p, fold f: 0.5 + 0.25 p + 0.1 f, so the folds of a point are 0.1 apart.
        let scores = grid_scores(&points, 3, |p, f| 0.5 + 0.25 * p as f64 + 0.1 * f as f64);
        assert_eq!(scores.len(), 2);
        for (p, s) in scores.iter().enumerate() {
            assert_eq!(s.hyperparameters, points[p]);
            assert!((s.mean_accuracy - (0.6 + 0.25 * p as f64)).abs() < 1e-12);
            // Population std of {0, 0.1, 0.2}: sqrt(0.02 / 3).
            assert!((s.std_accuracy - (0.02f64 / 3.0).sqrt()).abs() < 1e-12);
        }
    }
}
