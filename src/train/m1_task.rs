//! Training M1: minibatches of pixels, the negative bound as the loss, the validation bound
//! (with fixed noise, so evaluations are comparable) as the score.

use burn::module::AutodiffModule;
use crate::models::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::config::TrainConfig;
use super::noise::Noise;
use super::trainer::{part_rows, StepOutput, TrainTask, Validation};
use crate::error::{Error, Result};
use crate::models::tensors::{matrix, to_vec};
use crate::models::M1;

pub use super::noise::host_normal as normal_noise;

use crate::data::array::gather_rows;

/// Mean bound of `x` under `model` with noise from a fixed seed, in chunks.
pub fn mean_bound<B: Backend>(model: &M1<B>, x: &[f32], dim: usize, seed: u64, device: &B::Device) -> f64 {
    let n = x.len() / dim;
    if n == 0 {
        return f64::NAN;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let latent = model.latent_dim();
    let mut total = 0.0f64;
    for start in (0..n).step_by(1024) {
        let end = (start + 1024).min(n);
        let xb = matrix::<B>(x[start * dim..end * dim].to_vec(), end - start, dim, device);
        let eps = normal_noise::<B, _>(&mut rng, end - start, latent, device);
        let elbo = model.bound(xb, eps).elbo().sum();
        total += to_vec(elbo)[0] as f64;
    }
    total / n as f64
}

pub struct M1Task<B: AutodiffBackend> {
    /// Epochs over which the weight of the KL term rises linearly from 0 to 1 ("warm-up"), so
    /// that the decoder learns to use z before the prior pulls q(z|x) onto it; 0 = off.
    pub kl_warmup: usize,
    /// This epoch's KL weight.
    kl_weight: f32,
    /// Where the step's noise is drawn.
    pub noise: Noise,
    pub x: Vec<f32>,
    pub valid: Vec<f32>,
    pub dim: usize,
    pub batch_size: usize,
    pub seed: u64,
    order: Vec<usize>,
    device: B::Device,
}

impl<B: AutodiffBackend> M1Task<B> {
    /// A task over the rows of `x` (and the validation rows `valid`), `dim` values each, with the
    /// batch size, seed and noise of `train`. Refuses rows that are not whole or have no values.
    pub fn new(x: Vec<f32>, valid: Vec<f32>, dim: usize, train: &TrainConfig, device: B::Device) -> Result<Self> {
        if dim == 0 || !x.len().is_multiple_of(dim) || !valid.len().is_multiple_of(dim) {
            return Err(Error::invalid(format!("M1 needs whole rows of at least one value: {} and {} values in rows of {dim}", x.len(), valid.len())));
        }
        let n = x.len() / dim;
        let TrainConfig { batch_size, seed, noise, .. } = *train;
        Ok(M1Task { kl_warmup: 0, kl_weight: 1.0, noise, x, valid, dim, batch_size, seed, order: (0..n).collect(), device })
    }

    fn n(&self) -> usize {
        self.x.len() / self.dim
    }
}

/// Rows of one part of an M1 step and their noise.
pub struct M1Part<B: AutodiffBackend> {
    x: Tensor<B, 2>,
    eps: Tensor<B, 2>,
    /// Rows in the whole step: each part's loss is its sum over this many.
    step_rows: usize,
}

impl<B: AutodiffBackend> TrainTask<B> for M1Task<B> {
    type Model = M1<B>;
    type Part = M1Part<B>;

    fn steps_per_epoch(&self) -> usize {
        self.n().div_ceil(self.batch_size)
    }

    fn examples_per_epoch(&self) -> usize {
        self.n()
    }

    fn start_epoch(&mut self, epoch: usize, rng: &mut ChaCha8Rng) {
        self.kl_weight = if self.kl_warmup == 0 { 1.0 } else { ((epoch + 1) as f32 / self.kl_warmup as f32).min(1.0) };
        self.order = (0..self.n()).collect();
        self.order.shuffle(rng);
        self.noise.start_epoch::<B>(rng, &self.device);
    }

    fn draw(&self, model: &M1<B>, step: usize, parts: usize, rng: &mut ChaCha8Rng) -> Vec<M1Part<B>> {
        let start = step * self.batch_size;
        let idx = &self.order[start..(start + self.batch_size).min(self.n())];
        part_rows(idx.len(), parts)
            .into_iter()
            .map(|rows| {
                let part = &idx[rows];
                M1Part {
                    x: matrix::<B>(gather_rows(&self.x, self.dim, part), part.len(), self.dim, &self.device),
                    eps: self.noise.normal::<B>(rng, part.len(), model.latent_dim(), &self.device),
                    step_rows: idx.len(),
                }
            })
            .collect()
    }

    fn loss(&self, model: &M1<B>, part: M1Part<B>) -> StepOutput<B> {
        let bound = model.bound(part.x, part.eps);
        let share = |t: Tensor<B, 2>| t.sum().div_scalar(part.step_rows as f32);
        let (elbo, recon, kl) = (share(bound.elbo()), share(bound.reconstruction), share(bound.kl));
        // The logged bound is always the true one; only the loss weights the KL during warm-up.
        let loss = (recon.clone() - kl.clone().mul_scalar(self.kl_weight)).neg();
        let terms = Tensor::cat(vec![elbo, recon, kl], 0).detach();
        StepOutput { loss, terms }
    }

    fn validate(&self, model: &<M1<B> as AutodiffModule<B>>::InnerModule) -> Validation {
        let bound = mean_bound(model, &self.valid, self.dim, self.seed, &self.device);
        Validation { score: bound, bound, accuracy: f64::NAN }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Activation, Likelihood, M1Config};
    use crate::train::trainer::TrainTask;
    use burn::backend::{Autodiff, Flex};

    type AB = Autodiff<Flex>;

    #[test]
    fn rows_that_are_not_whole_or_empty_are_refused() {
        let tc = TrainConfig::default();
        for (x, valid, dim) in [(vec![0.5; 8], vec![], 0), (vec![0.5; 7], vec![], 2), (vec![0.5; 8], vec![0.5; 3], 2)] {
            let e = M1Task::<AB>::new(x, valid, dim, &tc, Default::default()).err().expect("refused").to_string();
            assert!(e.contains("whole rows"), "{e}");
        }
        assert!(M1Task::<AB>::new(vec![0.5; 8], vec![0.5; 2], 2, &tc, Default::default()).is_ok());
    }

    #[test]
    fn kl_warm_up_weights_only_the_loss() {
        let dim = 4;
        let x: Vec<f32> = (0..32).map(|i| (i % 7) as f32 / 7.0).collect();
        let mut task = M1Task::<AB>::new(x, vec![0.5; 8], dim, &TrainConfig { batch_size: 8, seed: 1, ..Default::default() }, Default::default()).unwrap();
        task.kl_warmup = 4;
        let cfg = M1Config { hidden: vec![6], latent: 2, activation: Activation::Softplus, likelihood: Likelihood::GaussianBand, ..Default::default() };
        let model = M1::<AB>::new(&cfg, dim, 1, &Default::default());
        for (epoch, weight) in [(0usize, 0.25f32), (1, 0.5), (3, 1.0), (9, 1.0)] {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            task.start_epoch(epoch, &mut rng);
            let part = task.draw(&model, 0, 1, &mut rng).pop().unwrap();
            let out = task.loss(&model, part);
            let t = to_vec(out.terms);
            let (bound, recon, kl) = (t[0], t[1], t[2]);
            assert!((bound - (recon - kl)).abs() < 1e-3, "the logged bound is the true bound");
            let loss = to_vec(out.loss)[0];
            assert!((loss + recon - weight * kl).abs() < 1e-3, "epoch {epoch}: loss {loss}, recon {recon}, kl {kl}");
        }
    }

    #[test]
    fn the_parts_of_a_step_add_up_to_the_whole_step() {
        let dim = 4;
        let x: Vec<f32> = (0..40).map(|i| (i % 7) as f32 / 7.0).collect();
        let mut task = M1Task::<AB>::new(x, vec![0.5; 8], dim, &TrainConfig { batch_size: 10, seed: 1, ..Default::default() }, Default::default()).unwrap();
        let cfg = M1Config { hidden: vec![6], latent: 2, ..Default::default() };
        let model = M1::<AB>::new(&cfg, dim, 1, &Default::default());
        let mut sums = |parts: usize| {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            task.start_epoch(0, &mut rng);
            let drawn = task.draw(&model, 0, parts, &mut rng);
            assert_eq!(drawn.len(), parts);
            let mut total = vec![0.0f32; 4];
            for part in drawn {
                let out = task.loss(&model, part);
                let t = [to_vec(out.loss), to_vec(out.terms)].concat();
                total.iter_mut().zip(t).for_each(|(a, b)| *a += b);
            }
            total
        };
        let (one, three) = (sums(1), sums(3));
        for (a, b) in one.iter().zip(&three) {
            assert!((a - b).abs() < 1e-4 * (1.0 + a.abs()), "{one:?} vs {three:?}");
        }
    }
}
