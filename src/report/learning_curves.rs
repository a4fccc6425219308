//! learning_curves.png: the variational bound on training minibatches and on the validation set
//! against the step, and the validation accuracy below it when the model classifies (M2).

use super::canvas::{self, PixelRect};
use super::chart::{self, Panel, Series, Style};
use super::paper;
use crate::error::{Error, Result};
use crate::train::log::{read_csv, LogRow};
use image::RgbImage;
use std::path::Path;

const WIDTH: u32 = 900;
const PANEL_HEIGHT: u32 = 380;
const TEXT_SIZE: f32 = 14.0;
/// Room for y tick labels such as "-12000" in both panels, so that their steps line up.
const Y_TICK_WIDTH: u32 = 48;
const TRAIN: [u8; 3] = [31, 119, 180];
const VALID: [u8; 3] = [255, 127, 14];
const EVENT: [u8; 3] = [214, 39, 40];
const ACCURACY: [u8; 3] = [44, 160, 44];

/// Draws the curves of a training log. An empty log, or one without a single finite bound, is
/// an error.
pub fn learning_curves(rows: &[LogRow]) -> Result<RgbImage> {
    if rows.is_empty() {
        return Err(Error::invalid(
            "learning curves: the training log has no rows",
        ));
    }
    let has_bound = rows
        .iter()
        .any(|r| r.bound_minibatch.is_finite() || r.bound_valid.is_finite());
    if !has_bound {
        return Err(Error::invalid(
            "learning curves: the training log has no finite bound value",
        ));
    }
    let step = |r: &LogRow| r.step as f64;
    let series = |label: &str, colour, value: fn(&LogRow) -> f64| Series {
        label: label.to_string(),
        colour,
        thickness: 2.0,
        style: Style::Line,
        points: rows.iter().map(|r| (step(r), value(r))).collect(),
    };
    let mut bound = vec![
        series("train minibatch", TRAIN, |r| r.bound_minibatch),
        series("validation", VALID, |r| r.bound_valid),
    ];
    // Divergence recoveries and the like, marked on the training curve.
    let events: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| !r.event.is_empty())
        .map(|r| {
            (
                step(r),
                if r.bound_minibatch.is_finite() {
                    r.bound_minibatch
                } else {
                    r.bound_valid
                },
            )
        })
        .collect();
    if !events.is_empty() {
        bound.push(Series {
            label: "event (see log)".into(),
            colour: EVENT,
            thickness: 3.0,
            style: Style::Dots,
            points: events,
        });
    }
    let mut panels = vec![Panel {
        title: "Variational lower bound per pixel (higher is better)".into(),
        x_label: "step".into(),
        y_label: "bound (nats)".into(),
        series: bound,
        y_limits: None,
        legend: true,
        min_y_tick_width: Y_TICK_WIDTH,
    }];
    if rows.iter().any(|r| r.valid_accuracy.is_finite()) {
        panels.push(Panel {
            title: "Validation accuracy".into(),
            x_label: "step".into(),
            y_label: "accuracy".into(),
            series: vec![series("validation accuracy", ACCURACY, |r| {
                r.valid_accuracy
            })],
            y_limits: Some((0.0, 1.0)),
            legend: false,
            min_y_tick_width: Y_TICK_WIDTH,
        });
    }
    let mut image = canvas::blank(WIDTH, PANEL_HEIGHT * panels.len() as u32)?;
    paper::draw_on(&mut image, |root| {
        for (i, panel) in panels.iter().enumerate() {
            let area = PixelRect {
                x: 10,
                y: i as u32 * PANEL_HEIGHT + 8,
                width: WIDTH - 20,
                height: PANEL_HEIGHT - 16,
            };
            chart::draw_panel(root, area, panel, TEXT_SIZE)?;
        }
        Ok(())
    })?;
    Ok(image)
}

/// Reads a training log (CSV) and draws its curves; errors name the file.
pub fn learning_curves_from_log(log: &Path) -> Result<RgbImage> {
    let rows = read_csv(log)?;
    if rows.is_empty() {
        return Err(Error::bad(log, "the training log has no rows"));
    }
    learning_curves(&rows).map_err(|e| Error::bad(log, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::save_png;
    use crate::train::log::to_csv;

    fn row(step: u64, minibatch: f64, valid: f64, accuracy: f64) -> LogRow {
        LogRow {
            step,
            time_elapsed: step as f64 * 0.1,
            bound_minibatch: minibatch,
            bound_valid: valid,
            not_improving: 0,
            reconstruction: f64::NAN,
            kl: f64::NAN,
            valid_accuracy: accuracy,
            epoch: 0,
            learning_rate: 3e-4,
            event: String::new(),
        }
    }

    fn log(with_accuracy: bool) -> Vec<LogRow> {
        (0..40u64)
            .map(|i| {
                let b = -200.0 + 100.0 * (1.0 - (-(i as f64) / 10.0).exp());
                let acc = if with_accuracy {
                    0.3 + 0.01 * i as f64
                } else {
                    f64::NAN
                };
                row(i * 50, b + 3.0 * ((i % 3) as f64 - 1.0), b - 5.0, acc)
            })
            .collect()
    }

    /// Pixels mostly of colour `c` (the curves are anti-aliased: few pixels are exactly `c`).
    fn near(p: [u8; 3], c: [u8; 3]) -> bool {
        let d2: i32 = p
            .iter()
            .zip(&c)
            .map(|(&a, &b)| (a as i32 - b as i32).pow(2))
            .sum();
        d2 < 60 * 60
    }

    fn distinct_colours(img: &RgbImage) -> usize {
        let mut seen: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }

    #[test]
    fn curves_are_written_with_both_series_and_an_accuracy_panel() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("learning_curves.png");
        save_png(&path, &learning_curves(&log(true)).unwrap()).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (WIDTH, 2 * PANEL_HEIGHT));
        assert!(
            distinct_colours(&img) > 20,
            "the picture is nearly one colour"
        );
        let count = |c: [u8; 3]| img.pixels().filter(|p| near(p.0, c)).count();
        assert!(count(TRAIN) > 200, "train curve missing");
        assert!(count(VALID) > 200, "validation curve missing");
        assert!(count(ACCURACY) > 200, "accuracy curve missing");
    }

    #[test]
    fn without_accuracy_there_is_one_panel() {
        let img = learning_curves(&log(false)).unwrap();
        assert_eq!(img.height(), PANEL_HEIGHT);
        assert_eq!(img.pixels().filter(|p| near(p.0, ACCURACY)).count(), 0);
    }

    #[test]
    fn a_single_row_and_events_still_draw() {
        let mut rows = vec![row(0, -120.0, -130.0, f64::NAN)];
        rows[0].event = "recovered from divergence".into();
        let img = learning_curves(&rows).unwrap();
        assert!(img.pixels().any(|p| p.0 == EVENT));
    }

    #[test]
    fn empty_or_bound_free_logs_are_errors() {
        assert!(learning_curves(&[]).is_err());
        assert!(learning_curves(&[row(0, f64::NAN, f64::NAN, 0.5)]).is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        std::fs::write(&path, to_csv(&[])).unwrap();
        let e = learning_curves_from_log(&path).unwrap_err();
        assert!(e.to_string().contains("log.csv"), "{e}");
        std::fs::write(&path, to_csv(&log(false))).unwrap();
        assert!(learning_curves_from_log(&path).is_ok());
    }
}
