//! The backend the models run on: burn's `Backend` plus the fused operations that the models
//! spend their time in. Every burn backend gets them as compositions of burn's own operations;
//! the CPU backend overrides them with single-pass kernels, and autodiff wraps them with a
//! backward pass of its own (one node instead of one per elementary operation).

mod autodiff;
mod flex;
pub(crate) mod vector_math;

use burn::tensor::{activation, Tensor};

/// burn's `Backend` with the fused operations the models use.
pub trait Backend: burn::tensor::backend::Backend {
    /// softplus(x) = ln(1 + e^x), element-wise.
    fn softplus(x: Tensor<Self, 2>) -> Tensor<Self, 2> {
        composed_softplus(x)
    }

    /// The gradient of softplus at `x` given the output's gradient: `grad * sigmoid(x)`.
    fn softplus_backward(x: Tensor<Self, 2>, grad: Tensor<Self, 2>) -> Tensor<Self, 2> {
        composed_softplus_backward(x, grad)
    }
}

/// A training backend whose inner (inference) backend has the fused operations too.
pub trait AutodiffBackend:
    burn::tensor::backend::AutodiffBackend<InnerBackend: Backend> + Backend
{
}

impl<B> AutodiffBackend for B where
    B: burn::tensor::backend::AutodiffBackend<InnerBackend: Backend> + Backend
{
}

/// softplus written as relu(x) + ln(1 + exp(-|x|)): stable for large |x|. `ln(1 + u)` rather
/// than `log1p(u)` because for u = exp(-|x|) <= 1 the absolute error is below 1e-7.
pub fn composed_softplus<B: burn::tensor::backend::Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let tail = x.clone().abs().neg().exp().add_scalar(1.0).log();
    activation::relu(x) + tail
}

/// The gradient of softplus from burn's operations: `grad * sigmoid(x)`.
pub fn composed_softplus_backward<B: burn::tensor::backend::Backend>(x: Tensor<B, 2>, grad: Tensor<B, 2>) -> Tensor<B, 2> {
    grad * activation::sigmoid(x)
}

#[cfg(feature = "cuda")]
impl Backend for burn::backend::Cuda {}

#[cfg(feature = "ndarray-backend")]
impl Backend for burn::backend::NdArray {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::tensors::{matrix, to_vec};
    use burn::backend::{Autodiff, Flex};

    type AB = Autodiff<Flex>;

    fn values(n: usize) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * 0.37).sin() * 12.0 - 0.5).collect()
    }

    fn close(a: &[f32], b: &[f32], tol: f32) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= tol * y.abs().max(1.0), "element {i}: {x} vs {y}");
        }
    }

    #[test]
    fn fused_softplus_matches_the_composed_one() {
        let x = matrix::<Flex>(values(6 * 35), 6, 35, &Default::default());
        close(&to_vec(Flex::softplus(x.clone())), &to_vec(composed_softplus(x)), 3e-7);
    }

    #[test]
    fn strided_input_is_read_in_logical_order() {
        let x = matrix::<Flex>(values(8 * 5), 8, 5, &Default::default());
        let t = x.clone().transpose();
        let n = x.narrow(0, 2, 4);
        close(&to_vec(Flex::softplus(t.clone())), &to_vec(composed_softplus(t)), 3e-7);
        close(&to_vec(Flex::softplus(n.clone())), &to_vec(composed_softplus(n)), 3e-7);
    }

    #[test]
    fn autodiff_gradient_matches_the_composed_graph() {
        let data = values(7 * 9);
        let w = matrix::<AB>((0..63).map(|i| 0.1 + (i % 5) as f32).collect(), 7, 9, &Default::default());
        let grad_of = |fused: bool| {
            let x = matrix::<AB>(data.clone(), 7, 9, &Default::default()).require_grad();
            // A later use of x and a weighted sum, so that the incoming gradient is not all ones.
            let y = if fused { AB::softplus(x.clone()) } else { composed_softplus(x.clone()) };
            let loss = (y * w.clone() + x.clone() * 0.5).sum();
            to_vec(x.grad(&loss.backward()).unwrap())
        };
        close(&grad_of(true), &grad_of(false), 1e-6);
    }

    #[test]
    fn autodiff_gradient_matches_finite_differences() {
        let data = vec![-3.0f32, -0.7, 0.2, 1.9, 4.0, 0.05];
        let x = matrix::<AB>(data.clone(), 2, 3, &Default::default()).require_grad();
        let g = to_vec(x.grad(&AB::softplus(x.clone()).sum().backward()).unwrap());
        let sp = |v: f64| v.exp().ln_1p();
        for (v, g) in data.iter().zip(g) {
            let h = 1e-3;
            let want = (sp(*v as f64 + h) - sp(*v as f64 - h)) / (2.0 * h);
            assert!((g as f64 - want).abs() < 1e-5, "d softplus at {v}: {g} vs {want}");
        }
    }

    #[test]
    fn without_gradients_the_fused_op_records_nothing() {
        let x = matrix::<AB>(values(12), 3, 4, &Default::default());
        close(&to_vec(AB::softplus(x.clone())), &to_vec(composed_softplus(x)), 3e-7);
    }
}
