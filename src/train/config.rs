//! Optimiser and schedule settings shared by every model.

use serde::{Deserialize, Serialize};

use super::noise::Noise;

/// Which parameters a run keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    /// Those with the best validation score, stopping early when it stops improving.
    #[default]
    Best,
    /// Those of the last epoch, after every epoch: a fixed schedule, for a validation score
    /// that does not measure what the run is for (M2's bound, when it is the classifier that
    /// matters and no labelled validation pixels are spared).
    Last,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Adam step size.
    pub learning_rate: f64,
    pub beta1: f32,
    pub beta2: f32,
    /// L2 penalty on all parameters (0 = none).
    pub weight_decay: f32,
    pub batch_size: usize,
    /// Upper bound on passes over the data.
    pub epochs: usize,
    /// Evaluate on the validation set (and checkpoint) every this many epochs.
    pub eval_every: usize,
    /// Stop after this many evaluations without improvement.
    pub patience: usize,
    /// Seed for initialisation, shuffling and noise.
    pub seed: u64,
    /// Times the learning rate may be halved after non-finite numbers before giving up.
    pub max_divergences: usize,
    /// Where the reparameterisation noise is drawn (host: the same numbers on every backend).
    pub noise: Noise,
    /// Parts a step's minibatch is split into, run forward and backward side by side on the
    /// CPU's threads; their gradients are summed, so the objective is the same and only float
    /// rounding depends on it. Fixed per run (not taken from the machine's core count) so that
    /// a run gives the same numbers wherever it is repeated or resumed.
    pub step_parts: usize,
    /// A file without it means `Best`.
    #[serde(default)]
    pub keep: Keep,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            learning_rate: 3e-4,
            beta1: 0.9,
            beta2: 0.999,
            weight_decay: 0.0,
            batch_size: 256,
            epochs: 200,
            eval_every: 1,
            patience: 20,
            seed: 0,
            max_divergences: 3,
            noise: Noise::Host,
            step_parts: 1,
            keep: Keep::Best,
        }
    }
}
