//! Label propagation over the scene's graph (Zhou et al., "Learning with local and global
//! consistency", NIPS 2003): the labelled pixels' classes spread to the unlabelled pixels along
//! a graph that links every pixel to its nearest neighbours in the model's input space, and
//! the classifier's probabilities are weighed by what reaches each pixel.
//!
//! This is where the unlabelled pixels count most on hyperspectral scenes: a field of a class
//! with no labelled pixel is reached through the fields that resemble it, which no classifier
//! of the labelled pixels alone does. The labelled pixels join the graph as nodes of their own
//! (their inputs and classes, stored with a run), so a trained run repeats its map on its own
//! scene and lends its labels to a new one. Nearest neighbours are exact among up to
//! `max_candidates` nodes (the labelled ones and evenly spaced pixels beyond that), so the cost
//! grows as pixels x candidates x inputs.

use ndarray::{ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PropagationConfig {
    /// Neighbours of every node in the graph (0: no propagation).
    pub neighbours: usize,
    /// Share of a node's value that comes from its neighbours at each step (the rest is its own
    /// label); closer to 1 spreads labels further.
    pub alpha: f64,
    /// Steps of the spreading (alpha^steps is what the last one changes).
    pub steps: usize,
    /// Nodes among which neighbours are sought: every node of a scene up to this size, else the
    /// labelled ones and evenly spaced pixels up to it.
    pub max_candidates: usize,
}

impl Default for PropagationConfig {
    fn default() -> Self {
        PropagationConfig { neighbours: 10, alpha: 0.9, steps: 100, max_candidates: 20_000 }
    }
}

impl PropagationConfig {
    /// No propagation: the classifier's probabilities as they are.
    pub fn off() -> Self {
        PropagationConfig { neighbours: 0, ..Default::default() }
    }

    pub fn is_on(&self) -> bool {
        self.neighbours > 0
    }

    pub fn check(&self) -> Result<()> {
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(Error::invalid(format!("propagation.alpha must lie strictly between 0 and 1, not {}", self.alpha)));
        }
        if self.is_on() && self.steps == 0 {
            return Err(Error::invalid("propagation.steps must be at least 1"));
        }
        if self.is_on() && self.max_candidates <= self.neighbours {
            return Err(Error::invalid(format!("propagation.max_candidates ({}) must exceed propagation.neighbours ({})", self.max_candidates, self.neighbours)));
        }
        Ok(())
    }
}

/// Labelled examples as graph nodes: their model inputs (`n x dim`, row-major) and dense classes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Seeds {
    pub inputs: Vec<f32>,
    pub classes: Vec<usize>,
}

impl Seeds {
    /// The pixels at `indices` of model inputs `x` (`dim` wide) with their classes.
    pub fn gather(x: &[f32], dim: usize, indices: &[usize], classes: Vec<usize>) -> Self {
        Seeds { inputs: crate::data::array::gather_rows(x, dim, indices), classes }
    }

    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }
}

/// What the seeds' classes add at a pixel that nothing reached: the classifier's evidence
/// alone. It also keeps a class that no seed reaches possible where the classifier is sure.
const FLOOR: f32 = 1e-3;

/// Pixels as a classifier saw them: their model inputs and its class probabilities.
#[derive(Debug, Clone, Copy)]
pub struct ClassifiedPixels<'a> {
    /// Class probabilities, `n x k`, row-major.
    pub probs: &'a [f32],
    pub k: usize,
    /// Model inputs, `n x dim`, row-major: the space of the graph.
    pub x: &'a [f32],
    pub dim: usize,
}

/// The classifier's probabilities of `pixels`, each multiplied by the share of the seeds'
/// classes that reaches it (plus `FLOOR`, 0.001) and normalised. With no seeds, or with
/// propagation off, the probabilities are returned as they are.
pub fn propagate(pixels: ClassifiedPixels, seeds: &Seeds, config: &PropagationConfig) -> Vec<f32> {
    let ClassifiedPixels { probs, k, x, dim } = pixels;
    if !config.is_on() || seeds.is_empty() || k == 0 {
        return probs.to_vec();
    }
    weigh(probs, k, &spread(x, dim, seeds, k, config))
}

/// Class probabilities `probs` (`n x k`, row-major), each multiplied by the share of the
/// seeds' classes that reaches it in `reached` (what [`spread`] gives, `n x k`) plus `FLOOR`
/// and normalised; a row that nothing reached stays as it is. Split from [`propagate`] so that
/// one spread over a scene's graph serves every classifier of that scene and those seeds.
pub fn weigh(probs: &[f32], k: usize, reached: &[f32]) -> Vec<f32> {
    let n = probs.len() / k;
    assert_eq!(reached.len(), n * k, "the reach of {n} pixels of {k} classes");
    let mut out = probs.to_vec();
    for (p, f) in out.chunks_exact_mut(k).zip(reached.chunks_exact(k)) {
        let total: f64 = f.iter().map(|&v| v as f64).sum();
        if total <= 0.0 {
            continue;
        }
        for (pc, &fc) in p.iter_mut().zip(f) {
            *pc *= (fc as f64 / total) as f32 + FLOOR;
        }
        let norm: f32 = p.iter().sum();
        if norm > 0.0 {
            p.iter_mut().for_each(|v| *v /= norm);
        }
    }
    out
}

/// How much of each class reaches every pixel (`n x k`, not normalised): the fixed point of
/// F <- alpha S F + (1 - alpha) Y after `steps` steps, where S is the symmetrically normalised
/// graph over the pixels and the seeds and Y holds the seeds' classes.
pub fn spread(x: &[f32], dim: usize, seeds: &Seeds, k: usize, config: &PropagationConfig) -> Vec<f32> {
    let n = x.len() / dim;
    let nodes = Nodes {
        pixels: ArrayView2::from_shape((n, dim), x).expect("pixels x dim"),
        seeds: ArrayView2::from_shape((seeds.len(), dim), &seeds.inputs).expect("seeds x dim"),
    };
    let total = n + seeds.len();
    let graph = Graph::nearest(&nodes, &candidates(n, seeds.len(), config.max_candidates), config.neighbours);
    let mut y = vec![0.0f64; total * k];
    for (s, &c) in seeds.classes.iter().enumerate() {
        y[(n + s) * k + c] = 1.0;
    }
    let f = graph.spread(&y, k, config.alpha, config.steps);
    f[..n * k].iter().map(|&v| v as f32).collect()
}

/// Nodes that may be neighbours: all of them when they fit, else every seed (the last
/// `n_seeds` nodes) and evenly spaced pixels.
fn candidates(n_pixels: usize, n_seeds: usize, max: usize) -> Vec<usize> {
    let total = n_pixels + n_seeds;
    if total <= max {
        return (0..total).collect();
    }
    let pixels = max.saturating_sub(n_seeds).max(1);
    let step = n_pixels as f64 / pixels as f64;
    let mut out: Vec<usize> = (0..pixels).map(|i| (i as f64 * step) as usize).collect();
    out.dedup();
    out.extend(n_pixels..total);
    out
}

/// The graph's nodes, the scene's pixels then the seeds, read where they lie (the pixels'
/// inputs are not copied).
struct Nodes<'a> {
    pixels: ArrayView2<'a, f32>,
    seeds: ArrayView2<'a, f32>,
}

impl Nodes<'_> {
    fn len(&self) -> usize {
        self.pixels.nrows() + self.seeds.nrows()
    }

    fn row(&self, i: usize) -> ndarray::ArrayView1<'_, f32> {
        let n = self.pixels.nrows();
        if i < n { self.pixels.row(i) } else { self.seeds.row(i - n) }
    }

    /// Consecutive nodes in blocks of at most [`BLOCK`], none across the pixels' end: each with
    /// its first node and its rows.
    fn blocks(&self) -> Vec<(usize, ArrayView2<'_, f32>)> {
        let mut out = blocks_of(self.pixels.view(), 0);
        out.extend(blocks_of(self.seeds.view(), self.pixels.nrows()));
        out
    }
}

/// The rows of `m` in blocks of at most [`BLOCK`], each with the node index of its first row.
fn blocks_of(m: ArrayView2<'_, f32>, offset: usize) -> Vec<(usize, ArrayView2<'_, f32>)> {
    let rows = m.nrows();
    (0..rows).step_by(BLOCK).map(move |s| (offset + s, m.slice_move(ndarray::s![s..(s + BLOCK).min(rows), ..]))).collect()
}

/// A weighted symmetric graph in compressed rows, normalised as D^-1/2 W D^-1/2.
struct Graph {
    starts: Vec<usize>,
    targets: Vec<u32>,
    weights: Vec<f64>,
}

/// Rows of queries handled together: one matrix product against the candidates each.
const BLOCK: usize = 256;

impl Graph {
    /// Every node linked to its `k` nearest candidates (itself excluded) with weight
    /// exp(-d^2 / sigma^2), sigma the median distance to the k-th neighbour; an edge found from
    /// either end counts once, with its weight.
    fn nearest(nodes: &Nodes, candidates: &[usize], k: usize) -> Graph {
        let total = nodes.len();
        let k = k.min(candidates.len().saturating_sub(1)).max(1);
        let cand = ndarray::stack(Axis(0), &candidates.iter().map(|&c| nodes.row(c)).collect::<Vec<_>>()).expect("rows of one width");
        let cand_norms: Vec<f32> = cand.rows().into_iter().map(|r| r.dot(&r)).collect();
        let found: Vec<Vec<(u32, f32)>> = nodes
            .blocks()
            .into_par_iter()
            .flat_map_iter(|(first, block)| {
                let dots = block.dot(&cand.t());
                (first..first + block.nrows())
                    .zip(dots.rows())
                    .map(|(i, d)| {
                        let own = nodes.row(i).dot(&nodes.row(i));
                        let dist2 = d.iter().zip(&cand_norms).map(|(&dot, &c)| (own + c - 2.0 * dot).max(0.0));
                        nearest_k(i, dist2, candidates, k)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut kth: Vec<f32> = found.iter().filter_map(|f| f.last().map(|&(_, d)| d)).collect();
        kth.sort_by(f32::total_cmp);
        let sigma2 = (kth.get(kth.len() / 2).copied().unwrap_or(1.0) as f64).max(f64::MIN_POSITIVE);
        let mut edges: Vec<(u32, u32, f64)> = Vec::with_capacity(2 * total * k);
        for (i, f) in found.iter().enumerate() {
            for &(j, d2) in f {
                let w = (-(d2 as f64) / sigma2).exp();
                edges.push((i as u32, j, w));
                edges.push((j, i as u32, w));
            }
        }
        edges.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(b.2.total_cmp(&a.2)));
        edges.dedup_by(|later, first| later.0 == first.0 && later.1 == first.1);
        let mut starts = vec![0usize; total + 1];
        for e in &edges {
            starts[e.0 as usize + 1] += 1;
        }
        for i in 0..total {
            starts[i + 1] += starts[i];
        }
        let degree: Vec<f64> = (0..total).map(|i| edges[starts[i]..starts[i + 1]].iter().map(|e| e.2).sum()).collect();
        let scale = |i: usize| if degree[i] > 0.0 { degree[i].sqrt().recip() } else { 0.0 };
        let weights = edges.iter().map(|&(i, j, w)| w * scale(i as usize) * scale(j as usize)).collect();
        Graph { starts, targets: edges.iter().map(|e| e.1).collect(), weights }
    }

    /// `steps` steps of F <- alpha S F + (1 - alpha) Y from F = Y.
    fn spread(&self, y: &[f64], k: usize, alpha: f64, steps: usize) -> Vec<f64> {
        let mut f = y.to_vec();
        let mut next = vec![0.0f64; y.len()];
        for _ in 0..steps {
            next.par_chunks_mut(k).enumerate().for_each(|(i, out)| {
                out.iter_mut().zip(&y[i * k..(i + 1) * k]).for_each(|(o, &yc)| *o = (1.0 - alpha) * yc);
                for e in self.starts[i]..self.starts[i + 1] {
                    let (j, w) = (self.targets[e] as usize, alpha * self.weights[e]);
                    out.iter_mut().zip(&f[j * k..(j + 1) * k]).for_each(|(o, &fc)| *o += w * fc);
                }
            });
            std::mem::swap(&mut f, &mut next);
        }
        f
    }
}

/// The `k` nearest of the candidates to node `i` (itself excluded), nearest first, ties by
/// index so that the graph never depends on the order of the search.
fn nearest_k(i: usize, dist2: impl Iterator<Item = f32>, candidates: &[usize], k: usize) -> Vec<(u32, f32)> {
    let mut best: Vec<(u32, f32)> = Vec::with_capacity(k + 1);
    for (&j, d) in candidates.iter().zip(dist2) {
        if j == i {
            continue;
        }
        if best.len() == k && !closer((j as u32, d), best[k - 1]) {
            continue;
        }
        let at = best.partition_point(|&b| closer(b, (j as u32, d)));
        best.insert(at, (j as u32, d));
        best.truncate(k);
    }
    best
}

fn closer(a: (u32, f32), b: (u32, f32)) -> bool {
    a.1 < b.1 || (a.1 == b.1 && a.0 < b.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DMatrix, DVector};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn config(neighbours: usize) -> PropagationConfig {
        PropagationConfig { neighbours, alpha: 0.9, steps: 400, max_candidates: 10_000 }
    }

    /// The graph written out by hand: every node's k nearest by sorting all distances, weights
    /// exp(-d^2 / sigma^2) with sigma^2 the median squared distance to the k-th neighbour,
    /// symmetrised by the larger weight, normalised as D^-1/2 W D^-1/2.
    fn dense_graph(nodes: &[f32], dim: usize, k: usize) -> DMatrix<f64> {
        let n = nodes.len() / dim;
        let d2 = |i: usize, j: usize| -> f64 { (0..dim).map(|c| ((nodes[i * dim + c] - nodes[j * dim + c]) as f64).powi(2)).sum() };
        let near: Vec<Vec<usize>> = (0..n)
            .map(|i| {
                let mut others: Vec<usize> = (0..n).filter(|&j| j != i).collect();
                others.sort_by(|&a, &b| d2(i, a).total_cmp(&d2(i, b)).then(a.cmp(&b)));
                others.truncate(k);
                others
            })
            .collect();
        let mut kth: Vec<f64> = near.iter().enumerate().map(|(i, nb)| d2(i, *nb.last().unwrap())).collect();
        kth.sort_by(f64::total_cmp);
        let sigma2 = kth[n / 2];
        let mut w = DMatrix::zeros(n, n);
        for (i, nb) in near.iter().enumerate() {
            for &j in nb {
                let v = (-d2(i, j) / sigma2).exp();
                w[(i, j)] = v;
                w[(j, i)] = v;
            }
        }
        let degree: Vec<f64> = (0..n).map(|i| w.row(i).sum()).collect();
        DMatrix::from_fn(n, n, |i, j| w[(i, j)] / (degree[i] * degree[j]).sqrt())
    }

    #[test]
    fn the_spread_is_the_closed_form_of_local_and_global_consistency() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (n, dim, k, classes) = (40, 3, 4, 2);
        let x: Vec<f32> = (0..n * dim).map(|_| rng.random::<f32>()).collect();
        let seeds = Seeds { inputs: x[..2 * dim].iter().map(|v| v + 0.01).collect(), classes: vec![0, 1] };
        let cfg = PropagationConfig { steps: 2000, ..config(k) };
        let f = spread(&x, dim, &seeds, classes, &cfg);
        let nodes: Vec<f32> = x.iter().chain(&seeds.inputs).copied().collect();
        let s = dense_graph(&nodes, dim, k);
        let total = n + 2;
        // F* = (1 - alpha) (I - alpha S)^-1 Y
        let system = DMatrix::identity(total, total) - s * cfg.alpha;
        let lu = system.lu();
        for c in 0..classes {
            let mut y = DVector::zeros(total);
            y[n + c] = 1.0 - cfg.alpha;
            let exact = lu.solve(&y).unwrap();
            for i in 0..n {
                assert!((f[i * classes + c] as f64 - exact[i]).abs() < 1e-6, "pixel {i} class {c}: {} vs {}", f[i * classes + c], exact[i]);
            }
        }
    }

    /// Two well-separated groups of pixels, one labelled example in each, and a classifier that
    /// is unsure or wrong inside them.
    fn two_groups() -> (Vec<f32>, Seeds) {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut x = Vec::new();
        for centre in [0.0f32, 10.0] {
            for _ in 0..30 {
                x.extend([centre + rng.random::<f32>(), centre + rng.random::<f32>()]);
            }
        }
        (x, Seeds { inputs: vec![0.5, 0.5, 10.5, 10.5], classes: vec![0, 1] })
    }

    #[test]
    fn each_group_takes_the_class_of_its_labelled_example_where_the_classifier_hesitates() {
        let (x, seeds) = two_groups();
        let probs: Vec<f32> = (0..60).flat_map(|_| [0.5f32, 0.5]).collect();
        let out = propagate(ClassifiedPixels { probs: &probs, k: 2, x: &x, dim: 2 }, &seeds, &config(5));
        for i in 0..60 {
            let class = if out[i * 2] > out[i * 2 + 1] { 0 } else { 1 };
            assert_eq!(class, i / 30, "pixel {i}: {:?}", &out[i * 2..i * 2 + 2]);
            assert!((out[i * 2] + out[i * 2 + 1] - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn without_seeds_or_when_off_the_probabilities_are_unchanged() {
        let (x, seeds) = two_groups();
        let probs: Vec<f32> = (0..60).flat_map(|i| [i as f32 / 60.0, 1.0 - i as f32 / 60.0]).collect();
        assert_eq!(propagate(ClassifiedPixels { probs: &probs, k: 2, x: &x, dim: 2 }, &Seeds::default(), &config(5)), probs);
        assert_eq!(propagate(ClassifiedPixels { probs: &probs, k: 2, x: &x, dim: 2 }, &seeds, &PropagationConfig::off()), probs);
    }

    #[test]
    fn a_subset_of_candidates_keeps_every_seed_and_still_reaches_every_group() {
        let (x, seeds) = two_groups();
        let picked = candidates(60, 2, 20);
        assert_eq!(picked.len(), 20);
        assert!(picked.ends_with(&[60, 61]));
        assert!(picked.windows(2).all(|w| w[0] < w[1]));
        let probs: Vec<f32> = (0..60).flat_map(|_| [0.5f32, 0.5]).collect();
        let out = propagate(ClassifiedPixels { probs: &probs, k: 2, x: &x, dim: 2 }, &seeds, &PropagationConfig { max_candidates: 20, ..config(5) });
        assert!((0..60).all(|i| (out[i * 2] > out[i * 2 + 1]) == (i < 30)));
    }

    #[test]
    fn settings_out_of_range_are_refused_by_name() {
        let bad = |c: PropagationConfig| c.check().unwrap_err().to_string();
        assert!(bad(PropagationConfig { alpha: 1.0, ..Default::default() }).contains("propagation.alpha"));
        assert!(bad(PropagationConfig { steps: 0, ..Default::default() }).contains("propagation.steps"));
        assert!(bad(PropagationConfig { max_candidates: 10, ..Default::default() }).contains("propagation.max_candidates"));
        assert!(PropagationConfig::off().check().is_ok());
    }
}
