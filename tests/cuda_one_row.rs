//! M2 on the GPU with a labelled batch of one row, the paper's MNIST setting (100 labels over 500
//! steps). Full runs with one labelled row a step stopped with an illegal memory access about one
//! epoch in (hence `Device::min_labelled_batch`); each test here runs one piece of the labelled
//! part of the objective, forward and backward, and reads the result back, so that a piece that
//! faults fails its own test. All of them passed on an H200: the fault needs more than these few
//! steps. A fault leaves the CUDA context unusable, so run them one per process:
//!
//!   for t in $(cuda_one_row-<hash> --list | sed -n 's/: test$//p'); do
//!     cuda_one_row-<hash> --exact "$t"; done
//!
//! Built only with `--features cuda`; needs an NVIDIA GPU.
#![cfg(feature = "cuda")]

use burn::backend::Autodiff;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::{activation, Distribution, Int, Tensor, TensorData};
use hyperssl::models::m2::{objective, LabelledBatch, UnlabelledBatch};
use hyperssl::models::tensors::to_vec;
use hyperssl::models::{M2Config, M2};
use hyperssl::pipeline::backend::Gpu;

type B = Autodiff<Gpu>;
const CLASSES: usize = 10;
const DIM: usize = 50;

fn dev() -> burn::tensor::Device<B> {
    Default::default()
}

fn random(rows: usize, cols: usize) -> Tensor<B, 2> {
    Tensor::random([rows, cols], Distribution::Normal(0.0, 1.0), &dev())
}

fn labels(rows: usize) -> Tensor<B, 1, Int> {
    let v: Vec<i64> = (0..rows as i64).map(|i| (3 + i) % CLASSES as i64).collect();
    Tensor::from_data(TensorData::new(v, [rows]), &dev())
}

fn one_hot(rows: usize) -> Tensor<B, 2> {
    let mut v = vec![0f32; rows * CLASSES];
    for r in 0..rows {
        v[r * CLASSES + (3 + r) % CLASSES] = 1.0;
    }
    Tensor::from_data(TensorData::new(v, [rows, CLASSES]), &dev())
}

fn all_finite<const D: usize>(t: Tensor<<B as burn::tensor::backend::AutodiffBackend>::InnerBackend, D>) {
    let v = to_vec(t);
    assert!(!v.is_empty() && v.iter().all(|x| x.is_finite()), "{v:?}");
}

fn model() -> M2<B> {
    M2::new(&M2Config::default(), DIM, CLASSES, 0, &dev())
}

#[test]
fn gather_of_one_row() {
    let x = random(1, CLASSES).require_grad();
    let picked = activation::log_softmax(x.clone(), 1).gather(1, labels(1).unsqueeze_dim(1));
    all_finite(x.grad(&picked.sum().backward()).unwrap());
}

#[test]
fn one_hot_product_of_one_row() {
    let x = random(1, CLASSES).require_grad();
    let picked = (activation::log_softmax(x.clone(), 1) * one_hot(1)).sum_dim(1);
    all_finite(x.grad(&picked.sum().backward()).unwrap());
}

#[test]
fn select_of_one_row() {
    let rows = random(CLASSES, 500).require_grad();
    let picked = rows.clone().select(0, labels(1)) * random(1, 500);
    all_finite(rows.grad(&picked.sum().backward()).unwrap());
}

#[test]
fn one_hot_matmul_of_one_row() {
    let rows = random(CLASSES, 500).require_grad();
    let picked = one_hot(1).matmul(rows.clone()) * random(1, 500);
    all_finite(rows.grad(&picked.sum().backward()).unwrap());
}

#[test]
fn classification_term_of_one_row() {
    let m = model();
    let x = random(1, DIM).require_grad();
    let log_q = m.classify(x.clone()).gather(1, labels(1).unsqueeze_dim(1));
    all_finite(x.grad(&log_q.sum().backward()).unwrap());
}

#[test]
fn labelled_bound_of_one_row() {
    let m = model();
    let x = random(1, DIM).require_grad();
    let bound = m.labelled_bound(x.clone(), labels(1), random(1, m.latent_dim()));
    all_finite(x.grad(&bound.sum().backward()).unwrap());
}

fn train_steps(labelled: usize) {
    let mut m = model();
    let mut optim = AdamConfig::new().init::<B, M2<B>>();
    let latent = m.latent_dim();
    for _ in 0..3 {
        let o = objective(
            &m,
            LabelledBatch { x: random(labelled, DIM), y: labels(labelled), eps: random(labelled, latent), weight: 1.0, x_classify: None },
            UnlabelledBatch { x: random(100, DIM), eps: random(100 * CLASSES, latent), weight: 1.0 },
            10.0,
        );
        all_finite(o.bound.clone().inner());
        let grads = GradientsParams::from_grads(o.loss.backward(), &m);
        m = optim.step(1e-3, m, grads);
    }
}

#[test]
fn objective_with_one_labelled_row() {
    train_steps(1);
}

#[test]
fn objective_with_two_labelled_rows() {
    train_steps(2);
}
