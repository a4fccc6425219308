//! The colour scale of per-pixel values in [0, 1] (uncertainty) and its colour bar.

use super::canvas::{PixelRect, TEXT};
use super::text::{self, Align, Pen};
use crate::error::Result;
use image::{Rgb, RgbImage};

/// Viridis at 0, 0.1, ..., 1: perceptually even, readable in grey and by most colour-blind
/// readers. Low values are dark purple, high values yellow.
const VIRIDIS: [[u8; 3]; 11] = [
    [68, 1, 84],
    [72, 36, 117],
    [65, 68, 135],
    [53, 95, 141],
    [42, 120, 142],
    [33, 145, 140],
    [34, 168, 132],
    [68, 191, 112],
    [122, 209, 81],
    [189, 223, 38],
    [253, 231, 37],
];

/// The colour of `value` in [0, 1] (values outside are clamped; the caller rejects NaN).
pub fn heat_colour(value: f32) -> [u8; 3] {
    let t = value.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f32;
    let i = (t.floor() as usize).min(VIRIDIS.len() - 2);
    let f = t - i as f32;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |k: usize| (a[k] as f32 + (b[k] as f32 - a[k] as f32) * f).round() as u8;
    [mix(0), mix(1), mix(2)]
}

pub const BAR_WIDTH: u32 = 20;
const LABEL_GAP: u32 = 6;
const LABEL_SIZE: f32 = 14.0;
const LABEL_WIDTH: u32 = 36;
/// The bar's shortest height, so that its labels never overlap on a thin map.
pub const MIN_BAR_HEIGHT: u32 = 120;

/// Width of the bar with its tick labels.
pub fn bar_panel_width() -> u32 {
    BAR_WIDTH + LABEL_GAP + LABEL_WIDTH
}

/// Paints the bar: its top row is exactly value 1, its bottom row exactly value 0.
pub fn draw_bar(image: &mut RgbImage, bar: PixelRect) {
    let steps = bar.height.saturating_sub(1).max(1) as f32;
    for row in 0..bar.height {
        let colour = heat_colour(1.0 - row as f32 / steps);
        for col in 0..bar.width {
            let (x, y) = (bar.x + col, bar.y + row);
            if x < image.width() && y < image.height() {
                image.put_pixel(x, y, Rgb(colour));
            }
        }
    }
}

/// Writes 1, 0.5 and 0 beside the bar.
pub fn draw_bar_labels(image: &mut RgbImage, bar: PixelRect) -> Result<()> {
    let x = (bar.x + bar.width + LABEL_GAP) as i64;
    let top = bar.y as i64;
    let bottom = (bar.y + bar.height) as i64;
    let line = LABEL_SIZE as i64;
    text::draw(image, "1", (x, top), Pen { size: LABEL_SIZE, colour: TEXT, align: Align::Left })?;
    text::draw(image, "0.5", (x, (top + bottom - line) / 2), Pen { size: LABEL_SIZE, colour: TEXT, align: Align::Left })?;
    text::draw(image, "0", (x, bottom - line), Pen { size: LABEL_SIZE, colour: TEXT, align: Align::Left })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_middle_of_the_scale() {
        assert_eq!(heat_colour(0.0), VIRIDIS[0]);
        assert_eq!(heat_colour(1.0), VIRIDIS[10]);
        assert_eq!(heat_colour(0.5), VIRIDIS[5]);
        assert_eq!(heat_colour(-3.0), VIRIDIS[0]);
        assert_eq!(heat_colour(7.0), VIRIDIS[10]);
        // Halfway between two control points is their mean.
        assert_eq!(heat_colour(0.05), [70, 19, 101]);
    }

    #[test]
    fn the_bar_runs_from_one_at_the_top_to_zero_at_the_bottom() {
        let mut img = RgbImage::new(30, 50);
        let bar = PixelRect {
            x: 5,
            y: 3,
            width: 4,
            height: 41,
        };
        draw_bar(&mut img, bar);
        assert_eq!(img.get_pixel(5, 3).0, heat_colour(1.0));
        assert_eq!(img.get_pixel(8, 43).0, heat_colour(0.0));
        assert_eq!(img.get_pixel(6, 23).0, heat_colour(0.5));
        assert_eq!(
            img.get_pixel(9, 3).0,
            [0, 0, 0],
            "nothing drawn right of the bar"
        );
    }
}
