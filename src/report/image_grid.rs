//! A grid of small grey images (MNIST digits, real or generated): one labelled row per class.
//! Drawn by hand rather than with plotters: it places pixel images side by side, with no axes.

use super::canvas::{self, TEXT};
use super::text::{self, Align, Pen};
use crate::error::{Error, Result};
use image::Rgb;
use image::RgbImage;

/// One row of the grid: a label and images of `side * side` values in [0, 1] (0 black, 1
/// white), row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRow {
    pub label: String,
    pub images: Vec<Vec<f32>>,
}

/// Each image pixel is drawn as a block of this many picture pixels.
pub const IMAGE_SCALE: u32 = 2;
const GAP: u32 = 4;
const MARGIN: u32 = 10;
const TEXT_SIZE: f32 = 14.0;
const TITLE_HEIGHT: u32 = 30;
/// Values may exceed [0, 1] by this much from rounding.
const ROUNDING_SLACK: f32 = 1e-4;

/// Where image `column` of row `row` starts in a grid drawn by [`image_grid`] with the same rows
/// (for callers and tests that look at single images).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridLayout {
    pub left: u32,
    pub top: u32,
    /// Picture pixels from one image (or row) to the next.
    pub pitch: u32,
}

impl GridLayout {
    pub fn image_origin(&self, row: usize, column: usize) -> (u32, u32) {
        (
            self.left + column as u32 * self.pitch,
            self.top + row as u32 * self.pitch,
        )
    }
}

/// Draws the rows under `title`. Images of the wrong size, NaN or values outside [0, 1] are
/// errors.
pub fn image_grid(rows: &[ImageRow], side: usize, title: &str) -> Result<(RgbImage, GridLayout)> {
    if rows.is_empty() || rows.iter().all(|r| r.images.is_empty()) {
        return Err(Error::invalid("image grid: no images to draw"));
    }
    if side == 0 || side > 1024 {
        return Err(Error::invalid(format!(
            "image grid: side {side} is not a usable image size"
        )));
    }
    for r in rows {
        for (i, img) in r.images.iter().enumerate() {
            if img.len() != side * side {
                return Err(Error::invalid(format!(
                    "image grid: image {i} of row {:?} has {} values, expected {side} x {side}",
                    r.label,
                    img.len()
                )));
            }
            if let Some(v) = img
                .iter()
                .find(|v| !(-ROUNDING_SLACK..=1.0 + ROUNDING_SLACK).contains(*v))
            {
                return Err(Error::invalid(format!(
                    "image grid: image {i} of row {:?} has value {v}, outside [0, 1]",
                    r.label
                )));
            }
        }
    }
    let mut label_width = 0;
    for r in rows {
        label_width = label_width.max(text::size_of(&r.label, TEXT_SIZE)?.0);
    }
    let cell = side as u32 * IMAGE_SCALE;
    let pitch = cell + GAP;
    let columns = rows.iter().map(|r| r.images.len()).max().unwrap_or(0) as u32;
    let layout = GridLayout {
        left: MARGIN + label_width + 10,
        top: MARGIN + TITLE_HEIGHT,
        pitch,
    };
    let too_many = || Error::invalid("image grid: too many images to draw");
    let width = columns
        .checked_mul(pitch)
        .and_then(|w| w.checked_add(layout.left + MARGIN))
        .ok_or_else(too_many)?;
    let height = u32::try_from(rows.len())
        .ok()
        .and_then(|n| n.checked_mul(pitch))
        .and_then(|h| h.checked_add(layout.top + MARGIN))
        .ok_or_else(too_many)?;
    let title_width = text::size_of(title, 16.0)?.0 + 2 * MARGIN;
    let mut picture = canvas::blank(width.max(title_width), height)?;
    text::draw(&mut picture, title, (MARGIN as i64, MARGIN as i64 - 2), Pen { size: 16.0, colour: TEXT, align: Align::Left })?;
    for (r, row) in rows.iter().enumerate() {
        let (_, y) = layout.image_origin(r, 0);
        let label_y = (y + cell / 2) as i64 - (TEXT_SIZE * 0.6) as i64;
        text::draw(&mut picture, &row.label, ((layout.left - 10) as i64, label_y), Pen { size: TEXT_SIZE, colour: TEXT, align: Align::Right })?;
        for (c, img) in row.images.iter().enumerate() {
            let (x0, y0) = layout.image_origin(r, c);
            for (i, v) in img.iter().enumerate() {
                let grey = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                let (px, py) = (
                    (i % side) as u32 * IMAGE_SCALE,
                    (i / side) as u32 * IMAGE_SCALE,
                );
                for dy in 0..IMAGE_SCALE {
                    for dx in 0..IMAGE_SCALE {
                        picture.put_pixel(x0 + px + dx, y0 + py + dy, Rgb([grey, grey, grey]));
                    }
                }
            }
        }
    }
    Ok((picture, layout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::save_png;

    /// A 28 x 28 image with one bright pixel at (r, c).
    fn dot(r: usize, c: usize) -> Vec<f32> {
        let mut v = vec![0.0; 28 * 28];
        v[r * 28 + c] = 1.0;
        v
    }

    #[test]
    fn images_land_in_their_cells() {
        let rows: Vec<ImageRow> = (0..3)
            .map(|k| ImageRow {
                label: format!("digit {k}"),
                images: (0..4).map(|i| dot(k * 5, i * 3)).collect(),
            })
            .collect();
        let (img, layout) = image_grid(&rows, 28, "Generated digits").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("digits.png");
        save_png(&path, &img).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert!(img.width() >= layout.left + 4 * layout.pitch);
        assert!(img.height() >= layout.top + 3 * layout.pitch);
        for k in 0..3 {
            for i in 0..4 {
                let (x, y) = layout.image_origin(k, i);
                let (bx, by) = (
                    x + (i * 3) as u32 * IMAGE_SCALE,
                    y + (k * 5) as u32 * IMAGE_SCALE,
                );
                assert_eq!(
                    img.get_pixel(bx + 1, by + 1).0,
                    [255, 255, 255],
                    "row {k} image {i}"
                );
                assert_eq!(
                    img.get_pixel(bx + 2, by + 1).0,
                    [0, 0, 0],
                    "pixel right of the dot"
                );
            }
        }
        // The label column has ink.
        let label_ink =
            (0..layout.left - 10).any(|x| img.get_pixel(x, layout.top + 28).0 != [255, 255, 255]);
        assert!(label_ink);
    }

    #[test]
    fn bad_images_are_errors() {
        let row = |images| {
            vec![ImageRow {
                label: "a".into(),
                images,
            }]
        };
        assert!(image_grid(&[], 28, "t").is_err());
        assert!(image_grid(&row(vec![]), 28, "t").is_err());
        assert!(
            image_grid(&row(vec![vec![0.0; 27 * 28]]), 28, "t").is_err(),
            "wrong size"
        );
        let mut nan = vec![0.0; 28 * 28];
        nan[5] = f32::NAN;
        assert!(image_grid(&row(vec![nan]), 28, "t").is_err(), "NaN");
        assert!(
            image_grid(&row(vec![vec![1.5; 4]]), 2, "t").is_err(),
            "out of range"
        );
        assert!(image_grid(&row(vec![vec![]]), 0, "t").is_err(), "zero side");
    }
}
