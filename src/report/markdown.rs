//! report.md: what was run on what, the test metrics against the majority-class baseline, the
//! per-class accuracies, the confusion matrix and links to the pictures. Tables are padded so
//! the file reads well in a terminal too.

use crate::error::{Error, Result};
use crate::eval::metrics::Metrics;
use crate::atomic;
use std::path::Path;

/// Everything report.md says about one run.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// What was run, e.g. "M1+M2 on Indian Pines".
    pub title: String,
    /// The data: scene, size, bands, files (free text).
    pub data: String,
    /// Pixels per split, e.g. ("labelled train", 160).
    pub splits: Vec<(String, usize)>,
    /// Name of each class index.
    pub class_names: Vec<String>,
    /// Test metrics; None when the run did not classify (an M1-only run).
    pub metrics: Option<Metrics>,
    /// The configuration as run (TOML), shown verbatim.
    pub config: String,
    /// Wall-clock seconds the run took.
    pub seconds: f64,
    /// Picture file names, relative to report.md.
    pub images: Vec<String>,
    /// Anything else the reader should know (early stop, divergence recoveries...).
    pub notes: Vec<String>,
}

/// Renders the report as Markdown. Metrics that do not fit the class list, or that are not
/// finite, are errors.
pub fn render_markdown(report: &RunReport) -> Result<String> {
    let mut md = String::new();
    let title = if report.title.is_empty() {
        "hyperssl run"
    } else {
        report.title.as_str()
    };
    md.push_str(&format!("# {title}\n\n"));
    md.push_str(&format!("Time taken: {}.\n\n", duration(report.seconds)));

    md.push_str("## Data\n\n");
    if !report.data.trim().is_empty() {
        md.push_str(report.data.trim());
        md.push_str("\n\n");
    }
    if !report.splits.is_empty() {
        let rows: Vec<Vec<String>> = report
            .splits
            .iter()
            .map(|(name, n)| vec![name.clone(), thousands(*n)])
            .collect();
        md.push_str(&table(&["split", "pixels"], &[false, true], &rows));
        md.push('\n');
    }

    md.push_str("## Results\n\n");
    match &report.metrics {
        None => md.push_str("No test metrics: this run did not classify.\n\n"),
        Some(m) => results(&mut md, m, &report.class_names)?,
    }

    if !report.notes.is_empty() {
        md.push_str("## Notes\n\n");
        for n in &report.notes {
            md.push_str(&format!("- {}\n", n.trim()));
        }
        md.push('\n');
    }

    if !report.images.is_empty() {
        md.push_str("## Pictures\n\n");
        for name in &report.images {
            md.push_str(&format!("![{name}]({})\n\n", link_target(name)));
        }
    }

    if !report.config.trim().is_empty() {
        md.push_str("## Configuration\n\n");
        let fence = if report.config.contains("```") {
            "~~~~"
        } else {
            "```"
        };
        md.push_str(&format!(
            "{fence}toml\n{}\n{fence}\n",
            report.config.trim_end()
        ));
    }
    Ok(md)
}

/// Renders the report and writes it to `path` (temporary name, then rename).
pub fn write_markdown(path: &Path, report: &RunReport) -> Result<()> {
    let text = render_markdown(report).map_err(|e| Error::bad(path, e.to_string()))?;
    atomic::write(path, text.as_bytes())
}

fn results(md: &mut String, m: &Metrics, names: &[String]) -> Result<()> {
    check_metrics(m, names.len())?;
    let rows = vec![
        vec![
            "Overall accuracy (OA)".to_string(),
            percent(m.overall_accuracy),
        ],
        vec![
            "Average accuracy (AA)".to_string(),
            percent(m.average_accuracy),
        ],
        vec!["Cohen's kappa".to_string(), format!("{:.4}", m.kappa)],
        vec![
            "Majority-class baseline (OA)".to_string(),
            percent(m.majority_baseline),
        ],
        vec!["Test pixels".to_string(), thousands(m.n)],
    ];
    md.push_str(&table(&["metric", "value"], &[false, true], &rows));
    md.push('\n');
    let margin = m.overall_accuracy - m.majority_baseline;
    md.push_str(&format!(
        "OA is {:.1} points {} the majority-class baseline.\n\n",
        100.0 * margin.abs(),
        if margin >= 0.0 { "above" } else { "below" }
    ));
    for warning in m.warnings() {
        md.push_str(&format!("**{warning}**\n\n"));
    }

    let k = names.len();
    let predicted: Vec<usize> = (0..k)
        .map(|c| m.confusion.iter().map(|row| row[c]).sum())
        .collect();
    md.push_str("### Per class\n\nClasses are numbered from 1, as in the label files.\n\n");
    let rows: Vec<Vec<String>> = (0..k)
        .map(|c| {
            let tested: usize = m.confusion[c].iter().sum();
            vec![
                (c + 1).to_string(),
                names[c].clone(),
                thousands(tested),
                thousands(m.confusion[c][c]),
                thousands(predicted[c]),
                m.per_class_accuracy[c].map_or("-".to_string(), percent),
            ]
        })
        .collect();
    let header = [
        "#",
        "class",
        "test pixels",
        "correct",
        "predicted as",
        "accuracy",
    ];
    md.push_str(&table(
        &header,
        &[true, false, true, true, true, true],
        &rows,
    ));
    md.push('\n');

    md.push_str("### Confusion matrix\n\nRows: true class; columns: predicted class (by #).\n\n");
    let mut header: Vec<String> = vec!["true \\ predicted".to_string()];
    header.extend((1..=k).map(|c| c.to_string()));
    let rows: Vec<Vec<String>> = (0..k)
        .map(|t| {
            let mut row = vec![format!("{} {}", t + 1, names[t])];
            row.extend(m.confusion[t].iter().map(|v| v.to_string()));
            row
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut right = vec![true; k + 1];
    right[0] = false;
    md.push_str(&table(&header, &right, &rows));
    md.push('\n');
    Ok(())
}

fn check_metrics(m: &Metrics, k: usize) -> Result<()> {
    let named = [
        ("OA", m.overall_accuracy),
        ("AA", m.average_accuracy),
        ("kappa", m.kappa),
        ("majority baseline", m.majority_baseline),
    ];
    for (name, v) in named {
        if !v.is_finite() {
            return Err(Error::invalid(format!("report: {name} is {v}")));
        }
    }
    if m.confusion.len() != k || m.confusion.iter().any(|row| row.len() != k) {
        return Err(Error::invalid(format!(
            "report: the confusion matrix is not {k} x {k} (one row and column per class name)"
        )));
    }
    if m.per_class_accuracy.len() != k {
        return Err(Error::invalid(format!(
            "report: {} per-class accuracies for {k} classes",
            m.per_class_accuracy.len()
        )));
    }
    if let Some(c) = m
        .per_class_accuracy
        .iter()
        .position(|a| a.is_some_and(|v| !v.is_finite()))
    {
        return Err(Error::invalid(format!(
            "report: the accuracy of class {c} is not finite"
        )));
    }
    Ok(())
}

/// A Markdown table with every column padded to its widest cell.
fn table(header: &[&str], right_aligned: &[bool], rows: &[Vec<String>]) -> String {
    let cells = |row: &[String]| {
        row.iter()
            .map(|c| c.replace('|', "\\|"))
            .collect::<Vec<_>>()
    };
    let header: Vec<String> = header.iter().map(|h| h.replace('|', "\\|")).collect();
    let rows: Vec<Vec<String>> = rows.iter().map(|r| cells(r)).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count().max(3)).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let right = |i: usize| right_aligned.get(i).copied().unwrap_or(false);
    let line = |row: &[String]| {
        let padded: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let w = widths.get(i).copied().unwrap_or(0);
                if right(i) {
                    format!("{c:>w$}")
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(&header);
    let rules: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            if right(i) {
                format!("{}:", "-".repeat(w - 1))
            } else {
                "-".repeat(w)
            }
        })
        .collect();
    out.push_str(&format!("| {} |\n", rules.join(" | ")));
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}

fn percent(v: f64) -> String {
    format!("{:.2} %", 100.0 * v)
}

/// 12345 -> "12,345".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "unknown".to_string();
    }
    if seconds < 60.0 {
        return format!("{seconds:.1} s");
    }
    let s = seconds.round() as u64;
    let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h} h {m:02} min {s:02} s")
    } else {
        format!("{m} min {s:02} s")
    }
}

/// File names with spaces or brackets need the <...> form of a link target.
fn link_target(name: &str) -> String {
    if name.contains([' ', '(', ')', '<', '>']) {
        format!("<{}>", name.replace(['<', '>'], ""))
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> RunReport {
        // 3 classes; truth rows, prediction columns.
        let confusion = vec![vec![8, 2, 0], vec![1, 5, 0], vec![0, 0, 0]];
        RunReport {
            title: "M2 on Indian Pines".into(),
            data: "Indian Pines, 145 x 145 pixels, 200 bands.".into(),
            splits: vec![("labelled train".into(), 160), ("test".into(), 16)],
            class_names: vec!["Alfalfa".into(), "Corn-notill".into(), "Oats".into()],
            metrics: Some(Metrics {
                overall_accuracy: 13.0 / 16.0,
                average_accuracy: (0.8 + 5.0 / 6.0) / 2.0,
                kappa: 0.6,
                per_class_accuracy: vec![Some(0.8), Some(5.0 / 6.0), None],
                confusion,
                majority_baseline: 10.0 / 16.0,
                n: 16,
                regions: None,
            }),
            config: "[train]\nlearning_rate = 0.0003\n".into(),
            seconds: 754.4,
            images: vec!["class_map.png".into(), "learning curves.png".into()],
            notes: vec!["stopped early at step 12000".into()],
        }
    }

    #[test]
    fn the_report_holds_metrics_classes_matrix_and_links() {
        let md = render_markdown(&example()).unwrap();
        for needle in [
            "# M2 on Indian Pines",
            "Overall accuracy (OA)",
            "81.25 %",
            "Average accuracy (AA)",
            "81.67 %",
            "Cohen's kappa",
            "0.6000",
            "Majority-class baseline (OA)",
            "62.50 %",
            "points above the majority-class baseline",
            "Alfalfa",
            "Corn-notill",
            "Oats",
            "![class_map.png](class_map.png)",
            "![learning curves.png](<learning curves.png>)",
            "12 min 34 s",
            "learning_rate = 0.0003",
            "stopped early",
        ] {
            assert!(md.contains(needle), "missing {needle:?} in\n{md}");
        }
        // Per-class row of Corn-notill: 6 tested, 5 correct, 7 predicted as it, 83.33 %.
        let row = md.lines().find(|l| l.contains("| Corn-notill")).unwrap();
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(cells[1..7], ["2", "Corn-notill", "6", "5", "7", "83.33 %"]);
        // The class with no test pixels shows "-", not a number.
        let oats = md.lines().find(|l| l.contains("| Oats")).unwrap();
        assert!(oats.trim_end().ends_with("- |"), "{oats}");
        // Confusion row of Alfalfa.
        let row = md.lines().find(|l| l.starts_with("| 1 Alfalfa")).unwrap();
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(cells[2..5], ["8", "2", "0"]);
    }

    #[test]
    fn tables_line_up_in_a_terminal() {
        let md = render_markdown(&example()).unwrap();
        let confusion: Vec<&str> = md
            .lines()
            .skip_while(|l| !l.starts_with("| true"))
            .take_while(|l| l.starts_with('|'))
            .collect();
        assert_eq!(confusion.len(), 2 + 3);
        let width = confusion[0].chars().count();
        assert!(
            confusion.iter().all(|l| l.chars().count() == width),
            "{confusion:#?}"
        );
    }

    #[test]
    fn a_weak_result_is_flagged() {
        let mut r = example();
        if let Some(m) = r.metrics.as_mut() {
            m.overall_accuracy = 0.6;
        }
        let md = render_markdown(&r).unwrap();
        assert!(
            md.contains("OA is 2.5 points below the majority-class baseline"),
            "{md}"
        );
        assert!(
            md.contains("**WARNING: OA 60.00% is not clearly above"),
            "{md}"
        );
    }

    #[test]
    fn no_metrics_is_said_plainly() {
        let r = RunReport {
            metrics: None,
            ..example()
        };
        let md = render_markdown(&r).unwrap();
        assert!(md.contains("did not classify"));
        assert!(!md.contains("Overall accuracy"));
    }

    #[test]
    fn metrics_that_do_not_fit_are_errors() {
        let mut r = example();
        r.class_names.pop();
        assert!(
            render_markdown(&r).is_err(),
            "matrix larger than the class list"
        );
        let mut r = example();
        r.metrics.as_mut().unwrap().confusion[1].push(3);
        assert!(render_markdown(&r).is_err(), "ragged matrix");
        let mut r = example();
        r.metrics.as_mut().unwrap().kappa = f64::NAN;
        assert!(render_markdown(&r).is_err(), "NaN kappa");
        let mut r = example();
        r.metrics.as_mut().unwrap().per_class_accuracy.pop();
        assert!(render_markdown(&r).is_err(), "short per-class list");
    }

    #[test]
    fn written_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.md");
        write_markdown(&path, &example()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("Cohen's kappa"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let mut bad = example();
        bad.class_names.clear();
        let e = write_markdown(&dir.path().join("bad.md"), &bad).unwrap_err();
        assert!(e.to_string().contains("bad.md"));
    }

    #[test]
    fn helpers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(10249), "10,249");
        assert_eq!(duration(5.26), "5.3 s");
        assert_eq!(duration(3725.0), "1 h 02 min 05 s");
        assert_eq!(duration(f64::NAN), "unknown");
        assert_eq!(
            table(&["a|b"], &[false], &[vec!["x".into()]]),
            "| a\\|b |\n| ---- |\n| x    |\n"
        );
    }
}
