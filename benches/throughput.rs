//! Training throughput of hyperssl's models on the CPU, side by side with the same models in
//! PyTorch (bench/reference.py), plus this machine's f32 matrix-multiply peak.
//!
//! cargo bench --bench throughput -- [--quick] [--threads 1,2] [--batches 100,256,1000]
//!                                    [--models m1,m2] [--python PATH] [--no-python]
//!                                    [--device cpu|cuda] [--noise host|device] [--no-gemm]
//!
//! M1 and M2 are measured (M1+M2 trains the same two networks, one after the other). For M2 the
//! batch size is the number of unlabelled pixels in a step; M2Task adds a tenth as many labelled
//! ones, and the examples per second count both.
//!
//! Every measurement runs in a fresh child process of this binary with RAYON_NUM_THREADS set:
//! burn's Flex backend (and the gemm crate under it) uses rayon's global pool, whose size is
//! fixed when the pool first starts, so one process cannot honestly measure two thread counts.
//! PyTorch runs the same way, one process per measurement, with torch.set_num_threads and
//! OMP_NUM_THREADS / MKL_NUM_THREADS set to the same count. Each child also reports its peak
//! resident memory (VmHWM), so the memory columns belong to one model and batch size.
//!
//! `--device cuda` (a build with `--features cuda`) measures burn's CUDA backend and PyTorch on
//! the first GPU instead: the children are told through `HYPERSSL_BENCH_DEVICE`, every timed
//! repeat ends with a device synchronisation, and PyTorch also reports its peak GPU memory.
//! hyperssl draws the training noise where `hyperssl train --device` would (host on the CPU,
//! device on the GPU) unless `--noise` says otherwise; PyTorch always draws it on its device.
//!
//! `HYPERSSL_BENCH_INPUT_DIM` (default 200) and `HYPERSSL_BENCH_M2_CLASSES` (default 16) set the
//! models' inputs and M2's classes, on both sides.
//!
//! The table goes to stdout and to `<target>/bench/throughput.md` and `.json`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use burn::optim::AdamConfig;
use hyperssl::models::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, ElementConversion, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use hyperssl::models::{M1Config, M2Config, M1, M2};
use hyperssl::train::m1_task::M1Task;
use hyperssl::train::m2_task::{Inputs, M2Data, M2Task};
use hyperssl::pipeline::backend::Device;
use hyperssl::train::trainer::{optimiser_step, Step};
use hyperssl::train::{Noise, TrainConfig, TrainTask};

/// The children and bench/reference.py read the device from here.
const DEVICE_VAR: &str = "HYPERSSL_BENCH_DEVICE";

/// A `--device` or `--noise` value, by the name the CLI and the configs give it.
fn parse_value<T: ValueEnum>(s: &str, what: &str) -> Result<T, String> {
    T::from_str(s, false).map_err(|_| {
        let names: Vec<String> = T::value_variants().iter().map(value_name).collect();
        format!("unknown {what} `{s}` ({})", names.join(", "))
    })
}

fn value_name<T: ValueEnum>(v: &T) -> String {
    v.to_possible_value().expect("no hidden variants").get_name().to_string()
}

fn parse_device(s: &str) -> Result<Device, String> {
    let device = parse_value::<Device>(s, "device")?;
    if device == Device::Cuda && !cfg!(feature = "cuda") {
        return Err("--device cuda needs a build with `--features cuda` \
             (CUDARC_CUDA_VERSION=13000 cargo bench --features cuda --bench throughput)"
            .into());
    }
    Ok(device)
}

fn device_from_env() -> Result<Device, String> {
    parse_device(&std::env::var(DEVICE_VAR).unwrap_or_else(|_| "cpu".into()))
}

/// Side of the square f32 product that measures the peak: a GPU needs a larger one to fill.
fn gemm_size(device: Device) -> usize {
    match device {
        Device::Cpu => 2048,
        Device::Cuda => 8192,
    }
}

/// Inputs of the synthetic rows: 200 bands (a typical hyperspectral scene after band removal)
/// unless `HYPERSSL_BENCH_input_dim()` says otherwise (50 for M2 on M1's features, as in M1+M2);
/// child processes and the PyTorch script read the same variable.
fn input_dim() -> usize {
    std::env::var("HYPERSSL_BENCH_input_dim()").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
}
/// Minibatches in one pass over the synthetic data (the epoch wraps around them).
const EPOCH_BATCHES: usize = 8;
/// Classes of the M2 problem: 16 (Indian Pines) unless `HYPERSSL_BENCH_M2_CLASSES` says
/// otherwise (10 for MNIST, 100 for drill cores); child processes and the PyTorch script read the
/// same variable.
fn m2_classes() -> usize {
    std::env::var("HYPERSSL_BENCH_M2_CLASSES").ok().and_then(|v| v.parse().ok()).unwrap_or(16)
}
/// M2's classification weight alpha (the paper's).
const M2_ALPHA: f64 = 0.1;

/// M2's labelled pixels: a tenth of the unlabelled ones, at least one per class.
fn m2_labelled_total(batch: usize) -> usize {
    (batch * EPOCH_BATCHES / 10).max(m2_classes())
}

/// Labelled pixels M2Task adds to each minibatch of `batch` unlabelled ones.
fn m2_labelled_per_step(batch: usize) -> usize {
    m2_labelled_total(batch).div_ceil(EPOCH_BATCHES).max(1)
}

/// The models the bench knows. To add one: a variant here with its name, `examples_per_step`
/// and `layers`, a task in `run_training`, and the same model in bench/reference.py.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    M1,
    M2,
}

impl Model {
    const ALL: [Model; 2] = [Model::M1, Model::M2];

    fn name(self) -> &'static str {
        match self {
            Model::M1 => "m1",
            Model::M2 => "m2",
        }
    }

    /// Examples in one training step for a batch size: M2 adds labelled pixels to the batch of
    /// unlabelled ones.
    fn examples_per_step(self, batch: usize) -> usize {
        match self {
            Model::M1 => batch,
            Model::M2 => batch + m2_labelled_per_step(batch),
        }
    }

    fn from_name(s: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.name() == s)
    }

    /// The dense layers of one training step on `batch` examples as (rows, d_in, d_out, needs
    /// the gradient of its input). The data needs no gradient, so layers reading it skip that
    /// matmul; M2's class lookups and broadcasts are not matmuls.
    fn layers(self, batch: usize) -> Vec<(usize, usize, usize, bool)> {
        let mut v = Vec::new();
        let chain =
            |v: &mut Vec<_>, rows: usize, d_in: usize, sizes: &[usize], first_grad: bool| {
                let mut d = d_in;
                for (i, &h) in sizes.iter().enumerate() {
                    v.push((rows, d, h, i > 0 || first_grad));
                    d = h;
                }
            };
        match self {
            Model::M1 => {
                let c = m1_config();
                let h = c.hidden.last().copied().unwrap_or(input_dim());
                chain(&mut v, batch, input_dim(), &c.hidden, false);
                // q(z|x) mean and log-variance heads.
                v.push((batch, h, c.latent, true));
                v.push((batch, h, c.latent, true));
                let dec: Vec<usize> = c.hidden.iter().rev().copied().chain([input_dim()]).collect();
                chain(&mut v, batch, c.latent, &dec, true);
            }
            Model::M2 => {
                let c = M2Config::default();
                let (n_l, n_u, k) = (m2_labelled_per_step(batch), batch, m2_classes());
                // q(y|x) on the labelled and the unlabelled pixels.
                let cls: Vec<usize> = c.hidden_classifier.iter().copied().chain([k]).collect();
                chain(&mut v, n_l + n_u, input_dim(), &cls, false);
                // q(z|x,y): the first layer once per pixel, the rest once per (pixel, class).
                let enc: Vec<usize> = c
                    .hidden_encoder
                    .iter()
                    .copied()
                    .chain([2 * c.latent])
                    .collect();
                let rows = n_l + n_u * k;
                v.push((n_l + n_u, input_dim(), enc[0], false));
                chain(&mut v, rows, enc[0], &enc[1..], true);
                // p(x|y,z) for every (pixel, class).
                let dec: Vec<usize> = c
                    .hidden_decoder
                    .iter()
                    .copied()
                    .chain([input_dim()])
                    .collect();
                chain(&mut v, rows, c.latent, &dec, true);
            }
        }
        v
    }

    /// Matmul FLOPs of one forward + backward pass over `batch` examples: 2*m*n*k for the
    /// forward product, the same for the weight gradient and (where needed) the input gradient.
    fn step_flops(self, batch: usize) -> f64 {
        self.layers(batch)
            .iter()
            .map(|&(rows, d_in, d_out, input_grad)| {
                let one = 2.0 * rows as f64 * d_in as f64 * d_out as f64;
                one * if input_grad { 3.0 } else { 2.0 }
            })
            .sum()
    }
}

/// D=200 inputs, hidden 500-500, latent 50, softplus, Gaussian per-band likelihood.
fn m1_config() -> M1Config {
    M1Config::default()
}

#[derive(Debug, Clone)]
struct Options {
    quick: bool,
    threads: Vec<usize>,
    batches: Vec<usize>,
    models: Vec<Model>,
    python: Option<PathBuf>,
    no_python: bool,
    device: Device,
    noise: Option<Noise>,
    no_gemm: bool,
}

/// The children read the noise source from here.
const NOISE_VAR: &str = "HYPERSSL_BENCH_NOISE";

/// Overrides the parts a training step is split into (`TrainConfig::step_parts`), for A/B runs.
const PARTS_VAR: &str = "HYPERSSL_BENCH_PARTS";


/// How long one measurement runs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Plan {
    warmup: usize,
    repeats: usize,
    /// Steps per repeat.
    steps: usize,
}

impl Options {
    fn noise(&self) -> Noise {
        self.noise.unwrap_or(self.device.noise())
    }
}

impl Plan {
    /// Each repeat does about the same work (matmul FLOPs) whatever the model and batch size.
    /// On a GPU a repeat is a fixed number of steps instead: the per-step launch cost, not the
    /// FLOPs, sets the time of small steps there.
    fn training(quick: bool, step_flops: f64, device: Device) -> Plan {
        if device == Device::Cuda {
            return if quick {
                Plan { warmup: 5, repeats: 3, steps: 30 }
            } else {
                Plan { warmup: 20, repeats: 5, steps: 100 }
            };
        }
        let (target, min_steps) = if quick { (3e9, 2) } else { (40e9, 3) };
        let steps = ((target / step_flops.max(1.0)).ceil() as usize).max(min_steps);
        if quick {
            Plan {
                warmup: 2,
                repeats: 3,
                steps,
            }
        } else {
            Plan {
                warmup: 3,
                repeats: 5,
                steps,
            }
        }
    }

    fn gemm(quick: bool) -> Plan {
        if quick {
            Plan {
                warmup: 1,
                repeats: 3,
                steps: 1,
            }
        } else {
            Plan {
                warmup: 2,
                repeats: 7,
                steps: 3,
            }
        }
    }
}

/// What a child process prints: one JSON object on its last line.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ChildResult {
    /// Median examples per second (training) or GFLOP/s (gemm).
    median: f64,
    /// Every repeat, same unit as `median`.
    repeats: Vec<f64>,
    /// Threads the child really ran with.
    threads: usize,
    /// Peak resident memory in MiB (VmHWM), when the system reports it.
    peak_mib: Option<f64>,
    /// Resident memory in MiB before the measurement built anything: the runtime and its
    /// libraries (large for PyTorch, whose PyPI build maps its CUDA libraries too).
    #[serde(default)]
    base_mib: Option<f64>,
    /// Peak GPU memory in MiB that the framework allocated (PyTorch on `--device cuda`).
    #[serde(default)]
    device_peak_mib: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
struct GemmRow {
    size: usize,
    threads: usize,
    hyperssl_gflops: f64,
    pytorch_gflops: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
struct TrainRow {
    model: String,
    batch: usize,
    threads: usize,
    hyperssl_examples_per_s: f64,
    pytorch_examples_per_s: Option<f64>,
    /// hyperssl / PyTorch.
    ratio: Option<f64>,
    hyperssl_gflops: f64,
    /// Achieved GFLOP/s as a share of the GEMM peak at the same thread count.
    hyperssl_share_of_gemm_peak: Option<f64>,
    hyperssl_peak_mib: Option<f64>,
    pytorch_peak_mib: Option<f64>,
    hyperssl_base_mib: Option<f64>,
    pytorch_base_mib: Option<f64>,
    pytorch_device_peak_mib: Option<f64>,
    hyperssl_repeats: Vec<f64>,
    pytorch_repeats: Option<Vec<f64>>,
}

#[derive(Debug, Clone, Serialize)]
struct Report {
    quick: bool,
    device: String,
    noise: String,
    cpus: usize,
    torch_version: Option<String>,
    gemm: Vec<GemmRow>,
    training: Vec<TrainRow>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        // `cargo test --all-targets` runs bench binaries with no arguments; `cargo bench` always
        // passes --bench. Measuring takes minutes, so only say how to run it.
        println!("throughput: run it with `cargo bench --bench throughput -- [--quick]`");
        return;
    }
    let result = if let Some(i) = args.iter().position(|a| a == "--child") {
        // As `hyperssl` does at start-up.
        hyperssl::train::heap::keep_freed_blocks();
        run_child(&args[i + 1..])
    } else {
        parse_options(&args).and_then(|o| run_parent(&o))
    };
    if let Err(e) = result {
        eprintln!("throughput: {e}");
        std::process::exit(1);
    }
}

fn parse_list(s: &str, what: &str) -> Result<Vec<usize>, String> {
    let v: Result<Vec<usize>, _> = s.split(',').map(|x| x.trim().parse::<usize>()).collect();
    match v {
        Ok(v) if !v.is_empty() && v.iter().all(|&x| x > 0) => Ok(v),
        _ => Err(format!(
            "{what}: expected a comma-separated list of positive integers, got `{s}`"
        )),
    }
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        quick: false,
        threads: vec![1, 2],
        batches: vec![100, 256, 1000],
        models: Model::ALL.to_vec(),
        python: None,
        no_python: false,
        device: Device::Cpu,
        noise: None,
        no_gemm: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--quick" => o.quick = true,
            "--threads" => o.threads = parse_list(&value("--threads")?, "--threads")?,
            "--batches" => o.batches = parse_list(&value("--batches")?, "--batches")?,
            "--models" => {
                let v = value("--models")?;
                o.models = v
                    .split(',')
                    .map(|m| {
                        Model::from_name(m.trim().to_lowercase().as_str())
                            .ok_or(format!("--models: unknown model `{m}` (m1, m2)"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--python" => o.python = Some(PathBuf::from(value("--python")?)),
            "--no-python" => o.no_python = true,
            "--device" => {
                o.device = parse_device(&value("--device")?)?;
                // Without a usable GPU, say so once here rather than as a panic in every child.
                o.device.check_available().map_err(|e| e.to_string())?;
            }
            "--noise" => o.noise = Some(parse_value(&value("--noise")?, "noise source")?),
            "--no-gemm" => o.no_gemm = true,
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            "-h" | "--help" => {
                println!(
                    "cargo bench --bench throughput -- [--quick] [--threads 1,2] [--batches 100,256,1000] \
                     [--models m1,m2] [--python PATH] [--no-python] [--device cpu|cuda] [--noise host|device] [--no-gemm]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// Child side: one measurement in this process.

/// `--child gemm SIZE PLAN_JSON` or `--child train MODEL BATCH PLAN_JSON`.
fn run_child(args: &[String]) -> Result<(), String> {
    let base_mib = memory_mib("VmRSS:");
    let repeats = match device_from_env()? {
        Device::Cpu => measure::<Flex>(args, &Default::default())?,
        #[cfg(feature = "cuda")]
        Device::Cuda => measure::<burn::backend::Cuda>(args, &Default::default())?,
        #[cfg(not(feature = "cuda"))]
        Device::Cuda => unreachable!("refused by parse_device"),
    };
    let result = ChildResult {
        median: median(&repeats),
        repeats,
        threads: rayon::current_num_threads(),
        peak_mib: memory_mib("VmHWM:"),
        base_mib,
        device_peak_mib: None,
    };
    println!(
        "{}",
        serde_json::to_string(&result).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// The child's measurement on backend `B`: one value per repeat.
fn measure<B: Backend>(args: &[String], device: &B::Device) -> Result<Vec<f64>, String> {
    let plan_at = |i: usize| -> Result<Plan, String> {
        serde_json::from_str(args.get(i).ok_or("missing plan")?)
            .map_err(|e| format!("bad plan: {e}"))
    };
    let number = |i: usize| -> Result<usize, String> {
        args.get(i)
            .and_then(|s| s.parse().ok())
            .ok_or(format!("child: bad argument {i}"))
    };
    match args.first().map(String::as_str) {
        Some("gemm") => Ok(gemm_gflops::<B>(number(1)?, plan_at(2)?, device)),
        Some("train") => {
            let model = args
                .get(1)
                .and_then(|s| Model::from_name(s))
                .ok_or("child: unknown model")?;
            let noise = parse_value(&std::env::var(NOISE_VAR).unwrap_or_else(|_| "host".into()), "noise source")?;
            run_training::<Autodiff<B>>(model, number(2)?, plan_at(3)?, noise, device)
        }
        _ => Err("child: expected `gemm` or `train`".into()),
    }
}

/// GFLOP/s of `size`^3 f32 matrix products, one value per repeat.
fn gemm_gflops<B: Backend>(size: usize, plan: Plan, device: &B::Device) -> Vec<f64> {
    let a = Tensor::<B, 2>::random([size, size], Distribution::Normal(0.0, 1.0), device);
    let b = Tensor::<B, 2>::random([size, size], Distribution::Normal(0.0, 1.0), device);
    let flops = 2.0 * (size as f64).powi(3);
    let mut sink = 0.0f32;
    let mut once = || {
        let c = a.clone().matmul(b.clone());
        // Read one value so the product cannot be skipped.
        sink += c.slice([0..1, 0..1]).into_scalar().elem::<f32>();
    };
    for _ in 0..plan.warmup {
        once();
    }
    let out = (0..plan.repeats)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..plan.steps {
                once();
            }
            flops * plan.steps as f64 / t.elapsed().as_secs_f64() / 1e9
        })
        .collect();
    std::hint::black_box(sink);
    out
}

/// Synthetic spectra: smooth curves with noise, about unit scale, like scaled reflectance.
fn synthetic_spectra(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Vec::with_capacity(n * dim);
    for _ in 0..n {
        let phase: f32 = rng.random::<f32>() * 6.0;
        let level: f32 = rng.random::<f32>() - 0.5;
        for j in 0..dim {
            x.push(level + (j as f32 / 25.0 + phase).sin() + 0.1 * (rng.random::<f32>() - 0.5));
        }
    }
    x
}

fn run_training<B: AutodiffBackend>(
    model: Model,
    batch: usize,
    plan: Plan,
    noise: Noise,
    device: &B::Device,
) -> Result<Vec<f64>, String> {
    let device = device.clone();
    let examples = model.examples_per_step(batch);
    match model {
        Model::M1 => {
            let n = batch * EPOCH_BATCHES;
            let schedule = TrainConfig { batch_size: batch, seed: 0, noise, ..Default::default() };
            let task = M1Task::<B>::new(synthetic_spectra(n, input_dim(), 1), Vec::new(), input_dim(), &schedule, device.clone()).map_err(|e| e.to_string())?;
            let net = M1::new(&m1_config(), input_dim(), 0, &device);
            time_steps(task, net, examples, plan, &device)
        }
        Model::M2 => {
            let (n_u, n_l) = (batch * EPOCH_BATCHES, m2_labelled_total(batch));
            let data = M2Data {
                dim: input_dim(),
                n_classes: m2_classes(),
                labelled: Inputs::Fixed(synthetic_spectra(n_l, input_dim(), 2)),
                labels: (0..n_l).map(|i| i % m2_classes()).collect(),
                unlabelled: Inputs::Fixed(synthetic_spectra(n_u, input_dim(), 1)),
                // A validation set, so that no unlabelled pixels are held out of training.
                valid_x: synthetic_spectra(m2_classes(), input_dim(), 3),
                valid_labels: (0..m2_classes()).collect(),
            };
            let schedule = TrainConfig { batch_size: batch, seed: 0, noise, ..Default::default() };
            let task = M2Task::<B>::new(data, M2_ALPHA, &schedule, device.clone()).map_err(|e| e.to_string())?;
            if task.labelled_per_step() != m2_labelled_per_step(batch) {
                return Err(format!(
                    "M2 takes {} labelled pixels a step, not {}",
                    task.labelled_per_step(),
                    m2_labelled_per_step(batch)
                ));
            }
            // Row chunks where `hyperssl train` would use them (on the GPU).
            let chunks = device_from_env()?.row_chunks();
            let net = M2::new(&M2Config::default(), input_dim(), m2_classes(), 0, &device).with_row_chunks(chunks);
            time_steps(task, net, examples, plan, &device)
        }
    }
}

/// Examples per second of the training loop's inner step (as in `train::trainer::train`): the
/// task's forward pass and loss, backward, Adam. One value per repeat; each repeat waits for
/// the device to finish its queued work, so asynchronous backends are timed honestly.
fn time_steps<B: AutodiffBackend, T: TrainTask<B>>(
    mut task: T,
    mut model: T::Model,
    examples: usize,
    plan: Plan,
    device: &B::Device,
) -> Result<Vec<f64>, String> {
    let tc = TrainConfig::default();
    // Parts a step is split into, as `hyperssl train` would on this device.
    let parts = match std::env::var(PARTS_VAR) {
        Ok(v) => v.parse().ok().filter(|&p: &usize| p > 0).ok_or(format!("{PARTS_VAR}={v}: expected a positive count"))?,
        Err(_) => device_from_env()?.step_parts(),
    };
    let mut optim = AdamConfig::new()
        .with_beta_1(tc.beta1)
        .with_beta_2(tc.beta2)
        .with_epsilon(1e-8)
        .init::<B, T::Model>();
    let mut rng = ChaCha8Rng::seed_from_u64(tc.seed);
    let per_epoch = task.steps_per_epoch().max(1);
    let mut step = 0usize;
    let mut sum: Option<Tensor<B::InnerBackend, 1>> = None;
    let sync = || B::sync(device).map_err(|e| format!("device synchronisation failed: {e:?}"));
    let mut one_step = |model: T::Model| -> T::Model {
        if step.is_multiple_of(per_epoch) {
            task.start_epoch(0, &mut rng);
        }
        let (model, terms) =
            optimiser_step(&task, model, &mut optim, Step { index: step % per_epoch, learning_rate: tc.learning_rate, parts }, &mut rng);
        sum = Some(match sum.take() {
            Some(acc) => acc + terms,
            None => terms,
        });
        step += 1;
        model
    };
    for _ in 0..plan.warmup {
        model = one_step(model);
    }
    sync()?;
    let mut out = Vec::with_capacity(plan.repeats);
    for _ in 0..plan.repeats {
        let t = Instant::now();
        for _ in 0..plan.steps {
            model = one_step(model);
        }
        sync()?;
        out.push((examples * plan.steps) as f64 / t.elapsed().as_secs_f64());
    }
    Ok(out)
}

fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(|a, b| a.total_cmp(b));
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    }
}

/// A memory figure of this process in MiB from /proc/self/status: VmHWM (peak resident) or
/// VmRSS (resident now).
fn memory_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

// ---------------------------------------------------------------------------------------------
// Parent side: children for every measurement, PyTorch beside them, the table.

fn child_env(cmd: &mut Command, threads: usize, device: Device, noise: Noise) {
    cmd.env(DEVICE_VAR, value_name(&device));
    cmd.env(NOISE_VAR, value_name(&noise));
    let t = threads.to_string();
    for var in [
        "RAYON_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
    ] {
        cmd.env(var, &t);
    }
}

/// Runs `cmd` and parses the JSON object on the last line of its stdout.
fn run_json(mut cmd: Command, what: &str) -> Result<ChildResult, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{what}: failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    serde_json::from_str(last).map_err(|e| format!("{what}: unreadable result `{last}`: {e}"))
}

fn rust_child(o: &Options, threads: usize, args: &[String]) -> Result<ChildResult, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.arg("--child").args(args);
    child_env(&mut cmd, threads, o.device, o.noise());
    let what = format!("hyperssl {} ({threads} threads)", args.join(" "));
    let r = run_json(cmd, &what)?;
    if r.threads != threads {
        return Err(format!(
            "{what}: ran with {} rayon threads instead of {threads}",
            r.threads
        ));
    }
    Ok(r)
}

/// bench/ of the source tree this binary was built from, or of the current directory when the
/// binary was copied elsewhere.
fn bench_dir() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench");
    if built.join("reference.py").exists() {
        built
    } else {
        PathBuf::from("bench")
    }
}

/// The interpreter to run bench/reference.py with, and torch's version, or why there is none.
fn find_python(o: &Options) -> Result<(PathBuf, String), String> {
    let setup = "install it with `bash bench/setup.sh` (creates bench/.venv), or pass --python PATH to an interpreter that has torch";
    let python = match &o.python {
        Some(p) => p.clone(),
        None => {
            let venv = bench_dir().join(".venv/bin/python");
            if !venv.exists() {
                return Err(format!(
                    "no PyTorch: {} does not exist; {setup}",
                    venv.display()
                ));
            }
            venv
        }
    };
    let out = Command::new(&python)
        .args(["-c", "import torch; print(torch.__version__)"])
        .output();
    match out {
        Ok(out) if out.status.success() => Ok((
            python,
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        )),
        Ok(_) => Err(format!(
            "no PyTorch: {} cannot import torch; {setup}",
            python.display()
        )),
        Err(e) => Err(format!(
            "no PyTorch: cannot run {}: {e}; {setup}",
            python.display()
        )),
    }
}

fn python_child(
    python: &Path,
    o: &Options,
    threads: usize,
    args: &[String],
) -> Result<ChildResult, String> {
    let mut cmd = Command::new(python);
    cmd.arg(bench_dir().join("reference.py"))
        .arg("--threads")
        .arg(threads.to_string())
        .args(args);
    child_env(&mut cmd, threads, o.device, Noise::Device);
    let r = run_json(
        cmd,
        &format!("PyTorch {} ({threads} threads)", args.join(" ")),
    )?;
    if r.threads != threads {
        return Err(format!(
            "PyTorch ran with {} threads instead of {threads}",
            r.threads
        ));
    }
    Ok(r)
}

fn run_parent(o: &Options) -> Result<(), String> {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    if let Some(&t) = o.threads.iter().find(|&&t| t > cpus) {
        eprintln!(
            "warning: {t} threads asked for, but only {cpus} CPUs are available to this process"
        );
    }
    let python = if o.no_python {
        None
    } else {
        match find_python(o) {
            Ok(p) => {
                eprintln!("PyTorch {} from {}", p.1, p.0.display());
                Some(p)
            }
            Err(e) => {
                eprintln!("{e}\nshowing hyperssl only.");
                None
            }
        }
    };
    let py = python.as_ref().map(|p| p.0.as_path());

    let gemm_size = gemm_size(o.device);
    let gemm_plan = serde_json::to_string(&Plan::gemm(o.quick)).map_err(|e| e.to_string())?;
    let mut gemm = Vec::new();
    let gemm_threads = if o.no_gemm { &[][..] } else { &o.threads[..] };
    for &t in gemm_threads {
        eprint!("gemm {gemm_size}^3, {t} threads:");
        let args = vec!["gemm".to_string(), gemm_size.to_string(), gemm_plan.clone()];
        let rust = rust_child(o, t, &args)?;
        let torch = py.map(|p| python_child(p, o, t, &args)).transpose()?;
        // Each result as it comes, so a run cut short still shows what it measured.
        eprintln!(
            " hyperssl {:.1} GFLOP/s, PyTorch {} GFLOP/s",
            rust.median,
            opt(torch.as_ref().map(|r| r.median), 1)
        );
        gemm.push(GemmRow {
            size: gemm_size,
            threads: t,
            hyperssl_gflops: rust.median,
            pytorch_gflops: torch.map(|r| r.median),
        });
    }

    let mut training = Vec::new();
    for &model in &o.models {
        for &t in &o.threads {
            for &batch in &o.batches {
                eprint!("{} batch {batch}, {t} threads:", model.name());
                let plan = Plan::training(o.quick, model.step_flops(batch), o.device);
                let plan = serde_json::to_string(&plan).map_err(|e| e.to_string())?;
                let args = vec![
                    "train".to_string(),
                    model.name().to_string(),
                    batch.to_string(),
                    plan,
                ];
                let rust = rust_child(o, t, &args)?;
                let torch = py.map(|p| python_child(p, o, t, &args)).transpose()?;
                eprintln!(
                    " hyperssl {:.0} ex/s, PyTorch {} ex/s",
                    rust.median,
                    opt(torch.as_ref().map(|r| r.median), 0)
                );
                let gflops = rust.median / model.examples_per_step(batch) as f64
                    * model.step_flops(batch)
                    / 1e9;
                let peak = gemm
                    .iter()
                    .find(|g| g.threads == t)
                    .map(|g| g.hyperssl_gflops);
                training.push(TrainRow {
                    model: model.name().to_uppercase(),
                    batch,
                    threads: t,
                    hyperssl_examples_per_s: rust.median,
                    pytorch_examples_per_s: torch.as_ref().map(|r| r.median),
                    ratio: torch.as_ref().map(|r| rust.median / r.median),
                    hyperssl_gflops: gflops,
                    hyperssl_share_of_gemm_peak: peak.map(|p| gflops / p),
                    hyperssl_peak_mib: rust.peak_mib,
                    pytorch_peak_mib: torch.as_ref().and_then(|r| r.peak_mib),
                    hyperssl_base_mib: rust.base_mib,
                    pytorch_base_mib: torch.as_ref().and_then(|r| r.base_mib),
                    pytorch_device_peak_mib: torch.as_ref().and_then(|r| r.device_peak_mib),
                    hyperssl_repeats: rust.repeats,
                    pytorch_repeats: torch.map(|r| r.repeats),
                });
            }
        }
    }

    let report = Report {
        quick: o.quick,
        device: value_name(&o.device),
        noise: value_name(&o.noise()),
        cpus,
        torch_version: python.map(|p| p.1),
        gemm,
        training,
    };
    let md = markdown(&report);
    println!("{md}");
    let dir = output_dir();
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    write_atomic(&dir.join("throughput.md"), &md)?;
    write_atomic(&dir.join("throughput.json"), &json)?;
    eprintln!("written to {}", dir.join("throughput.{md,json}").display());
    Ok(())
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.filter(|x| x.is_finite())
        .map_or("-".to_string(), |x| format!("{x:.digits$}"))
}

fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let torch = r
        .torch_version
        .as_deref()
        .map_or("not run".to_string(), |v| format!("PyTorch {v}"));
    let device = if r.device == "cuda" { "first CUDA GPU" } else { "CPU" };
    s += &format!(
        "Training throughput, {device} ({} CPUs available{}; {torch}; hyperssl noise drawn on the {}). Median of repeats, after warm-up.\n\n",
        r.cpus,
        if r.quick { ", --quick: few steps, rough numbers" } else { "" },
        r.noise
    );
    s += "| model | batch | threads | hyperssl ex/s | PyTorch ex/s | ratio | hyperssl GFLOP/s | % of GEMM peak | hyperssl peak MiB | PyTorch peak MiB |\n";
    s += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for t in &r.training {
        s += &format!(
            "| {} | {} | {} | {:.0} | {} | {} | {:.1} | {} | {} | {} |\n",
            t.model,
            t.batch,
            t.threads,
            t.hyperssl_examples_per_s,
            opt(t.pytorch_examples_per_s, 0),
            opt(t.ratio, 2),
            t.hyperssl_gflops,
            opt(t.hyperssl_share_of_gemm_peak.map(|x| 100.0 * x), 0),
            opt(t.hyperssl_peak_mib, 0),
            opt(t.pytorch_peak_mib, 0),
        );
    }
    s += "\nratio = hyperssl / PyTorch (above 1: hyperssl is faster). GFLOP/s counts the matmuls of one \
          forward + backward pass (2mnk each for the product, the weight gradient and the input gradient). \
          Peak MiB is the peak resident memory (VmHWM) of the process that ran that line";
    let base = |f: fn(&TrainRow) -> Option<f64>| {
        r.training
            .iter()
            .filter_map(f)
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
    };
    match (base(|t| t.hyperssl_base_mib), base(|t| t.pytorch_base_mib)) {
        (Some(h), Some(p)) => s += &format!("; before building anything it was {h:.0} MiB for hyperssl, {p:.0} MiB for PyTorch (after `import torch`).\n\n"),
        (Some(h), None) => s += &format!("; before building anything it was {h:.0} MiB.\n\n"),
        _ => s += ".\n\n",
    }
    if r.training.iter().any(|t| t.model == "M2") {
        s += &format!(
            "M2 ({} classes): batch is the unlabelled pixels of a step, each one going \
             through q(z|x,y) and p(x|y,z) once per class; a step also has a tenth as many \
             labelled pixels, and ex/s counts both.\n\n",
            m2_classes()
        );
    }
    if r.training.iter().any(|t| t.pytorch_device_peak_mib.is_some()) {
        s += "PyTorch peak GPU memory (MiB, allocated):";
        for t in &r.training {
            s += &format!(" {} batch {}: {};", t.model, t.batch, opt(t.pytorch_device_peak_mib, 0));
        }
        s += "\n\n";
    }
    if r.gemm.is_empty() {
        return s;
    }
    s += "| f32 GEMM | threads | burn GFLOP/s | PyTorch GFLOP/s |\n|---|---:|---:|---:|\n";
    for g in &r.gemm {
        s += &format!(
            "| {0}x{0}x{0} | {1} | {2:.1} | {3} |\n",
            g.size,
            g.threads,
            g.hyperssl_gflops,
            opt(g.pytorch_gflops, 1)
        );
    }
    s
}

/// `<target>/bench` when run from cargo's target directory (the binary lives in
/// `<target>/<profile>/deps/`), else `target/bench` under the current directory.
fn output_dir() -> PathBuf {
    let exe = std::env::current_exe().ok();
    let deps = exe
        .as_deref()
        .and_then(Path::parent)
        .filter(|d| d.file_name().is_some_and(|n| n == "deps"));
    deps.and_then(|d| d.parent()?.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("bench")
}

fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}
