//! Accuracy metrics of a classification: overall and average accuracy, Cohen's kappa, the
//! confusion matrix, and the majority-class baseline that every accuracy should be read against
//! (on unbalanced scenes a classifier that always answers "the largest class" can look good).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::eval::regions::RegionAccuracy;

/// How far (in accuracy, 0..1) OA must be above the majority baseline to count as clearly above.
const CLEAR_MARGIN: f64 = 0.05;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metrics {
    /// Fraction of test pixels whose predicted class is the true one.
    pub overall_accuracy: f64,
    /// Mean of the per-class accuracies over the classes that have test pixels.
    pub average_accuracy: f64,
    /// Cohen's kappa, (po - pe) / (1 - pe). Defined as 1 when truth and prediction are one and
    /// the same class everywhere (pe = 1, where the formula is 0/0).
    pub kappa: f64,
    /// Recall of each class; None for a class with no test pixels.
    pub per_class_accuracy: Vec<Option<f64>>,
    /// Counts indexed `[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    /// OA of predicting the most frequent true class of the test set for every pixel.
    pub majority_baseline: f64,
    /// Number of test pixels.
    pub n: usize,
    /// For a map of an image: the test pixels in regions of the label map that hold a pixel
    /// whose label the run used, and in the others (None for lists of samples, and in files
    /// written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<RegionAccuracy>,
}

/// Compares predicted with true class indices (both in 0..n_classes).
pub fn evaluate(truth: &[usize], predicted: &[usize], n_classes: usize) -> Result<Metrics> {
    if truth.len() != predicted.len() {
        return Err(Error::invalid(format!(
            "evaluate: {} true labels but {} predictions",
            truth.len(),
            predicted.len()
        )));
    }
    if truth.is_empty() {
        return Err(Error::invalid("evaluate: no test pixels"));
    }
    let mut confusion = vec![vec![0usize; n_classes]; n_classes];
    for (i, (&t, &p)) in truth.iter().zip(predicted).enumerate() {
        if t >= n_classes || p >= n_classes {
            return Err(Error::invalid(format!(
                "evaluate: pixel {i} has true class {t} and prediction {p}, \
                 but there are only {n_classes} classes"
            )));
        }
        confusion[t][p] += 1;
    }
    let n = truth.len();
    let nf = n as f64;
    let row_sums: Vec<usize> = confusion.iter().map(|row| row.iter().sum()).collect();
    let col_sums: Vec<usize> = (0..n_classes)
        .map(|c| confusion.iter().map(|row| row[c]).sum())
        .collect();
    let correct: usize = (0..n_classes).map(|c| confusion[c][c]).sum();

    let per_class_accuracy: Vec<Option<f64>> = (0..n_classes)
        .map(|c| (row_sums[c] > 0).then(|| confusion[c][c] as f64 / row_sums[c] as f64))
        .collect();
    let present: Vec<f64> = per_class_accuracy.iter().flatten().copied().collect();
    let average_accuracy = present.iter().sum::<f64>() / present.len() as f64;

    let po = correct as f64 / nf;
    let pe = row_sums
        .iter()
        .zip(&col_sums)
        .map(|(&r, &c)| r as f64 * c as f64)
        .sum::<f64>()
        / (nf * nf);
    let kappa = if 1.0 - pe <= f64::EPSILON {
        1.0
    } else {
        (po - pe) / (1.0 - pe)
    };
    let majority_baseline = row_sums.iter().copied().max().unwrap_or(0) as f64 / nf;

    Ok(Metrics {
        overall_accuracy: po,
        average_accuracy,
        kappa,
        per_class_accuracy,
        confusion,
        majority_baseline,
        n,
        regions: None,
    })
}

impl Metrics {
    pub fn n_classes(&self) -> usize {
        self.confusion.len()
    }

    /// Test pixels of each class (row sums of the confusion matrix).
    pub fn class_counts(&self) -> Vec<usize> {
        self.confusion.iter().map(|row| row.iter().sum()).collect()
    }

    /// Fraction of test pixels in the largest class.
    pub fn largest_class_share(&self) -> f64 {
        self.class_counts().into_iter().max().unwrap_or(0) as f64 / self.n.max(1) as f64
    }

    /// Warnings a reader of the accuracies should see (empty when there is nothing to say).
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.overall_accuracy < self.majority_baseline + CLEAR_MARGIN {
            warnings.push(format!(
                "WARNING: OA {:.2}% is not clearly above the majority-class baseline {:.2}%",
                100.0 * self.overall_accuracy,
                100.0 * self.majority_baseline
            ));
        }
        let share = self.largest_class_share();
        if share > 0.5 {
            warnings.push(format!(
                "WARNING: the largest class holds {:.1}% of the test pixels; OA mostly measures it",
                100.0 * share
            ));
        }
        warnings
    }

    /// Plain-text table: per class its name, test count and accuracy; then OA, AA, kappa, the
    /// majority-class baseline and any warnings.
    pub fn table(&self, class_names: &[String]) -> String {
        let names: Vec<String> = (0..self.n_classes())
            .map(|c| class_name(class_names, c))
            .collect();
        let width = names
            .iter()
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0)
            .max(5);
        let counts = self.class_counts();
        let mut out = String::new();
        out.push_str(&format!(
            "{:<width$}  {:>7}  {:>9}\n",
            "class", "test", "accuracy"
        ));
        for (c, name) in names.iter().enumerate() {
            let acc = match self.per_class_accuracy[c] {
                Some(a) => format!("{:.2}%", 100.0 * a),
                None => "-".to_string(),
            };
            out.push_str(&format!("{:<width$}  {:>7}  {:>9}\n", name, counts[c], acc));
        }
        out.push_str(&format!("{:<width$}  {:>7}\n", "total", self.n));
        out.push('\n');
        out.push_str(&format!("OA     {:.2}%\n", 100.0 * self.overall_accuracy));
        out.push_str(&format!("AA     {:.2}%\n", 100.0 * self.average_accuracy));
        out.push_str(&format!("kappa  {:.4}\n", self.kappa));
        out.push_str(&format!(
            "majority-class baseline (OA of always predicting the largest class)  {:.2}%\n",
            100.0 * self.majority_baseline
        ));
        for warning in self.warnings() {
            out.push_str(&warning);
            out.push('\n');
        }
        out
    }

    /// The confusion matrix as plain text: rows are true classes (numbered and named), columns
    /// the predicted classes by number.
    pub fn confusion_table(&self, class_names: &[String]) -> String {
        let k = self.n_classes();
        let names: Vec<String> = (0..k).map(|c| class_name(class_names, c)).collect();
        let name_width = names
            .iter()
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0)
            .max(4);
        let max_count = self.confusion.iter().flatten().copied().max().unwrap_or(0);
        let cell = max_count.to_string().len().max(k.to_string().len()).max(3);
        // The header label may be wider than the names; pad the row labels to match it.
        let label_width = name_width.max("true \\ predicted".len());
        let mut out = String::new();
        out.push_str(&format!("{:<w$}", "true \\ predicted", w = label_width + 5));
        for c in 0..k {
            out.push_str(&format!(" {:>cell$}", c + 1));
        }
        out.push('\n');
        for (t, row) in self.confusion.iter().enumerate() {
            out.push_str(&format!("{:>3}  {:<label_width$}", t + 1, names[t]));
            for count in row {
                out.push_str(&format!(" {:>cell$}", count));
            }
            out.push('\n');
        }
        out
    }
}

fn class_name(class_names: &[String], c: usize) -> String {
    class_names
        .get(c)
        .cloned()
        .unwrap_or_else(|| format!("class {}", c + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expands a confusion matrix [true][predicted] into label vectors.
    fn labels_from_confusion(confusion: &[&[usize]]) -> (Vec<usize>, Vec<usize>) {
        let (mut truth, mut predicted) = (Vec::new(), Vec::new());
        for (t, row) in confusion.iter().enumerate() {
            for (p, &count) in row.iter().enumerate() {
                truth.extend(std::iter::repeat_n(t, count));
                predicted.extend(std::iter::repeat_n(p, count));
            }
        }
        (truth, predicted)
    }

    #[test]
    fn hand_computed_three_class_example() {
        // true\pred   0  1  2   | row
        //   0         5  1  0   |  6
        //   1         2  3  1   |  6
        //   2         0  0  4   |  4
        // col         7  4  5   | 16
        // OA = (5+3+4)/16 = 0.75
        // per class = 5/6, 3/6, 4/4 -> AA = (5/6 + 1/2 + 1)/3 = 7/9
        // pe = (6*7 + 6*4 + 4*5)/16^2 = 86/256
        // kappa = (192/256 - 86/256) / (1 - 86/256) = 106/170 = 53/85
        // majority baseline = 6/16
        let (truth, predicted) = labels_from_confusion(&[&[5, 1, 0], &[2, 3, 1], &[0, 0, 4]]);
        let m = evaluate(&truth, &predicted, 3).unwrap();
        assert_eq!(m.n, 16);
        assert!((m.overall_accuracy - 0.75).abs() < 1e-12);
        assert!((m.average_accuracy - 7.0 / 9.0).abs() < 1e-12);
        assert!((m.kappa - 53.0 / 85.0).abs() < 1e-12);
        assert!((m.majority_baseline - 0.375).abs() < 1e-12);
        assert_eq!(
            m.confusion,
            vec![vec![5, 1, 0], vec![2, 3, 1], vec![0, 0, 4]]
        );
        let pca = m.per_class_accuracy.clone();
        assert!((pca[0].unwrap() - 5.0 / 6.0).abs() < 1e-12);
        assert!((pca[1].unwrap() - 0.5).abs() < 1e-12);
        assert!((pca[2].unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn perfect_prediction_has_kappa_one() {
        let truth = vec![0, 1, 2, 2, 1, 0, 3];
        let m = evaluate(&truth, &truth, 4).unwrap();
        assert_eq!(m.overall_accuracy, 1.0);
        assert_eq!(m.average_accuracy, 1.0);
        assert!((m.kappa - 1.0).abs() < 1e-12);
        assert!(m.warnings().is_empty());
    }

    #[test]
    fn single_class_everywhere_is_kappa_one_not_nan() {
        let m = evaluate(&[2, 2, 2], &[2, 2, 2], 3).unwrap();
        assert_eq!(m.kappa, 1.0);
    }

    #[test]
    fn majority_predictor_has_kappa_zero_and_oa_equal_to_baseline() {
        let truth = vec![0, 0, 0, 0, 0, 1, 1, 2, 2, 2];
        let predicted = vec![0; truth.len()];
        let m = evaluate(&truth, &predicted, 3).unwrap();
        assert!(m.kappa.abs() < 1e-12);
        assert!((m.overall_accuracy - m.majority_baseline).abs() < 1e-12);
        assert!((m.majority_baseline - 0.5).abs() < 1e-12);
        // AA: class 0 all right, classes 1 and 2 all wrong.
        assert!((m.average_accuracy - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.warnings().len(), 1);
        assert!(m.table(&[]).contains("not clearly above"));
    }

    #[test]
    fn class_without_test_pixels_is_none_and_left_out_of_aa() {
        let m = evaluate(&[0, 0, 2, 2], &[0, 1, 2, 2], 3).unwrap();
        assert_eq!(m.per_class_accuracy[1], None);
        assert!((m.average_accuracy - 0.75).abs() < 1e-12);
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let table = m.table(&names);
        let line_b = table.lines().find(|l| l.starts_with("b ")).unwrap();
        assert!(line_b.trim_end().ends_with('-'), "{line_b}");
    }

    #[test]
    fn dominant_class_is_warned_about() {
        let truth = vec![0, 0, 0, 0, 0, 0, 1, 2];
        let m = evaluate(&truth, &truth, 3).unwrap();
        let warnings = m.warnings();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("largest class"));
    }

    #[test]
    fn tables_name_every_class_and_count() {
        let (truth, predicted) = labels_from_confusion(&[&[5, 1, 0], &[2, 3, 1], &[0, 0, 4]]);
        let m = evaluate(&truth, &predicted, 3).unwrap();
        let names: Vec<String> = ["Corn", "Woods"].iter().map(|s| s.to_string()).collect();
        let table = m.table(&names);
        assert!(table.contains("Corn"));
        assert!(
            table.contains("class 3"),
            "missing names fall back to numbers:\n{table}"
        );
        assert!(table.contains("75.00%"));
        assert!(table.contains("77.78%"));
        assert!(table.contains("0.6235"));
        let confusion = m.confusion_table(&names);
        let woods = confusion.lines().find(|l| l.contains("Woods")).unwrap();
        let cells: Vec<&str> = woods.split_whitespace().rev().take(3).collect();
        assert_eq!(cells, vec!["1", "3", "2"]);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(evaluate(&[0, 1], &[0], 2).is_err());
        assert!(evaluate(&[], &[], 2).is_err());
        assert!(evaluate(&[0, 2], &[0, 1], 2).is_err());
        assert!(evaluate(&[0, 1], &[0, 5], 2).is_err());
    }

    #[test]
    fn serde_round_trip() {
        let m = evaluate(&[0, 1, 1], &[0, 1, 0], 2).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        let back: Metrics = serde_json::from_str(&json).unwrap();
        assert_eq!(back.confusion, m.confusion);
        // serde_json without its float_roundtrip feature may move a float by one ulp.
        assert!((back.kappa - m.kappa).abs() < 1e-12);
        assert_eq!(back.per_class_accuracy, m.per_class_accuracy);
    }
}
