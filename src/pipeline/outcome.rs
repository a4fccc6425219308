//! What every finished run gives back, whichever model it trained.

use std::path::PathBuf;

use crate::data::sampling::Split;
use crate::eval::metrics::Metrics;
use crate::train::checkpoint::LoopState;

pub struct RunOutcome {
    pub split: Split,
    /// Scores of the class map on the test pixels of the split.
    pub metrics: Metrics,
    /// Scores of the classifier's own classes, before the class map is regularised (the same
    /// as `metrics` when it is not).
    pub metrics_pixelwise: Metrics,
    /// The class map: the class of every pixel of the scene.
    pub predicted: Vec<usize>,
    /// Class probabilities of every pixel, `n_pixels x n_classes`.
    pub probabilities: Vec<f32>,
    /// The training loop's record (of M2's loop for M1+M2).
    pub train_state: LoopState,
    /// Wall time of the whole run.
    pub seconds: f64,
    /// Pictures and report written to the run folder.
    pub files: Vec<PathBuf>,
}
