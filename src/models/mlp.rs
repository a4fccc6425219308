//! A stack of linear layers, each followed by the nonlinearity.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::Tensor;
use rand::Rng;

use super::activation::Activation;
use super::init;
use super::backend::Backend;

#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    pub layers: Vec<Linear<B>>,
    #[module(skip)]
    pub activation: Activation,
}

impl<B: Backend> Mlp<B> {
    /// Layers `d_in -> hidden[0] -> ... -> hidden[last]`; with no hidden sizes it is the identity.
    pub fn new<R: Rng>(rng: &mut R, d_in: usize, hidden: &[usize], activation: Activation, device: &B::Device) -> Self {
        let mut layers = Vec::with_capacity(hidden.len());
        let mut d = d_in;
        for &h in hidden {
            layers.push(init::linear(rng, d, h, 1.0, device));
            d = h;
        }
        Mlp { layers, activation }
    }

    pub fn forward(&self, mut x: Tensor<B, 2>) -> Tensor<B, 2> {
        for layer in &self.layers {
            x = self.activation.apply(layer.forward(x));
        }
        x
    }

    /// Width of the output (the last hidden size, or `d_in` when there are no layers).
    pub fn out_dim(&self, d_in: usize) -> usize {
        self.layers.last().map_or(d_in, |l| l.weight.dims()[1])
    }
}
