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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
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

impl M1Config {
    /// Refuses sizes and noise that cannot make a model, naming the setting (`m1.latent`).
    pub fn check(&self) -> crate::error::Result<()> {
        super::check_shape("m1", &[("hidden", &self.hidden)], self.latent, self.initial_noise)
    }
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
    ///
    /// # Panics
    /// When `mean` or `var` does not hold one value per input dimension (a caller's mistake:
    /// both come from `tensors::column_moments` of the model's own inputs).
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

    /// The largest log-variance of q(z|x): a variance of e^10, far wider than the prior's 1. An
    /// unusual input can drive the encoder's head past 88, where exp overflows f32 and the bound
    /// is no longer a number; below the cap nothing changes.
    pub const MAX_LOGVAR: f32 = 10.0;

    /// Mean and log-variance of q(z|x), each `[batch, latent]`.
    pub fn dist_qz(&self, x: Tensor<B, 2>) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let h = self.encoder.forward(x);
        (self.q_mu.forward(h.clone()), self.q_logvar.forward(h).clamp_max(Self::MAX_LOGVAR))
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
    use nalgebra::{DMatrix, DVector};

    type B = Flex;
    type AB = Autodiff<Flex>;

    fn tiny(likelihood: Likelihood, hidden: Vec<usize>) -> M1<B> {
        let cfg = M1Config { hidden, latent: 2, activation: Activation::Softplus, likelihood, ..Default::default() };
        M1::new(&cfg, 3, 7, &Default::default())
    }

    #[test]
    fn the_posterior_log_variance_is_capped_and_the_bound_stays_finite() {
        let dev = Default::default();
        let m = tiny(Likelihood::GaussianBand, vec![]);
        // A head whose log-variance is 100 + x_0: past exp's range in f32 for every input here.
        let (w, mut b) = wb(&m.q_logvar);
        let w: Vec<f32> = w.iter().enumerate().map(|(i, _)| if i % 2 == 0 && i < 2 { 1.0 } else { 0.0 }).collect();
        b.iter_mut().for_each(|v| *v = 100.0);
        let m = M1 {
            q_logvar: Linear { weight: Param::from_tensor(matrix(w, 3, 2, &dev)), bias: Some(Param::from_tensor(crate::models::tensors::vector(b, &dev))) },
            ..m
        };
        let x = matrix::<B>(vec![0.5, 1.0, -1.0, -3.0, 0.0, 2.0], 2, 3, &dev);
        let (_, lv) = m.dist_qz(x.clone());
        assert!(to_vec(lv).iter().all(|&v| v == M1::<B>::MAX_LOGVAR));
        let bound = m.bound(x, matrix::<B>(vec![0.3, -0.2, 1.1, 0.4], 2, 2, &dev));
        assert!(to_vec(bound.kl).iter().chain(&to_vec(bound.reconstruction)).all(|v| v.is_finite()));
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

    /// A linear-Gaussian M1 (no hidden layers): q(z|x) = N(A x + a, diag exp(V x + v)) and
    /// p(x|z) = N(W z + b, diag exp(s)), with the given parameters.
    struct LinearGaussian {
        d: usize,
        l: usize,
        /// `d x l` row-major, as the layers store them (x times the weight).
        a: Vec<f32>,
        a_bias: Vec<f32>,
        v: Vec<f32>,
        v_bias: Vec<f32>,
        /// `l x d` row-major.
        w: Vec<f32>,
        b: Vec<f32>,
        s: Vec<f32>,
    }

    impl LinearGaussian {
        fn model(&self) -> M1<B> {
            let dev = Default::default();
            let cfg = M1Config { hidden: vec![], latent: self.l, likelihood: Likelihood::GaussianBand, ..Default::default() };
            let layer = |w: &[f32], b: &[f32], rows, cols| Linear {
                weight: Param::from_tensor(matrix(w.to_vec(), rows, cols, &dev)),
                bias: Some(Param::from_tensor(crate::models::tensors::vector(b.to_vec(), &dev))),
            };
            let m = M1::<B>::new(&cfg, self.d, 0, &dev);
            M1 {
                q_mu: layer(&self.a, &self.a_bias, self.d, self.l),
                q_logvar: layer(&self.v, &self.v_bias, self.d, self.l),
                p_out: layer(&self.w, &self.b, self.l, self.d),
                p_logvar_band: Some(Param::from_tensor(crate::models::tensors::vector(self.s.clone(), &dev))),
                ..m
            }
        }

        /// The bound averaged exactly over eps ~ N(0, I): log p(x|z) is quadratic in eps, so its
        /// mean over the 2l points +-sqrt(l) e_k (mean 0, covariance I) is its expectation.
        fn expected_elbo(&self, x: &[f32]) -> f64 {
            let (d, l) = (self.d, self.l);
            let dev = Default::default();
            let xs: Vec<f32> = (0..2 * l).flat_map(|_| x.iter().copied()).collect();
            let mut eps = vec![0f32; 2 * l * l];
            for k in 0..l {
                eps[2 * k * l + k] = (l as f32).sqrt();
                eps[(2 * k + 1) * l + k] = -(l as f32).sqrt();
            }
            let bound = self.model().bound(matrix::<B>(xs, 2 * l, d, &dev), matrix::<B>(eps, 2 * l, l, &dev));
            to_vec(bound.elbo()).iter().map(|&v| v as f64).sum::<f64>() / (2 * l) as f64
        }

        /// W as the `d x l` matrix of the generative model x = W z + b + noise.
        fn w(&self) -> DMatrix<f64> {
            DMatrix::from_fn(self.d, self.l, |i, k| self.w[k * self.d + i] as f64)
        }

        fn noise_variances(&self) -> DVector<f64> {
            DVector::from_iterator(self.d, self.s.iter().map(|&s| (s as f64).exp()))
        }

        /// log p(x) = log N(x; b, W W^T + diag exp(s)), in f64.
        fn log_likelihood(&self, x: &[f32]) -> f64 {
            let w = self.w();
            let cov = &w * w.transpose() + DMatrix::from_diagonal(&self.noise_variances());
            let chol = cov.cholesky().expect("positive definite");
            let r = DVector::from_iterator(self.d, x.iter().zip(&self.b).map(|(&x, &b)| (x - b) as f64));
            let log_det: f64 = 2.0 * chol.l().diagonal().iter().map(|v| v.ln()).sum::<f64>();
            let quad = r.dot(&chol.solve(&r));
            -0.5 * (self.d as f64 * (2.0 * std::f64::consts::PI).ln() + log_det + quad)
        }

        /// The exact posterior p(z|x) = N(m, P^-1) with precision P = I + W^T D^-1 W.
        fn posterior(&self, x: &[f32]) -> (DVector<f64>, DMatrix<f64>) {
            let w = self.w();
            let d_inv = DMatrix::from_diagonal(&self.noise_variances().map(|v| 1.0 / v));
            let precision = DMatrix::identity(self.l, self.l) + w.transpose() * &d_inv * &w;
            let r = DVector::from_iterator(self.d, x.iter().zip(&self.b).map(|(&x, &b)| (x - b) as f64));
            let mean = precision.clone().cholesky().unwrap().solve(&(w.transpose() * d_inv * r));
            (mean, precision)
        }

        /// q(z|x)'s mean and log-variances, in f64.
        fn q(&self, x: &[f32]) -> (DVector<f64>, DVector<f64>) {
            let affine = |w: &[f32], b: &[f32]| {
                DVector::from_fn(self.l, |k, _| b[k] as f64 + (0..self.d).map(|i| x[i] as f64 * w[i * self.l + k] as f64).sum::<f64>())
            };
            (affine(&self.a, &self.a_bias), affine(&self.v, &self.v_bias))
        }

        /// KL(q(z|x) || p(z|x)) between the diagonal q and the exact posterior, in f64.
        fn kl_to_posterior(&self, x: &[f32]) -> f64 {
            let (m, precision) = self.posterior(x);
            let (mu, lv) = self.q(x);
            let diff = &m - &mu;
            let trace: f64 = (0..self.l).map(|k| precision[(k, k)] * lv[k].exp()).sum();
            let log_det_p = 2.0 * precision.clone().cholesky().unwrap().l().diagonal().iter().map(|v| v.ln()).sum::<f64>();
            0.5 * (trace + diff.dot(&(&precision * &diff)) - self.l as f64 - lv.sum() - log_det_p)
        }
    }

    fn uniform(rng: &mut ChaCha8Rng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        use rand::Rng;
        (0..n).map(|_| rng.random_range(lo..hi)).collect()
    }

    fn random_linear_gaussian(rng: &mut ChaCha8Rng, d: usize, l: usize) -> LinearGaussian {
        LinearGaussian {
            d,
            l,
            a: uniform(rng, d * l, -1.0, 1.0),
            a_bias: uniform(rng, l, -0.5, 0.5),
            v: uniform(rng, d * l, -0.4, 0.4),
            v_bias: uniform(rng, l, -1.0, 0.5),
            w: uniform(rng, l * d, -1.5, 1.5),
            b: uniform(rng, d, -1.0, 1.0),
            s: uniform(rng, d, -1.5, 0.5),
        }
    }

    // The model computes in f32 on values of order 10: 1e-4 relative is about 100 times its
    // rounding, and far below any wrong term (a missing 0.5 ln 2 pi per band is 0.9 nats).
    fn bound_tolerance(log_px: f64) -> f64 {
        1e-4 * (1.0 + log_px.abs())
    }

    #[test]
    fn linear_gaussian_bound_is_the_likelihood_less_the_posterior_divergence() {
        // ELBO = log p(x) - KL(q(z|x) || p(z|x)), both computed here in closed form; so the bound
        // is never above log p(x), whatever the encoder.
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        for _ in 0..4 {
            let model = random_linear_gaussian(&mut rng, 4, 2);
            for _ in 0..3 {
                let x = uniform(&mut rng, 4, -2.0, 2.0);
                let elbo = model.expected_elbo(&x);
                let log_px = model.log_likelihood(&x);
                let gap = model.kl_to_posterior(&x);
                let tol = bound_tolerance(log_px);
                assert!(elbo <= log_px + tol, "bound {elbo} above log p(x) = {log_px}");
                assert!((elbo - (log_px - gap)).abs() < tol, "bound {elbo} vs log p(x) {log_px} - KL {gap}");
            }
        }
    }

    #[test]
    fn linear_gaussian_bound_is_tight_at_the_exact_posterior() {
        // With W^T D^-1 W diagonal the posterior covariance (I + W^T D^-1 W)^-1 is diagonal, so a
        // linear encoder can be the posterior: mean Sigma W^T D^-1 (x - b), constant variances.
        let (d, l) = (4, 2);
        let mut rng = ChaCha8Rng::seed_from_u64(23);
        let mut model = random_linear_gaussian(&mut rng, d, l);
        let noise_sd = model.noise_variances().map(f64::sqrt);
        // Orthonormal columns (QR of a random matrix) scaled per column.
        let q = DMatrix::from_iterator(d, l, uniform(&mut rng, d * l, -1.0, 1.0).into_iter().map(f64::from)).qr().q();
        let scales = [1.7, 0.6];
        let w = DMatrix::from_fn(d, l, |i, k| noise_sd[i] * q[(i, k)] * scales[k]);
        model.w = (0..l).flat_map(|k| (0..d).map(move |i| (k, i))).map(|(k, i)| w[(i, k)] as f32).collect();
        let w = model.w(); // as the model will hold it, in f32
        let variances = model.noise_variances();
        let precision_diag: Vec<f64> = (0..l).map(|k| 1.0 + (0..d).map(|i| w[(i, k)].powi(2) / variances[i]).sum::<f64>()).collect();
        // mean_k = sum_i (W_ik / D_i / P_kk) (x_i - b_i)
        let gain = |i: usize, k: usize| w[(i, k)] / variances[i] / precision_diag[k];
        model.a = (0..d).flat_map(|i| (0..l).map(move |k| (i, k))).map(|(i, k)| gain(i, k) as f32).collect();
        model.a_bias = (0..l).map(|k| -(0..d).map(|i| gain(i, k) * model.b[i] as f64).sum::<f64>() as f32).collect();
        model.v = vec![0.0; d * l];
        model.v_bias = precision_diag.iter().map(|p| (-p.ln()) as f32).collect();
        for _ in 0..3 {
            let x = uniform(&mut rng, d, -2.0, 2.0);
            let (elbo, log_px) = (model.expected_elbo(&x), model.log_likelihood(&x));
            assert!(model.kl_to_posterior(&x) < 1e-9, "the encoder is the posterior");
            assert!((elbo - log_px).abs() < bound_tolerance(log_px), "bound {elbo} vs log p(x) {log_px}");
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
