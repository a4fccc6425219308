//! The classifiers fitted on features (raw spectra or a model's latent codes), behind one trait.
//! Like linfa, an estimator is fitted on a dataset and hands back a fitted model; here
//! `fit_classifier` also picks the hyperparameters by stratified cross-validation on the
//! training pixels only, and says what it chose in a `FitReport`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::cv::{class_counts, CvScore};
use super::logreg::{self, LogReg};
use super::svm::{self, Svm};
use crate::error::{Error, Result};

/// A fitted classifier. Inputs are row-major `n x dim` f32 buffers of the same (unstandardized)
/// features it was fitted on.
///
/// `predict` and `predict_proba` panic when `x.len()` is not a multiple of `dim()`; call
/// `check_features` first where the input is not known to be well formed.
pub trait Classifier: Send + Sync {
    /// Class probabilities, `n x n_classes` row-major; each row sums to 1.
    fn predict_proba(&self, x: &[f32]) -> Vec<f32>;
    /// The predicted class of each row.
    fn predict(&self, x: &[f32]) -> Vec<usize>;
    fn n_classes(&self) -> usize;
    fn dim(&self) -> usize;

    /// Number of rows of `x`, or an error when its length does not fit `dim()` or it holds NaN or
    /// infinite values.
    fn check_features(&self, x: &[f32]) -> Result<usize> {
        check_matrix(x, self.dim())
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ClassifierKind {
    /// Multinomial logistic regression with an L2 penalty.
    #[cfg_attr(feature = "cli", value(name = "logreg"))]
    LogReg,
    /// RBF-kernel support vector machine, one-vs-one.
    Svm,
}

impl fmt::Display for ClassifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClassifierKind::LogReg => "logreg",
            ClassifierKind::Svm => "svm",
        })
    }
}

/// The hyperparameters of a fitted classifier.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Hyperparameters {
    /// L2 penalty weight on the mean cross-entropy (features standardized).
    LogReg { lambda: f64 },
    /// Box constraint C and RBF width gamma, exp(-gamma |a - b|^2) on standardized features.
    Svm { c: f64, gamma: f64 },
}

impl fmt::Display for Hyperparameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hyperparameters::LogReg { lambda } => write!(f, "lambda = {lambda:.3e}"),
            Hyperparameters::Svm { c, gamma } => write!(f, "C = {c}, gamma = {gamma:.3e}"),
        }
    }
}

/// What the hyperparameter selection chose and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FitReport {
    pub kind: ClassifierKind,
    pub chosen: Hyperparameters,
    /// Folds of the stratified CV; 0 when CV was skipped.
    pub folds: usize,
    /// CV accuracy of the chosen grid point, when CV ran.
    pub cv_accuracy: Option<f64>,
    pub cv_std: Option<f64>,
    /// Every grid point with its score (empty when CV was skipped).
    pub grid: Vec<CvScore>,
    pub n_train: usize,
    /// Why CV was skipped or anything else unusual, in words.
    pub note: Option<String>,
}

impl FitReport {
    /// A report for a fit that used the defaults because CV was not possible.
    pub fn without_cv(
        kind: ClassifierKind,
        chosen: Hyperparameters,
        n_train: usize,
        note: String,
    ) -> Self {
        FitReport {
            kind,
            chosen,
            folds: 0,
            cv_accuracy: None,
            cv_std: None,
            grid: Vec::new(),
            n_train,
            note: Some(note),
        }
    }

    /// A report for the best of `grid` after `folds`-fold CV.
    pub fn from_cv(
        kind: ClassifierKind,
        grid: Vec<CvScore>,
        best: usize,
        folds: usize,
        n_train: usize,
    ) -> Self {
        let chosen = &grid[best];
        FitReport {
            kind,
            chosen: chosen.hyperparameters,
            folds,
            cv_accuracy: Some(chosen.mean_accuracy),
            cv_std: Some(chosen.std_accuracy),
            grid,
            n_train,
            note: None,
        }
    }

    /// Adds a remark after any earlier one.
    pub fn add_note(&mut self, note: String) {
        self.note = Some(match self.note.take() {
            Some(old) => format!("{old}; {note}"),
            None => note,
        });
    }
}

impl fmt::Display for FitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} on {} training pixels",
            self.kind, self.chosen, self.n_train
        )?;
        if let (Some(acc), Some(std)) = (self.cv_accuracy, self.cv_std) {
            write!(
                f,
                " ({}-fold CV accuracy {:.2}% +- {:.2}%)",
                self.folds,
                100.0 * acc,
                100.0 * std
            )?;
        }
        if let Some(note) = &self.note {
            write!(f, "; {note}")?;
        }
        Ok(())
    }
}

/// A fitted classifier of either kind; serializable, so it can be stored in a run folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FittedClassifier {
    LogReg(LogReg),
    Svm(Svm),
}

impl FittedClassifier {
    pub fn kind(&self) -> ClassifierKind {
        match self {
            FittedClassifier::LogReg(_) => ClassifierKind::LogReg,
            FittedClassifier::Svm(_) => ClassifierKind::Svm,
        }
    }

    fn inner(&self) -> &dyn Classifier {
        match self {
            FittedClassifier::LogReg(m) => m,
            FittedClassifier::Svm(m) => m,
        }
    }
}

impl Classifier for FittedClassifier {
    fn predict_proba(&self, x: &[f32]) -> Vec<f32> {
        self.inner().predict_proba(x)
    }
    fn predict(&self, x: &[f32]) -> Vec<usize> {
        self.inner().predict(x)
    }
    fn n_classes(&self) -> usize {
        self.inner().n_classes()
    }
    fn dim(&self) -> usize {
        self.inner().dim()
    }
}

/// Picks the hyperparameters of a `kind` classifier by stratified k-fold CV on the labelled
/// rows and returns the model refitted on all of them, with a report of the choice; `seed`
/// fixes the folds.
pub fn fit_classifier(kind: ClassifierKind, rows: LabelledRows, seed: u64) -> Result<(FittedClassifier, FitReport)> {
    match kind {
        ClassifierKind::LogReg => {
            let (model, report) = logreg::select_and_fit(rows, seed)?;
            Ok((FittedClassifier::LogReg(model), report))
        }
        ClassifierKind::Svm => {
            let (model, report) = svm::select_and_fit(rows, seed)?;
            Ok((FittedClassifier::Svm(model), report))
        }
    }
}

/// Fits a classifier with the given hyperparameters, no CV.
pub fn fit_with(hyperparameters: Hyperparameters, rows: LabelledRows) -> Result<FittedClassifier> {
    Ok(match hyperparameters {
        Hyperparameters::LogReg { lambda } => {
            FittedClassifier::LogReg(LogReg::fit(rows, lambda)?)
        }
        Hyperparameters::Svm { c, gamma } => {
            FittedClassifier::Svm(Svm::fit(rows, c, gamma)?)
        }
    })
}

/// Rows of a row-major matrix with `dim` columns, checking the length and that all values are
/// finite.
pub fn check_matrix(x: &[f32], dim: usize) -> Result<usize> {
    if dim == 0 {
        return Err(Error::invalid("features have dimension 0"));
    }
    if !x.len().is_multiple_of(dim) {
        return Err(Error::invalid(format!(
            "feature buffer of {} values is not a whole number of rows of {dim}",
            x.len()
        )));
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "feature {} of row {} is {} (not finite)",
            i % dim,
            i / dim,
            x[i]
        )));
    }
    Ok(x.len() / dim)
}

/// The labelled rows a classifier is fitted on: `x` row-major with `dim` values a row, and
/// each row's class in `0..n_classes` in `y`.
#[derive(Debug, Clone, Copy)]
pub struct LabelledRows<'a> {
    pub x: &'a [f32],
    pub dim: usize,
    pub y: &'a [usize],
    pub n_classes: usize,
}

impl<'a> LabelledRows<'a> {
    pub fn new(x: &'a [f32], dim: usize, y: &'a [usize], n_classes: usize) -> Self {
        LabelledRows { x, dim, y, n_classes }
    }

    /// Checks the set: shapes agree, classes in range, values finite, at least two classes
    /// with rows. Returns the number of rows.
    pub fn check(&self) -> Result<usize> {
        let LabelledRows { x, dim, y, n_classes } = *self;
        let n = y.len();
        if n == 0 {
            return Err(Error::invalid("no training samples"));
        }
        let expected = n.checked_mul(dim).ok_or_else(|| {
            Error::invalid(format!("{n} training samples of dimension {dim} overflow"))
        })?;
        if x.len() != expected {
            return Err(Error::invalid(format!(
                "{n} training labels of dimension {dim} need {expected} feature values, got {}",
                x.len()
            )));
        }
        check_matrix(x, dim)?;
        if let Some((i, &c)) = y.iter().enumerate().find(|(_, &c)| c >= n_classes) {
            return Err(Error::invalid(format!(
                "training sample {i} has class {c}, but there are only {n_classes} classes"
            )));
        }
        let present = class_counts(y, n_classes)
            .iter()
            .filter(|&&c| c > 0)
            .count();
        if present < 2 {
            return Err(Error::invalid(format!(
                "training samples cover {present} class; a classifier needs at least two"
            )));
        }
        Ok(n)
    }
}

/// Per-feature standardization, (x - mean) / std, fitted on training data and stored with the
/// model. Constant features keep a scale of 1 (they become 0).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Standardizer {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Fits on a row-major `n x dim` matrix (n >= 1), accumulating in f64.
    pub fn fit(x: &[f32], dim: usize) -> Self {
        let n = (x.len() / dim.max(1)).max(1) as f64;
        let mut mean = vec![0f64; dim];
        for row in x.chunks_exact(dim) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0f64; dim];
        for row in x.chunks_exact(dim) {
            for ((s, &m), &v) in var.iter_mut().zip(&mean).zip(row) {
                *s += (v as f64 - m) * (v as f64 - m);
            }
        }
        let std = var
            .iter()
            .zip(&mean)
            .map(|(&s, &m)| {
                let sd = (s / n).sqrt();
                // Relative floor: a feature that varies only by rounding is constant.
                if sd > 0.0 && sd > 1e-6 * m.abs() {
                    sd as f32
                } else {
                    1.0
                }
            })
            .collect();
        Standardizer {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        }
    }

    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Standardized copy of a row-major matrix with `dim()` columns.
    pub fn transform(&self, x: &[f32]) -> Vec<f32> {
        let dim = self.dim();
        let mut out = x.to_vec();
        for row in out.chunks_exact_mut(dim.max(1)) {
            for ((v, &m), &s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
        out
    }
}

/// Asserts that `x` is whole rows of `dim` and returns their number (the trait's contract).
pub(crate) fn rows_of(x: &[f32], dim: usize) -> usize {
    assert!(
        dim > 0 && x.len().is_multiple_of(dim),
        "feature buffer of {} values is not a whole number of rows of {dim}",
        x.len()
    );
    x.len() / dim
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardizer_gives_zero_mean_unit_variance_and_keeps_constants() {
        let x = [1.0f32, 5.0, 3.0, 5.0, 5.0, 5.0, 7.0, 5.0];
        let s = Standardizer::fit(&x, 2);
        assert_eq!(s.mean, vec![4.0, 5.0]);
        assert!((s.std[0] - 5.0f32.sqrt()).abs() < 1e-6);
        assert_eq!(s.std[1], 1.0);
        let z = s.transform(&x);
        let col0: Vec<f32> = z.iter().step_by(2).copied().collect();
        let mean: f32 = col0.iter().sum::<f32>() / 4.0;
        let var: f32 = col0.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 4.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5);
        assert!(z.iter().skip(1).step_by(2).all(|&v| v == 0.0));
    }

    #[test]
    fn training_sets_are_checked() {
        let x = [0.0f32, 1.0, 2.0, 3.0];
        assert_eq!(LabelledRows::new(&x, 2, &[0, 1], 2).check().unwrap(), 2);
        assert!(LabelledRows::new(&x, 2, &[0, 1, 1], 2).check().is_err());
        assert!(LabelledRows::new(&x, 2, &[0, 2], 2).check().is_err());
        assert!(LabelledRows::new(&x, 2, &[1, 1], 2).check().is_err());
        assert!(LabelledRows::new(&x, 0, &[0, 1], 2).check().is_err());
        assert!(LabelledRows::new(&[], 2, &[], 2).check().is_err());
        assert!(LabelledRows::new(&[0.0, f32::NAN, 2.0, 3.0], 2, &[0, 1], 2).check().is_err());
        assert!(LabelledRows::new(&x, usize::MAX, &[0, 1], 2).check().is_err());
        assert!(check_matrix(&x, 3).is_err());
        assert!(check_matrix(&[f32::INFINITY], 1).is_err());
    }

    #[test]
    #[cfg(feature = "cli")]
    fn kinds_parse_from_the_command_line_and_serde() {
        use clap::ValueEnum;
        assert_eq!(
            ClassifierKind::from_str("logreg", false).unwrap(),
            ClassifierKind::LogReg
        );
        assert_eq!(
            ClassifierKind::from_str("svm", false).unwrap(),
            ClassifierKind::Svm
        );
        assert_eq!(
            serde_json::to_string(&ClassifierKind::LogReg).unwrap(),
            "\"logreg\""
        );
        let h: Hyperparameters =
            serde_json::from_str(r#"{"kind":"svm","c":10.0,"gamma":0.5}"#).unwrap();
        assert_eq!(
            h,
            Hyperparameters::Svm {
                c: 10.0,
                gamma: 0.5
            }
        );
    }

    #[test]
    fn argmax_takes_the_first_of_ties() {
        use crate::data::array::{argmax, argmax_rows};
        assert_eq!(argmax(&[1, 3, 3, 2]), 1);
        assert_eq!(argmax(&[0.5f32]), 0);
        assert_eq!(argmax_rows(&[0.1, 0.7, 0.2, 0.5, 0.3, 0.5], 3), vec![1, 0]);
    }
}
