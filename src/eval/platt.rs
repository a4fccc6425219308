//! Platt scaling: a sigmoid P(positive | d) = 1 / (1 + exp(a d + b)) fitted to held-out decision
//! values of a binary machine, so that its votes become probabilities a graph cut can weigh.
//!
//! Fitted as Lin, Lin and Weng (2007) recommend (the method of libsvm): targets smoothed to
//! (N+ + 1) / (N+ + 2) and 1 / (N- + 2), cross-entropy minimised by Newton steps with a
//! backtracking line search, written so that exp never overflows.

use serde::{Deserialize, Serialize};

/// The sigmoid's slope and offset on decision values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
}

impl Default for Platt {
    /// The uncalibrated sigmoid of the decision value, 1 / (1 + exp(-d)).
    fn default() -> Self {
        Platt { a: -1.0, b: 0.0 }
    }
}

impl Platt {
    /// Probability of the positive class at decision value `d`.
    pub fn probability(&self, d: f64) -> f64 {
        let f = self.a * d + self.b;
        if f >= 0.0 {
            (-f).exp() / (1.0 + (-f).exp())
        } else {
            1.0 / (1.0 + f.exp())
        }
    }

    /// Fits the sigmoid to decision values and their classes (`true` = positive). With no
    /// values, or values of one class only, the default stays.
    pub fn fit(decisions: &[f64], positive: &[bool]) -> Platt {
        assert_eq!(decisions.len(), positive.len());
        let n_pos = positive.iter().filter(|&&p| p).count() as f64;
        let n_neg = positive.len() as f64 - n_pos;
        if n_pos == 0.0 || n_neg == 0.0 {
            return Platt::default();
        }
        let hi = (n_pos + 1.0) / (n_pos + 2.0);
        let lo = 1.0 / (n_neg + 2.0);
        let t: Vec<f64> = positive.iter().map(|&p| if p { hi } else { lo }).collect();
        let loss = |p: Platt| smoothed_loss(p, decisions, &t);
        let mut p = Platt { a: 0.0, b: ((n_neg + 1.0) / (n_pos + 1.0)).ln() };
        let mut f = loss(p);
        const SIGMA: f64 = 1e-12;
        for _ in 0..100 {
            // Gradient and Hessian of the cross-entropy (with a tiny ridge on the Hessian).
            let (mut h11, mut h22, mut h21, mut g1, mut g2) = (SIGMA, SIGMA, 0.0, 0.0, 0.0);
            for (&d, &ti) in decisions.iter().zip(&t) {
                let q = p.probability(d);
                let w = q * (1.0 - q);
                h11 += d * d * w;
                h22 += w;
                h21 += d * w;
                let e = ti - q;
                g1 += d * e;
                g2 += e;
            }
            if g1.abs() < 1e-5 && g2.abs() < 1e-5 {
                break;
            }
            let det = h11 * h22 - h21 * h21;
            let da = -(h22 * g1 - h21 * g2) / det;
            let db = -(-h21 * g1 + h11 * g2) / det;
            let gd = g1 * da + g2 * db;
            let mut step = 1.0;
            let mut moved = false;
            while step >= 1e-10 {
                let next = Platt { a: p.a + step * da, b: p.b + step * db };
                let fn_ = loss(next);
                if fn_ < f + 1e-4 * step * gd {
                    p = next;
                    f = fn_;
                    moved = true;
                    break;
                }
                step /= 2.0;
            }
            if !moved {
                break;
            }
        }
        p
    }
}

/// Cross-entropy of smoothed targets `t` under the sigmoid, summed over the values.
fn smoothed_loss(p: Platt, decisions: &[f64], t: &[f64]) -> f64 {
    decisions
        .iter()
        .zip(t)
        .map(|(&d, &ti)| {
            let f = p.a * d + p.b;
            // -[t ln q + (1 - t) ln(1 - q)] with q = 1 / (1 + exp(f)), without overflow.
            if f >= 0.0 {
                ti * f + (1.0 + (-f).exp()).ln()
            } else {
                (ti - 1.0) * f + (1.0 + f.exp()).ln()
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(positive: &[bool]) -> Vec<f64> {
        let n_pos = positive.iter().filter(|&&p| p).count() as f64;
        let n_neg = positive.len() as f64 - n_pos;
        positive.iter().map(|&p| if p { (n_pos + 1.0) / (n_pos + 2.0) } else { 1.0 / (n_neg + 2.0) }).collect()
    }

    #[test]
    fn the_fit_is_a_minimum_of_the_smoothed_cross_entropy() {
        // Overlapping classes: positives around +1, negatives around -1.
        let d = [1.8, 1.1, 0.4, -0.3, 0.9, -1.7, -0.8, 0.2, -1.2, -0.5];
        let y = [true, true, true, true, true, false, false, false, false, false];
        let p = Platt::fit(&d, &y);
        let t = targets(&y);
        let f = smoothed_loss(p, &d, &t);
        // Finite-difference gradient near zero, and no nearby point lower.
        let h = 1e-5;
        let ga = (smoothed_loss(Platt { a: p.a + h, ..p }, &d, &t) - smoothed_loss(Platt { a: p.a - h, ..p }, &d, &t)) / (2.0 * h);
        let gb = (smoothed_loss(Platt { b: p.b + h, ..p }, &d, &t) - smoothed_loss(Platt { b: p.b - h, ..p }, &d, &t)) / (2.0 * h);
        assert!(ga.abs() < 1e-4 && gb.abs() < 1e-4, "gradient ({ga}, {gb})");
        for (da, db) in [(0.1, 0.0), (-0.1, 0.0), (0.0, 0.1), (0.0, -0.1)] {
            assert!(smoothed_loss(Platt { a: p.a + da, b: p.b + db }, &d, &t) > f);
        }
        // Larger decision values mean positive: a < 0.
        assert!(p.a < 0.0 && p.probability(2.0) > 0.5 && p.probability(-2.0) < 0.5);
    }

    #[test]
    fn balanced_symmetric_values_give_a_sigmoid_through_one_half() {
        let d = [2.0, 1.0, -1.0, -2.0, 0.5, -0.5];
        let y = [true, false, true, false, true, false];
        // Mirror images with the same share of each class: b = 0 by symmetry.
        let d2: Vec<f64> = d.iter().map(|v| -v).collect();
        let y2: Vec<bool> = y.iter().map(|v| !v).collect();
        let all_d: Vec<f64> = d.iter().chain(&d2).copied().collect();
        let all_y: Vec<bool> = y.iter().chain(&y2).copied().collect();
        let p = Platt::fit(&all_d, &all_y);
        assert!(p.b.abs() < 1e-6, "{p:?}");
        assert!((p.probability(0.0) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn one_class_keeps_the_default_and_probabilities_do_not_overflow() {
        assert_eq!(Platt::fit(&[1.0, 2.0], &[true, true]), Platt::default());
        assert_eq!(Platt::fit(&[], &[]), Platt::default());
        let steep = Platt { a: -1e6, b: 0.0 };
        assert_eq!(steep.probability(1.0), 1.0);
        assert_eq!(steep.probability(-1.0), 0.0);
        assert!((Platt::default().probability(0.0) - 0.5).abs() < 1e-15);
    }
}
