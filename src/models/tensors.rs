//! Conversions between plain f32 buffers and burn tensors: the only place the data layer's
//! buffers meet the framework.

use burn::tensor::{backend::Backend, Tensor, TensorData};

/// A row-major `rows x cols` buffer as a 2-D tensor.
pub fn matrix<B: Backend>(values: Vec<f32>, rows: usize, cols: usize, device: &B::Device) -> Tensor<B, 2> {
    debug_assert_eq!(values.len(), rows * cols);
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

/// A vector as a 1-D tensor.
pub fn vector<B: Backend>(values: Vec<f32>, device: &B::Device) -> Tensor<B, 1> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

/// A tensor's values as a `Vec<f32>`, row-major.
pub fn to_vec<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().into_vec::<f32>().expect("f32 tensor data")
}

/// A scalar tensor's value.
pub fn scalar<B: Backend>(t: Tensor<B, 1>) -> f32 {
    to_vec(t)[0]
}

/// Per-column mean and variance of a row-major `n x dim` buffer (f64 accumulation).
pub fn column_moments(x: &[f32], dim: usize) -> (Vec<f32>, Vec<f32>) {
    let n = (x.len() / dim.max(1)).max(1) as f64;
    let mut sum = vec![0f64; dim];
    let mut sq = vec![0f64; dim];
    for row in x.chunks_exact(dim) {
        for (j, &v) in row.iter().enumerate() {
            sum[j] += v as f64;
            sq[j] += (v as f64) * (v as f64);
        }
    }
    let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
    let var = sum.iter().zip(&sq).map(|(s, q)| ((q / n) - (s / n).powi(2)).max(0.0) as f32).collect();
    (mean, var)
}
