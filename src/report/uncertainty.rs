//! Per-pixel uncertainty from class probabilities, as drawn by [`super::uncertainty_map`].

use crate::error::{Error, Result};

/// Entropy of each pixel's class distribution divided by ln K: 0 when one class has all the
/// probability, 1 when all K classes are equally likely. `probabilities` holds one row of
/// `n_classes` values per pixel; rows are renormalised (they may sum to 1 only roughly), and a
/// negative, NaN or all-zero row is an error.
pub fn normalised_entropy(probabilities: &[f32], n_classes: usize) -> Result<Vec<f32>> {
    rows(probabilities, n_classes)?
        .map(|row| {
            let row = row?;
            if n_classes == 1 {
                return Ok(0.0);
            }
            let total: f64 = row.iter().map(|&p| p as f64).sum();
            let entropy: f64 = row
                .iter()
                .map(|&p| p as f64 / total)
                .filter(|&p| p > 0.0)
                .map(|p| -p * p.ln())
                .sum();
            Ok((entropy / (n_classes as f64).ln()).clamp(0.0, 1.0) as f32)
        })
        .collect()
}

/// One minus the largest class probability of each pixel (rows renormalised as in
/// [`normalised_entropy`]); 0 when the model is sure, at most 1 - 1/K.
pub fn one_minus_max_probability(probabilities: &[f32], n_classes: usize) -> Result<Vec<f32>> {
    rows(probabilities, n_classes)?
        .map(|row| {
            let row = row?;
            let total: f64 = row.iter().map(|&p| p as f64).sum();
            let max = row.iter().fold(0.0f64, |m, &p| m.max(p as f64));
            Ok((1.0 - max / total).clamp(0.0, 1.0) as f32)
        })
        .collect()
}

/// The rows of a pixels x classes matrix, each checked to be a usable distribution.
fn rows(probabilities: &[f32], n_classes: usize) -> Result<impl Iterator<Item = Result<&[f32]>>> {
    if n_classes == 0 || !probabilities.len().is_multiple_of(n_classes) {
        return Err(Error::invalid(format!(
            "uncertainty: {} probabilities do not make rows of {n_classes} classes",
            probabilities.len()
        )));
    }
    Ok(probabilities
        .chunks_exact(n_classes)
        .enumerate()
        .map(|(i, row)| {
            let bad = row.iter().any(|p| !p.is_finite() || *p < 0.0);
            if bad || row.iter().all(|&p| p == 0.0) {
                Err(Error::invalid(format!(
                    "uncertainty: pixel {i} has probabilities {row:?}"
                )))
            } else {
                Ok(row)
            }
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_is_zero_when_sure_and_one_when_uniform() {
        let p = [
            1.0, 0.0, 0.0, 0.25, 0.25, 0.25, /* unnormalised: 1/3 each */
            0.5, 0.5, 0.0,
        ];
        let h = normalised_entropy(&p, 3).unwrap();
        assert_eq!(h[0], 0.0);
        assert!((h[1] - 1.0).abs() < 1e-6);
        // Two equally likely of three: ln 2 / ln 3.
        assert!((h[2] as f64 - 2f64.ln() / 3f64.ln()).abs() < 1e-6);
        assert_eq!(normalised_entropy(&[1.0, 1.0], 1).unwrap(), vec![0.0, 0.0]);
    }

    #[test]
    fn one_minus_max() {
        let u = one_minus_max_probability(&[0.9, 0.1, 0.5, 0.5], 2).unwrap();
        assert!((u[0] - 0.1).abs() < 1e-6);
        assert!((u[1] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn bad_probabilities_are_errors() {
        assert!(normalised_entropy(&[0.5, 0.5, 1.0], 2).is_err(), "ragged");
        assert!(normalised_entropy(&[0.5, 0.5], 0).is_err(), "no classes");
        assert!(normalised_entropy(&[f32::NAN, 0.5], 2).is_err(), "NaN");
        assert!(normalised_entropy(&[-0.1, 1.1], 2).is_err(), "negative");
        assert!(
            one_minus_max_probability(&[0.0, 0.0], 2).is_err(),
            "all zero"
        );
    }
}
