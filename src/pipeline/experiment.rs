//! Repeated runs over seeded label draws, summarised as mean and standard deviation of every
//! method scored on the same draws (the model, its controls and the baselines): how the README's
//! tables are produced.

use serde::{Deserialize, Serialize};

use crate::eval::metrics::Metrics;
use crate::eval::RegionAccuracy;

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
    /// OA on the test pixels in regions of the label map that hold a pixel whose label the run
    /// used, and in the other regions (see [`RegionAccuracy`]), over the draws that have such
    /// pixels; None when no draw has (lists of samples, drill-core corpora, files from before).
    #[serde(default)]
    pub oa_in_labelled_regions: Option<MeanStd>,
    #[serde(default)]
    pub oa_elsewhere: Option<MeanStd>,
    /// Mean seconds per seed.
    pub seconds: f64,
}

/// One of the two OAs by region of a draw's scores, as a fraction; None when the draw has no
/// test pixel there or no regions at all.
#[derive(Debug, Clone, Copy)]
enum Where {
    InLabelledRegions,
    Elsewhere,
}

impl Where {
    fn oa(self, m: &Metrics) -> Option<f64> {
        let r: RegionAccuracy = m.regions?;
        match self {
            Where::InLabelledRegions => r.accuracy_in_labelled(),
            Where::Elsewhere => r.accuracy_elsewhere(),
        }
    }

    /// Mean and std over the values there are; None when there are none.
    fn summary(values: impl Iterator<Item = Option<f64>>) -> Option<MeanStd> {
        let values: Vec<f64> = values.flatten().collect();
        (!values.is_empty()).then(|| MeanStd::of(&values))
    }
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
    /// The differences of the OAs by region, over the draws where both methods have them.
    #[serde(default)]
    pub oa_in_labelled_regions: Option<MeanStd>,
    #[serde(default)]
    pub oa_elsewhere: Option<MeanStd>,
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
    /// Percentage of the test pixels in regions of the label map that hold a pixel whose label
    /// the run used (the same for every method of a draw), over the draws; None as for
    /// [`MethodSummary::oa_elsewhere`].
    #[serde(default)]
    pub labelled_region_share: Option<MeanStd>,
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
    let diff_where = |w: Where| Where::summary(pairs.iter().map(|(a, b)| Some(w.oa(a)? - w.oa(b)?)));
    Some(PairedDifference {
        comparison: c.clone(),
        oa: diff(|m| m.overall_accuracy),
        aa: diff(|m| m.average_accuracy),
        kappa: diff(|m| m.kappa),
        oa_in_labelled_regions: diff_where(Where::InLabelledRegions),
        oa_elsewhere: diff_where(Where::Elsewhere),
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
                oa_in_labelled_regions: Where::summary(rows.iter().map(|m| Where::InLabelledRegions.oa(&m.metrics))),
                oa_elsewhere: Where::summary(rows.iter().map(|m| Where::Elsewhere.oa(&m.metrics))),
                seconds: rows.iter().map(|m| m.seconds).sum::<f64>() / rows.len().max(1) as f64,
            }
        })
        .collect();
    let majority: Vec<f64> = results.iter().filter_map(|r| r.methods.first()).map(|m| m.metrics.majority_baseline).collect();
    let share = results.iter().map(|r| r.methods.iter().find_map(|m| m.metrics.regions)?.labelled_share());
    let differences = comparisons.iter().filter_map(|c| paired_difference(results, c)).collect();
    Summary {
        per_class,
        seeds: results.iter().map(|r| r.seed).collect(),
        majority_baseline: MeanStd::of(&majority),
        labelled_region_share: Where::summary(share),
        methods,
        differences,
    }
}

impl Summary {
    /// Markdown table rows, one per method: labels per class, method, OA, AA, kappa, OA in
    /// labelled regions and elsewhere, time.
    pub fn markdown_rows(&self) -> String {
        let cell = |v: Option<MeanStd>| v.map_or_else(String::new, |v| v.to_string());
        let points = |v: MeanStd| format!("{:+.1} ± {:.1}", 100.0 * v.mean, 100.0 * v.std);
        self.methods
            .iter()
            .map(|m| {
                let time = if m.seconds > 0.0 { format!("{:.0} s", m.seconds) } else { String::new() };
                format!(
                    "| {} | {} | {} | {} | {:.3} ± {:.3} | {} | {} | {time} |\n",
                    self.per_class,
                    m.method,
                    m.oa,
                    m.aa,
                    m.kappa.mean,
                    m.kappa.std,
                    cell(m.oa_in_labelled_regions),
                    cell(m.oa_elsewhere)
                )
            })
            .chain(self.differences.iter().map(|d| {
                format!(
                    "| {} | *{}, per draw (ahead on {}, behind on {} of {})* | {} | {} | {:+.3} ± {:.3} | {} | {} |  |\n",
                    self.per_class,
                    d.comparison.label,
                    d.ahead,
                    d.behind,
                    self.seeds.len(),
                    points(d.oa),
                    points(d.aa),
                    d.kappa.mean,
                    d.kappa.std,
                    d.oa_in_labelled_regions.map_or_else(String::new, points),
                    d.oa_elsewhere.map_or_else(String::new, points)
                )
            }))
            .collect()
    }

    pub fn markdown_header() -> &'static str {
        "| labels/class | method | OA % | AA % | kappa | OA % in labelled regions | OA % elsewhere | time/seed |\n|---|---|---|---|---|---|---|---|"
    }

    /// What the two region columns mean at this budget, for the line under the table; None
    /// when no draw has regions.
    pub fn region_note(&self) -> Option<String> {
        let share = self.labelled_region_share?;
        Some(format!(
            "{} labels/class: {:.1}% (± {:.1} over the draws) of the test pixels lie in labelled regions (regions of the label map, 8-connected pieces of one class, that hold a pixel whose label the run used); the rest lie elsewhere.",
            self.per_class,
            100.0 * share.mean,
            100.0 * share.std
        ))
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

    /// `scored(right)` with regions: (test pixels, right ones) in labelled regions and elsewhere.
    fn by_region(right: usize, (test_in, right_in): (usize, usize), (test_else, right_else): (usize, usize)) -> Metrics {
        let regions = RegionAccuracy { regions: 3, labelled_regions: 1, test_in_labelled: test_in, correct_in_labelled: right_in, test_elsewhere: test_else, correct_elsewhere: right_else };
        Metrics { regions: Some(regions), ..scored(right) }
    }

    #[test]
    fn region_columns_average_the_draws_that_have_pixels_there() {
        // "a": 3 of 4 right in labelled regions and 1 of 2 elsewhere on seed 0; 4 of 4 and
        // nothing elsewhere on seed 1. "b": 2 of 4 and 2 of 2 on seed 0, no regions on seed 1.
        let row = |method: &str, metrics| MethodResult { method: method.into(), metrics, seconds: 0.0 };
        let results = [
            SeedResult { seed: 0, methods: vec![row("a", by_region(4, (4, 3), (2, 1))), row("b", by_region(4, (4, 2), (2, 2)))] },
            SeedResult { seed: 1, methods: vec![row("a", by_region(4, (4, 4), (0, 0))), row("b", scored(4))] },
        ];
        let c = Comparison { label: "a over b".into(), method: "a".into(), reference: "b".into() };
        let s = summarise(5, &results, &[c]);
        let a = &s.methods[0];
        let labelled = a.oa_in_labelled_regions.unwrap();
        // 0.75 and 1.0: mean 0.875, sample std 0.25 / sqrt(2).
        assert!((labelled.mean - 0.875).abs() < 1e-12 && (labelled.std - 0.25 / 2f64.sqrt()).abs() < 1e-12, "{labelled:?}");
        assert_eq!(a.oa_elsewhere, Some(MeanStd { mean: 0.5, std: 0.0 }), "seed 1 has no test pixel elsewhere");
        assert_eq!(s.methods[1].oa_in_labelled_regions, Some(MeanStd { mean: 0.5, std: 0.0 }));
        // Shares of the test pixels in labelled regions: 4 of 6, then 4 of 4.
        let share = s.labelled_region_share.unwrap();
        assert!((share.mean - 5.0 / 6.0).abs() < 1e-12, "{share:?}");
        // Differences only on the draw where both have pixels there: 0.75 - 0.5, 0.5 - 1.0.
        let d = &s.differences[0];
        assert_eq!((d.oa_in_labelled_regions, d.oa_elsewhere), (Some(MeanStd { mean: 0.25, std: 0.0 }), Some(MeanStd { mean: -0.5, std: 0.0 })));
        let rows = s.markdown_rows();
        assert!(rows.contains("| 5 | a | 100.0 ± 0.0 | 100.0 ± 0.0 | 1.000 ± 0.000 | 87.5 ± 17.7 | 50.0 ± 0.0 |  |"), "{rows}");
        assert!(rows.contains("| +25.0 ± 0.0 | -50.0 ± 0.0 |  |"), "{rows}");
        assert!(s.region_note().unwrap().starts_with("5 labels/class: 83.3% (± 23.6 over the draws)"), "{:?}", s.region_note());
        // Without regions (a list of samples, a corpus) the columns are empty and there is no note.
        let plain = summarise(5, &[seed(0, (3, 1.0), (1, 1.0))], &[]);
        assert!(plain.markdown_rows().starts_with("| 5 | a | 75.0 ± 0.0 | 75.0 ± 0.0 | 0.500 ± 0.000 |  |  | 1 s |"), "{}", plain.markdown_rows());
        assert!(plain.region_note().is_none());
    }
}
