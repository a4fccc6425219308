//! The deep generative models: distributions, the M1 variational autoencoder, the M2
//! semi-supervised model and M1+M2 stacked. Models are generic over `backend::Backend` (burn's, plus fused operations); the
//! outside world hands them plain f32 buffers.

pub(crate) mod activation;
pub mod backend;
pub(crate) mod distributions;
pub(crate) mod init;
pub(crate) mod m1;
pub mod m2;
pub(crate) mod mlp;
pub(crate) mod param_ids;
pub(crate) mod row_chunks;
pub mod tensors;

pub use activation::Activation;
pub use m1::{Bound, M1Config, Likelihood, M1};
pub use mlp::Mlp;
pub use m2::{M2Config, M2};

use crate::error::{Error, Result};

/// Refuses a network shape that cannot make a model: a hidden layer of no units, no latent
/// dimension, or an initial noise that is not a positive fraction of the variance. Settings are
/// named as in config.toml (`m2.latent`), from `model` and the names in `hidden`.
fn check_shape(model: &str, hidden: &[(&str, &[usize])], latent: usize, initial_noise: f64) -> Result<()> {
    for (name, sizes) in hidden {
        if let Some(i) = sizes.iter().position(|&units| units == 0) {
            return Err(Error::invalid(format!("{model}.{name} has a layer of 0 units (layer {} of {})", i + 1, sizes.len())));
        }
    }
    if latent == 0 {
        return Err(Error::invalid(format!("{model}.latent must be at least 1")));
    }
    if !(initial_noise.is_finite() && initial_noise > 0.0) {
        return Err(Error::invalid(format!("{model}.initial_noise must be a positive fraction of the data variance, got {initial_noise}")));
    }
    Ok(())
}
