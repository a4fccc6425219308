//! Line-chart panels drawn with plotters: frame, grid, round ticks, captions, lines or dots,
//! and a legend. The learning curves and spectra are built from them.

use super::canvas::PixelRect;
use super::paper::{failed, font, rgb, Area, Paper};
use super::text;
use crate::error::{Error, Result};
use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const GRID: RGBColor = RGBColor(225, 225, 225);
const FRAME: RGBColor = RGBColor(110, 110, 110);
/// About this many ticks on the x and y axes.
const X_TICKS: usize = 6;
const Y_TICKS: usize = 5;

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
    /// Line width in pixels (rounded to whole pixels).
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
    /// Keep the y axis inside this range (e.g. [0, 1] for accuracies) where the data allow: data
    /// beyond it widen the axis rather than being drawn outside the frame. None: fit the data.
    pub y_limits: Option<(f64, f64)>,
    pub legend: bool,
    /// Space kept for the y tick labels at least, so that stacked panels line up.
    pub min_y_tick_width: u32,
}

/// Round tick values inside [lo, hi] as plotters places them (steps of 1, 2 or 5 times a power
/// of ten): those whose step divides the range into the number of steps closest to `target`.
fn ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let range = RangedCoordf64::from(lo..hi);
    let miss = |t: &Vec<f64>| match t[..] {
        [a, b, ..] => ((hi - lo) / (b - a) - target as f64).abs(),
        _ => target as f64,
    };
    (1..=2 * target)
        .map(|max| range.key_points(max))
        .min_by(|a, b| miss(a).total_cmp(&miss(b)))
        .unwrap_or_default()
}

/// The fewest decimals that print every tick exactly (to a millionth of their spacing).
fn decimals(ticks: &[f64]) -> usize {
    let spacing = match ticks {
        [a, b, ..] => (b - a).abs(),
        _ => return ticks.first().map_or(0, |t| decimals(&[*t, t + 1.0])),
    };
    (0..12)
        .find(|&d| {
            ticks.iter().all(|&t| {
                let printed: f64 = format!("{t:.d$}").parse().unwrap_or(f64::NAN);
                (printed - t).abs() <= spacing * 1e-6
            })
        })
        .unwrap_or(12)
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

/// The finite range of the panel's data, padded by 5 % (a flat series gets a unit range).
fn data_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = extent(values)?;
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let pad = (hi.abs() * 0.05).max(0.5);
        return Some((lo - pad, hi + pad));
    }
    let pad = (hi - lo) * 0.05;
    Some((lo - pad, hi + pad))
}

/// The smallest and largest finite value.
fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    (lo <= hi).then_some((lo, hi))
}

fn finite(p: &(f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite()
}

/// The x and y ranges the panel shows: the finite data's, x without padding (the first and
/// last step sit on the frame), y within the panel's limits where the data allow.
fn axis_ranges(panel: &Panel) -> Result<((f64, f64), (f64, f64))> {
    let points = || {
        panel
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(|p| finite(p)))
    };
    let no_data = || Error::invalid(format!("plot {:?}: no finite values to draw", panel.title));
    let (dlo, dhi) = extent(points().map(|p| p.0)).ok_or_else(no_data)?;
    let x = if dhi > dlo {
        (dlo, dhi)
    } else {
        data_range(points().map(|p| p.0)).ok_or_else(no_data)?
    };
    let padded = data_range(points().map(|p| p.1)).ok_or_else(no_data)?;
    let (lo, hi) = extent(points().map(|p| p.1)).ok_or_else(no_data)?;
    let mut y = padded;
    if let Some((limit_lo, limit_hi)) = panel.y_limits {
        y = (
            padded.0.max(limit_lo.min(lo)),
            padded.1.min(limit_hi.max(hi)),
        );
        if y.1 <= y.0 {
            y = padded;
        }
    }
    // plotters' tick placement never ends on an infinite span.
    if !(x.1 - x.0).is_finite() || !(y.1 - y.0).is_finite() {
        return Err(Error::invalid(format!(
            "plot {:?}: values too large to draw",
            panel.title
        )));
    }
    Ok((x, y))
}

/// The height of a line of text of `size` pixels, with its spacing.
fn line_height(size: f32) -> u32 {
    (size * 1.3).ceil() as u32
}

/// A line of `colour`, `width` pixels wide.
fn pen(colour: RGBColor, width: u32) -> ShapeStyle {
    Color::stroke_width(&colour, width)
}

/// Line width in whole pixels (plotters' styles have no fractions of a pixel).
fn stroke(thickness: f64) -> u32 {
    thickness.round().clamp(1.0, 20.0) as u32
}

/// Draws `panel` inside `area` of `root` with text of `size` pixels.
pub fn draw_panel(root: &Area<'_>, area: PixelRect, panel: &Panel, size: f32) -> Result<()> {
    let ((x0, x1), (y0, y1)) = axis_ranges(panel)?;
    let (x_ticks, y_ticks) = (ticks(x0, x1, X_TICKS), ticks(y0, y1, Y_TICKS));
    let (x_decimals, y_decimals) = (decimals(&x_ticks), decimals(&y_ticks));
    let mut y_tick_width = panel.min_y_tick_width;
    for &t in &y_ticks {
        y_tick_width = y_tick_width.max(text::size_of(&format_tick(t, y_decimals), size)?.0);
    }
    // Room for the title above, the tick labels and axis captions left and below.
    let line = line_height(size);
    let (left, top, bottom, right) = (
        line + y_tick_width + 8,
        (size * 1.7).ceil() as u32,
        2 * line + 6,
        (size * 1.2).ceil() as u32,
    );
    if area.width <= left + right + 20 || area.height <= top + bottom + 20 {
        return Err(Error::invalid(format!(
            "plot {:?}: {} x {} pixels is too small",
            panel.title, area.width, area.height
        )));
    }
    let what = format!("plot {:?}", panel.title);
    let failed = failed(&what);
    let region = root
        .clone()
        .shrink((area.x, area.y), (area.width, area.height));
    let mut chart = ChartBuilder::on(&region)
        .margin_top(top)
        .margin_right(right)
        .x_label_area_size(bottom)
        .y_label_area_size(left)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(&failed)?;
    let x_format = |v: &f64| format_tick(*v, x_decimals);
    let y_format = |v: &f64| format_tick(*v, y_decimals);
    let f64_size = f64::from(size);
    chart
        .configure_mesh()
        // plotters' ticks for at most as many as these are these.
        .x_labels(x_ticks.len())
        .y_labels(y_ticks.len())
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .label_style(font(f64_size))
        .axis_desc_style(font(f64_size))
        .bold_line_style(GRID)
        .max_light_lines(0)
        .axis_style(FRAME)
        .set_all_tick_mark_size(4)
        .draw()
        .map_err(&failed)?;

    for s in &panel.series {
        let colour = rgb(s.colour);
        let points: Vec<(f64, f64)> = s.points.iter().copied().filter(finite).collect();
        let dot = stroke(s.thickness) + 1;
        let drawn = match s.style {
            Style::Line => {
                let line =
                    LineSeries::new(points.iter().copied(), pen(colour, stroke(s.thickness)));
                // A lone point is drawn as a dot.
                chart.draw_series(if points.len() == 1 {
                    line.point_size(dot)
                } else {
                    line
                })
            }
            Style::Dots => {
                chart.draw_series(points.iter().map(|&p| Circle::new(p, dot, colour.filled())))
            }
        }
        .map_err(&failed)?;
        if panel.legend && !s.label.is_empty() {
            let (style, thickness, length) =
                (s.style, stroke(s.thickness).max(2), legend_stroke(size));
            drawn
                .label(s.label.as_str())
                .legend(move |(x, y)| match style {
                    Style::Line => {
                        PathElement::new(vec![(x, y), (x + length, y)], pen(colour, thickness))
                            .into_dyn()
                    }
                    Style::Dots => {
                        Circle::new((x + length / 2, y), dot, colour.filled()).into_dyn()
                    }
                });
        }
    }

    let (xs, ys) = chart.plotting_area().get_pixel_range();
    root.draw(&Rectangle::new(
        [(xs.start, ys.start), (xs.end - 1, ys.end - 1)],
        FRAME,
    ))
    .map_err(&failed)?;
    let title = Text::new(
        panel.title.as_str(),
        ((xs.start + xs.end) / 2, area.y as i32 + 2),
        font(f64_size * 1.15).pos(Pos::new(HPos::Center, VPos::Top)),
    );
    root.draw(&title).map_err(&failed)?;
    if panel.legend && panel.series.iter().any(|s| !s.label.is_empty()) {
        let corner = legend_corner(&chart, panel, size)?;
        chart
            .configure_series_labels()
            .position(corner)
            .margin(LEGEND_MARGIN)
            .legend_area_size(legend_stroke(size) + 6)
            .background_style(WHITE)
            .border_style(GRID)
            .label_font(font(f64_size))
            .draw()
            .map_err(&failed)?;
    }
    Ok(())
}

/// Padding inside the legend's box.
const LEGEND_MARGIN: u32 = 6;

/// The length of a series' stroke in the legend.
fn legend_stroke(size: f32) -> i32 {
    (size * 1.8) as i32
}

/// The corner of the plot where the legend hides the fewest data points (top right first on a
/// tie).
fn legend_corner(
    chart: &ChartContext<'_, Paper<'_>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    panel: &Panel,
    size: f32,
) -> Result<SeriesLabelPosition> {
    let shown: Vec<&Series> = panel
        .series
        .iter()
        .filter(|s| !s.label.is_empty())
        .collect();
    let mut label_width = 0;
    for s in &shown {
        label_width = label_width.max(text::size_of(&s.label, size)?.0 as i32);
    }
    // The legend's box as plotters lays it out: 5 pixels from the plot's edges.
    let margin = LEGEND_MARGIN as i32;
    let width = legend_stroke(size) + 6 + label_width + 2 * margin;
    let height = (shown.len() as f32 * size * 1.25).ceil() as i32 + 2 * margin;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let (left, right) = (xs.start + 5, xs.end - 5 - width);
    let (top, bottom) = (ys.start + 5, ys.end - 5 - height);
    // Points this close to the box count as hidden too: a line's end under its edge.
    const NEAR: i32 = 8;
    let hidden = |(x, y): (i32, i32)| {
        let points = panel
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(|p| finite(p)));
        points
            .map(|p| chart.backend_coord(p))
            .filter(|&(px, py)| {
                (x - NEAR..=x + width + NEAR).contains(&px)
                    && (y - NEAR..=y + height + NEAR).contains(&py)
            })
            .count()
    };
    let corners = [
        (SeriesLabelPosition::UpperRight, (right, top)),
        (SeriesLabelPosition::UpperLeft, (left, top)),
        (SeriesLabelPosition::LowerRight, (right, bottom)),
        (SeriesLabelPosition::LowerLeft, (left, bottom)),
    ];
    let best = corners.into_iter().min_by_key(|&(_, at)| hidden(at));
    Ok(best.map_or(SeriesLabelPosition::UpperRight, |(corner, _)| corner))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::canvas;
    use crate::report::paper::draw_on;
    use image::RgbImage;

    const RED: [u8; 3] = [230, 0, 0];

    fn line(label: &str, colour: [u8; 3], points: Vec<(f64, f64)>) -> Series {
        Series {
            label: label.into(),
            colour,
            thickness: 2.0,
            style: Style::Line,
            points,
        }
    }

    fn picture(panel: &Panel, width: u32, height: u32) -> Result<RgbImage> {
        let mut img = canvas::blank(width, height)?;
        draw_on(&mut img, |root| {
            draw_panel(
                root,
                PixelRect {
                    x: 0,
                    y: 0,
                    width,
                    height,
                },
                panel,
                12.0,
            )
        })?;
        Ok(img)
    }

    /// Pixels mostly of colour `c` (lines are anti-aliased: few pixels are exactly `c`).
    fn count(img: &RgbImage, c: [u8; 3]) -> usize {
        let near = |p: [u8; 3]| {
            p.iter()
                .zip(&c)
                .map(|(&a, &b)| (a as i32 - b as i32).pow(2))
                .sum::<i32>()
                < 60 * 60
        };
        img.pixels().filter(|p| near(p.0)).count()
    }

    #[test]
    fn tick_labels_are_round_with_the_decimals_they_need() {
        let labels = |lo, hi, target| {
            let t = ticks(lo, hi, target);
            let d = decimals(&t);
            t.iter().map(|&v| format_tick(v, d)).collect::<Vec<_>>()
        };
        assert_eq!(
            labels(0.0, 1.0, 5),
            ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
        );
        assert_eq!(
            labels(-153.2, -101.7, 5),
            ["-150", "-140", "-130", "-120", "-110"]
        );
        assert_eq!(
            labels(0.0, 12000.0, 6),
            ["0", "2000", "4000", "6000", "8000", "10000", "12000"]
        );
        assert_eq!(labels(0.0, 0.03, 4), ["0.00", "0.01", "0.02", "0.03"]);
        assert_eq!(labels(-2.2, 1.7, 5), ["-2", "-1", "0", "1"]);
        assert_eq!(
            labels(98.0, 229.0, 5),
            ["100", "120", "140", "160", "180", "200", "220"]
        );
    }

    #[test]
    fn the_mesh_draws_the_ticks_that_were_measured() {
        // The mesh is asked for at most as many ticks as were chosen: plotters then places
        // exactly those, whose labels set the decimals and the room left of the axis.
        for (lo, hi) in [
            (0.0, 1.0),
            (-153.2, -101.7),
            (80.0, 615.0),
            (-2.2, 1.7),
            (3.0, 3.5),
        ] {
            for target in [5, 6] {
                let chosen = ticks(lo, hi, target);
                let drawn = RangedCoordf64::from(lo..hi).key_points(chosen.len());
                assert_eq!(drawn, chosen, "{lo}..{hi}");
            }
        }
    }

    #[test]
    fn tick_labels_never_show_minus_zero() {
        assert_eq!(format_tick(-0.0, 1), "0.0");
        assert_eq!(format_tick(-1e-17, 0), "0");
        assert_eq!(format_tick(-0.5, 1), "-0.5");
    }

    #[test]
    fn a_panel_draws_its_series_title_and_captions() {
        let panel = Panel {
            title: "Accuracy of the model".into(),
            x_label: "step".into(),
            y_label: "value".into(),
            series: vec![line(
                "red",
                RED,
                vec![(0.0, 0.0), (1.0, f64::NAN), (2.0, 1.0), (3.0, 2.0)],
            )],
            legend: true,
            ..Panel::default()
        };
        let img = picture(&panel, 400, 300).unwrap();
        assert_eq!(img.dimensions(), (400, 300));
        assert!(count(&img, RED) > 100, "series missing");
        let ink = |x0: u32, x1: u32, y0: u32, y1: u32| {
            let dark = |p: [u8; 3]| p.iter().all(|&c| c < 100);
            (x0..x1)
                .flat_map(|x| (y0..y1).map(move |y| (x, y)))
                .filter(|&(x, y)| dark(img.get_pixel(x, y).0))
                .count()
        };
        assert!(ink(0, 400, 0, 18) > 5, "no title");
        assert!(ink(0, 400, 270, 300) > 10, "no x caption");
        assert!(ink(0, 18, 0, 300) > 10, "no y caption");
    }

    #[test]
    fn points_with_nan_are_left_out_and_their_neighbours_joined() {
        let panel = |points| Panel {
            series: vec![line("", RED, points)],
            ..Panel::default()
        };
        let with_nan = vec![
            (0.0, 0.0),
            (1.0, f64::NAN),
            (f64::INFINITY, 3.0),
            (2.0, 1.0),
            (3.0, 2.0),
        ];
        let without = vec![(0.0, 0.0), (2.0, 1.0), (3.0, 2.0)];
        assert_eq!(
            picture(&panel(with_nan), 300, 200).unwrap(),
            picture(&panel(without), 300, 200).unwrap()
        );
    }

    #[test]
    fn dots_and_a_lone_point_are_drawn() {
        let mut dots = line("event", RED, vec![(1.0, 1.0), (2.0, 3.0)]);
        dots.style = Style::Dots;
        let lone = line("one", [0, 0, 230], vec![(0.5, 2.0)]);
        let panel = Panel {
            series: vec![dots, lone],
            legend: true,
            ..Panel::default()
        };
        let img = picture(&panel, 300, 200).unwrap();
        assert!(count(&img, RED) > 10);
        assert!(count(&img, [0, 0, 230]) > 5);
    }

    #[test]
    fn data_beyond_the_limits_stay_inside_the_frame() {
        let panel = Panel {
            series: vec![line("", RED, vec![(0.0, 0.5), (1.0, 1.5), (2.0, -0.5)])],
            y_limits: Some((0.0, 1.0)),
            ..Panel::default()
        };
        let ((_, _), (y0, y1)) = axis_ranges(&panel).unwrap();
        assert!(y0 <= -0.5 && y1 >= 1.5, "{y0} {y1}");
        let img = picture(&panel, 300, 200).unwrap();
        let top_rows = image::imageops::crop_imm(&img, 0, 0, 300, 15).to_image();
        assert_eq!(count(&top_rows, RED), 0, "drawn above the frame");
        // Within the limits the axis is the data's, clamped to them.
        let inside = Panel {
            series: vec![line("", RED, vec![(0.0, 0.2), (1.0, 1.0)])],
            y_limits: Some((0.0, 1.0)),
            ..Panel::default()
        };
        let (_, (y0, y1)) = axis_ranges(&inside).unwrap();
        assert!(y0 < 0.2 && y0 > 0.1 && y1 == 1.0, "{y0} {y1}");
    }

    #[test]
    fn a_panel_without_finite_data_or_room_is_an_error() {
        let nan = Panel {
            series: vec![line("", [0, 0, 0], vec![(0.0, f64::NAN)])],
            ..Panel::default()
        };
        assert!(picture(&nan, 400, 300).is_err());
        assert!(picture(&Panel::default(), 400, 300).is_err(), "no series");
        let ok = Panel {
            series: vec![line("", [0, 0, 0], vec![(0.0, 1.0)])],
            ..Panel::default()
        };
        assert!(picture(&ok, 30, 20).is_err());
        assert!(picture(&ok, 400, 300).is_ok());
    }

    #[test]
    fn values_too_large_for_an_axis_are_an_error() {
        let huge = |points| Panel {
            series: vec![line("", RED, points)],
            ..Panel::default()
        };
        assert!(picture(&huge(vec![(0.0, -1e308), (1.0, 1e308)]), 300, 200).is_err());
        assert!(picture(&huge(vec![(-1e308, 0.0), (1e308, 1.0)]), 300, 200).is_err());
        // Huge but finite: drawn, or refused for want of room for its tick labels.
        let _ = picture(&huge(vec![(0.0, -1e300), (1.0, 1e300)]), 300, 200);
        assert!(picture(&huge(vec![(0.0, -1e9), (1.0, 1e9)]), 400, 200).is_ok());
    }

    #[test]
    fn the_legend_takes_the_emptiest_corner() {
        // A rising line fills the top right and bottom left corners.
        let rising = line(
            "a long label",
            RED,
            (0..50).map(|i| (i as f64, i as f64)).collect(),
        );
        let panel = Panel {
            series: vec![rising],
            legend: true,
            ..Panel::default()
        };
        let mut img = canvas::blank(400, 300).unwrap();
        let area = PixelRect {
            x: 0,
            y: 0,
            width: 400,
            height: 300,
        };
        draw_on(&mut img, |root| {
            let chart = ChartBuilder::on(root)
                .build_cartesian_2d(0.0..49.0, 0.0..49.0)
                .map_err(failed("test"))?;
            assert_eq!(
                legend_corner(&chart, &panel, 12.0)?,
                SeriesLabelPosition::UpperLeft
            );
            draw_panel(root, area, &panel, 12.0)
        })
        .unwrap();
    }
}
