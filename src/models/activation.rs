//! Hidden-layer nonlinearities.

use burn::tensor::{activation, backend::Backend, Tensor};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// The paper's choice.
    Softplus,
    Relu,
    Gelu,
    Tanh,
}

impl Activation {
    pub fn apply<B: Backend, const D: usize>(self, x: Tensor<B, D>) -> Tensor<B, D> {
        match self {
            Activation::Softplus => softplus(x),
            Activation::Relu => activation::relu(x),
            Activation::Gelu => activation::gelu(x),
            Activation::Tanh => x.tanh(),
        }
    }
}

/// softplus(x) = log(1 + e^x), written as relu(x) + ln(1 + exp(-|x|)): stable for large |x| and
/// fewer ops than burn's generic softplus, which dominated the CPU step time. `ln(1 + u)` rather
/// than `log1p(u)`: the CPU backend's log1p is ~1.5x slower, and for u = exp(-|x|) <= 1 the
/// absolute error is below 1e-7.
pub fn softplus<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    let tail = x.clone().abs().neg().exp().add_scalar(1.0).log();
    activation::relu(x) + tail
}
