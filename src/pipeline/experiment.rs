//! Repeated runs over seeded label draws, summarised as mean and standard deviation beside the
//! raw-spectra baseline on the same draws: how results in the README are produced.

use serde::{Deserialize, Serialize};

use crate::eval::metrics::Metrics;

/// One seed's scores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedResult {
    pub seed: u64,
    pub model: Metrics,
    pub baseline: Metrics,
    pub seconds: f64,
}

/// Mean and (sample) standard deviation.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
}

impl MeanStd {
    pub fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        if values.is_empty() {
            return MeanStd { mean: f64::NAN, std: f64::NAN };
        }
        let mean = values.iter().sum::<f64>() / n;
        let var = if values.len() > 1 { values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
        MeanStd { mean, std: var.sqrt() }
    }
}

impl std::fmt::Display for MeanStd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1} ± {:.1}", 100.0 * self.mean, 100.0 * self.std)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub model: String,
    pub baseline: String,
    pub per_class: usize,
    pub seeds: Vec<u64>,
    pub model_oa: MeanStd,
    pub model_aa: MeanStd,
    pub model_kappa: MeanStd,
    pub baseline_oa: MeanStd,
    pub baseline_aa: MeanStd,
    pub baseline_kappa: MeanStd,
    pub majority_baseline: MeanStd,
    pub seconds: MeanStd,
}

pub fn summarise(model: &str, baseline: &str, per_class: usize, results: &[SeedResult]) -> Summary {
    let get = |f: &dyn Fn(&SeedResult) -> f64| MeanStd::of(&results.iter().map(f).collect::<Vec<_>>());
    Summary {
        model: model.to_string(),
        baseline: baseline.to_string(),
        per_class,
        seeds: results.iter().map(|r| r.seed).collect(),
        model_oa: get(&|r| r.model.overall_accuracy),
        model_aa: get(&|r| r.model.average_accuracy),
        model_kappa: get(&|r| r.model.kappa),
        baseline_oa: get(&|r| r.baseline.overall_accuracy),
        baseline_aa: get(&|r| r.baseline.average_accuracy),
        baseline_kappa: get(&|r| r.baseline.kappa),
        majority_baseline: get(&|r| r.model.majority_baseline),
        seconds: MeanStd { mean: results.iter().map(|r| r.seconds).sum::<f64>() / results.len().max(1) as f64, std: 0.0 },
    }
}

impl Summary {
    /// A Markdown table row: labels per class, model OA/AA/kappa, baseline OA/AA/kappa.
    pub fn markdown_row(&self) -> String {
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.3} | {:.0} s |",
            self.per_class,
            self.model,
            self.model_oa,
            self.model_aa,
            format!("{:.3} ± {:.3}", self.model_kappa.mean, self.model_kappa.std),
            self.baseline_oa,
            self.baseline_aa,
            self.baseline_kappa.mean,
            self.seconds.mean
        )
    }

    pub fn markdown_header() -> &'static str {
        "| labels/class | model | OA % | AA % | kappa | raw-SVM OA % | raw-SVM AA % | raw-SVM kappa | time/seed |\n|---|---|---|---|---|---|---|---|---|"
    }
}

#[cfg(test)]
mod tests {
    use super::MeanStd;

    #[test]
    fn mean_and_sample_std() {
        let m = MeanStd::of(&[0.5, 0.7, 0.6]);
        assert!((m.mean - 0.6).abs() < 1e-12);
        assert!((m.std - 0.1).abs() < 1e-12);
        assert_eq!(MeanStd::of(&[0.3]).std, 0.0);
    }
}
