//! The fused operations on burn's CPU backend: one pass over contiguous f32 data.

use burn::backend::flex::{Flex, FlexTensor};
use burn::tensor::{DType, Tensor, TensorData, TensorPrimitive};

use super::{composed_softplus, composed_softplus_backward, vector_math, Backend};

impl Backend for Flex {
    fn softplus(x: Tensor<Self, 2>) -> Tensor<Self, 2> {
        if x.dtype() != DType::F32 {
            return composed_softplus(x);
        }
        let shape = x.dims();
        let x = contiguous(x);
        let out = vector_math::softplus(x.as_slice::<f32>().expect("contiguous f32"));
        wrap(FlexTensor::from_data(TensorData::new(out, shape)))
    }

    fn softplus_backward(x: Tensor<Self, 2>, grad: Tensor<Self, 2>) -> Tensor<Self, 2> {
        if x.dtype() != DType::F32 || grad.dtype() != DType::F32 {
            return composed_softplus_backward(x, grad);
        }
        let (x, mut grad) = (contiguous(x), contiguous(grad));
        // The incoming gradient is usually not shared, so it is overwritten in place.
        let values = x.as_slice::<f32>().expect("contiguous f32");
        vector_math::softplus_grad(values, grad.storage_mut::<f32>());
        wrap(grad)
    }
}

/// The tensor's data, contiguous from offset 0 (copied only when strided or a view).
fn contiguous(x: Tensor<Flex, 2>) -> FlexTensor {
    x.into_primitive().tensor().to_contiguous()
}

fn wrap(t: FlexTensor) -> Tensor<Flex, 2> {
    Tensor::from_primitive(TensorPrimitive::Float(t))
}
