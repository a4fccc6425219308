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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_empty_and_huge_canvases() {
        assert!(blank(0, 10).is_err());
        assert!(blank(10, 100_000).is_err());
    }
}
