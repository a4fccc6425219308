//! Metrics, the classifiers fitted on features and the spatial regularisation of their maps.

pub(crate) mod class_map;
pub mod classifier;
pub(crate) mod cv;
pub mod logreg;
pub(crate) mod maxflow;
pub(crate) mod metrics;
pub(crate) mod mrf;
pub mod propagation;
pub(crate) mod platt;
pub(crate) mod regions;
pub mod svm;

pub use classifier::{
    fit_classifier, fit_with, Classifier, ClassifierKind, FitReport, FittedClassifier,
    Hyperparameters, LabelledRows,
};
pub use metrics::{evaluate, Metrics};
// Types that public signatures and fields use, nameable where their modules are private: a
// scene's class map with the probabilities that decided it, the graph cut's settings (part of a
// run's configuration), a CV report's scores, an SVM pair's probability sigmoid, the scores by
// region of a map.
pub use class_map::ClassMap;
pub use cv::CvScore;
pub use mrf::MrfConfig;
pub use platt::Platt;
pub use regions::RegionAccuracy;
