//! Spatial regularisation of a class map: a Markov random field over the pixels, with the
//! classifier's probabilities as evidence and a Potts prior that charges `weight` for every pair
//! of 8-adjacent pixels in different classes,
//!
//! E(l) = sum_i -ln p_i(l_i) + weight * sum_{i ~ j} [l_i != l_j],
//!
//! lowered by alpha-expansion moves (Boykov, Veksler and Zabih 2001), each a minimum cut, from
//! the classifier's own classes.
//!
//! A pixel whose 8 neighbours all share its class keeps it: those pixels are not variables of
//! the field, only evidence for their neighbours. So the regulariser mends the isolated and
//! boundary pixels of a class map and never recolours the inside of a region the classifier
//! agrees on.

use serde::{Deserialize, Serialize};

use crate::data::array::argmax_rows;
use super::maxflow::FlowGraph;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MrfConfig {
    /// Cost of a pair of neighbours in different classes, in nats of evidence (0: no
    /// regularisation).
    pub weight: f64,
    /// At most this many rounds of expansion over every class.
    pub sweeps: usize,
}

impl Default for MrfConfig {
    fn default() -> Self {
        MrfConfig { weight: 3.0, sweeps: 3 }
    }
}

impl MrfConfig {
    /// No regularisation: the classifier's classes as they are.
    pub fn off() -> Self {
        MrfConfig { weight: 0.0, ..Default::default() }
    }

    pub fn is_on(&self) -> bool {
        self.weight > 0.0
    }

    pub fn check(&self) -> Result<()> {
        if !(self.weight.is_finite() && self.weight >= 0.0) {
            return Err(Error::invalid(format!("mrf.weight must be a non-negative number, not {}", self.weight)));
        }
        Ok(())
    }
}

/// The smallest probability the evidence takes, so that a class the classifier rules out still
/// has a finite cost.
const FLOOR: f32 = 1e-6;

/// Pairs of 8-adjacent pixels of a `height x width` image, each once.
fn neighbour_pairs(height: usize, width: usize) -> Vec<(usize, usize)> {
    let mut pairs = Vec::with_capacity(4 * height * width);
    for r in 0..height {
        for c in 0..width {
            let i = r * width + c;
            if c + 1 < width {
                pairs.push((i, i + 1));
            }
            if r + 1 < height {
                pairs.push((i, i + width));
                if c + 1 < width {
                    pairs.push((i, i + width + 1));
                }
                if c > 0 {
                    pairs.push((i, i + width - 1));
                }
            }
        }
    }
    pairs
}

/// The field's energy of a labelling (what the cut lowers; the tests check it does).
#[cfg(test)]
pub fn energy(probs: &[f32], k: usize, height: usize, width: usize, weight: f64, labels: &[usize]) -> f64 {
    let evidence: f64 = labels.iter().enumerate().map(|(i, &l)| -(probs[i * k + l].max(FLOOR) as f64).ln()).sum();
    let disagreements = neighbour_pairs(height, width).iter().filter(|&&(i, j)| labels[i] != labels[j]).count();
    evidence + weight * disagreements as f64
}

/// Pixels whose 8 neighbours (those inside the image) all have their class.
pub fn agreeing(labels: &[usize], height: usize, width: usize) -> Vec<bool> {
    let mut agree = vec![true; labels.len()];
    for (i, j) in neighbour_pairs(height, width) {
        if labels[i] != labels[j] {
            agree[i] = false;
            agree[j] = false;
        }
    }
    agree
}

/// Class probabilities over a `height x width` map, `n x k` row-major.
#[derive(Debug, Clone, Copy)]
pub struct ProbabilityMap<'a> {
    pub probs: &'a [f32],
    pub k: usize,
    pub height: usize,
    pub width: usize,
}

/// The class map of a classifier whose own classes are `classes` (an SVM's votes need not be
/// the argmax of its probabilities): those classes when the field is off, else the regularised
/// ones.
pub fn class_map(classes: Vec<usize>, map: ProbabilityMap, config: &MrfConfig) -> Vec<usize> {
    if config.is_on() {
        regularise(map.probs, map.k, map.height, map.width, config)
    } else {
        classes
    }
}

/// The regularised class of every pixel of a `height x width` map of class probabilities
/// (`probs` row-major, `n x k`).
pub fn regularise(probs: &[f32], k: usize, height: usize, width: usize, config: &MrfConfig) -> Vec<usize> {
    let mut labels = argmax_rows(probs, k);
    if !config.is_on() || k < 2 {
        return labels;
    }
    let fixed = agreeing(&labels, height, width);
    let pairs = neighbour_pairs(height, width);
    let cost = |i: usize, l: usize| -(probs[i * k + l].max(FLOOR) as f64).ln();
    for _ in 0..config.sweeps {
        let mut changed = false;
        for alpha in 0..k {
            changed |= expand(&mut labels, alpha, &fixed, &pairs, &cost, config.weight);
        }
        if !changed {
            break;
        }
    }
    labels
}

/// One alpha-expansion move: every free pixel either keeps its class or takes `alpha`,
/// whichever assignment of all of them at once costs least. Whether any pixel changed.
fn expand(labels: &mut [usize], alpha: usize, fixed: &[bool], pairs: &[(usize, usize)], cost: &dyn Fn(usize, usize) -> f64, weight: f64) -> bool {
    // Variables: free pixels not already in alpha; x = 1 (sink side) means "take alpha".
    let mut node = vec![usize::MAX; labels.len()];
    let mut pixels = Vec::new();
    for (i, &l) in labels.iter().enumerate() {
        if !fixed[i] && l != alpha {
            node[i] = pixels.len();
            pixels.push(i);
        }
    }
    if pixels.is_empty() {
        return false;
    }
    // Costs of keeping (x = 0) and of taking alpha (x = 1), then the pairs between variables.
    let mut keep: Vec<f64> = pixels.iter().map(|&i| cost(i, labels[i])).collect();
    let mut take: Vec<f64> = pixels.iter().map(|&i| cost(i, alpha)).collect();
    let mut graph = FlowGraph::new(pixels.len());
    for &(i, j) in pairs {
        match (node[i], node[j]) {
            (usize::MAX, usize::MAX) => {}
            (a, usize::MAX) => {
                keep[a] += weight * (labels[i] != labels[j]) as u8 as f64;
                take[a] += weight * (labels[j] != alpha) as u8 as f64;
            }
            (usize::MAX, b) => {
                keep[b] += weight * (labels[i] != labels[j]) as u8 as f64;
                take[b] += weight * (labels[i] != alpha) as u8 as f64;
            }
            (a, b) => {
                // E(0,0) = V(l_i, l_j), E(0,1) = E(1,0) = weight (neither label is alpha), E(1,1) = 0;
                // written as E00 + (E10 - E00) x_i + (E11 - E10) x_j + (E01 + E10 - E00 - E11) (1 - x_i) x_j.
                let e00 = weight * (labels[i] != labels[j]) as u8 as f64;
                take[a] += weight - e00;
                take[b] -= weight;
                graph.add_edge(a, b, 2.0 * weight - e00, 0.0);
            }
        }
    }
    for (v, (&k0, &k1)) in keep.iter().zip(&take).enumerate() {
        let m = k0.min(k1);
        graph.add_terminal(v, k1 - m, k0 - m);
    }
    let (_, takes) = graph.min_cut();
    let mut changed = false;
    for (v, &t) in takes.iter().enumerate() {
        if t {
            labels[pixels[v]] = alpha;
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random_probs(n: usize, k: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
        (0..n)
            .flat_map(|_| {
                let row: Vec<f32> = (0..k).map(|_| rng.random_range(0.01f32..1.0).powi(3)).collect();
                let s: f32 = row.iter().sum();
                row.into_iter().map(move |v| v / s)
            })
            .collect()
    }

    #[test]
    fn no_single_expansion_lowers_the_energy_of_the_result() {
        // On small grids every alpha-expansion of the result (all 2^free subsets) is tried: none
        // may cost less, and the result costs no more than the classifier's own classes.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for case in 0..30 {
            let (h, w, k) = (3, rng.random_range(2..4), 3);
            let probs = random_probs(h * w, k, &mut rng);
            let weight = rng.random_range(0.1..2.0);
            let cfg = MrfConfig { weight, sweeps: 10 };
            let got = regularise(&probs, k, h, w, &cfg);
            let e = energy(&probs, k, h, w, weight, &got);
            let start = argmax_rows(&probs, k);
            assert!(e <= energy(&probs, k, h, w, weight, &start) + 1e-9);
            let fixed = agreeing(&start, h, w);
            for alpha in 0..k {
                let free: Vec<usize> = (0..h * w).filter(|&i| !fixed[i] && got[i] != alpha).collect();
                for mask in 0..1u32 << free.len() {
                    let mut l = got.clone();
                    for (b, &i) in free.iter().enumerate() {
                        if mask >> b & 1 == 1 {
                            l[i] = alpha;
                        }
                    }
                    assert!(energy(&probs, k, h, w, weight, &l) >= e - 1e-9, "case {case}: expansion to {alpha} lowers the energy");
                }
            }
            for i in (0..h * w).filter(|&i| fixed[i]) {
                assert_eq!(got[i], start[i]);
            }
        }
    }

    /// A 12 x 12 map: class 0 left, class 1 right, with wrong evidence at random near the
    /// boundary and at a few isolated pixels inside.
    fn planted(rng: &mut ChaCha8Rng) -> (Vec<f32>, usize, usize, Vec<usize>) {
        let (h, w, k) = (12, 12, 3);
        let truth: Vec<usize> = (0..h * w).map(|i| if i % w < 6 { 0 } else { 1 }).collect();
        let mut probs = Vec::new();
        for (i, &t) in truth.iter().enumerate() {
            // Wrong pixels favour class 2, with the true class second.
            let wrong = i % 29 == 7 || (i % w).abs_diff(6) <= 1 && rng.random_bool(0.4);
            let mut row = vec![0.1f32; k];
            row[t] = if wrong { 0.35 } else { 0.8 };
            if wrong {
                row[2] = 0.8;
            }
            let s: f32 = row.iter().sum();
            probs.extend(row.iter().map(|v| v / s));
        }
        (probs, h, w, truth)
    }

    #[test]
    fn pixels_whose_neighbourhood_agrees_never_change_and_isolated_errors_are_mended() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (probs, h, w, truth) = planted(&mut rng);
        let k = 3;
        let start = argmax_rows(&probs, k);
        let agree = agreeing(&start, h, w);
        assert!(agree.iter().any(|&a| a) && agree.iter().any(|&a| !a));
        for weight in [0.5, 2.0, 8.0, 100.0] {
            let got = regularise(&probs, k, h, w, &MrfConfig { weight, sweeps: 3 });
            for i in 0..h * w {
                if agree[i] {
                    assert_eq!(got[i], start[i], "weight {weight}: pixel {i} had an agreeing neighbourhood");
                }
            }
        }
        let wrong = |l: &[usize]| l.iter().zip(&truth).filter(|(a, b)| a != b).count();
        let mended = regularise(&probs, k, h, w, &MrfConfig::default());
        assert!(wrong(&start) > 0 && wrong(&mended) < wrong(&start), "errors {} -> {}", wrong(&start), wrong(&mended));
        assert_eq!(regularise(&probs, k, h, w, &MrfConfig::off()), start);
    }
}
