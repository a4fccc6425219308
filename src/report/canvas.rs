//! A white RGB canvas and the few shapes the pictures need: filled and outlined rectangles and
//! anti-aliased lines clipped to a rectangle.

use super::heat::PixelRect;
use super::text::blend;
use crate::error::{Error, Result};
use image::{Rgb, RgbImage};

pub const WHITE: [u8; 3] = [255, 255, 255];
pub const TEXT: [u8; 3] = [20, 20, 20];

/// Pictures larger than this on a side are refused: they would come from a wrong shape, not be
/// a picture anyone wants.
const MAX_SIDE: u32 = 20_000;

/// A white canvas of `width` x `height` pixels.
pub fn blank(width: u32, height: u32) -> Result<RgbImage> {
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(Error::invalid(format!(
            "a picture of {width} x {height} pixels is empty or too large (at most {MAX_SIDE} a side)"
        )));
    }
    Ok(RgbImage::from_pixel(width, height, Rgb(WHITE)))
}

/// Fills a rectangle, clipped to the canvas.
pub fn fill_rect(image: &mut RgbImage, x: u32, y: u32, width: u32, height: u32, colour: [u8; 3]) {
    let x_end = x.saturating_add(width).min(image.width());
    let y_end = y.saturating_add(height).min(image.height());
    for yy in y..y_end {
        for xx in x..x_end {
            image.put_pixel(xx, yy, Rgb(colour));
        }
    }
}

/// Draws a one-pixel rectangle outline, clipped to the canvas.
pub fn outline_rect(
    image: &mut RgbImage,
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    colour: [u8; 3],
) {
    if width == 0 || height == 0 {
        return;
    }
    fill_rect(image, x, y, width, 1, colour);
    fill_rect(image, x, y + height - 1, width, 1, colour);
    fill_rect(image, x, y, 1, height, colour);
    fill_rect(image, x + width - 1, y, 1, height, colour);
}

/// Draws an anti-aliased segment of `thickness` pixels from `a` to `b` (pixel-centre
/// coordinates), painting only inside `clip`.
pub fn line(
    image: &mut RgbImage,
    a: (f64, f64),
    b: (f64, f64),
    thickness: f64,
    colour: [u8; 3],
    clip: PixelRect,
) {
    if ![a.0, a.1, b.0, b.1].iter().all(|v| v.is_finite()) {
        return;
    }
    let reach = thickness / 2.0 + 1.0;
    let x0 = (a.0.min(b.0) - reach).floor().max(clip.x as f64) as i64;
    let x1 = (a.0.max(b.0) + reach)
        .ceil()
        .min((clip.x + clip.width) as f64 - 1.0) as i64;
    let y0 = (a.1.min(b.1) - reach).floor().max(clip.y as f64) as i64;
    let y1 = (a.1.max(b.1) + reach)
        .ceil()
        .min((clip.y + clip.height) as f64 - 1.0) as i64;
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length2 = dx * dx + dy * dy;
    for y in y0..=y1 {
        for x in x0..=x1 {
            // Distance from the pixel centre to the segment; coverage falls off over one pixel.
            let (px, py) = (x as f64 - a.0, y as f64 - a.1);
            let t = if length2 > 0.0 {
                ((px * dx + py * dy) / length2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let d = ((px - t * dx).powi(2) + (py - t * dy).powi(2)).sqrt();
            let coverage = (thickness / 2.0 + 0.5 - d).clamp(0.0, 1.0);
            blend(image, x, y, colour, coverage as f32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_paints_its_path_and_stays_inside_the_clip() {
        let mut img = blank(40, 20).unwrap();
        let clip = PixelRect {
            x: 0,
            y: 0,
            width: 30,
            height: 20,
        };
        line(&mut img, (2.0, 10.0), (39.0, 10.0), 2.0, [0, 0, 255], clip);
        assert_eq!(img.get_pixel(10, 10).0, [0, 0, 255]);
        assert_eq!(img.get_pixel(10, 3).0, WHITE);
        assert_eq!(img.get_pixel(35, 10).0, WHITE, "painted outside the clip");
        line(&mut img, (f64::NAN, 1.0), (3.0, 3.0), 1.0, [0, 0, 0], clip);
    }

    #[test]
    fn refuses_empty_and_huge_canvases() {
        assert!(blank(0, 10).is_err());
        assert!(blank(10, 100_000).is_err());
    }
}
