//! The GPU backend computes what the CPU backend computes: the same M1 and M2 (same seed, so the
//! same parameters) on the same inputs give the same bound and the same gradient with respect to
//! the input, which runs backward through every layer, the fused softplus included. The GPU model
//! runs its class layers in row chunks, as training does there.
//!
//! Built only with `--features cuda`; needs an NVIDIA GPU.
#![cfg(feature = "cuda")]

use burn::backend::Autodiff;
use burn::tensor::{Int, Tensor};
use hyperssl::models::m2::{class_indices, objective, LabelledBatch, UnlabelledBatch};
use hyperssl::models::backend::AutodiffBackend;
use hyperssl::models::tensors::{matrix, to_vec};
use hyperssl::models::{Likelihood, M1Config, M2Config, M1, M2};
use hyperssl::pipeline::backend::{Cpu, Gpu};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type G = Autodiff<Gpu>;
type C = Autodiff<Cpu>;
const DIM: usize = 50;
const CLASSES: usize = 10;

/// A `rows x cols` matrix of values drawn uniformly from [-1, 1), the same on every backend.
fn uniform<B: AutodiffBackend>(rows: usize, cols: usize, seed: u64) -> Tensor<B, 2> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let v = (0..rows * cols).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
    matrix(v, rows, cols, &Default::default())
}

fn classes<B: AutodiffBackend>(n: usize) -> Tensor<B, 1, Int> {
    let labels: Vec<usize> = (0..n).map(|i| (i * 7 + 3) % CLASSES).collect();
    class_indices(&labels, &Default::default())
}

fn close(what: &str, gpu: &[f32], cpu: &[f32]) {
    assert_eq!(gpu.len(), cpu.len(), "{what}");
    let scale = cpu.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
    let worst = gpu.iter().zip(cpu).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst <= 1e-3 * scale, "{what}: largest difference {worst} against a largest value {scale}");
    assert!(cpu.iter().any(|v| v.abs() > 1e-6), "{what} is zero");
}

/// The M2 objective on 10 labelled and 256 unlabelled rows (2,560 rows in the class layers,
/// several row chunks): the loss and d loss / d x of the unlabelled rows.
fn m2_loss_and_gradient<B: AutodiffBackend>(chunks: bool) -> (Vec<f32>, Vec<f32>) {
    let (rows_l, rows_u) = (10, 256);
    let config = M2Config { hidden_classifier: vec![64], hidden_encoder: vec![64], hidden_decoder: vec![64], latent: 8, ..M2Config::default() };
    let model = M2::<B>::new(&config, DIM, CLASSES, 3, &Default::default()).with_row_chunks(chunks);
    let latent = model.latent_dim();
    let x_u = uniform::<B>(rows_u, DIM, 1).require_grad();
    let o = objective(
        &model,
        LabelledBatch {
            x: uniform(rows_l, DIM, 2),
            y: classes(rows_l),
            eps: uniform(rows_l, latent, 3),
            weight: 1.0,
            x_classify: None,
        },
        UnlabelledBatch { x: x_u.clone(), eps: uniform(rows_u * CLASSES, latent, 4), weight: 1.0 },
        10.0,
    );
    let grads = o.loss.backward();
    (to_vec(o.loss.inner()), to_vec(x_u.grad(&grads).unwrap()))
}

#[test]
fn m2_objective_and_its_gradient_match_the_cpu() {
    let (gpu_loss, gpu_grad) = m2_loss_and_gradient::<G>(true);
    let (cpu_loss, cpu_grad) = m2_loss_and_gradient::<C>(false);
    close("M2 loss", &gpu_loss, &cpu_loss);
    close("M2 gradient", &gpu_grad, &cpu_grad);
}

#[test]
fn m1_bound_and_its_gradient_match_the_cpu() {
    fn run<B: AutodiffBackend>() -> (Vec<f32>, Vec<f32>) {
        let config = M1Config { hidden: vec![64, 64], latent: 8, likelihood: Likelihood::GaussianBand, ..M1Config::default() };
        let model = M1::<B>::new(&config, DIM, 5, &Default::default());
        let x = uniform::<B>(300, DIM, 6).require_grad();
        let elbo = model.bound(x.clone(), uniform(300, 8, 7)).elbo().sum();
        let grads = elbo.backward();
        (to_vec(elbo.inner()), to_vec(x.grad(&grads).unwrap()))
    }
    let (gpu, cpu) = (run::<G>(), run::<C>());
    close("M1 bound", &gpu.0, &cpu.0);
    close("M1 gradient", &gpu.1, &cpu.1);
}
