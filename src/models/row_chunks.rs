//! A linear layer over many rows, run as a batch of row chunks.
//!
//! M2 enumerates every class for every unlabelled example, so its layers see batch x K rows
//! (25,600 at batch 256 with 100 classes). The weight gradient of such a layer, `x^T dy`, is a
//! product with a long inner dimension (the rows) and a small output (`d_in x d_out`); the
//! framework's GPU matrix multiply splits only the output into tiles, so a few hundred thousand
//! outputs leave most of the GPU idle while each tile walks all the rows. Fed as `[chunks, rows /
//! chunks, d_in]`, the layer's weight gradient becomes one product per chunk, all run at once, and
//! a sum over the chunks (a split of the inner dimension by hand).
//!
//! On the GPU that made M2 with 100 classes three times faster. On the CPU the batched products
//! and the extra sum cost more than they save (M2 with 16 classes at batch 1000, 2 threads:
//! 819-839 examples/s against 1,105-1,113 unchunked), so the models chunk only when told to
//! (`M2::with_row_chunks`).

use burn::nn::Linear;
use burn::tensor::{backend::Backend, Tensor};

/// Layers with fewer rows than this run as they are; longer ones in chunks of at least this many.
pub const MIN_CHUNK_ROWS: usize = 1024;

/// The number of chunks `rows` are split into: the largest divisor of `rows` that keeps every
/// chunk at least `MIN_CHUNK_ROWS` long (1 when `rows` is below twice that).
pub fn chunk_count(rows: usize) -> usize {
    let most = rows / MIN_CHUNK_ROWS;
    (1..=most.max(1)).rev().find(|c| rows.is_multiple_of(*c)).unwrap_or(1)
}

/// `layer.forward(x)` for `x` `[rows, d_in]`, computed over `chunk_count(rows)` row chunks when
/// `chunked`.
pub fn forward<B: Backend>(layer: &Linear<B>, x: Tensor<B, 2>, chunked: bool) -> Tensor<B, 2> {
    let [rows, d_in] = x.dims();
    let chunks = if chunked { chunk_count(rows) } else { 1 };
    if chunks == 1 {
        return layer.forward(x);
    }
    let y = layer.forward(x.reshape([chunks, rows / chunks, d_in]));
    let d_out = y.dims()[2];
    y.reshape([rows, d_out])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::init;
    use crate::models::tensors::{matrix, to_vec};
    use burn::backend::{Autodiff, Flex};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    type B = Autodiff<Flex>;

    #[test]
    fn chunks_divide_the_rows_and_stay_long() {
        assert_eq!(chunk_count(100), 1);
        assert_eq!(chunk_count(2047), 1);
        assert_eq!(chunk_count(2048), 2);
        assert_eq!(chunk_count(25_600), 25);
        assert_eq!(chunk_count(16_000), 10);
        // A prime number of rows cannot be split.
        assert_eq!(chunk_count(4099), 1);
        for rows in [1000, 4096, 11_000, 25_600, 40_960] {
            let c = chunk_count(rows);
            assert_eq!(rows % c, 0);
            assert!(c == 1 || rows / c >= MIN_CHUNK_ROWS);
        }
    }

    #[test]
    fn chunked_layer_gives_the_outputs_and_gradients_of_the_plain_one() {
        let dev = Default::default();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (rows, d_in, d_out) = (3 * MIN_CHUNK_ROWS, 7, 5);
        assert_eq!(chunk_count(rows), 3);
        let layer = init::linear::<B, _>(&mut rng, d_in, d_out, 1.0, &dev);
        let values: Vec<f32> = (0..rows * d_in).map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0).collect();
        let x = matrix::<B>(values, rows, d_in, &dev);
        let weights: Vec<f32> = (0..rows * d_out).map(|i| ((i * 13 % 29) as f32 - 14.0) / 7.0).collect();
        let w = matrix::<B>(weights, rows, d_out, &dev);

        let run = |chunked: bool| {
            let x = x.clone().require_grad();
            let y = forward(&layer, x.clone(), chunked);
            let grads = (y.clone() * w.clone()).sum().backward();
            let gw = layer.weight.grad(&grads).unwrap();
            let gb = layer.bias.as_ref().unwrap().grad(&grads).unwrap();
            (to_vec(y), to_vec(x.grad(&grads).unwrap()), to_vec(gw), to_vec(gb))
        };
        let (plain, chunked) = (run(false), run(true));
        let close = |a: &[f32], b: &[f32], what: &str| {
            assert_eq!(a.len(), b.len());
            for (i, (p, q)) in a.iter().zip(b).enumerate() {
                assert!((p - q).abs() <= 1e-4 * p.abs().max(1.0), "{what}[{i}]: {p} vs {q}");
            }
        };
        close(&plain.0, &chunked.0, "output");
        close(&plain.1, &chunked.1, "input gradient");
        close(&plain.2, &chunked.2, "weight gradient");
        close(&plain.3, &chunked.3, "bias gradient");
    }
}
