//! Where the reparameterisation noise of a training step is drawn.
//!
//! On the host the noise comes from the run's own ChaCha stream: the same numbers on every
//! backend, so a CPU run is reproducible bit for bit. On a GPU that costs a host-side draw and a
//! copy of `rows x latent` values every step (for M2, rows = pixels x classes): drawing on the
//! device avoids both. The device generator is re-seeded from the host stream at every epoch, so
//! a run stays reproducible for its seed and a resumed run goes on as an uninterrupted one would.

use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::models::tensors::matrix;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Noise {
    /// From the host's seeded stream, copied to the device (reproducible across backends).
    #[default]
    Host,
    /// From the backend's own generator, on the device.
    Device,
}

impl Noise {
    /// Call at the start of every epoch with the epoch's host stream.
    pub fn start_epoch<B: Backend>(self, rng: &mut ChaCha8Rng, device: &B::Device) {
        if self == Noise::Device {
            B::seed(device, rng.random());
        }
    }

    /// Standard-normal noise, `rows x cols`.
    pub fn normal<B: Backend>(self, rng: &mut ChaCha8Rng, rows: usize, cols: usize, device: &B::Device) -> Tensor<B, 2> {
        match self {
            Noise::Host => host_normal(rng, rows, cols, device),
            Noise::Device => Tensor::random([rows, cols], Distribution::Normal(0.0, 1.0), device),
        }
    }
}

/// Standard-normal noise, `rows x cols`, from our own RNG (reproducible on every backend).
pub fn host_normal<B: Backend, R: Rng>(rng: &mut R, rows: usize, cols: usize, device: &B::Device) -> Tensor<B, 2> {
    let v: Vec<f32> = (0..rows * cols).map(|_| rng.sample(StandardNormal)).collect();
    matrix(v, rows, cols, device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::tensors::to_vec;
    use burn::backend::Flex;
    use rand::SeedableRng;

    fn draw(noise: Noise, seed: u64) -> Vec<f32> {
        let device = Default::default();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        noise.start_epoch::<Flex>(&mut rng, &device);
        to_vec(noise.normal::<Flex>(&mut rng, 400, 50, &device))
    }

    fn moments(v: &[f32]) -> (f64, f64) {
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        (mean, var)
    }

    #[test]
    fn both_sources_are_standard_normal_and_repeat_for_a_seed() {
        for noise in [Noise::Host, Noise::Device] {
            let a = draw(noise, 7);
            assert_eq!(a.len(), 20_000);
            let (mean, var) = moments(&a);
            // 20,000 draws: the standard error of the mean is 0.007, of the variance 0.01.
            assert!(mean.abs() < 0.04 && (var - 1.0).abs() < 0.06, "{noise:?}: mean {mean}, variance {var}");
            assert_eq!(a, draw(noise, 7), "{noise:?} is not reproducible for a seed");
            assert_ne!(a, draw(noise, 8), "{noise:?} ignores the seed");
        }
    }
}
