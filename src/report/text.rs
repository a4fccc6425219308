//! Text in pictures, drawn with a font compiled into the library so that no system fonts are
//! needed (DejaVu Sans; licence in assets/fonts/DejaVuSans-LICENSE.txt).

use crate::error::{Error, Result};
use ab_glyph::{point, Font, FontRef, GlyphId, ScaleFont};
use image::RgbImage;
use std::sync::OnceLock;

pub(super) static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

fn font() -> Result<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(DEJAVU_SANS).ok())
        .as_ref()
        .ok_or_else(|| Error::invalid("the embedded font could not be loaded"))
}

/// Horizontal placement of text relative to the x it is drawn at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A line of text rasterised to coverage values (0 = paper, 1 = ink), row-major.
pub struct TextMask {
    pub width: u32,
    pub height: u32,
    coverage: Vec<f32>,
}

impl TextMask {
    /// The coverage at (`x`, `y`); 0 outside the mask.
    pub fn at(&self, x: u32, y: u32) -> f32 {
        self.coverage
            .get((y * self.width + x) as usize)
            .copied()
            .unwrap_or(0.0)
    }
}

/// Rasterises one line of `text` at `size` pixels (ascent plus descent).
pub fn render(text: &str, size: f32) -> Result<TextMask> {
    let font = font()?;
    let scaled = font.as_scaled(size);
    let ascent = scaled.ascent();
    let height = (ascent - scaled.descent()).ceil().max(1.0) as u32;
    let mut glyphs = Vec::new();
    let mut caret = 0.0f32;
    let mut previous: Option<GlyphId> = None;
    for c in text.chars().filter(|c| !c.is_control()) {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            caret += scaled.kern(p, id);
        }
        glyphs.push(id.with_scale_and_position(size, point(caret, ascent)));
        caret += scaled.h_advance(id);
        previous = Some(id);
    }
    let width = caret.ceil().max(1.0) as u32;
    let mut coverage = vec![0.0f32; (width * height) as usize];
    for glyph in glyphs {
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, c| {
            let x = bounds.min.x as i64 + gx as i64;
            let y = bounds.min.y as i64 + gy as i64;
            if (0..width as i64).contains(&x) && (0..height as i64).contains(&y) {
                let cell = &mut coverage[(y as u32 * width + x as u32) as usize];
                *cell = (*cell + c).min(1.0);
            }
        });
    }
    Ok(TextMask {
        width,
        height,
        coverage,
    })
}

/// Width and height in pixels that `text` takes at `size`.
pub fn size_of(text: &str, size: f32) -> Result<(u32, u32)> {
    let m = render(text, size)?;
    Ok((m.width, m.height))
}

/// How a line of text is drawn: its size in pixels, its colour and which end `x` gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pen {
    pub size: f32,
    pub colour: [u8; 3],
    pub align: Align,
}

/// Draws `text` with the top of its line at `y`; `x` is its left or right end.
pub fn draw(image: &mut RgbImage, text: &str, (x, y): (i64, i64), pen: Pen) -> Result<()> {
    let Pen { size, colour, align } = pen;
    let mask = render(text, size)?;
    let left = match align {
        Align::Left => x,
        Align::Right => x - mask.width as i64,
    };
    for my in 0..mask.height {
        for mx in 0..mask.width {
            blend(
                image,
                left + mx as i64,
                y + my as i64,
                colour,
                mask.at(mx, my),
            );
        }
    }
    Ok(())
}

/// Mixes `colour` into the pixel at (x, y) with weight `alpha`; points off the canvas are
/// ignored.
pub fn blend(image: &mut RgbImage, x: i64, y: i64, colour: [u8; 3], alpha: f32) {
    if alpha <= 0.0 || x < 0 || y < 0 || x >= image.width() as i64 || y >= image.height() as i64 {
        return;
    }
    let a = alpha.min(1.0);
    let p = image.get_pixel_mut(x as u32, y as u32);
    for (channel, &target) in p.0.iter_mut().zip(&colour) {
        *channel = (*channel as f32 * (1.0 - a) + target as f32 * a).round() as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn text_has_ink_and_grows_with_length() {
        let short = render("Corn", 14.0).unwrap();
        let long = render("Corn-notill", 14.0).unwrap();
        assert!(long.width > short.width);
        assert_eq!(short.height, long.height);
        assert!(short.coverage.iter().any(|&c| c > 0.9), "no solid ink");
        assert!(render("", 14.0).unwrap().coverage.iter().all(|&c| c == 0.0));
    }

    #[test]
    fn letters_do_not_touch() {
        // "cl" must show a gap column between the letters (a renderer that ignores side
        // bearings fuses them into a "d").
        let m = render("cl", 40.0).unwrap();
        let column_ink = |x: u32| (0..m.height).map(|y| m.at(x, y)).sum::<f32>();
        let inked: Vec<bool> = (0..m.width).map(|x| column_ink(x) > 0.05).collect();
        let first = inked.iter().position(|&i| i).unwrap();
        let last = inked.iter().rposition(|&i| i).unwrap();
        assert!(
            inked[first..=last].iter().any(|&i| !i),
            "no gap between c and l"
        );
    }

    #[test]
    fn drawing_blends_ink_into_the_canvas_and_clips() {
        let mut img = RgbImage::from_pixel(60, 30, Rgb([255, 255, 255]));
        draw(&mut img, "Hi", (2, 2), Pen { size: 20.0, colour: [0, 0, 0], align: Align::Left }).unwrap();
        assert!(img.pixels().any(|p| p.0 == [0, 0, 0]));
        // Partly and wholly off the canvas: no panic.
        draw(&mut img, "Hello", (-10, 25), Pen { size: 20.0, colour: [0, 0, 0], align: Align::Left }).unwrap();
        draw(&mut img, "Hello", (1000, 1000), Pen { size: 20.0, colour: [0, 0, 0], align: Align::Right })
        .unwrap();
    }
}
