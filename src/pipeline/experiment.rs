//! Repeated runs over seeded label draws, summarised as mean and standard deviation of every
//! method scored on the same draws (the model, its controls and the baselines): how the README's
//! tables are produced.

use serde::{Deserialize, Serialize};

use crate::eval::metrics::Metrics;

/// One method's scores on one seed's draw.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MethodResult {
    pub method: String,
    pub metrics: Metrics,
    /// Wall time of the method on this seed (0 when it shares another method's run).
    pub seconds: f64,
}

/// Every method's scores on one seed's draw.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedResult {
    pub seed: u64,
    pub methods: Vec<MethodResult>,
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

/// One method over the seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MethodSummary {
    pub method: String,
    pub oa: MeanStd,
    pub aa: MeanStd,
    pub kappa: MeanStd,
    /// Mean seconds per seed.
    pub seconds: f64,
}

/// Two methods to compare draw by draw: what `method` adds over `reference`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Comparison {
    /// How a table names the difference.
    pub label: String,
    pub method: String,
    pub reference: String,
}

/// A [`Comparison`] over the seeds: mean and standard deviation of the per-draw differences
/// (which says more than the difference of two means when draws vary as much as methods).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairedDifference {
    pub comparison: Comparison,
    pub oa: MeanStd,
    pub aa: MeanStd,
    pub kappa: MeanStd,
    /// Draws on which the method's OA is above / below the reference's.
    pub ahead: usize,
    pub behind: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub per_class: usize,
    pub seeds: Vec<u64>,
    /// OA of answering the commonest test class everywhere.
    pub majority_baseline: MeanStd,
    /// The methods in the order the seeds give them.
    pub methods: Vec<MethodSummary>,
    /// The asked comparisons whose two methods every seed has.
    #[serde(default)]
    pub differences: Vec<PairedDifference>,
}

/// The per-draw differences of `c.method` over `c.reference`; `None` unless every seed scored
/// both.
pub fn paired_difference(results: &[SeedResult], c: &Comparison) -> Option<PairedDifference> {
    let score = |r: &SeedResult, name: &str| r.methods.iter().find(|m| m.method == name).map(|m| m.metrics.clone());
    let pairs: Vec<(Metrics, Metrics)> = results.iter().map(|r| Some((score(r, &c.method)?, score(r, &c.reference)?))).collect::<Option<_>>()?;
    if pairs.is_empty() {
        return None;
    }
    let diff = |f: fn(&Metrics) -> f64| MeanStd::of(&pairs.iter().map(|(a, b)| f(a) - f(b)).collect::<Vec<_>>());
    Some(PairedDifference {
        comparison: c.clone(),
        oa: diff(|m| m.overall_accuracy),
        aa: diff(|m| m.average_accuracy),
        kappa: diff(|m| m.kappa),
        ahead: pairs.iter().filter(|(a, b)| a.overall_accuracy > b.overall_accuracy).count(),
        behind: pairs.iter().filter(|(a, b)| a.overall_accuracy < b.overall_accuracy).count(),
    })
}

pub fn summarise(per_class: usize, results: &[SeedResult], comparisons: &[Comparison]) -> Summary {
    let names: Vec<String> = results.first().map(|r| r.methods.iter().map(|m| m.method.clone()).collect()).unwrap_or_default();
    let of = |name: &str| results.iter().flat_map(|r| r.methods.iter().filter(move |m| m.method == name)).collect::<Vec<_>>();
    let methods = names
        .iter()
        .map(|name| {
            let rows = of(name);
            let get = |f: &dyn Fn(&Metrics) -> f64| MeanStd::of(&rows.iter().map(|m| f(&m.metrics)).collect::<Vec<_>>());
            MethodSummary {
                method: name.clone(),
                oa: get(&|m| m.overall_accuracy),
                aa: get(&|m| m.average_accuracy),
                kappa: get(&|m| m.kappa),
                seconds: rows.iter().map(|m| m.seconds).sum::<f64>() / rows.len().max(1) as f64,
            }
        })
        .collect();
    let majority: Vec<f64> = results.iter().filter_map(|r| r.methods.first()).map(|m| m.metrics.majority_baseline).collect();
    let differences = comparisons.iter().filter_map(|c| paired_difference(results, c)).collect();
    Summary { per_class, seeds: results.iter().map(|r| r.seed).collect(), majority_baseline: MeanStd::of(&majority), methods, differences }
}

impl Summary {
    /// Markdown table rows, one per method: labels per class, method, OA, AA, kappa, time.
    pub fn markdown_rows(&self) -> String {
        self.methods
            .iter()
            .map(|m| {
                let time = if m.seconds > 0.0 { format!("{:.0} s", m.seconds) } else { String::new() };
                format!("| {} | {} | {} | {} | {:.3} ± {:.3} | {time} |\n", self.per_class, m.method, m.oa, m.aa, m.kappa.mean, m.kappa.std)
            })
            .chain(self.differences.iter().map(|d| {
                let points = |v: MeanStd| format!("{:+.1} ± {:.1}", 100.0 * v.mean, 100.0 * v.std);
                format!(
                    "| {} | *{}, per draw (ahead on {}, behind on {} of {})* | {} | {} | {:+.3} ± {:.3} |  |\n",
                    self.per_class,
                    d.comparison.label,
                    d.ahead,
                    d.behind,
                    self.seeds.len(),
                    points(d.oa),
                    points(d.aa),
                    d.kappa.mean,
                    d.kappa.std
                )
            }))
            .collect()
    }

    pub fn markdown_header() -> &'static str {
        "| labels/class | method | OA % | AA % | kappa | time/seed |\n|---|---|---|---|---|---|"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::metrics::evaluate;

    #[test]
    fn mean_and_sample_std() {
        let m = MeanStd::of(&[0.5, 0.7, 0.6]);
        assert!((m.mean - 0.6).abs() < 1e-12);
        assert!((m.std - 0.1).abs() < 1e-12);
        assert_eq!(MeanStd::of(&[0.3]).std, 0.0);
    }

    /// The scores of a method right on the first `right` of 4 test pixels.
    fn scored(right: usize) -> Metrics {
        let truth = [0, 1, 0, 1];
        evaluate(&truth, &truth.iter().enumerate().map(|(i, &t)| if i < right { t } else { 1 - t }).collect::<Vec<_>>(), 2).unwrap()
    }

    /// One seed's draw scored by methods "a" and "b": (pixels right, seconds) of each.
    fn seed(s: u64, a: (usize, f64), b: (usize, f64)) -> SeedResult {
        SeedResult {
            seed: s,
            methods: vec![
                MethodResult { method: "a".into(), metrics: scored(a.0), seconds: a.1 },
                MethodResult { method: "b".into(), metrics: scored(b.0), seconds: b.1 },
            ],
        }
    }

    #[test]
    fn methods_are_summarised_over_the_seeds_in_their_order() {
        // Two seeds, two methods: "a" right on 3 and 4 of 4 pixels, "b" on 1 and 2.
        let s = summarise(5, &[seed(0, (3, 10.0), (1, 0.0)), seed(1, (4, 20.0), (2, 0.0))], &[]);
        assert_eq!(s.methods.iter().map(|m| m.method.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert!((s.methods[0].oa.mean - 0.875).abs() < 1e-12 && (s.methods[1].oa.mean - 0.375).abs() < 1e-12);
        assert_eq!(s.methods[0].seconds, 15.0);
        let rows = s.markdown_rows();
        assert!(rows.starts_with("| 5 | a | 87.5 ± 17.7 |"), "{rows}");
        assert!(rows.lines().nth(1).unwrap().ends_with("|  |"), "{rows}");
    }

    #[test]
    fn paired_differences_are_taken_draw_by_draw() {
        // Per draw, "a" is right on 3, 4, 2 of 4 pixels and "b" on 2, 4, 3: differences of OA
        // +0.25, 0, -0.25 (mean 0, sample std 0.25), ahead once, behind once.
        let results = [seed(0, (3, 1.0), (2, 1.0)), seed(1, (4, 1.0), (4, 1.0)), seed(2, (2, 1.0), (3, 1.0))];
        let c = Comparison { label: "a over b".into(), method: "a".into(), reference: "b".into() };
        let d = paired_difference(&results, &c).unwrap();
        assert!(d.oa.mean.abs() < 1e-12 && (d.oa.std - 0.25).abs() < 1e-12, "{:?}", d.oa);
        assert_eq!((d.ahead, d.behind), (1, 1));
        let missing = Comparison { reference: "c".into(), ..c.clone() };
        assert!(paired_difference(&results, &missing).is_none());
        let s = summarise(5, &results, &[c, missing]);
        assert_eq!(s.differences.len(), 1);
        let rows = s.markdown_rows();
        assert!(rows.contains("| 5 | *a over b, per draw (ahead on 1, behind on 1 of 3)* | +0.0 ± 25.0 |"), "{rows}");
    }
}
