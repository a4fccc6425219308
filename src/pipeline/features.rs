//! M1 features for any set of pixels: the mean of q(z|x), computed in chunks.

use crate::models::backend::Backend;

use crate::models::tensors::{matrix, to_vec};
use crate::models::M1;

/// Posterior means (and log-variances) of q(z|x) for a row-major `n x dim` buffer.
pub fn dist_qz<B: Backend>(model: &M1<B>, x: &[f32], dim: usize, device: &B::Device) -> (Vec<f32>, Vec<f32>) {
    let n = x.len() / dim;
    let mut mu = Vec::with_capacity(n * model.latent_dim());
    let mut lv = Vec::with_capacity(n * model.latent_dim());
    for start in (0..n).step_by(4096) {
        let end = (start + 4096).min(n);
        let (m, v) = model.dist_qz(matrix::<B>(x[start * dim..end * dim].to_vec(), end - start, dim, device));
        mu.extend(to_vec(m));
        lv.extend(to_vec(v));
    }
    (mu, lv)
}
