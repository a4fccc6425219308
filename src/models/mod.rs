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
