//! plotters' bitmap backend over an [`RgbImage`], on which the charts are drawn, with two
//! changes to plotters' own drawing:
//!
//! - text is drawn by [`super::text`]: plotters 0.3.7's ab_glyph renderer drops each glyph's
//!   side bearing and rounds its pen position down, so at 14 px the letters sit unevenly
//!   ("l ower b ound"). plotters still measures text with the embedded font (its `ab_glyph`
//!   feature, the font registered here), for the legend's box; no system font is used;
//! - a path wider than a pixel is drawn as side-by-side anti-aliased one-pixel paths: plotters
//!   outlines it as a polygon with mitred corners and no anti-aliasing, so a jagged spectrum
//!   grows spikes several pixels long and its steps show.

use super::canvas::TEXT;
use super::text;
use crate::error::{Error, Result};
use image::RgbImage;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use plotters_backend::text_anchor::{HPos, Pos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendTextStyle, DrawingErrorKind};
use std::sync::OnceLock;

/// The family name the embedded font is registered under with plotters (its own name, so that
/// it never replaces a font another part of a program registered).
const FONT: &str = "hyperssl-dejavu-sans";

/// A plotters colour from an RGB triple.
pub fn rgb([r, g, b]: [u8; 3]) -> RGBColor {
    RGBColor(r, g, b)
}

/// The embedded font at `size` pixels in the crate's text colour.
pub fn font(size: f64) -> TextStyle<'static> {
    (FONT, size).into_font().color(&rgb(TEXT))
}

type BitmapError = <BitMapBackend<'static> as DrawingBackend>::ErrorType;
type Drawn = std::result::Result<(), DrawingErrorKind<BitmapError>>;
/// A drawing area of a picture being drawn.
pub type Area<'a> = DrawingArea<Paper<'a>, Shift>;

/// plotters' bitmap backend with the crate's text and wide lines. Lines, rectangles and circles
/// are plotters' defaults on top of [`DrawingBackend::draw_pixel`].
pub struct Paper<'a>(BitMapBackend<'a>);

impl DrawingBackend for Paper<'_> {
    type ErrorType = BitmapError;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Drawn {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Drawn {
        self.0.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, colour: BackendColor) -> Drawn {
        self.0.draw_pixel(point, colour)
    }

    fn draw_path<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Drawn {
        let width = style.stroke_width() as i32;
        if width == 0 {
            return Ok(());
        }
        let points: Vec<BackendCoord> = path.into_iter().collect();
        for pair in points.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            // Copies side by side across the segment's shorter extent, as many as keep its
            // width across the segment itself.
            let (dx, dy) = (f64::from(b.0 - a.0), f64::from(b.1 - a.1));
            let steep = dy.abs() > dx.abs();
            let across = dx.hypot(dy) / dx.abs().max(dy.abs()).max(1.0);
            let copies = ((f64::from(width) * across).round() as i32).max(1);
            for k in -(copies - 1) / 2..=copies / 2 {
                let shift = |(x, y): BackendCoord| if steep { (x + k, y) } else { (x, y + k) };
                self.draw_line(shift(a), shift(b), &style.color())?;
            }
        }
        Ok(())
    }

    /// Draws the text's coverage mask at its anchor, turned as the style says (the y axis's
    /// caption is turned a quarter anticlockwise).
    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Drawn {
        let mask = text::render(text, style.size() as f32)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (mask.width as i32, mask.height as i32);
        let Pos { h_pos, v_pos } = style.anchor();
        let dx = match h_pos {
            HPos::Left => 0,
            HPos::Center => -width / 2,
            HPos::Right => -width,
        };
        let dy = match v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let (colour, turn) = (style.color(), style.transform());
        for my in 0..mask.height {
            for mx in 0..mask.width {
                let ink = mask.at(mx, my);
                if ink > 0.0 {
                    let (x, y) = turn.transform(mx as i32 + dx, my as i32 + dy);
                    self.draw_pixel((pos.0 + x, pos.1 + y), colour.mix(f64::from(ink)))?;
                }
            }
        }
        Ok(())
    }

    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> std::result::Result<(u32, u32), DrawingErrorKind<BitmapError>> {
        text::size_of(text, style.size() as f32)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))
    }
}

/// Registers the embedded font with plotters once per process.
fn register_embedded_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let registered = REGISTERED
        .get_or_init(|| register_font(FONT, FontStyle::Normal, text::DEJAVU_SANS).is_ok());
    if *registered {
        Ok(())
    } else {
        Err(Error::invalid(
            "the embedded font could not be registered with plotters",
        ))
    }
}

/// A plotters error as the crate's, naming what was being drawn.
pub fn failed<E: std::error::Error + Send + Sync>(
    what: &str,
) -> impl Fn(DrawingAreaErrorKind<E>) -> Error + '_ {
    move |e| Error::invalid(format!("{what}: cannot draw: {e}"))
}

/// Runs `draw` on a plotters drawing area over the whole of `image`.
pub fn draw_on(image: &mut RgbImage, draw: impl FnOnce(&Area<'_>) -> Result<()>) -> Result<()> {
    register_embedded_font()?;
    let (width, height) = image.dimensions();
    let bitmap = BitMapBackend::with_buffer_and_format(image, (width, height))
        .map_err(|e| Error::invalid(format!("a picture of {width} x {height} pixels: {e}")))?;
    let root = Paper(bitmap).into_drawing_area();
    draw(&root)?;
    root.present().map_err(failed("picture"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::canvas;

    /// The inked pixels' bounding box (x0, y0, x1, y1), inclusive.
    fn ink_box(img: &RgbImage) -> Option<(u32, u32, u32, u32)> {
        let inked = img
            .enumerate_pixels()
            .filter(|(_, _, p)| p.0 != canvas::WHITE);
        inked.fold(None, |b, (x, y, _)| {
            let (x0, y0, x1, y1) = b.unwrap_or((x, y, x, y));
            Some((x0.min(x), y0.min(y), x1.max(x), y1.max(y)))
        })
    }

    #[test]
    fn text_is_anchored_turned_and_clipped() {
        let mut img = canvas::blank(200, 200).unwrap();
        let (w, h) = text::size_of("bound (nats)", 14.0).unwrap();
        draw_on(&mut img, |root| {
            let turned = font(14.0).transform(FontTransform::Rotate270);
            root.draw_text("bound (nats)", &turned, (20, 150))
                .map_err(failed("test"))?;
            // Off the picture: nothing drawn, no error.
            root.draw_text("bound (nats)", &font(14.0), (300, 300))
                .map_err(failed("test"))?;
            root.draw_text("bound (nats)", &font(14.0), (-300, 10))
                .map_err(failed("test"))
        })
        .unwrap();
        let (x0, y0, x1, y1) = ink_box(&img).unwrap();
        // Read from bottom to top: as tall as the text is long, about as wide as it is high.
        assert!(
            y1 <= 150 && y1 + 5 >= 150 && y1 - y0 + 5 >= w && y1 - y0 <= w,
            "{y0} {y1} {w}"
        );
        assert!(x0 >= 20 && x1 < 20 + h, "{x0} {x1} {h}");
        let dark = img
            .pixels()
            .filter(|p| p.0.iter().all(|&c| c < 100))
            .count();
        assert!(dark > 20, "no dark ink");
    }

    #[test]
    fn text_is_the_crates_own_rendering() {
        // The same glyph positions as text::draw (side bearings and kerning kept), to within
        // plotters' rounding of the ink's alpha to 1/256.
        let mut ours = canvas::blank(160, 30).unwrap();
        text::draw(&mut ours, "lower bound", (5, 5), text::Pen { size: 14.0, colour: TEXT, align: text::Align::Left })
        .unwrap();
        let mut img = canvas::blank(160, 30).unwrap();
        draw_on(&mut img, |root| {
            root.draw_text("lower bound", &font(14.0), (5, 5))
                .map_err(failed("test"))
        })
        .unwrap();
        let close = |a: &image::Rgb<u8>, b: &image::Rgb<u8>| {
            a.0.iter().zip(&b.0).all(|(&x, &y)| x.abs_diff(y) <= 2)
        };
        assert!(img.pixels().zip(ours.pixels()).all(|(a, b)| close(a, b)));
        assert!(ink_box(&img).is_some());
    }

    #[test]
    fn a_wide_zigzag_stays_close_to_its_path() {
        // Sharp turns: plotters' mitred outline would overshoot the peaks by several pixels.
        let path: Vec<BackendCoord> = (0..20)
            .map(|i| (10 + 5 * i, if i % 2 == 0 { 60 } else { 20 }))
            .collect();
        let mut img = canvas::blank(120, 80).unwrap();
        draw_on(&mut img, |root| {
            let style = rgb([0, 0, 0]).stroke_width(2);
            root.draw(&PathElement::new(path.clone(), style))
                .map_err(failed("test"))
        })
        .unwrap();
        let (_, y0, _, y1) = ink_box(&img).unwrap();
        assert!(y0 >= 18 && y1 <= 62, "ink from row {y0} to {y1}");
        // Two pixels wide: the middle of a flat stretch is inked on two rows at least.
        let flat = [(10, 20), (30, 20)];
        let mut img = canvas::blank(40, 40).unwrap();
        draw_on(&mut img, |root| {
            root.draw(&PathElement::new(flat, rgb([0, 0, 0]).stroke_width(2)))
                .map_err(failed("test"))
        })
        .unwrap();
        let rows = (0..40)
            .filter(|&y| img.get_pixel(20, y).0 != canvas::WHITE)
            .count();
        assert!(rows >= 2, "{rows} rows");
    }

    #[test]
    fn plotters_errors_become_the_crates_naming_the_picture() {
        let e = failed("plot \"accuracy\"")(DrawingAreaErrorKind::<BitmapError>::LayoutError);
        assert!(matches!(e, Error::Invalid(_)));
        assert!(
            e.to_string().starts_with("plot \"accuracy\": cannot draw"),
            "{e}"
        );
        let mut img = canvas::blank(10, 10).unwrap();
        let e = draw_on(&mut img, |_| Err(Error::invalid("inner"))).unwrap_err();
        assert_eq!(e.to_string(), "inner");
    }
}
