//! A small line-chart panel: frame, grid, ticks with round numbers, captions, lines or dots, and
//! a legend. The learning curves and spectra are built from it.

use super::canvas::{self, TEXT};
use super::heat::PixelRect;
use super::text::{self, Align};
use crate::error::{Error, Result};
use image::RgbImage;

const GRID: [u8; 3] = [225, 225, 225];
const FRAME: [u8; 3] = [110, 110, 110];

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Finite points joined in order (points with a NaN are left out, their neighbours joined).
    Line,
    /// Each finite point a dot.
    Dots,
}

/// One data series; points with a non-finite coordinate are skipped.
#[derive(Debug, Clone)]
pub struct Series {
    /// Empty: not shown in the legend.
    pub label: String,
    pub colour: [u8; 3],
    pub thickness: f64,
    pub style: Style,
    pub points: Vec<(f64, f64)>,
}

/// What one panel shows.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Clamp the y axis to this range (e.g. [0, 1] for accuracies); None: fit the data.
    pub y_limits: Option<(f64, f64)>,
    pub legend: bool,
    /// Space kept for the y tick labels at least, so that stacked panels line up.
    pub min_y_tick_width: u32,
}

/// Round tick values inside [lo, hi]: steps of 1, 2 or 5 times a power of ten, as close to
/// `target` of them as those steps allow. Returns the ticks and the decimals needed to print them.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, usize) {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return (vec![lo], 0);
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    // The step whose tick count comes closest to the target.
    let count_error = |s: f64| ((hi - lo) / s - target as f64).abs();
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .fold(magnitude, |best, s| {
            if count_error(s) < count_error(best) {
                s
            } else {
                best
            }
        });
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    let ticks = (first..=last).map(|i| i as f64 * step).collect();
    (ticks, decimals)
}

/// The finite range of the panel's data, padded by 5 % (a flat series gets a unit range).
fn data_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return None;
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let pad = (hi.abs() * 0.05).max(0.5);
        return Some((lo - pad, hi + pad));
    }
    let pad = (hi - lo) * 0.05;
    Some((lo - pad, hi + pad))
}

fn format_tick(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    // "-0" and "-0.0" read oddly on an axis.
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

/// Draws `panel` inside `area` with text of `size` pixels.
pub fn draw_panel(image: &mut RgbImage, area: PixelRect, panel: &Panel, size: f32) -> Result<()> {
    let ((x0, x1), (y0, y1)) = axis_ranges(panel)?;
    let (x_ticks, x_decimals) = nice_ticks(x0, x1, 6);
    let (y_ticks, y_decimals) = nice_ticks(y0, y1, 5);
    let y_tick_labels: Vec<String> = y_ticks.iter().map(|&v| format_tick(v, y_decimals)).collect();
    let mut y_tick_width = panel.min_y_tick_width;
    for l in &y_tick_labels {
        y_tick_width = y_tick_width.max(text::size_of(l, size)?.0);
    }
    let plot = plot_area(area, panel, size, y_tick_width)?;
    let to_px = |x: f64, y: f64| {
        (
            plot.x as f64 + (x - x0) / (x1 - x0) * (plot.width - 1) as f64,
            plot.y as f64 + (plot.height - 1) as f64 - (y - y0) / (y1 - y0) * (plot.height - 1) as f64,
        )
    };

    // Grid, then data, then frame and text on top.
    for &t in &x_ticks {
        let (px, _) = to_px(t, y0);
        canvas::fill_rect(image, px.round() as u32, plot.y, 1, plot.height, GRID);
    }
    for &t in &y_ticks {
        let (_, py) = to_px(x0, t);
        canvas::fill_rect(image, plot.x, py.round() as u32, plot.width, 1, GRID);
    }
    for s in &panel.series {
        draw_series(image, s, plot, &to_px);
    }
    canvas::outline_rect(image, plot.x, plot.y, plot.width, plot.height, FRAME);

    for &t in &x_ticks {
        let (px, _) = to_px(t, y0);
        let at = (px.round() as i64, (plot.y + plot.height + 3) as i64);
        text::draw(image, &format_tick(t, x_decimals), at, size, TEXT, Align::Centre)?;
    }
    for (&t, label) in y_ticks.iter().zip(&y_tick_labels) {
        let (_, py) = to_px(x0, t);
        let at = ((plot.x - 5) as i64, py.round() as i64 - (size * 0.6) as i64);
        text::draw(image, label, at, size, TEXT, Align::Right)?;
    }
    draw_titles(image, (area, plot), panel, size)?;
    if panel.legend {
        draw_legend(image, &panel.series, plot, size, &to_px)?;
    }
    Ok(())
}

/// The x and y ranges the panel shows: the finite data's, x without padding (the first and
/// last step sit on the frame), y within the panel's limits where the data allow.
fn axis_ranges(panel: &Panel) -> Result<((f64, f64), (f64, f64))> {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let points = || panel.series.iter().flat_map(|s| s.points.iter().filter(finite));
    let no_data = || Error::invalid(format!("plot {:?}: no finite values to draw", panel.title));
    let (lo, hi) = data_range(points().map(|p| p.0)).ok_or_else(no_data)?;
    let (dlo, dhi) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let x = if dhi > dlo { (dlo, dhi) } else { (lo, hi) };
    let (mut y0, mut y1) = data_range(points().map(|p| p.1)).ok_or_else(no_data)?;
    if let Some((lo, hi)) = panel.y_limits {
        (y0, y1) = (y0.max(lo), y1.min(hi));
        if y1 <= y0 {
            (y0, y1) = (lo, hi);
        }
    }
    Ok((x, (y0, y1)))
}

/// The data's rectangle inside `area`, leaving room for the title above, the tick labels and
/// the axis titles left and below.
fn plot_area(area: PixelRect, panel: &Panel, size: f32, y_tick_width: u32) -> Result<PixelRect> {
    let line = line_height(size);
    let left = line + y_tick_width + 8;
    let top = (size * 1.7).ceil() as u32;
    let bottom = 2 * line + 6;
    let right = (size * 1.2).ceil() as u32;
    if area.width <= left + right + 20 || area.height <= top + bottom + 20 {
        return Err(Error::invalid(format!("plot {:?}: {} x {} pixels is too small", panel.title, area.width, area.height)));
    }
    Ok(PixelRect { x: area.x + left, y: area.y + top, width: area.width - left - right, height: area.height - top - bottom })
}

/// The height of a line of text of `size` pixels, with its spacing.
fn line_height(size: f32) -> u32 {
    (size * 1.3).ceil() as u32
}

/// The panel's title above the plot and its axis titles below and to the left.
fn draw_titles(image: &mut RgbImage, (area, plot): (PixelRect, PixelRect), panel: &Panel, size: f32) -> Result<()> {
    let line = line_height(size);
    let centre_x = (plot.x + plot.width / 2) as i64;
    text::draw(image, &panel.title, (centre_x, area.y as i64 + 2), size * 1.15, TEXT, Align::Centre)?;
    let x_label_y = (plot.y + plot.height + line + 4) as i64;
    text::draw(image, &panel.x_label, (centre_x, x_label_y), size, TEXT, Align::Centre)?;
    let centre_y = (plot.y + plot.height / 2) as i64;
    text::draw_vertical(image, &panel.y_label, (area.x as i64 + 1, centre_y), size, TEXT)
}

fn draw_series(
    image: &mut RgbImage,
    s: &Series,
    plot: PixelRect,
    to_px: &impl Fn(f64, f64) -> (f64, f64),
) {
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    match s.style {
        Style::Dots => {
            for p in s.points.iter().filter(|p| finite(p)) {
                let c = to_px(p.0, p.1);
                canvas::line(image, c, c, s.thickness + 2.0, s.colour, plot);
            }
        }
        Style::Line => {
            let path: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(|p| finite(p))
                .map(|p| to_px(p.0, p.1))
                .collect();
            if let [only] = path[..] {
                canvas::line(image, only, only, s.thickness + 2.0, s.colour, plot);
            }
            for pair in path.windows(2) {
                canvas::line(image, pair[0], pair[1], s.thickness, s.colour, plot);
            }
        }
    }
}

/// A legend box in the corner of the plot that hides the fewest data points: a short stroke of
/// each series and its label.
fn draw_legend(
    image: &mut RgbImage,
    series: &[Series],
    plot: PixelRect,
    size: f32,
    to_px: &impl Fn(f64, f64) -> (f64, f64),
) -> Result<()> {
    let shown: Vec<&Series> = series.iter().filter(|s| !s.label.is_empty()).collect();
    if shown.is_empty() {
        return Ok(());
    }
    let row = (size * 1.4).ceil() as u32;
    let stroke = (size * 1.8) as u32;
    let mut label_width = 0;
    for s in &shown {
        label_width = label_width.max(text::size_of(&s.label, size)?.0);
    }
    let width = 8 + stroke + 6 + label_width + 8;
    let height = 6 + row * shown.len() as u32 + 2;
    let (left, right) = (plot.x + 6, (plot.x + plot.width).saturating_sub(width + 6));
    let (top, bottom) = (
        plot.y + 6,
        (plot.y + plot.height).saturating_sub(height + 6),
    );
    let hidden = |(x, y): (u32, u32)| {
        let inside = |p: &&(f64, f64)| {
            let (px, py) = to_px(p.0, p.1);
            px >= x as f64
                && px <= (x + width) as f64
                && py >= y as f64
                && py <= (y + height) as f64
        };
        series
            .iter()
            .map(|s| s.points.iter().filter(inside).count())
            .sum::<usize>()
    };
    let corners = [(right, top), (left, top), (right, bottom), (left, bottom)];
    let (x, y) = corners
        .into_iter()
        .min_by_key(|&c| hidden(c))
        .unwrap_or((right, top));
    canvas::fill_rect(image, x, y, width, height, canvas::WHITE);
    canvas::outline_rect(image, x, y, width, height, GRID);
    for (i, s) in shown.iter().enumerate() {
        let top = y + 4 + i as u32 * row;
        let mid = (top + row / 2) as f64;
        let (a, b) = ((x + 8) as f64, (x + 8 + stroke) as f64);
        match s.style {
            Style::Line => canvas::line(
                image,
                (a, mid),
                (b, mid),
                s.thickness.max(1.5),
                s.colour,
                plot,
            ),
            Style::Dots => {
                let c = ((a + b) / 2.0, mid);
                canvas::line(image, c, c, s.thickness + 2.0, s.colour, plot)
            }
        }
        let label_at = (
            (x + 8 + stroke + 6) as i64,
            mid as i64 - (size * 0.6) as i64,
        );
        text::draw(image, &s.label, label_at, size, TEXT, Align::Left)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_origin(width: u32, height: u32) -> PixelRect {
        PixelRect { x: 0, y: 0, width, height }
    }

    #[test]
    fn ticks_are_round_and_inside_the_range() {
        let (t, d) = nice_ticks(0.0, 1.0, 5);
        let labels: Vec<String> = t.iter().map(|&v| format_tick(v, d)).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let (t, d) = nice_ticks(-153.2, -101.7, 5);
        assert_eq!(t, vec![-150.0, -140.0, -130.0, -120.0, -110.0]);
        assert_eq!(d, 0);
        let (t, _) = nice_ticks(0.0, 12000.0, 6);
        assert_eq!(
            t,
            vec![0.0, 2000.0, 4000.0, 6000.0, 8000.0, 10000.0, 12000.0]
        );
        assert_eq!(nice_ticks(3.0, 3.0, 5).0, vec![3.0]);
    }

    #[test]
    fn tick_labels_never_show_minus_zero() {
        assert_eq!(format_tick(-0.0, 1), "0.0");
        assert_eq!(format_tick(-1e-17, 0), "0");
        assert_eq!(format_tick(-0.5, 1), "-0.5");
    }

    #[test]
    fn a_panel_draws_its_series_inside_the_area() {
        let mut img = canvas::blank(400, 300).unwrap();
        let area = at_origin(400, 300);
        let red = [230, 0, 0];
        let panel = Panel {
            title: "t".into(),
            series: vec![Series {
                label: "red".into(),
                colour: red,
                thickness: 2.0,
                style: Style::Line,
                points: vec![(0.0, 0.0), (1.0, f64::NAN), (2.0, 1.0), (3.0, 2.0)],
            }],
            legend: true,
            ..Panel::default()
        };
        draw_panel(&mut img, area, &panel, 12.0).unwrap();
        assert!(img.pixels().filter(|p| p.0 == red).count() > 100);
    }

    #[test]
    fn a_panel_without_finite_data_is_an_error() {
        let mut img = canvas::blank(400, 300).unwrap();
        let area = at_origin(400, 300);
        let series = Series {
            label: String::new(),
            colour: [0, 0, 0],
            thickness: 1.0,
            style: Style::Line,
            points: vec![(0.0, f64::NAN)],
        };
        let panel = Panel {
            series: vec![series],
            ..Panel::default()
        };
        assert!(draw_panel(&mut img, area, &panel, 12.0).is_err());
        let tiny = at_origin(30, 20);
        let ok = Series {
            label: String::new(),
            colour: [0, 0, 0],
            thickness: 1.0,
            style: Style::Line,
            points: vec![(0.0, 1.0)],
        };
        assert!(draw_panel(
            &mut img,
            tiny,
            &Panel {
                series: vec![ok],
                ..Panel::default()
            },
            12.0
        )
        .is_err());
    }
}
