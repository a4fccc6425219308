//! M1: a variational autoencoder whose posterior means are the features a classifier is trained on.
//! Encoder x -> hidden -> (mu, logvar) of q(z|x); decoder z -> hidden (mirrored) -> p(x|z).

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::activation::Activation;
use super::distributions::{bernoulli_log_density, gaussian_log_density, kl_standard_normal, reparameterize};
use super::init;
use super::mlp::Mlp;
use super::param_ids::numbered;
use super::tensors::vector;
use super::backend::Backend;

/// The observation model p(x|z).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Likelihood {
    /// Gaussian with one learned variance per band: the default for reflectance spectra.
    GaussianBand,
    /// Gaussian whose variance the decoder predicts for every pixel and band.
    GaussianPixel,
    /// Bernoulli on [0, 1] data (the paper's MNIST choice).
    Bernoulli,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct M1Config {
    /// Encoder hidden sizes; the decoder mirrors them.
    pub hidden: Vec<usize>,
    pub latent: usize,
    pub activation: Activation,
    pub likelihood: Likelihood,
    /// Gaussian likelihoods: the fraction of each band's variance that p(x|z) starts with as
    /// noise. Below 1 the reconstruction is costly from the first step, so the encoder has to
    /// carry information instead of the noise explaining the data.
    pub initial_noise: f64,
}

impl Default for M1Config {
    fn default() -> Self {
        M1Config { hidden: vec![500, 500], latent: 50, activation: Activation::Softplus, likelihood: Likelihood::GaussianBand, initial_noise: 1.0 }
    }
}

#[derive(Module, Debug)]
pub struct M1<B: Backend> {
    encoder: Mlp<B>,
    q_mu: Linear<B>,
    q_logvar: Linear<B>,
    decoder: Mlp<B>,
    /// Mean (Gaussian) or logits (Bernoulli) of p(x|z).
    p_out: Linear<B>,
    /// Per-pixel log-variance head (GaussianPixel).
    p_logvar_head: Option<Linear<B>>,
    /// Per-band log-variance (GaussianBand).
    p_logvar_band: Option<Param<Tensor<B, 1>>>,
    #[module(skip)]
    likelihood: Likelihood,
}

/// The terms of the variational lower bound for each example of a batch, each `[batch, 1]`.
pub struct Bound<B: Backend> {
    /// log p(x|z) at the sampled z.
    pub reconstruction: Tensor<B, 2>,
    /// KL(q(z|x) || p(z)).
    pub kl: Tensor<B, 2>,
}

impl<B: Backend> Bound<B> {
    /// The evidence lower bound per example.
    pub fn elbo(&self) -> Tensor<B, 2> {
        self.reconstruction.clone() - self.kl.clone()
    }
}

impl<B: Backend> M1<B> {
    pub fn new(config: &M1Config, input_dim: usize, seed: u64, device: &B::Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let encoder = Mlp::new(&mut rng, input_dim, &config.hidden, config.activation, device);
        let h = encoder.out_dim(input_dim);
        let q_mu = init::linear(&mut rng, h, config.latent, 1.0, device);
        let q_logvar = init::linear(&mut rng, h, config.latent, 0.0, device);
        let dec_hidden: Vec<usize> = config.hidden.iter().rev().copied().collect();
        let decoder = Mlp::new(&mut rng, config.latent, &dec_hidden, config.activation, device);
        let h = decoder.out_dim(config.latent);
        let p_out = init::linear(&mut rng, h, input_dim, 1.0, device);
        let (p_logvar_head, p_logvar_band) = match config.likelihood {
            Likelihood::GaussianPixel => (Some(init::linear(&mut rng, h, input_dim, 0.0, device)), None),
            Likelihood::GaussianBand => (None, Some(Param::from_tensor(vector(vec![0.0; input_dim], device)))),
            Likelihood::Bernoulli => (None, None),
        };
        numbered(M1 { encoder, q_mu, q_logvar, decoder, p_out, p_logvar_head, p_logvar_band, likelihood: config.likelihood })
    }

    /// Starts p(x|z) at the data's per-band mean and variance instead of N(0, 1). Spectra scaled
    /// to [0, 1] have variances around 1e-2: from unit variance, Adam's small steps spend
    /// hundreds of epochs only shrinking the noise level while the latent code stays unused.
    /// The noise starts at `initial_noise` times that variance (`M1Config::initial_noise`).
    pub fn init_output(mut self, mean: &[f32], var: &[f32], initial_noise: f64) -> Self {
        let device = self.p_out.weight.device();
        let d = self.input_dim();
        assert_eq!((mean.len(), var.len()), (d, d), "one mean and variance per input dimension");
        if self.likelihood == Likelihood::Bernoulli {
            return self;
        }
        let lv = init::noise_log_variance(var, initial_noise);
        self.p_out.bias = Some(Param::from_tensor(vector(mean.to_vec(), &device)));
        match self.likelihood {
            Likelihood::GaussianBand => self.p_logvar_band = Some(Param::from_tensor(vector(lv, &device))),
            Likelihood::GaussianPixel => {
                if let Some(head) = self.p_logvar_head.as_mut() {
                    head.bias = Some(Param::from_tensor(vector(lv, &device)));
                }
            }
            Likelihood::Bernoulli => {}
        }
        numbered(self)
    }

    pub fn input_dim(&self) -> usize {
        self.p_out.weight.dims()[1]
    }

    pub fn latent_dim(&self) -> usize {
        self.q_mu.weight.dims()[1]
    }

    /// Mean and log-variance of q(z|x), each `[batch, latent]`.
    pub fn dist_qz(&self, x: Tensor<B, 2>) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let h = self.encoder.forward(x);
        (self.q_mu.forward(h.clone()), self.q_logvar.forward(h))
    }

    /// log p(x|z) per example, `[batch, 1]`.
    pub fn log_px(&self, x: Tensor<B, 2>, z: Tensor<B, 2>) -> Tensor<B, 2> {
        let h = self.decoder.forward(z);
        let out = self.p_out.forward(h.clone());
        match self.likelihood {
            Likelihood::Bernoulli => bernoulli_log_density(x, out),
            Likelihood::GaussianPixel => {
                let lv = self.p_logvar_head.as_ref().expect("per-pixel variance head").forward(h);
                gaussian_log_density(x, out, lv)
            }
            Likelihood::GaussianBand => {
                let lv = self.p_logvar_band.as_ref().expect("per-band variance").val().unsqueeze_dim::<2>(0);
                gaussian_log_density(x, out, lv)
            }
        }
    }

    /// The mean of p(x|z): the reconstruction or a generated spectrum.
    pub fn decode_mean(&self, z: Tensor<B, 2>) -> Tensor<B, 2> {
        let out = self.p_out.forward(self.decoder.forward(z));
        match self.likelihood {
            Likelihood::Bernoulli => burn::tensor::activation::sigmoid(out),
            _ => out,
        }
    }

    /// The bound terms for a batch with the given standard-normal noise `eps` `[batch, latent]`.
    pub fn bound(&self, x: Tensor<B, 2>, eps: Tensor<B, 2>) -> Bound<B> {
        let (mu, logvar) = self.dist_qz(x.clone());
        let z = reparameterize(mu.clone(), logvar.clone(), eps);
        Bound { reconstruction: self.log_px(x, z), kl: kl_standard_normal(mu, logvar) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::tensors::{matrix, to_vec};
    use burn::backend::{Autodiff, Flex};

    type B = Flex;
    type AB = Autodiff<Flex>;

    fn tiny(likelihood: Likelihood, hidden: Vec<usize>) -> M1<B> {
        let cfg = M1Config { hidden, latent: 2, activation: Activation::Softplus, likelihood, ..Default::default() };
        M1::new(&cfg, 3, 7, &Default::default())
    }

    /// Row-major values of a linear layer's weight (d_in x d_out) and bias.
    fn wb(l: &Linear<B>) -> (Vec<f32>, Vec<f32>) {
        (to_vec(l.weight.val()), to_vec(l.bias.as_ref().unwrap().val()))
    }

    fn affine(x: &[f32], (w, b): &(Vec<f32>, Vec<f32>)) -> Vec<f32> {
        let d_out = b.len();
        (0..d_out).map(|j| b[j] + x.iter().enumerate().map(|(i, xi)| xi * w[i * d_out + j]).sum::<f32>()).collect()
    }

    #[test]
    fn bound_matches_hand_computation() {
        // No hidden layers: q(z|x) = N(Wx + b, exp(Vx + c)), p(x|z) = N(Az + d, exp(s)).
        let m = tiny(Likelihood::GaussianBand, vec![]);
        // Make the log-variances non-trivial so every term matters.
        let m = M1 { p_logvar_band: Some(Param::from_tensor(crate::models::tensors::vector(vec![0.2, -0.3, 0.1], &Default::default()))), ..m };
        let x = [0.5f32, -1.0, 2.0];
        let eps = [0.3f32, -0.7];
        let mu = affine(&x, &wb(&m.q_mu));
        let lv_raw = wb(&m.q_logvar);
        // The zero-initialised variance head gives logvar 0; perturb its bias through the formula.
        let lv = affine(&x, &lv_raw);
        let z: Vec<f32> = (0..2).map(|k| mu[k] + (lv[k] / 2.0).exp() * eps[k]).collect();
        let mean = affine(&z, &wb(&m.p_out));
        let s = [0.2f32, -0.3, 0.1];
        let ln2pi = (2.0 * std::f32::consts::PI).ln();
        let log_px: f32 = (0..3).map(|i| -0.5 * ((x[i] - mean[i]).powi(2) / s[i].exp() + s[i] + ln2pi)).sum();
        let kl: f32 = (0..2).map(|k| 0.5 * (mu[k] * mu[k] + lv[k].exp() - lv[k] - 1.0)).sum();
        let dev = Default::default();
        let b = m.bound(matrix::<B>(x.to_vec(), 1, 3, &dev), matrix::<B>(eps.to_vec(), 1, 2, &dev));
        let got_px = to_vec(b.reconstruction.clone())[0];
        let got_kl = to_vec(b.kl.clone())[0];
        assert!((got_px - log_px).abs() < 1e-4, "log p(x|z) {got_px} vs {log_px}");
        assert!((got_kl - kl).abs() < 1e-5, "KL {got_kl} vs {kl}");
        assert!((to_vec(b.elbo())[0] - (log_px - kl)).abs() < 1e-4);
    }

    #[test]
    fn input_gradient_matches_finite_differences() {
        let cfg = M1Config { hidden: vec![4], latent: 2, activation: Activation::Softplus, likelihood: Likelihood::GaussianPixel, ..Default::default() };
        let dev = Default::default();
        let m: M1<AB> = M1::new(&cfg, 3, 11, &dev);
        let x0 = vec![0.3f32, -0.2, 0.8, 0.1, 0.5, -0.4];
        let eps = vec![0.1f32, -0.5, 0.7, 0.2];
        let f = |x: Vec<f32>| -> f64 {
            let b = m.bound(matrix::<AB>(x, 2, 3, &dev), matrix::<AB>(eps.clone(), 2, 2, &dev));
            to_vec(b.elbo().sum())[0] as f64
        };
        let x = matrix::<AB>(x0.clone(), 2, 3, &dev).require_grad();
        let loss = m.bound(x.clone(), matrix::<AB>(eps.clone(), 2, 2, &dev)).elbo().sum();
        let grads = loss.backward();
        let g = to_vec(x.grad(&grads).unwrap());
        let h = 1e-2f32;
        for i in 0..x0.len() {
            let mut xp = x0.clone();
            xp[i] += h;
            let mut xm = x0.clone();
            xm[i] -= h;
            let fd = (f(xp) - f(xm)) / (2.0 * h as f64);
            let tol = 2e-2 * (1.0 + fd.abs());
            assert!((g[i] as f64 - fd).abs() < tol, "d/dx{i}: autodiff {} vs finite difference {fd}", g[i]);
        }
    }

    #[test]
    fn save_and_load_give_identical_outputs() {
        let m = tiny(Likelihood::Bernoulli, vec![5]);
        let dev = Default::default();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.mpk");
        crate::train::checkpoint::save_model::<B, _>(&p, &m).unwrap();
        let other = M1::new(&M1Config { hidden: vec![5], latent: 2, activation: Activation::Softplus, likelihood: Likelihood::Bernoulli, ..Default::default() }, 3, 99, &dev);
        let loaded = crate::train::checkpoint::load_model::<B, _>(&p, other, &dev).unwrap();
        let x = matrix::<B>(vec![0.1, 0.9, 0.4, 0.0, 1.0, 0.5], 2, 3, &dev);
        let a = to_vec(m.dist_qz(x.clone()).0);
        let b = to_vec(loaded.dist_qz(x).0);
        assert_eq!(a, b);
    }

    #[test]
    fn same_seed_same_parameters() {
        let a = tiny(Likelihood::GaussianBand, vec![4]);
        let b = tiny(Likelihood::GaussianBand, vec![4]);
        assert_eq!(wb(&a.q_mu), wb(&b.q_mu));
        let (w, _) = wb(&a.q_logvar);
        assert!(w.iter().all(|&v| v == 0.0), "log-variance head starts at zero");
    }
}
