//! Metrics and the classifiers fitted on features.

pub mod logreg;
pub mod metrics;
pub mod svm;
