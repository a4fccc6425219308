//! Per-pixel maps of a scene: classes (prediction or ground truth), right and wrong test pixels,
//! and uncertainty. Small scenes are upscaled by whole pixels (nearest neighbour) so that a
//! 145 x 145 scene is legible; a legend or colour bar stands to the right of the map. Drawn by
//! hand rather than with plotters: a map is a pixel image, each scene pixel one block of colour.

use super::canvas::{self, PixelRect, TEXT};
use super::heat;
use super::legend::{self, LegendEntry};
use super::palette;
use super::text::{self, Align, Pen};
use crate::error::{Error, Result};
use image::{Rgb, RgbImage};

/// Scenes are upscaled until their long side is at least this many pixels.
pub const MIN_LONG_SIDE: usize = 580;

const MARGIN: u32 = 16;
const TITLE_SIZE: f32 = 18.0;
const TITLE_HEIGHT: u32 = 30;
const SIDE_GAP: u32 = 24;

/// Colours of the errors map.
pub const CORRECT: [u8; 3] = [0, 170, 0];
pub const WRONG: [u8; 3] = [220, 0, 0];
pub const NOT_TESTED: [u8; 3] = [64, 64, 64];

/// A rendered map and where the scene lies in it.
#[derive(Debug, Clone)]
pub struct MapPicture {
    pub image: RgbImage,
    /// Scene size in scene pixels.
    pub height: usize,
    pub width: usize,
    /// Each scene pixel is a `scale` x `scale` block of the picture.
    pub scale: u32,
    /// Picture coordinates (x, y) of the scene's top-left corner.
    pub origin: (u32, u32),
    /// Where the colour bar is, for maps that have one (value 1 on its top row, 0 on its bottom).
    pub colour_bar: Option<PixelRect>,
}

impl MapPicture {
    /// The colour drawn for scene pixel (`row`, `col`), None outside the scene.
    pub fn scene_pixel(&self, row: usize, col: usize) -> Option<[u8; 3]> {
        if row >= self.height || col >= self.width {
            return None;
        }
        let x = u32::try_from(col)
            .ok()?
            .checked_mul(self.scale)?
            .checked_add(self.origin.0)?;
        let y = u32::try_from(row)
            .ok()?
            .checked_mul(self.scale)?
            .checked_add(self.origin.1)?;
        self.image.get_pixel_checked(x, y).map(|p| p.0)
    }
}

/// Anything that can stand for one pixel's class: `Option<usize>` (None = unlabelled), a plain
/// index where every pixel has a class, or the `Option<u16>` of a label map.
pub trait PixelClass: Copy {
    fn class(self) -> Option<usize>;
}

impl PixelClass for Option<usize> {
    fn class(self) -> Option<usize> {
        self
    }
}

impl PixelClass for Option<u16> {
    fn class(self) -> Option<usize> {
        self.map(usize::from)
    }
}

impl PixelClass for usize {
    fn class(self) -> Option<usize> {
        Some(self)
    }
}

/// How the upscale is chosen: the smallest whole factor that brings the long side to
/// [`MIN_LONG_SIDE`] pixels (1 for scenes already that large).
pub fn upscale_factor(height: usize, width: usize) -> u32 {
    let long = height.max(width).max(1);
    MIN_LONG_SIDE.div_ceil(long).max(1) as u32
}

/// The class map of a scene: `labels` holds `height * width` pixels in row-major order, each a
/// class index into `class_names` or unlabelled (drawn black). The legend lists every class
/// (so colours read the same across pictures), and "unlabelled" when some pixel is.
pub fn class_map<L: PixelClass, S: AsRef<str>>(
    labels: &[L],
    height: usize,
    width: usize,
    class_names: &[S],
    title: &str,
) -> Result<MapPicture> {
    check_size(labels.len(), height, width, "class map")?;
    let mut colours = Vec::with_capacity(labels.len());
    let mut any_unlabelled = false;
    for (i, l) in labels.iter().enumerate() {
        match l.class() {
            Some(k) if k < class_names.len() => colours.push(palette::class_colour(k)),
            Some(k) => {
                return Err(Error::invalid(format!(
                    "class map: pixel {i} has class {k}, but there are only {} class names",
                    class_names.len()
                )))
            }
            None => {
                any_unlabelled = true;
                colours.push(palette::BACKGROUND);
            }
        }
    }
    let mut entries: Vec<LegendEntry> = class_names
        .iter()
        .enumerate()
        .map(|(k, name)| LegendEntry::new(palette::class_colour(k), name.as_ref()))
        .collect();
    if any_unlabelled {
        entries.push(LegendEntry::new(palette::BACKGROUND, "unlabelled"));
    }
    render(&colours, height, width, title, Side::Legend(entries))
}

/// What happened to one pixel in the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not a test pixel.
    NotTested,
    Correct,
    Wrong,
}

/// Compares the true class of test pixels (None for pixels outside the test set) with the
/// prediction of every pixel.
pub fn outcomes<L: PixelClass>(test_truth: &[L], predicted: &[usize]) -> Result<Vec<Outcome>> {
    if test_truth.len() != predicted.len() {
        return Err(Error::invalid(format!(
            "errors map: {} true labels but {} predictions",
            test_truth.len(),
            predicted.len()
        )));
    }
    Ok(test_truth
        .iter()
        .zip(predicted)
        .map(|(t, &p)| match t.class() {
            None => Outcome::NotTested,
            Some(t) if t == p => Outcome::Correct,
            Some(_) => Outcome::Wrong,
        })
        .collect())
}

/// Right (green) and wrong (red) test pixels; all others dark grey. The legend gives counts.
pub fn errors_map(
    outcomes: &[Outcome],
    height: usize,
    width: usize,
    title: &str,
) -> Result<MapPicture> {
    check_size(outcomes.len(), height, width, "errors map")?;
    let count = |o: Outcome| outcomes.iter().filter(|&&x| x == o).count();
    let (right, wrong) = (count(Outcome::Correct), count(Outcome::Wrong));
    let share = |k: usize| 100.0 * k as f64 / (right + wrong).max(1) as f64;
    let entries = vec![
        LegendEntry::new(CORRECT, format!("correct: {right} ({:.1} %)", share(right))),
        LegendEntry::new(WRONG, format!("wrong: {wrong} ({:.1} %)", share(wrong))),
        LegendEntry::new(NOT_TESTED, "not a test pixel"),
    ];
    let colours: Vec<[u8; 3]> = outcomes
        .iter()
        .map(|o| match o {
            Outcome::NotTested => NOT_TESTED,
            Outcome::Correct => CORRECT,
            Outcome::Wrong => WRONG,
        })
        .collect();
    render(&colours, height, width, title, Side::Legend(entries))
}

/// Values may exceed [0, 1] by this much from rounding (an entropy over ln K of 1.0000001).
const ROUNDING_SLACK: f32 = 1e-4;

/// A heat map of one value in [0, 1] per pixel (uncertainty: 0 sure, 1 no idea) with a colour
/// bar. NaN, infinite and out-of-range values are errors: they mean a bug upstream.
pub fn uncertainty_map(
    values: &[f32],
    height: usize,
    width: usize,
    title: &str,
) -> Result<MapPicture> {
    check_size(values.len(), height, width, "uncertainty map")?;
    if let Some((i, v)) = values
        .iter()
        .enumerate()
        .find(|(_, v)| !(-ROUNDING_SLACK..=1.0 + ROUNDING_SLACK).contains(*v))
    {
        return Err(Error::invalid(format!(
            "uncertainty map: pixel {i} has value {v}, outside [0, 1]"
        )));
    }
    let colours: Vec<[u8; 3]> = values.iter().map(|&v| heat::heat_colour(v)).collect();
    render(&colours, height, width, title, Side::ColourBar)
}

fn check_size(len: usize, height: usize, width: usize, what: &str) -> Result<()> {
    if height == 0 || width == 0 {
        return Err(Error::invalid(format!(
            "{what}: the scene is {height} x {width}, which is empty"
        )));
    }
    match height.checked_mul(width) {
        Some(n) if n == len => Ok(()),
        _ => Err(Error::invalid(format!(
            "{what}: {len} pixel values for a {height} x {width} scene"
        ))),
    }
}

enum Side {
    Legend(Vec<LegendEntry>),
    ColourBar,
}

/// Lays out title, map and side panel, and paints them. `colours` is checked to be
/// `height * width` long by the caller.
fn render(
    colours: &[[u8; 3]],
    height: usize,
    width: usize,
    title: &str,
    side: Side,
) -> Result<MapPicture> {
    let scale = upscale_factor(height, width);
    let too_large = || Error::invalid(format!("a {height} x {width} scene is too large to draw"));
    let map_w = u32::try_from(width)
        .ok()
        .and_then(|w| w.checked_mul(scale))
        .ok_or_else(too_large)?;
    let map_h = u32::try_from(height)
        .ok()
        .and_then(|h| h.checked_mul(scale))
        .ok_or_else(too_large)?;
    let (side_w, side_h) = match &side {
        Side::Legend(entries) => {
            let l = legend::layout(entries, map_h)?;
            (l.width, l.height)
        }
        Side::ColourBar => (heat::bar_panel_width(), map_h.max(heat::MIN_BAR_HEIGHT)),
    };
    let origin = (MARGIN, MARGIN + TITLE_HEIGHT);
    let side_at = (
        origin.0.saturating_add(map_w).saturating_add(SIDE_GAP),
        origin.1,
    );
    let title_w = text::size_of(title, TITLE_SIZE)?.0;
    let canvas_w = side_at
        .0
        .saturating_add(side_w)
        .max(MARGIN.saturating_add(title_w))
        .saturating_add(MARGIN);
    let canvas_h = origin
        .1
        .saturating_add(map_h.max(side_h))
        .saturating_add(MARGIN);
    let mut image = canvas::blank(canvas_w, canvas_h)?;

    for (i, colour) in colours.iter().enumerate() {
        let (row, col) = ((i / width) as u32, (i % width) as u32);
        let (x, y) = (origin.0 + col * scale, origin.1 + row * scale);
        for dy in 0..scale {
            for dx in 0..scale {
                image.put_pixel(x + dx, y + dy, Rgb(*colour));
            }
        }
    }

    let mut colour_bar = None;
    match &side {
        Side::Legend(entries) => {
            let l = legend::layout(entries, map_h)?;
            legend::draw(&mut image, entries, side_at, &l)?;
        }
        Side::ColourBar => {
            let bar = PixelRect {
                x: side_at.0,
                y: side_at.1,
                width: heat::BAR_WIDTH,
                height: side_h,
            };
            heat::draw_bar(&mut image, bar);
            heat::draw_bar_labels(&mut image, bar)?;
            colour_bar = Some(bar);
        }
    }
    text::draw(&mut image, title, (MARGIN as i64, MARGIN as i64 - 2), Pen { size: TITLE_SIZE, colour: TEXT, align: Align::Left })?;
    Ok(MapPicture {
        image,
        height,
        width,
        scale,
        origin,
        colour_bar,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::save_png;

    /// Writes the picture as PNG and decodes it again, as a reader of the run directory would.
    fn through_png(p: &MapPicture) -> MapPicture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("map.png");
        save_png(&path, &p.image).unwrap();
        let image = image::open(&path).unwrap().to_rgb8();
        MapPicture { image, ..p.clone() }
    }

    fn count_colour(img: &RgbImage, colour: [u8; 3], x_from: u32) -> usize {
        img.enumerate_pixels()
            .filter(|(x, _, p)| *x >= x_from && p.0 == colour)
            .count()
    }

    #[test]
    #[cfg(feature = "embedded-data")]
    fn indian_pines_ground_truth_map() {
        let Some(gt) = crate::data::testdata::indian_pines_gt() else { return };
        let labels: Vec<Option<usize>> = gt.iter().map(|&v| (v as usize).checked_sub(1)).collect();
        let names = crate::data::embedded::CLASS_NAMES;
        let p = through_png(
            &class_map(&labels, 145, 145, &names, "Indian Pines ground truth").unwrap(),
        );
        assert_eq!(p.scale, 4);
        for r in 0..145 {
            for c in 0..145 {
                let expected =
                    labels[r * 145 + c].map_or(palette::BACKGROUND, palette::class_colour);
                assert_eq!(p.scene_pixel(r, c), Some(expected), "pixel ({r}, {c})");
            }
        }
        // 10,249 labelled pixels: the rest of the map is black.
        let map_side = 145 * p.scale;
        let black_in_map = (0..map_side)
            .flat_map(|y| (0..map_side).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                p.image.get_pixel(p.origin.0 + x, p.origin.1 + y).0 == palette::BACKGROUND
            })
            .count();
        assert_eq!(black_in_map, (145 * 145 - 10_249) * 16);
    }

    #[test]
    fn upscale_brings_the_long_side_to_580() {
        assert_eq!(upscale_factor(145, 145), 4);
        assert_eq!(upscale_factor(512, 217), 2);
        assert_eq!(upscale_factor(610, 340), 1);
        assert_eq!(upscale_factor(1, 1), 580);
    }

    #[test]
    fn class_map_pixels_take_the_palette_colour_and_unlabelled_is_black() {
        let (h, w) = (5, 7);
        let labels: Vec<Option<usize>> = (0..h * w)
            .map(|i| if i % 4 == 3 { None } else { Some(i % 3) })
            .collect();
        let names = ["Corn", "Grass", "Woods"];
        let p = through_png(&class_map(&labels, h, w, &names, "Ground truth").unwrap());
        assert_eq!(p.scale, upscale_factor(h, w));
        for (r, c) in [(0, 0), (0, 3), (1, 2), (2, 6), (4, 6), (3, 1)] {
            let expected = match labels[r * w + c] {
                Some(k) => palette::class_colour(k),
                None => palette::BACKGROUND,
            };
            assert_eq!(p.scene_pixel(r, c), Some(expected), "pixel ({r}, {c})");
            // The last picture pixel of the block too: the upscale is whole blocks.
            let x = p.origin.0 + (c as u32 + 1) * p.scale - 1;
            let y = p.origin.1 + (r as u32 + 1) * p.scale - 1;
            assert_eq!(
                p.image.get_pixel(x, y).0,
                expected,
                "block corner of ({r}, {c})"
            );
        }
        assert_eq!(p.scene_pixel(h, 0), None);
        // The legend stands right of the map and shows every class colour and black.
        let map_right = p.origin.0 + w as u32 * p.scale;
        assert!(p.image.width() > map_right + 50);
        for k in 0..names.len() {
            assert!(
                count_colour(&p.image, palette::class_colour(k), map_right) >= 100,
                "no swatch for class {k}"
            );
        }
        assert!(
            count_colour(&p.image, palette::BACKGROUND, map_right) >= 100,
            "no unlabelled swatch"
        );
    }

    #[test]
    fn class_map_takes_label_map_and_plain_indices() {
        let from_label_map: Vec<Option<u16>> = vec![Some(1), None, Some(0), Some(1)];
        let p = class_map(&from_label_map, 2, 2, &["a", "b"], "t").unwrap();
        assert_eq!(p.scene_pixel(0, 0), Some(palette::class_colour(1)));
        assert_eq!(p.scene_pixel(0, 1), Some(palette::BACKGROUND));
        let every_pixel: Vec<usize> = vec![0, 1, 1, 0];
        let p = class_map(&every_pixel, 2, 2, &["a", "b"], "t").unwrap();
        assert_eq!(p.scene_pixel(1, 0), Some(palette::class_colour(1)));
        // Nothing is unlabelled, so the legend has no black swatch.
        assert_eq!(
            count_colour(&p.image, palette::BACKGROUND, p.origin.0 + 2 * p.scale),
            0
        );
    }

    #[test]
    fn bad_class_map_input_is_an_error() {
        let labels = vec![Some(0usize); 11];
        assert!(
            class_map(&labels, 3, 4, &["a"], "t").is_err(),
            "length != height * width"
        );
        assert!(
            class_map(&labels[..0], 0, 4, &["a"], "t").is_err(),
            "empty scene"
        );
        assert!(
            class_map(&labels, usize::MAX, 2, &["a"], "t").is_err(),
            "overflowing size"
        );
        let labels = vec![Some(0usize), Some(2)];
        assert!(
            class_map(&labels, 1, 2, &["a", "b"], "t").is_err(),
            "class past the names"
        );
    }

    #[test]
    fn errors_map_colours_right_wrong_and_untested() {
        let truth = vec![Some(0usize), Some(1), None, Some(2)];
        let predicted = vec![0usize, 2, 1, 2];
        let o = outcomes(&truth, &predicted).unwrap();
        assert_eq!(
            o,
            vec![
                Outcome::Correct,
                Outcome::Wrong,
                Outcome::NotTested,
                Outcome::Correct
            ]
        );
        let p = through_png(&errors_map(&o, 2, 2, "Test pixels").unwrap());
        assert_eq!(p.scene_pixel(0, 0), Some(CORRECT));
        assert_eq!(p.scene_pixel(0, 1), Some(WRONG));
        assert_eq!(p.scene_pixel(1, 0), Some(NOT_TESTED));
        assert_eq!(p.scene_pixel(1, 1), Some(CORRECT));
        assert!(outcomes(&truth, &predicted[..3]).is_err());
        assert!(errors_map(&o, 3, 2, "t").is_err());
    }

    #[test]
    fn uncertainty_zero_and_one_take_the_colour_bar_ends() {
        let values = vec![0.0f32, 1.0, 0.5, 0.25, 1.00001, 0.0];
        let p = through_png(&uncertainty_map(&values, 2, 3, "Uncertainty").unwrap());
        let bar = p.colour_bar.unwrap();
        let top = p.image.get_pixel(bar.x + bar.width / 2, bar.y).0;
        let bottom = p
            .image
            .get_pixel(bar.x + bar.width / 2, bar.y + bar.height - 1)
            .0;
        assert_eq!(p.scene_pixel(0, 1), Some(top), "1 is the top of the bar");
        assert_eq!(
            p.scene_pixel(0, 0),
            Some(bottom),
            "0 is the bottom of the bar"
        );
        assert_ne!(top, bottom);
        assert_eq!(p.scene_pixel(0, 2), Some(heat::heat_colour(0.5)));
        assert!(
            bar.x >= p.origin.0 + 3 * p.scale,
            "the bar is beside the map"
        );
    }

    #[test]
    fn uncertainty_rejects_nan_and_out_of_range() {
        assert!(uncertainty_map(&[0.2, f32::NAN], 1, 2, "u").is_err());
        assert!(uncertainty_map(&[0.2, 1.5], 1, 2, "u").is_err());
        assert!(uncertainty_map(&[-0.1, 0.5], 1, 2, "u").is_err());
        assert!(uncertainty_map(&[0.2, 0.5, 0.1], 1, 2, "u").is_err());
    }
}
