//! A white RGB canvas and the few shapes the maps need: filled and outlined rectangles (the
//! charts' lines are plotters', in [`super::chart`]).

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

/// A rectangle of a picture, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelRect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl PixelRect {
    /// A `side` x `side` square with its top-left corner at `(x, y)`.
    pub fn square(x: u32, y: u32, side: u32) -> PixelRect {
        PixelRect { x, y, width: side, height: side }
    }
}

/// Fills a rectangle, clipped to the canvas.
pub fn fill_rect(image: &mut RgbImage, r: PixelRect, colour: [u8; 3]) {
    let x_end = r.x.saturating_add(r.width).min(image.width());
    let y_end = r.y.saturating_add(r.height).min(image.height());
    for yy in r.y..y_end {
        for xx in r.x..x_end {
            image.put_pixel(xx, yy, Rgb(colour));
        }
    }
}

/// Draws a one-pixel rectangle outline, clipped to the canvas.
pub fn outline_rect(image: &mut RgbImage, r: PixelRect, colour: [u8; 3]) {
    if r.width == 0 || r.height == 0 {
        return;
    }
    let (right, bottom) = (r.x + r.width - 1, r.y + r.height - 1);
    fill_rect(image, PixelRect { height: 1, ..r }, colour);
    fill_rect(image, PixelRect { y: bottom, height: 1, ..r }, colour);
    fill_rect(image, PixelRect { width: 1, ..r }, colour);
    fill_rect(image, PixelRect { x: right, width: 1, ..r }, colour);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_empty_and_huge_canvases() {
        assert!(blank(0, 10).is_err());
        assert!(blank(10, 100_000).is_err());
    }

    #[test]
    fn an_outline_is_the_rectangles_border_and_clips_at_the_canvas() {
        let mut image = blank(6, 5).unwrap();
        outline_rect(&mut image, PixelRect { x: 1, y: 1, width: 4, height: 3 }, TEXT);
        for y in 0..5 {
            for x in 0..6 {
                let border = (1..=4).contains(&x) && (1..=3).contains(&y) && (x == 1 || x == 4 || y == 1 || y == 3);
                assert_eq!(image.get_pixel(x, y).0 == TEXT, border, "({x}, {y})");
            }
        }
        // Beyond the canvas nothing is drawn and nothing panics.
        fill_rect(&mut image, PixelRect::square(4, 3, 10), TEXT);
        assert_eq!(image.get_pixel(5, 4).0, TEXT);
        assert_eq!(image.get_pixel(3, 4).0, WHITE);
    }
}
