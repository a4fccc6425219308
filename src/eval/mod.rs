//! Metrics and the classifiers fitted on features.

pub mod classifier;
pub mod cv;
pub mod logreg;
pub mod metrics;
pub mod svm;

pub use classifier::{
    fit_classifier, fit_with, Classifier, ClassifierKind, FitReport, FittedClassifier,
    Hyperparameters,
};
pub use metrics::{evaluate, Metrics};
