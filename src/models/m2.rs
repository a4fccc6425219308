//! M2: the semi-supervised generative model of Kingma et al. (2014), section 3.1.2.
//!
//! Generative model p(y) p(z) p(x|y,z) with p(y) = Cat(1/K), p(z) = N(0, I) and p(x|y,z) an MLP
//! on [y, z]; inference model q(y|x) (an MLP classifier) and q(z|x,y) (an MLP on [x, y]).
//!
//! The class enters both MLPs only through their first layer, `W_u u + W_y y + b` with y one-hot,
//! so `W_y y` is a row of `W_y` (a lookup, not a matmul). For the unlabelled bound, which needs
//! every class for every example, `W_x x + b` of q(z|x,y) is computed once per example (`[B, H]`)
//! and the K class rows are added by broadcasting (`[B, K, H]`, read as `[B * K, H]`); p(x|y,z)'s
//! `W_y y` is likewise a broadcast add. All K classes go through the networks in one batched pass
//! of `B * K` rows, ordered example-major (row `b * K + k` is example b with class k).

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::activation::Activation;
use super::distributions::{
    bernoulli_log_density, categorical_entropy, gaussian_log_density, kl_standard_normal,
    log_softmax, reparameterize,
};
use super::init;
use super::m1::Likelihood;
use super::mlp::Mlp;
use super::param_ids::numbered;
use super::row_chunks;
use super::tensors::{matrix, to_vec, vector};
use super::backend::Backend;
use crate::data::array::argmax_rows;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct M2Config {
    /// Hidden sizes of the classifier q(y|x).
    pub hidden_classifier: Vec<usize>,
    /// Hidden sizes of the encoder q(z|x,y).
    pub hidden_encoder: Vec<usize>,
    /// Hidden sizes of the decoder p(x|y,z).
    pub hidden_decoder: Vec<usize>,
    pub latent: usize,
    pub activation: Activation,
    pub likelihood: Likelihood,
    /// Gaussian likelihoods: the fraction of each input dimension's variance that p(x|y,z)
    /// starts with as noise (see `M1Config::initial_noise`).
    pub initial_noise: f64,
}

impl M2Config {
    /// Refuses sizes and noise that cannot make a model, naming the setting (`m2.latent`).
    pub fn check(&self) -> crate::error::Result<()> {
        let hidden: [(&str, &[usize]); 3] = [
            ("hidden_classifier", &self.hidden_classifier),
            ("hidden_encoder", &self.hidden_encoder),
            ("hidden_decoder", &self.hidden_decoder),
        ];
        super::check_shape("m2", &hidden, self.latent, self.initial_noise)
    }
}

impl Default for M2Config {
    fn default() -> Self {
        M2Config {
            hidden_classifier: vec![500],
            hidden_encoder: vec![500],
            hidden_decoder: vec![500],
            latent: 50,
            activation: Activation::Softplus,
            likelihood: Likelihood::GaussianBand,
            initial_noise: 1.0,
        }
    }
}

/// A linear layer on `[u, onehot(y)]`, stored as `W_u` (with the bias) and the K rows of `W_y`.
#[derive(Module, Debug)]
pub struct ClassLinear<B: Backend> {
    /// `W_u` and the bias.
    pub input: Linear<B>,
    /// `[classes, d_out]`: row k is `W_y` times the one-hot vector of class k.
    pub class: Param<Tensor<B, 2>>,
}

impl<B: Backend> ClassLinear<B> {
    /// Initialised as one layer over the concatenated input (fan-in `d_in + classes`); output
    /// columns from `zero_from` on start at zero (log-variance heads). The shape's hidden
    /// layers are not this layer's.
    fn new<R: Rng>(rng: &mut R, shape: &ClassMlpShape, device: &B::Device) -> Self {
        let ClassMlpShape { d_in, classes, d_out, zero_from, .. } = *shape;
        let joint = init::linear::<B, R>(rng, d_in + classes, d_out, 1.0, device);
        let mut w = to_vec(joint.weight.val());
        zero_columns(&mut w, d_out, zero_from);
        let class = w.split_off(d_in * d_out);
        ClassLinear {
            input: Linear {
                weight: Param::from_tensor(matrix(w, d_in, d_out, device)),
                bias: joint.bias,
            },
            class: Param::from_tensor(matrix(class, classes, d_out, device)),
        }
    }

    /// One class per row: `u` `[B, d_in]`, `y` `[B]` -> `[B, d_out]`.
    fn forward(&self, u: Tensor<B, 2>, y: Tensor<B, 1, Int>, chunked: bool) -> Tensor<B, 2> {
        row_chunks::forward(&self.input, u, chunked) + self.class.val().select(0, y)
    }

    /// Every class: `u` has `B * r` rows with `r` 1 (shared by all classes of an example) or K
    /// (one row per example and class); returns `[B * K, d_out]`, example-major.
    fn forward_each_class(&self, u: Tensor<B, 2>, r: usize, chunked: bool) -> Tensor<B, 2> {
        let [rows, _] = u.dims();
        let [k, d_out] = self.class.dims();
        let b = rows / r;
        let h = row_chunks::forward(&self.input, u, chunked);
        let h = if r == 1 {
            h.unsqueeze_dim::<3>(1).repeat_dim(1, k)
        } else {
            h.reshape([b, k, d_out])
        };
        // The class rows added as one shared row of K * d_out values: a broadcast the CPU
        // backend runs as a SIMD loop (a [B, 1, H] + [1, K, H] broadcast is several times
        // slower there than this repeat and add).
        (h.reshape([b, k * d_out]) + self.class.val().reshape([1, k * d_out]))
            .reshape([b * k, d_out])
    }
}

fn zero_columns(w: &mut [f32], d_out: usize, from: usize) {
    for row in w.chunks_mut(d_out) {
        for v in row.iter_mut().skip(from) {
            *v = 0.0;
        }
    }
}

/// An MLP conditioned on the class through its first layer; the last layer has no nonlinearity.
#[derive(Module, Debug)]
pub struct ClassMlp<B: Backend> {
    pub first: ClassLinear<B>,
    pub rest: Vec<Linear<B>>,
    #[module(skip)]
    pub activation: Activation,
    /// Run layers over many rows in row chunks (see `row_chunks`).
    #[module(skip)]
    pub row_chunks: bool,
}

/// The layer sizes of a [`ClassMlp`]: `d_in (+ classes) -> hidden... -> d_out`, the output
/// columns from `zero_from` on starting with zero weights (log-variance heads).
#[derive(Clone, Copy)]
struct ClassMlpShape<'a> {
    d_in: usize,
    classes: usize,
    hidden: &'a [usize],
    d_out: usize,
    zero_from: usize,
}

impl<B: Backend> ClassMlp<B> {
    fn new<R: Rng>(rng: &mut R, shape: ClassMlpShape, activation: Activation, device: &B::Device) -> Self {
        let ClassMlpShape { d_in, classes, hidden, d_out, zero_from } = shape;
        let widths: Vec<usize> = hidden.iter().copied().chain([d_out]).collect();
        let last = widths.len() - 1;
        let first_zero_from = if last == 0 { zero_from } else { widths[0] };
        let first = ClassLinear::new(rng, &ClassMlpShape { d_in, classes, hidden: &[], d_out: widths[0], zero_from: first_zero_from }, device);
        let rest = (1..=last)
            .map(|i| {
                let layer = init::linear::<B, R>(rng, widths[i - 1], widths[i], 1.0, device);
                if i < last || zero_from >= d_out {
                    return layer;
                }
                let mut w = to_vec(layer.weight.val());
                zero_columns(&mut w, d_out, zero_from);
                Linear {
                    weight: Param::from_tensor(matrix(w, widths[i - 1], d_out, device)),
                    bias: layer.bias,
                }
            })
            .collect();
        ClassMlp {
            first,
            rest,
            activation,
            row_chunks: false,
        }
    }

    fn finish(&self, mut h: Tensor<B, 2>) -> Tensor<B, 2> {
        for layer in &self.rest {
            h = row_chunks::forward(layer, self.activation.apply(h), self.row_chunks);
        }
        h
    }

    fn forward(&self, u: Tensor<B, 2>, y: Tensor<B, 1, Int>) -> Tensor<B, 2> {
        self.finish(self.first.forward(u, y, self.row_chunks))
    }

    fn forward_each_class(&self, u: Tensor<B, 2>, r: usize) -> Tensor<B, 2> {
        self.finish(self.first.forward_each_class(u, r, self.row_chunks))
    }
}

#[derive(Module, Debug)]
pub struct M2<B: Backend> {
    classifier: Mlp<B>,
    /// Logits of q(y|x).
    q_y: Linear<B>,
    /// q(z|x,y): outputs `[mu | logvar]`.
    pub(crate) encoder: ClassMlp<B>,
    /// p(x|y,z): outputs the mean (Gaussian) or logits (Bernoulli), then for GaussianPixel the
    /// log-variance.
    decoder: ClassMlp<B>,
    /// Per-band log-variance (GaussianBand).
    p_logvar_band: Option<Param<Tensor<B, 1>>>,
    #[module(skip)]
    likelihood: Likelihood,
}

/// The labelled bound's terms for one class per example, or for every class (`[B, K]`).
pub struct ClassBound<B: Backend> {
    /// log p(x|y,z) at the sampled z.
    pub reconstruction: Tensor<B, 2>,
    /// KL(q(z|x,y) || p(z)).
    pub kl: Tensor<B, 2>,
    /// log p(y) = -ln K.
    pub log_prior: f32,
}

impl<B: Backend> ClassBound<B> {
    /// L(x,y) = log p(x|y,z) + log p(y) - KL(q(z|x,y) || p(z)).
    pub fn bound(&self) -> Tensor<B, 2> {
        (self.reconstruction.clone() - self.kl.clone()).add_scalar(self.log_prior)
    }
}

/// The unlabelled bound's parts for a batch of B examples.
pub struct UnlabelledTerms<B: Backend> {
    /// log q(y|x), `[B, K]`.
    pub log_q: Tensor<B, 2>,
    /// L(x,y) terms for every class, each `[B, K]`.
    pub classes: ClassBound<B>,
}

impl<B: Backend> UnlabelledTerms<B> {
    /// U(x) = sum_y q(y|x) L(x,y) + H(q(y|x)), `[B, 1]`.
    pub fn bound(&self) -> Tensor<B, 2> {
        self.expected(self.classes.bound()) + categorical_entropy(self.log_q.clone())
    }

    /// log p(x|y,z) averaged over q(y|x), `[B, 1]`.
    pub fn reconstruction(&self) -> Tensor<B, 2> {
        self.expected(self.classes.reconstruction.clone())
    }

    /// KL(q(z|x,y) || p(z)) averaged over q(y|x), `[B, 1]`.
    pub fn kl(&self) -> Tensor<B, 2> {
        self.expected(self.classes.kl.clone())
    }

    fn expected(&self, per_class: Tensor<B, 2>) -> Tensor<B, 2> {
        (self.log_q.clone().exp() * per_class).sum_dim(1)
    }
}

impl<B: Backend> M2<B> {
    pub fn new(
        config: &M2Config,
        input_dim: usize,
        n_classes: usize,
        seed: u64,
        device: &B::Device,
    ) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let act = config.activation;
        let classifier = Mlp::new(&mut rng, input_dim, &config.hidden_classifier, act, device);
        let h = classifier.out_dim(input_dim);
        let q_y = init::linear(&mut rng, h, n_classes, 1.0, device);
        let l = config.latent;
        let encoder = ClassMlp::new(&mut rng, ClassMlpShape { d_in: input_dim, classes: n_classes, hidden: &config.hidden_encoder, d_out: 2 * l, zero_from: l }, act, device);
        let (out, zero_from) = match config.likelihood {
            Likelihood::GaussianPixel => (2 * input_dim, input_dim),
            _ => (input_dim, input_dim),
        };
        let decoder = ClassMlp::new(&mut rng, ClassMlpShape { d_in: l, classes: n_classes, hidden: &config.hidden_decoder, d_out: out, zero_from }, act, device);
        let p_logvar_band = match config.likelihood {
            Likelihood::GaussianBand => {
                Some(Param::from_tensor(vector(vec![0.0; input_dim], device)))
            }
            _ => None,
        };
        numbered(M2 {
            classifier,
            q_y,
            encoder,
            decoder,
            p_logvar_band,
            likelihood: config.likelihood,
        })
    }

    /// Runs q(z|x,y) and p(x|y,z) over row chunks when `on` (faster on the GPU, slower on the
    /// CPU; see `row_chunks`). The results are the same up to rounding.
    pub fn with_row_chunks(mut self, on: bool) -> Self {
        self.encoder.row_chunks = on;
        self.decoder.row_chunks = on;
        self
    }

    /// Starts p(x|y,z) at the data's per-band mean and variance (see `M1::init_output`). Needs
    /// at least one decoder hidden layer; without one the model is left as it is. The noise
    /// starts at `initial_noise` times that variance (`M2Config::initial_noise`).
    ///
    /// # Panics
    /// When `mean` or `var` does not hold one value per input dimension (a caller's mistake:
    /// both come from `tensors::column_moments` of the model's own inputs).
    pub fn init_output(mut self, mean: &[f32], var: &[f32], initial_noise: f64) -> Self {
        let d = self.input_dim();
        assert_eq!((mean.len(), var.len()), (d, d), "one mean and variance per input dimension");
        if self.likelihood == Likelihood::Bernoulli {
            return self;
        }
        let lv = init::noise_log_variance(var, initial_noise);
        let Some(last) = self.decoder.rest.last_mut() else { return self };
        let device = last.weight.device();
        let mut bias = mean.to_vec();
        if self.likelihood == Likelihood::GaussianPixel {
            bias.extend_from_slice(&lv);
        }
        last.bias = Some(Param::from_tensor(vector(bias, &device)));
        if self.likelihood == Likelihood::GaussianBand {
            self.p_logvar_band = Some(Param::from_tensor(vector(lv, &device)));
        }
        numbered(self)
    }

    pub fn input_dim(&self) -> usize {
        self.encoder.first.input.weight.dims()[0]
    }

    pub fn latent_dim(&self) -> usize {
        self.decoder.first.input.weight.dims()[0]
    }

    pub fn n_classes(&self) -> usize {
        self.q_y.weight.dims()[1]
    }

    pub fn likelihood(&self) -> Likelihood {
        self.likelihood
    }

    fn log_prior(&self) -> f32 {
        -(self.n_classes() as f32).ln()
    }

    /// log q(y|x), `[B, K]`.
    pub fn classify(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        log_softmax(self.q_y.forward(self.classifier.forward(x)))
    }

    /// q(y|x), `[B, K]`.
    pub fn probabilities(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.classify(x).exp()
    }

    /// q(y|x) of every row of `x` (row-major, `dim` wide), `n x K`, computed [`eval_chunk`]
    /// rows at a time.
    pub fn probabilities_of_rows(&self, x: &[f32], dim: usize, device: &B::Device) -> Vec<f32> {
        x.chunks(eval_chunk(self.n_classes()) * dim).flat_map(|c| to_vec(self.probabilities(matrix::<B>(c.to_vec(), c.len() / dim, dim, device)))).collect()
    }

    /// The class of highest q(y|x) of every row of `x` (row-major, `dim` wide).
    pub fn classes_of_rows(&self, x: &[f32], dim: usize, device: &B::Device) -> Vec<usize> {
        let k = self.n_classes();
        x.chunks(eval_chunk(k) * dim).flat_map(|c| argmax_rows(&to_vec(self.classify(matrix::<B>(c.to_vec(), c.len() / dim, dim, device))), k)).collect()
    }

    /// Mean and log-variance of q(z|x,y) for class `y[b]` of each example, each `[B, latent]`.
    pub fn dist_qz(&self, x: Tensor<B, 2>, y: Tensor<B, 1, Int>) -> (Tensor<B, 2>, Tensor<B, 2>) {
        self.split_qz(self.encoder.forward(x, y))
    }

    fn split_qz(&self, out: Tensor<B, 2>) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let l = self.latent_dim();
        (out.clone().narrow(1, 0, l), out.narrow(1, l, l))
    }

    /// The terms of L(x,y) for labels `y` (class indices, `[B]`) and standard-normal noise
    /// `eps` `[B, latent]`, each `[B, 1]`.
    pub fn labelled_terms(
        &self,
        x: Tensor<B, 2>,
        y: Tensor<B, 1, Int>,
        eps: Tensor<B, 2>,
    ) -> ClassBound<B> {
        let (mu, logvar) = self.dist_qz(x.clone(), y.clone());
        let z = reparameterize(mu.clone(), logvar.clone(), eps);
        let reconstruction = self.log_px(x, self.decoder.forward(z, y));
        ClassBound {
            reconstruction,
            kl: kl_standard_normal(mu, logvar),
            log_prior: self.log_prior(),
        }
    }

    /// L(x,y), `[B, 1]`.
    pub fn labelled_bound(
        &self,
        x: Tensor<B, 2>,
        y: Tensor<B, 1, Int>,
        eps: Tensor<B, 2>,
    ) -> Tensor<B, 2> {
        self.labelled_terms(x, y, eps).bound()
    }

    /// The terms of L(x,y) for every class y of every example, each `[B, K]`, in one batched
    /// pass. `eps` is `[B * K, latent]`: an independent sample for each (example, class), row
    /// `b * K + k` for class k of example b (so `labelled_terms` with those rows and class k
    /// gives column k).
    pub fn class_terms(&self, x: Tensor<B, 2>, eps: Tensor<B, 2>) -> ClassBound<B> {
        let [b, d] = x.dims();
        let k = self.n_classes();
        let (mu, logvar) = self.split_qz(self.encoder.forward_each_class(x.clone(), 1));
        let z = reparameterize(mu.clone(), logvar.clone(), eps);
        let out = self.decoder.forward_each_class(z, k);
        // x once per class: the same size as the decoder output, and on the CPU backend faster
        // than broadcasting a [B, 1, d] x against [B, K, d] (which it walks element by element).
        let x = x.unsqueeze_dim::<3>(1).repeat_dim(1, k).reshape([b * k, d]);
        let reconstruction = self.log_px(x, out);
        ClassBound {
            reconstruction: reconstruction.reshape([b, k]),
            kl: kl_standard_normal(mu, logvar).reshape([b, k]),
            log_prior: self.log_prior(),
        }
    }

    /// log p(x|y,z) per row given the decoder output, `[rows, 1]`.
    fn log_px(&self, x: Tensor<B, 2>, out: Tensor<B, 2>) -> Tensor<B, 2> {
        let d = self.input_dim();
        match self.likelihood {
            Likelihood::Bernoulli => bernoulli_log_density(x, out),
            Likelihood::GaussianBand => {
                gaussian_log_density(x, out, self.band_logvar().unsqueeze_dim(0))
            }
            Likelihood::GaussianPixel => {
                gaussian_log_density(x, out.clone().narrow(1, 0, d), out.narrow(1, d, d))
            }
        }
    }

    /// q(y|x) and the per-class terms of U(x); see `class_terms` for the layout of `eps`.
    pub fn unlabelled_terms(&self, x: Tensor<B, 2>, eps: Tensor<B, 2>) -> UnlabelledTerms<B> {
        UnlabelledTerms {
            log_q: self.classify(x.clone()),
            classes: self.class_terms(x, eps),
        }
    }

    /// U(x) = sum_y q(y|x) L(x,y) + H(q(y|x)), `[B, 1]`; `eps` is `[B * K, latent]` as in
    /// `class_terms`.
    pub fn unlabelled_bound(&self, x: Tensor<B, 2>, eps: Tensor<B, 2>) -> Tensor<B, 2> {
        self.unlabelled_terms(x, eps).bound()
    }

    /// The mean of p(x|y,z) for classes `y` `[B]` and latents `z` `[B, latent]`: spectra the
    /// model generates for a class.
    pub fn generate(&self, y: Tensor<B, 1, Int>, z: Tensor<B, 2>) -> Tensor<B, 2> {
        let out = self.decoder.forward(z, y);
        match self.likelihood {
            Likelihood::Bernoulli => burn::tensor::activation::sigmoid(out),
            Likelihood::GaussianBand => out,
            Likelihood::GaussianPixel => out.narrow(1, 0, self.input_dim()),
        }
    }

    fn band_logvar(&self) -> Tensor<B, 1> {
        self.p_logvar_band
            .as_ref()
            .expect("per-band variance")
            .val()
    }
}

/// Class indices as the integer tensor the model takes.
pub fn class_indices<B: Backend>(labels: &[usize], device: &B::Device) -> Tensor<B, 1, Int> {
    let v: Vec<i64> = labels.iter().map(|&c| c as i64).collect();
    Tensor::from_data(TensorData::new(v, [labels.len()]), device)
}

/// The weight beta of the classification term: alpha * N_total / N_labelled (the paper's
/// alpha = 0.1).
pub fn classification_weight(alpha: f64, n_labelled: usize, n_unlabelled: usize) -> f32 {
    (alpha * (n_labelled + n_unlabelled) as f64 / n_labelled.max(1) as f64) as f32
}

/// Labelled examples of a minibatch with their noise `[n_l, latent]`.
pub struct LabelledBatch<B: Backend> {
    pub x: Tensor<B, 2>,
    pub y: Tensor<B, 1, Int>,
    pub eps: Tensor<B, 2>,
    /// What each labelled example counts for against an unlabelled one (1 in the paper's
    /// minibatches; below 1 when a step takes more labelled examples than its share, so that the
    /// objective keeps its weights).
    pub weight: f32,
    /// The inputs the classification term gives q(y|x), when not `x` itself (noisy copies that
    /// regularise the classifier); the bound always sees `x`.
    pub x_classify: Option<Tensor<B, 2>>,
}

/// Unlabelled examples of a minibatch with their noise `[n_u * K, latent]`.
pub struct UnlabelledBatch<B: Backend> {
    pub x: Tensor<B, 2>,
    pub eps: Tensor<B, 2>,
    /// What the unlabelled bound counts for in the objective (1 in the paper).
    pub weight: f32,
}

/// The minibatch objective and its parts, each `[1]`, all means over the n_l + n_u examples
/// (labelled ones counted with their weight w).
pub struct Objective<B: Backend> {
    /// J = [w sum_l (-L(x_l,y_l) - beta log q(y_l|x_l)) + sum_u -U(x_u)] / (w n_l + n_u).
    pub loss: Tensor<B, 1>,
    /// [sum_l L + sum_u U] / (n_l + n_u).
    pub bound: Tensor<B, 1>,
    /// Mean log p(x|y,z) (q(y|x)-weighted for unlabelled examples).
    pub reconstruction: Tensor<B, 1>,
    /// Mean KL (q(y|x)-weighted for unlabelled examples).
    pub kl: Tensor<B, 1>,
}

/// The M2 objective for one minibatch; `beta` from `classification_weight`.
pub fn objective<B: Backend>(
    model: &M2<B>,
    labelled: LabelledBatch<B>,
    unlabelled: UnlabelledBatch<B>,
    beta: f32,
) -> Objective<B> {
    let n = labelled.weight * labelled.x.dims()[0] as f32 + unlabelled.x.dims()[0] as f32;
    objective_share(model, Some(labelled), Some(unlabelled), beta, n)
}

/// The share of a minibatch's objective that some of its rows contribute: their sums divided by
/// `n`, the whole minibatch's `w n_l + n_u`. The shares of rows that make up a minibatch add up
/// to its `objective`. A share has labelled rows, unlabelled rows or both.
pub fn objective_share<B: Backend>(
    model: &M2<B>,
    labelled: Option<LabelledBatch<B>>,
    unlabelled: Option<UnlabelledBatch<B>>,
    beta: f32,
    n: f32,
) -> Objective<B> {
    // Weighted sums of (bound, reconstruction, KL) of the labelled rows, then the unlabelled.
    let mut sums: Vec<[Tensor<B, 1>; 3]> = Vec::with_capacity(2);
    let weighted = |w: f32, terms: [Tensor<B, 2>; 3]| terms.map(|t| t.sum().mul_scalar(w));
    let mut classification = None;
    if let Some(labelled) = labelled {
        let w = labelled.weight;
        let x_classify = labelled.x_classify.unwrap_or_else(|| labelled.x.clone());
        let log_q = model.classify(x_classify).gather(1, labelled.y.clone().unsqueeze_dim(1));
        let l = model.labelled_terms(labelled.x, labelled.y, labelled.eps);
        sums.push(weighted(w, [l.bound(), l.reconstruction, l.kl]));
        classification = Some(log_q.sum().mul_scalar(w * beta));
    }
    if let Some(unlabelled) = unlabelled {
        let u = model.unlabelled_terms(unlabelled.x, unlabelled.eps);
        sums.push(weighted(unlabelled.weight, [u.bound(), u.reconstruction(), u.kl()]));
    }
    let [bound, reconstruction, kl] = sums
        .into_iter()
        .reduce(|[b0, r0, k0], [b1, r1, k1]| [b0 + b1, r0 + r1, k0 + k1])
        .expect("a share has labelled or unlabelled rows");
    let objective = classification.map_or(bound.clone(), |c| bound.clone() + c);
    Objective {
        loss: objective.neg().div_scalar(n),
        bound: bound.div_scalar(n),
        reconstruction: reconstruction.div_scalar(n),
        kl: kl.div_scalar(n),
    }
}

/// Rows evaluated at once for a model of `classes` classes, so that `rows * classes` stays
/// moderate.
pub fn eval_chunk(classes: usize) -> usize {
    (16_384 / classes.max(1)).clamp(1, 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::tensors::scalar;
    use burn::backend::Flex;

    type B = Flex;

    fn dev() -> burn::tensor::Device<B> {
        Default::default()
    }

    fn config(hidden: Vec<usize>, likelihood: Likelihood) -> M2Config {
        M2Config {
            hidden_classifier: hidden.clone(),
            hidden_encoder: hidden.clone(),
            hidden_decoder: hidden,
            latent: 2,
            activation: Activation::Softplus,
            likelihood,
            initial_noise: 1.0,
        }
    }

    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.random_range(-1.5f32..1.5)).collect()
    }

    /// Rows `k, k + K, k + 2K, ...` of a row-major `[B * K, cols]` buffer.
    fn class_rows(v: &[f32], cols: usize, k: usize, classes: usize) -> Vec<f32> {
        v.chunks(cols)
            .skip(k)
            .step_by(classes)
            .flatten()
            .copied()
            .collect()
    }

    #[test]
    fn unlabelled_bound_equals_the_per_class_sum() {
        for likelihood in [
            Likelihood::GaussianBand,
            Likelihood::GaussianPixel,
            Likelihood::Bernoulli,
        ] {
            let (b, d, k) = (3, 4, 5);
            let m = M2::<B>::new(&config(vec![6, 5], likelihood), d, k, 1, &dev());
            let xs: Vec<f32> = noise(b * d, 2).iter().map(|v| (v + 1.5) / 3.0).collect();
            let x = matrix::<B>(xs, b, d, &dev());
            let eps = noise(b * k * 2, 3);
            let got = to_vec(m.unlabelled_bound(x.clone(), matrix(eps.clone(), b * k, 2, &dev())));
            let q = to_vec(m.probabilities(x.clone()));
            let mut want = vec![0.0f32; b];
            for c in 0..k {
                let e = matrix::<B>(class_rows(&eps, 2, c, k), b, 2, &dev());
                let l = to_vec(m.labelled_bound(x.clone(), class_indices(&vec![c; b], &dev()), e));
                for i in 0..b {
                    let qi = q[i * k + c];
                    want[i] += qi * (l[i] - qi.ln());
                }
            }
            for i in 0..b {
                assert!(
                    (got[i] - want[i]).abs() < 1e-4 * (1.0 + want[i].abs()),
                    "{likelihood:?} example {i}: {} vs {}",
                    got[i],
                    want[i]
                );
            }
        }
    }

    #[test]
    fn row_chunks_leave_the_bounds_as_they_are() {
        // 256 examples x 16 classes: 4,096 rows a layer, four chunks.
        let (b, d, k) = (256, 6, 16);
        let plain = M2::<B>::new(&config(vec![8], Likelihood::GaussianBand), d, k, 1, &dev());
        let chunked = plain.clone().with_row_chunks(true);
        let x = matrix::<B>(noise(b * d, 4), b, d, &dev());
        let eps = matrix::<B>(noise(b * k * 2, 5), b * k, 2, &dev());
        let got = to_vec(chunked.unlabelled_bound(x.clone(), eps.clone()));
        let want = to_vec(plain.unlabelled_bound(x, eps));
        assert_eq!(got.len(), b);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() < 1e-4 * (1.0 + w.abs()), "example {i}: {g} vs {w}");
        }
    }

    /// Row-major values of a linear layer's weight (d_in x d_out) and bias.
    fn wb(l: &Linear<B>) -> (Vec<f32>, Vec<f32>) {
        (
            to_vec(l.weight.val()),
            to_vec(l.bias.as_ref().unwrap().val()),
        )
    }

    fn affine(x: &[f32], (w, b): &(Vec<f32>, Vec<f32>)) -> Vec<f32> {
        let d_out = b.len();
        (0..d_out)
            .map(|j| {
                b[j] + x
                    .iter()
                    .enumerate()
                    .map(|(i, xi)| xi * w[i * d_out + j])
                    .sum::<f32>()
            })
            .collect()
    }

    #[test]
    fn labelled_bound_matches_hand_computation() {
        // No hidden layers: q(z|x,y) = N(W x + V[y] + b) with [mu | logvar] stacked,
        // p(x|y,z) = N(A z + C[y] + c, exp(s)).
        let (d, k, l) = (3, 2, 2);
        let m = M2::<B>::new(&config(vec![], Likelihood::GaussianBand), d, k, 5, &dev());
        // Give the log-variances non-zero weights so every term matters.
        let mut m = m;
        m.encoder.first.input.weight =
            Param::from_tensor(matrix(noise(d * 2 * l, 6), d, 2 * l, &dev()));
        m.encoder.first.class = Param::from_tensor(matrix(noise(k * 2 * l, 7), k, 2 * l, &dev()));
        m.p_logvar_band = Some(Param::from_tensor(vector(vec![0.2, -0.3, 0.1], &dev())));
        let x = [0.5f32, -1.0, 2.0];
        let eps = [0.3f32, -0.7];
        let y = 1;
        let enc_class = to_vec(m.encoder.first.class.val());
        let dec_class = to_vec(m.decoder.first.class.val());
        let out: Vec<f32> = affine(&x, &wb(&m.encoder.first.input))
            .iter()
            .zip(&enc_class[y * 2 * l..])
            .map(|(a, c)| a + c)
            .collect();
        let (mu, lv) = out.split_at(l);
        let z: Vec<f32> = (0..l)
            .map(|j| mu[j] + (lv[j] / 2.0).exp() * eps[j])
            .collect();
        let mean: Vec<f32> = affine(&z, &wb(&m.decoder.first.input))
            .iter()
            .zip(&dec_class[y * d..])
            .map(|(a, c)| a + c)
            .collect();
        let s = [0.2f32, -0.3, 0.1];
        let ln2pi = (2.0 * std::f32::consts::PI).ln();
        let log_px: f32 = (0..d)
            .map(|i| -0.5 * ((x[i] - mean[i]).powi(2) / s[i].exp() + s[i] + ln2pi))
            .sum();
        let kl: f32 = (0..l)
            .map(|j| 0.5 * (mu[j] * mu[j] + lv[j].exp() - lv[j] - 1.0))
            .sum();
        let want = log_px - (k as f32).ln() - kl;

        let t = m.labelled_terms(
            matrix(x.to_vec(), 1, d, &dev()),
            class_indices(&[y], &dev()),
            matrix(eps.to_vec(), 1, l, &dev()),
        );
        let got_px = to_vec(t.reconstruction.clone())[0];
        let got_kl = to_vec(t.kl.clone())[0];
        assert!(
            (got_px - log_px).abs() < 1e-4,
            "log p(x|y,z) {got_px} vs {log_px}"
        );
        assert!((got_kl - kl).abs() < 1e-5, "KL {got_kl} vs {kl}");
        assert!((to_vec(t.bound())[0] - want).abs() < 1e-4);
        // The mean of p(x|y,z) is what `generate` returns.
        let g = to_vec(m.generate(class_indices(&[y], &dev()), matrix(z.clone(), 1, l, &dev())));
        assert!(
            g.iter().zip(&mean).all(|(a, b)| (a - b).abs() < 1e-5),
            "{g:?} vs {mean:?}"
        );
    }

    #[test]
    fn class_probabilities_are_a_distribution() {
        let m = M2::<B>::new(&config(vec![7], Likelihood::GaussianBand), 4, 6, 3, &dev());
        let x = matrix::<B>(
            noise(5 * 4, 8).iter().map(|v| 4.0 * v).collect(),
            5,
            4,
            &dev(),
        );
        let p = to_vec(m.probabilities(x.clone()));
        let lp = to_vec(m.classify(x));
        for row in p.chunks(6) {
            assert!(row.iter().all(|&v| (0.0..=1.0).contains(&v)), "{row:?}");
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
        }
        assert!(p.iter().zip(&lp).all(|(p, lp)| (p.ln() - lp).abs() < 1e-4));
    }

    #[test]
    fn labelled_weight_makes_a_doubled_labelled_batch_count_once() {
        let (d, k) = (3, 4);
        let m = M2::<B>::new(&config(vec![5], Likelihood::GaussianPixel), d, k, 9, &dev());
        let (xl, el, yl) = (noise(2 * d, 20), noise(2 * 2, 21), [2, 0]);
        let (xu, eu) = (noise(3 * d, 22), noise(3 * k * 2, 23));
        fn twice<T: Clone>(v: &[T]) -> Vec<T> {
            [v, v].concat()
        }
        let run = |copies: usize, weight: f32| {
            let (x, e, y) = if copies == 1 { (xl.clone(), el.clone(), yl.to_vec()) } else { (twice(&xl), twice(&el), twice(&yl)) };
            let rows = 2 * copies;
            let o = objective(
                &m,
                LabelledBatch {
                    x: matrix::<B>(x, rows, d, &dev()),
                    y: class_indices(&y, &dev()),
                    eps: matrix::<B>(e, rows, 2, &dev()),
                    weight,
                    x_classify: None,
                },
                UnlabelledBatch { x: matrix::<B>(xu.clone(), 3, d, &dev()), eps: matrix::<B>(eu.clone(), 3 * k, 2, &dev()), weight: 1.0 },
                0.6,
            );
            [scalar(o.loss), scalar(o.bound), scalar(o.reconstruction), scalar(o.kl)]
        };
        let (once, doubled, unweighted) = (run(1, 1.0), run(2, 0.5), run(2, 1.0));
        for i in 0..4 {
            assert!((once[i] - doubled[i]).abs() < 1e-4 * (1.0 + once[i].abs()), "term {i}: {} vs {}", once[i], doubled[i]);
        }
        // Without the weight the labelled examples would count twice.
        assert!((once[0] - unweighted[0]).abs() > 1e-3);
    }

    #[test]
    fn objective_matches_its_definition() {
        let (d, k) = (3, 4);
        let m = M2::<B>::new(&config(vec![5], Likelihood::GaussianPixel), d, k, 9, &dev());
        let (nl, nu) = (2, 3);
        let xl = noise(nl * d, 10);
        let xu = noise(nu * d, 11);
        let el = noise(nl * 2, 12);
        let eu = noise(nu * k * 2, 13);
        let yl = [3, 1];
        let beta = classification_weight(0.1, 20, 100);
        assert!((beta - 0.6).abs() < 1e-6);
        let mk = |v: &Vec<f32>, r, c| matrix::<B>(v.clone(), r, c, &dev());
        let got = objective(
            &m,
            LabelledBatch {
                x: mk(&xl, nl, d),
                y: class_indices(&yl, &dev()),
                eps: mk(&el, nl, 2),
                weight: 1.0,
                x_classify: None,
            },
            UnlabelledBatch {
                x: mk(&xu, nu, d),
                eps: mk(&eu, nu * k, 2),
                weight: 1.0,
            },
            beta,
        );
        let lb =
            to_vec(m.labelled_bound(mk(&xl, nl, d), class_indices(&yl, &dev()), mk(&el, nl, 2)));
        let lq = to_vec(m.classify(mk(&xl, nl, d)));
        let ub = to_vec(m.unlabelled_bound(mk(&xu, nu, d), mk(&eu, nu * k, 2)));
        let n = (nl + nu) as f32;
        let bound_sum = lb.iter().sum::<f32>() + ub.iter().sum::<f32>();
        let log_q: f32 = (0..nl).map(|i| lq[i * k + yl[i]]).sum();
        let want = -(bound_sum + beta * log_q) / n;
        assert!(
            (scalar(got.loss) - want).abs() < 1e-4 * (1.0 + want.abs()),
            "loss vs {want}"
        );
        assert!((scalar(got.bound) - bound_sum / n).abs() < 1e-4 * (1.0 + want.abs()));
        // The logged parts add up to the bound: log p(y) and the entropy make the difference.
        let ut = m.unlabelled_terms(mk(&xu, nu, d), mk(&eu, nu * k, 2));
        let entropy = scalar(categorical_entropy(ut.log_q.clone()).sum());
        // Every example gets log p(y) = -ln K once (the q(y|x) weights sum to 1).
        let parts =
            scalar(got.reconstruction) - scalar(got.kl) + (entropy - n * (k as f32).ln()) / n;
        assert!(
            (parts - bound_sum / n).abs() < 1e-3,
            "{parts} vs {}",
            bound_sum / n
        );
    }

    #[test]
    fn noisy_classifier_inputs_and_an_unlabelled_weight_enter_as_defined() {
        // q(y|x) of the classification term reads x_classify, the bound reads x; the unlabelled
        // bound counts with its weight, and a share without unlabelled rows leaves it out.
        let (d, k) = (3, 4);
        let m = M2::<B>::new(&config(vec![5], Likelihood::GaussianBand), d, k, 9, &dev());
        let (nl, nu) = (2, 3);
        let (xl, xc, xu) = (noise(nl * d, 30), noise(nl * d, 31), noise(nu * d, 32));
        let (el, eu) = (noise(nl * 2, 33), noise(nu * k * 2, 34));
        let yl = [1, 2];
        let mk = |v: &Vec<f32>, r, c| matrix::<B>(v.clone(), r, c, &dev());
        let labelled = || LabelledBatch {
            x: mk(&xl, nl, d),
            y: class_indices(&yl, &dev()),
            eps: mk(&el, nl, 2),
            weight: 1.0,
            x_classify: Some(mk(&xc, nl, d)),
        };
        let (beta, n, w_u) = (0.7f32, 9.0f32, 0.25f32);
        let unlabelled = UnlabelledBatch { x: mk(&xu, nu, d), eps: mk(&eu, nu * k, 2), weight: w_u };
        let lb: f32 = to_vec(m.labelled_bound(mk(&xl, nl, d), class_indices(&yl, &dev()), mk(&el, nl, 2))).iter().sum();
        let lq = to_vec(m.classify(mk(&xc, nl, d)));
        let log_q: f32 = (0..nl).map(|i| lq[i * k + yl[i]]).sum();
        let ub: f32 = to_vec(m.unlabelled_bound(mk(&xu, nu, d), mk(&eu, nu * k, 2))).iter().sum();
        let both = objective_share(&m, Some(labelled()), Some(unlabelled), beta, n);
        let want = -(lb + w_u * ub + beta * log_q) / n;
        let got = scalar(both.loss);
        assert!((got - want).abs() < 1e-4 * (1.0 + want.abs()), "{got} vs {want}");
        let alone = objective_share(&m, Some(labelled()), None, beta, n);
        let want = -(lb + beta * log_q) / n;
        let got = scalar(alone.loss);
        assert!((got - want).abs() < 1e-4 * (1.0 + want.abs()), "{got} vs {want}");
        // The noisy inputs matter: with x itself the classification term differs.
        let lq_x = to_vec(m.classify(mk(&xl, nl, d)));
        assert!(((0..nl).map(|i| lq_x[i * k + yl[i]]).sum::<f32>() - log_q).abs() > 1e-4);
    }

    #[test]
    fn log_variance_heads_start_at_zero_and_seeds_repeat() {
        let cfg = config(vec![4], Likelihood::GaussianPixel);
        let a = M2::<B>::new(&cfg, 3, 5, 21, &dev());
        let b = M2::<B>::new(&cfg, 3, 5, 21, &dev());
        assert_eq!(wb(&a.q_y), wb(&b.q_y));
        let w = to_vec(a.encoder.rest[0].weight.val());
        assert!(w
            .chunks(4)
            .all(|row| row[..2].iter().any(|&v| v != 0.0) && row[2..].iter().all(|&v| v == 0.0)));
        let w = to_vec(a.decoder.rest[0].weight.val());
        assert!(w.chunks(6).all(|row| row[3..].iter().all(|&v| v == 0.0)));
        assert_eq!((a.input_dim(), a.n_classes(), a.latent_dim()), (3, 5, 2));
    }

    /// The model with its decoder reduced to `C[y]`: no hidden layer, `W_z` and the bias zero,
    /// so that p(x|y,z) has the planted parameters `rows[y]` whatever z is.
    fn planted_decoder(likelihood: Likelihood, d: usize, rows: &[Vec<f32>]) -> M2<B> {
        let mut m = M2::<B>::new(&config(vec![], likelihood), d, rows.len(), 5, &dev());
        let width = rows[0].len();
        let l = m.latent_dim();
        m.decoder.first.input.weight = Param::from_tensor(matrix(vec![0.0; l * width], l, width, &dev()));
        m.decoder.first.input.bias = Some(Param::from_tensor(vector(vec![0.0; width], &dev())));
        m.decoder.first.class = Param::from_tensor(matrix(rows.concat(), rows.len(), width, &dev()));
        m
    }

    /// log N(x; mean, exp(logvar)) summed over the dimensions, in f64.
    fn gaussian_by_hand(x: &[f32], mean: &[f32], logvar: &[f32]) -> f64 {
        let ln_2pi = (2.0 * std::f64::consts::PI).ln();
        x.iter()
            .zip(mean)
            .zip(logvar)
            .map(|((&x, &m), &lv)| {
                let (x, m, lv) = (x as f64, m as f64, lv as f64);
                -0.5 * (ln_2pi + lv + (x - m).powi(2) / lv.exp())
            })
            .sum()
    }

    /// log Bernoulli(x; sigmoid(logits)) summed over the dimensions, in f64, for x in [0, 1].
    fn bernoulli_by_hand(x: &[f32], logits: &[f32]) -> f64 {
        x.iter()
            .zip(logits)
            .map(|(&x, &l)| {
                let p = 1.0 / (1.0 + (-(l as f64)).exp());
                x as f64 * p.ln() + (1.0 - x as f64) * (1.0 - p).ln()
            })
            .sum()
    }

    // Every planted value enters the closed form: reading the decoder output's halves the wrong
    // way round, a class's row for another's, or logits as probabilities changes the result.
    #[test]
    fn likelihoods_match_their_closed_forms_on_planted_decoder_outputs() {
        let (d, k) = (3, 2);
        // Rows of x: in [0, 1] for the Bernoulli likelihood, the Gaussian ones take them too.
        let x = [0.9f32, 0.1, 0.35, 0.0, 1.0, 0.6];
        let means = [vec![0.4f32, -1.1, 2.3], vec![1.5, 0.2, -0.6]];
        let logvars = [vec![-0.7f32, 0.9, 0.2], vec![0.5, -1.3, 1.1]];
        let band = vec![-0.4f32, 0.8, 0.3];
        for likelihood in [Likelihood::GaussianPixel, Likelihood::GaussianBand, Likelihood::Bernoulli] {
            // The decoder output per class: [mean | logvar] (GaussianPixel), else the mean or logits.
            let rows: Vec<Vec<f32>> = match likelihood {
                Likelihood::GaussianPixel => (0..k).map(|c| [means[c].clone(), logvars[c].clone()].concat()).collect(),
                _ => means.to_vec(),
            };
            let mut m = planted_decoder(likelihood, d, &rows);
            if likelihood == Likelihood::GaussianBand {
                m.p_logvar_band = Some(Param::from_tensor(vector(band.clone(), &dev())));
            }
            let by_hand = |row: &[f32], c: usize| match likelihood {
                Likelihood::GaussianPixel => gaussian_by_hand(row, &means[c], &logvars[c]),
                Likelihood::GaussianBand => gaussian_by_hand(row, &means[c], &band),
                Likelihood::Bernoulli => bernoulli_by_hand(row, &means[c]),
            };
            let close = |got: f32, want: f64, what: &str| {
                assert!(
                    (got as f64 - want).abs() < 1e-5 * (1.0 + want.abs()),
                    "{likelihood:?} {what}: {got} vs {want} by hand"
                );
            };
            let xs = || matrix::<B>(x.to_vec(), 2, d, &dev());
            // One class per example (the labelled bound's `select` of the class row).
            let y = [1, 0];
            let labelled = m.labelled_terms(xs(), class_indices(&y, &dev()), matrix(noise(2 * 2, 40), 2, 2, &dev()));
            for (i, got) in to_vec(labelled.reconstruction).into_iter().enumerate() {
                close(got, by_hand(&x[i * d..(i + 1) * d], y[i]), &format!("labelled example {i}"));
            }
            // Every class of every example (the unlabelled bound's broadcast add).
            let each = m.class_terms(xs(), matrix(noise(2 * k * 2, 41), 2 * k, 2, &dev()));
            for (j, got) in to_vec(each.reconstruction).into_iter().enumerate() {
                let (i, c) = (j / k, j % k);
                close(got, by_hand(&x[i * d..(i + 1) * d], c), &format!("example {i} class {c}"));
            }
            // The generated spectrum is the mean: sigmoid(logits) for Bernoulli.
            let generated = to_vec(m.generate(class_indices(&y, &dev()), matrix(noise(2 * 2, 42), 2, 2, &dev())));
            for (j, got) in generated.into_iter().enumerate() {
                let planted = means[y[j / d]][j % d] as f64;
                let want = if likelihood == Likelihood::Bernoulli { 1.0 / (1.0 + (-planted).exp()) } else { planted };
                close(got, want, &format!("generated value {j}"));
            }
        }
    }

    /// Central finite differences of the objective in f64 against autodiff, for every entry of
    /// every parameter: the per-class rows (reached through `select` in the labelled bound and
    /// the broadcast add in the unlabelled one), the input layers, the hidden layers, the
    /// classifier and the log-variance heads (the last columns of q(z|x,y)'s and, per pixel,
    /// p(x|y,z)'s output layer; the per-band vector). In f64 softplus takes its composed form;
    /// the fused f32 kernel's gradient is checked against the sigmoid in `activation`.
    mod parameter_gradients {
        use super::*;
        use burn::backend::Autodiff;
        use burn::module::{ModuleMapper, ModuleVisitor, ParamId};
        use burn::tensor::backend::AutodiffBackend;
        use burn::tensor::DType;

        type AB = Autodiff<Flex>;

        fn f64_tensor<const D: usize>(values: Vec<f64>, dims: [usize; D]) -> Tensor<AB, D> {
            Tensor::from_data(TensorData::new(values, dims), (&Default::default(), DType::F64))
        }

        fn values<BB: burn::tensor::backend::Backend, const D: usize>(t: Tensor<BB, D>) -> Vec<f64> {
            t.into_data().convert::<f64>().into_vec::<f64>().expect("float data")
        }

        /// Every parameter in f64 and drawn afresh from U(-0.8, 0.8), so that no layer sits at
        /// its special initial point (zero log-variance heads, zero biases).
        struct RandomF64(ChaCha8Rng);

        impl ModuleMapper<AB> for RandomF64 {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<AB, D>>) -> Param<Tensor<AB, D>> {
                let (id, tensor, mapper) = param.consume();
                let dims = tensor.dims();
                let v = (0..dims.iter().product()).map(|_| self.0.random_range(-0.8..0.8)).collect();
                Param::from_mapped_value(id, f64_tensor(v, dims).require_grad(), mapper)
            }
        }

        /// Adds `delta` to entry `index` of parameter `id`.
        struct Nudge {
            id: ParamId,
            index: usize,
            delta: f64,
        }

        impl ModuleMapper<AB> for Nudge {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<AB, D>>) -> Param<Tensor<AB, D>> {
                let (id, tensor, mapper) = param.consume();
                if id != self.id {
                    return Param::from_mapped_value(id, tensor, mapper);
                }
                let dims = tensor.dims();
                let mut v = values(tensor);
                v[self.index] += self.delta;
                Param::from_mapped_value(id, f64_tensor(v, dims).require_grad(), mapper)
            }
        }

        /// Each parameter's path, id and autodiff gradient.
        struct Collect<'a> {
            grads: &'a <AB as AutodiffBackend>::Gradients,
            path: Vec<String>,
            found: Vec<(String, ParamId, Vec<f64>)>,
        }

        impl ModuleVisitor<AB> for Collect<'_> {
            fn enter_module(&mut self, name: &str, _: &str) {
                self.path.push(name.to_string());
            }

            fn exit_module(&mut self, _: &str, _: &str) {
                self.path.pop();
            }

            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<AB, D>>) {
                let n = param.val().dims().iter().product();
                let g = param.val().grad(self.grads).map_or(vec![0.0; n], values);
                self.found.push((self.path.join("."), param.id, g));
            }
        }

        /// The objective of one minibatch of labelled and unlabelled examples.
        fn loss(m: &M2<AB>, data: &[Vec<f64>; 4], yl: &[usize]) -> Tensor<AB, 1> {
            let (d, k, l) = (m.input_dim(), m.n_classes(), m.latent_dim());
            let [xl, el, xu, eu] = data.clone();
            let (nl, nu) = (yl.len(), xu.len() / d);
            objective(
                m,
                LabelledBatch {
                    x: f64_tensor(xl, [nl, d]),
                    y: class_indices(yl, &Default::default()),
                    eps: f64_tensor(el, [nl, l]),
                    weight: 1.0,
                    x_classify: None,
                },
                UnlabelledBatch { x: f64_tensor(xu, [nu, d]), eps: f64_tensor(eu, [nu * k, l]), weight: 1.0 },
                0.6,
            )
            .loss
        }

        fn check(hidden: Vec<usize>, likelihood: Likelihood, expected_params: usize) {
            let (d, k, l, nl, nu) = (3, 3, 2, 2, 2);
            let m = M2::<AB>::new(&config(hidden.clone(), likelihood), d, k, 1, &Default::default())
                .map(&mut RandomF64(ChaCha8Rng::seed_from_u64(2)));
            let f64s = |n: usize, seed: u64| noise(n, seed).into_iter().map(f64::from).collect::<Vec<f64>>();
            // Inputs in [0, 1] (Bernoulli needs them there).
            let unit = |n: usize, seed: u64| f64s(n, seed).into_iter().map(|v| (v + 1.5) / 3.0).collect();
            let data = [unit(nl * d, 3), f64s(nl * l, 4), unit(nu * d, 5), f64s(nu * k * l, 6)];
            let yl = [2, 0];
            let f = |m: &M2<AB>| values(loss(m, &data, &yl))[0];
            let grads = loss(&m, &data, &yl).backward();
            let mut collect = Collect { grads: &grads, path: Vec::new(), found: Vec::new() };
            m.visit(&mut collect);
            assert_eq!(collect.found.len(), expected_params, "{hidden:?} {likelihood:?}: parameters");
            // f64 with h = 1e-5: the central difference's truncation error (h^2 / 6 f''') and
            // rounding (1e-16 |f| / h) are both around 1e-10 here, so 1e-6 relative is far
            // above numerical error and far below a missing term or a wrong sign, which is off
            // by the size of the derivative itself.
            let h = 1e-5;
            for (name, id, g) in &collect.found {
                let mut largest = 0f64;
                for (index, &autodiff) in g.iter().enumerate() {
                    let at = |delta| f(&m.clone().map(&mut Nudge { id: *id, index, delta }));
                    let fd = (at(h) - at(-h)) / (2.0 * h);
                    assert!(
                        (autodiff - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
                        "{hidden:?} {likelihood:?} {name}[{index}]: autodiff {autodiff} vs finite difference {fd}"
                    );
                    largest = largest.max(fd.abs());
                }
                // Not a vacuous check: every parameter moves the objective.
                assert!(largest > 1e-3, "{hidden:?} {likelihood:?} {name}: largest derivative {largest}");
            }
        }

        #[test]
        fn two_hidden_layers_with_per_pixel_variance() {
            // Classifier: 2 hidden layers and q_y; encoder and decoder: the class layer (weight,
            // bias, class rows) and 2 linear layers each.
            check(vec![4, 3], Likelihood::GaussianPixel, 2 * 3 + 2 * (3 + 4));
        }

        #[test]
        fn no_hidden_layer_so_the_class_layers_are_the_output_heads() {
            check(vec![], Likelihood::GaussianPixel, 2 + 2 * 3);
        }

        #[test]
        fn per_band_variance() {
            check(vec![3], Likelihood::GaussianBand, 2 * 2 + 2 * (3 + 2) + 1);
        }

        #[test]
        fn bernoulli() {
            check(vec![3], Likelihood::Bernoulli, 2 * 2 + 2 * (3 + 2));
        }
    }

    #[test]
    fn save_and_load_give_identical_outputs() {
        let cfg = config(vec![5], Likelihood::GaussianBand);
        let m = M2::<B>::new(&cfg, 3, 4, 1, &dev());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m2.mpk");
        crate::train::checkpoint::save_model::<B, _>(&p, &m).unwrap();
        let other = M2::new(&cfg, 3, 4, 2, &dev());
        let loaded = crate::train::checkpoint::load_model::<B, _>(&p, other, &dev()).unwrap();
        let x = || matrix::<B>(noise(2 * 3, 30), 2, 3, &dev());
        let eps = || matrix::<B>(noise(2 * 4 * 2, 31), 2 * 4, 2, &dev());
        assert_eq!(
            to_vec(m.unlabelled_bound(x(), eps())),
            to_vec(loaded.unlabelled_bound(x(), eps()))
        );
        assert_eq!(to_vec(m.classify(x())), to_vec(loaded.classify(x())));
    }
}
