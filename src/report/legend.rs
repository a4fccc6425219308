//! A legend of colour swatches with labels, in as many columns as it needs to stay about as tall
//! as the map beside it.

use super::canvas::{self, TEXT};
use super::text::{self, Align, Pen};
use crate::error::Result;
use image::RgbImage;

/// One legend line: a swatch of `colour` followed by `label`.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    pub colour: [u8; 3],
    pub label: String,
}

impl LegendEntry {
    pub fn new(colour: [u8; 3], label: impl Into<String>) -> Self {
        LegendEntry {
            colour,
            label: label.into(),
        }
    }
}

const TEXT_SIZE: f32 = 14.0;
const ROW: u32 = 20;
const SWATCH: u32 = 14;
const GAP: u32 = 6;
const COLUMN_GAP: u32 = 16;
const MAX_COLUMNS: usize = 4;
const SWATCH_EDGE: [u8; 3] = [128, 128, 128];

/// Where a legend's entries go.
#[derive(Debug, Clone, Copy)]
pub struct LegendLayout {
    rows_per_column: usize,
    column_width: u32,
    pub width: u32,
    pub height: u32,
}

/// Lays out `entries` in columns no taller than `height_hint` where possible (at most four
/// columns; past that the columns grow taller).
pub fn layout(entries: &[LegendEntry], height_hint: u32) -> Result<LegendLayout> {
    let n = entries.len().max(1);
    let fit = ((height_hint / ROW) as usize).max(1);
    let rows_per_column = fit.max(n.div_ceil(MAX_COLUMNS));
    let columns = n.div_ceil(rows_per_column);
    let mut text_width = 0;
    for e in entries {
        text_width = text_width.max(text::size_of(&e.label, TEXT_SIZE)?.0);
    }
    let column_width = SWATCH + GAP + text_width;
    Ok(LegendLayout {
        rows_per_column,
        column_width,
        width: columns as u32 * column_width + (columns as u32 - 1) * COLUMN_GAP,
        height: rows_per_column.min(n) as u32 * ROW,
    })
}

/// Draws `entries` with the legend's top-left corner at `at`.
pub fn draw(
    image: &mut RgbImage,
    entries: &[LegendEntry],
    at: (u32, u32),
    layout: &LegendLayout,
) -> Result<()> {
    for (i, e) in entries.iter().enumerate() {
        let (sx, sy) = entry_position(i, at, layout);
        canvas::fill_rect(image, canvas::PixelRect::square(sx, sy, SWATCH), e.colour);
        canvas::outline_rect(image, canvas::PixelRect::square(sx, sy, SWATCH), SWATCH_EDGE);
        let label_at = ((sx + SWATCH + GAP) as i64, sy as i64 - 1);
        text::draw(image, &e.label, label_at, Pen { size: TEXT_SIZE, colour: TEXT, align: Align::Left })?;
    }
    Ok(())
}

fn entry_position(i: usize, (x, y): (u32, u32), layout: &LegendLayout) -> (u32, u32) {
    let column = (i / layout.rows_per_column) as u32;
    let row = (i % layout.rows_per_column) as u32;
    (
        x + column * (layout.column_width + COLUMN_GAP),
        y + row * ROW,
    )
}
