//! Log densities and divergences of the distributions the models use, per example (summed over
//! the feature axis). Constants are kept so that bounds are true log-likelihood bounds in nats.

use burn::tensor::{activation, Tensor};
use super::backend::Backend;

const LN_2PI: f32 = 1.837_877_1;

/// log N(x; mu, exp(logvar)) summed over dim 1: returns `[batch, 1]`.
/// `logvar` broadcasts (a `[1, d]` per-band variance or a `[batch, d]` per-pixel one).
pub fn gaussian_log_density<B: Backend>(x: Tensor<B, 2>, mu: Tensor<B, 2>, logvar: Tensor<B, 2>) -> Tensor<B, 2> {
    let d = x.dims()[1] as f32;
    let diff = x - mu;
    let sq = diff.clone() * diff * logvar.clone().neg().exp();
    let lv = logvar.sum_dim(1);
    // Per-band logvar has one row: its sum is the same for every example.
    (sq.sum_dim(1) + lv).mul_scalar(-0.5).sub_scalar(0.5 * d * LN_2PI)
}

/// log Bernoulli(x; sigmoid(logits)) summed over dim 1, for x in [0, 1]: `[batch, 1]`.
/// Uses x*l - softplus(l), stable for any logit.
pub fn bernoulli_log_density<B: Backend>(x: Tensor<B, 2>, logits: Tensor<B, 2>) -> Tensor<B, 2> {
    let sp = super::activation::softplus(logits.clone());
    (x * logits - sp).sum_dim(1)
}

/// KL( N(mu, exp(logvar)) || N(0, I) ) in closed form, summed over dim 1: `[batch, 1]`.
pub fn kl_standard_normal<B: Backend>(mu: Tensor<B, 2>, logvar: Tensor<B, 2>) -> Tensor<B, 2> {
    let terms = mu.clone() * mu + logvar.clone().exp() - logvar - 1.0;
    terms.sum_dim(1).mul_scalar(0.5)
}

/// Reparameterised sample mu + exp(logvar / 2) * eps.
pub fn reparameterize<B: Backend>(mu: Tensor<B, 2>, logvar: Tensor<B, 2>, eps: Tensor<B, 2>) -> Tensor<B, 2> {
    mu + logvar.mul_scalar(0.5).exp() * eps
}

/// Entropy of a categorical distribution given its log-probabilities `[batch, k]`: `[batch, 1]`.
pub fn categorical_entropy<B: Backend>(log_probs: Tensor<B, 2>) -> Tensor<B, 2> {
    (log_probs.clone().exp() * log_probs).sum_dim(1).neg()
}

/// Log-softmax over dim 1.
pub fn log_softmax<B: Backend>(logits: Tensor<B, 2>) -> Tensor<B, 2> {
    activation::log_softmax(logits, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::tensors::{matrix, to_vec};
    type B = burn::backend::Flex;

    fn dev() -> burn::tensor::Device<B> {
        Default::default()
    }

    #[test]
    fn gaussian_density_matches_formula() {
        // x = (1, -2), mu = (0.5, 0), logvar = (0, ln 4):
        // -0.5 * [ (0.5^2)/1 + (2^2)/4 + 0 + ln 4 + 2 ln(2 pi) ]
        let x = matrix::<B>(vec![1.0, -2.0], 1, 2, &dev());
        let mu = matrix::<B>(vec![0.5, 0.0], 1, 2, &dev());
        let lv = matrix::<B>(vec![0.0, 4f32.ln()], 1, 2, &dev());
        let got = to_vec(gaussian_log_density(x, mu, lv))[0];
        let want = -0.5 * (0.25 + 1.0 + 4f32.ln() + 2.0 * (2.0 * std::f32::consts::PI).ln());
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }

    #[test]
    fn kl_matches_closed_form() {
        // KL(N(m, s^2) || N(0,1)) = 0.5 (m^2 + s^2 - ln s^2 - 1) per dim.
        let mu = matrix::<B>(vec![0.3, -1.0, 0.0, 0.0], 2, 2, &dev());
        let lv = matrix::<B>(vec![0.5f32.ln(), 0.0, 0.0, 2.0], 2, 2, &dev());
        let got = to_vec(kl_standard_normal(mu, lv));
        let want0 = 0.5 * (0.09 + 0.5 - 0.5f32.ln() - 1.0) + 0.5 * (1.0 + 1.0 - 0.0 - 1.0);
        let want1 = 0.0 + 0.5 * (2f32.exp() - 2.0 - 1.0);
        assert!((got[0] - want0).abs() < 1e-5);
        assert!((got[1] - want1).abs() < 1e-5);
    }

    #[test]
    fn kl_is_zero_at_the_prior() {
        let z = matrix::<B>(vec![0.0; 6], 2, 3, &dev());
        assert!(to_vec(kl_standard_normal(z.clone(), z)).iter().all(|v| v.abs() < 1e-7));
    }

    #[test]
    fn bernoulli_density_matches_formula() {
        // x = (1, 0, 0.25), p = sigmoid(l).
        let l = [0.7f32, -1.2, 2.0];
        let x = [1.0f32, 0.0, 0.25];
        let want: f32 = x
            .iter()
            .zip(l)
            .map(|(x, l)| {
                let p = 1.0 / (1.0 + (-l).exp());
                x * p.ln() + (1.0 - x) * (1.0 - p).ln()
            })
            .sum();
        let got = to_vec(bernoulli_log_density(matrix::<B>(x.to_vec(), 1, 3, &dev()), matrix::<B>(l.to_vec(), 1, 3, &dev())))[0];
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }

    #[test]
    fn entropy_of_uniform_is_log_k() {
        let lp = matrix::<B>(vec![(0.25f32).ln(); 4], 1, 4, &dev());
        assert!((to_vec(categorical_entropy(lp))[0] - 4f32.ln()).abs() < 1e-6);
    }
}
