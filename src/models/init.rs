//! Seeded weight initialisation, done with our own RNG so that a run is reproducible whatever
//! the backend and so that resume needs nothing but the saved parameters.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::backend::Backend;
use rand::Rng;
use rand_distr::StandardNormal;

use super::tensors::{matrix, vector};

/// Log-variances for a Gaussian p(x|.) that starts with `fraction` of each input dimension's
/// variance `var` as its noise (floored at 1e-6 so constant inputs stay finite).
pub fn noise_log_variance(var: &[f32], fraction: f64) -> Vec<f32> {
    var.iter().map(|v| (v * fraction as f32).max(1e-6).ln()).collect()
}

/// A linear layer with weights N(0, 1) / sqrt(fan_in) and zero bias, as in the paper's
/// reference code; `scale` multiplies the weights (0 gives an all-zero layer, used for
/// log-variance heads so that they start at variance 1).
pub fn linear<B: Backend, R: Rng>(rng: &mut R, d_in: usize, d_out: usize, scale: f32, device: &B::Device) -> Linear<B> {
    let std = scale / (d_in as f32).sqrt();
    let w: Vec<f32> = (0..d_in * d_out).map(|_| rng.sample::<f32, _>(StandardNormal) * std).collect();
    Linear {
        weight: Param::from_tensor(matrix(w, d_in, d_out, device)),
        bias: Some(Param::from_tensor(vector(vec![0.0; d_out], device))),
    }
}
