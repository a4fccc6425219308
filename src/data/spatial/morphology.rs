//! Morphological profiles (after the extended morphological profiles of Benediktsson,
//! Palmason and Sveinsson, 2005): openings and closings by reconstruction of the leading
//! principal components, starting from disks of several radii. An opening by reconstruction
//! lowers a bright structure that no disk of the radius fits into to the level of its
//! surroundings and leaves the others exactly as they are; so the profile of a pixel says how
//! large the structure it belongs to is, in each component, without blurring it into its
//! neighbours the way a mean does.
//!
//! The reconstruction is bounded: `steps` geodesic dilations (erosions for a closing) of 3 x 3
//! pixels, not as many as it takes to stop. So a pixel's profile reads only the pixels within
//! `radius + steps` of it, and any band of rows can be computed from the rows around it, as
//! every other spatial feature can; a structure wider than `2 steps` is reconstructed as far
//! as `steps` from where its marker survived.

use serde::{Deserialize, Serialize};
use std::ops::Range;

use super::filters::{window, Image};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MorphologyConfig {
    /// Leading principal components profiled (0: no profiles; all the spatial features keep,
    /// when they keep fewer).
    pub components: usize,
    /// Radii of the disks the openings and closings start from (a disk of radius r holds the
    /// pixels within Euclidean distance r of its centre).
    pub radii: Vec<usize>,
    /// Geodesic steps of each reconstruction: how far, in pixels, it reaches.
    pub steps: usize,
    /// Weight of the profiles beside the other features, once each is standardised.
    pub weight: f64,
}

impl Default for MorphologyConfig {
    fn default() -> Self {
        MorphologyConfig::off()
    }
}

impl MorphologyConfig {
    /// No profiles (the features of runs from before they existed).
    pub fn off() -> Self {
        MorphologyConfig { components: 0, ..MorphologyConfig::on(4) }
    }

    /// Profiles of the leading `components`, with the settings measured in the README.
    pub fn on(components: usize) -> Self {
        MorphologyConfig { components, radii: vec![1, 3, 5, 7], steps: 16, weight: 2.0 }
    }

    pub fn is_on(&self) -> bool {
        self.components > 0
    }

    /// Values per pixel: an opening and a closing per component and radius.
    pub fn dim(&self) -> usize {
        if self.is_on() { 2 * self.components * self.radii.len() } else { 0 }
    }

    /// Rows (and columns) on each side of a pixel that its profile reads.
    pub fn halo(&self) -> usize {
        if self.is_on() { self.radii.iter().max().copied().unwrap_or(0) + self.steps } else { 0 }
    }

    /// Refuses settings that cannot give profiles, naming the setting. More components than the
    /// spatial features keep is not an error: the profiles take all those there are.
    pub fn check(&self) -> Result<()> {
        if !self.is_on() {
            return Ok(());
        }
        if self.radii.is_empty() || self.radii.contains(&0) {
            return Err(Error::invalid(format!("spatial.morphology.radii must be one or more radii of at least 1, not {:?}", self.radii)));
        }
        if self.steps == 0 {
            return Err(Error::invalid("spatial.morphology.steps must be at least 1"));
        }
        if !(self.weight.is_finite() && self.weight > 0.0) {
            return Err(Error::invalid(format!("spatial.morphology.weight must be a positive number, not {}", self.weight)));
        }
        Ok(())
    }
}

/// Which way a filter goes: an opening erodes then reconstructs upwards under the image; a
/// closing is its mirror.
#[derive(Clone, Copy)]
enum Direction {
    Opening,
    Closing,
}

impl Direction {
    /// The value a filter that shrinks (erosion for an opening) keeps of two.
    fn shrink(self, a: f32, b: f32) -> f32 {
        match self {
            Direction::Opening => a.min(b),
            Direction::Closing => a.max(b),
        }
    }

    /// The value a filter that grows (dilation for an opening) keeps of two.
    fn grow(self, a: f32, b: f32) -> f32 {
        self.flip().shrink(a, b)
    }

    fn flip(self) -> Direction {
        match self {
            Direction::Opening => Direction::Closing,
            Direction::Closing => Direction::Opening,
        }
    }
}

/// One channel of an image: `height x width` values, row-major.
struct Plane {
    values: Vec<f32>,
    height: usize,
    width: usize,
}

impl Plane {
    /// The plane's erosion (dilation, for a closing) by a disk of `radius`: over the disk's
    /// pixels inside the image. A disk is a stack of horizontal runs, so each pixel takes the
    /// extreme of the row runs above and below it; `runs` holds the row runs of every half
    /// width up to the largest radius, shared by all the radii of a plane.
    fn shrink_by_disk(&self, radius: usize, runs: &RowRuns) -> Plane {
        let (h, w) = (self.height, self.width);
        let half_widths: Vec<usize> = (0..=radius).map(|d| ((radius * radius - d * d) as f64).sqrt().floor() as usize).collect();
        let run = |rr: usize, r: usize| &runs.by_half[half_widths[rr.abs_diff(r)]][rr * w..(rr + 1) * w];
        let mut out = vec![0f32; h * w];
        for r in 0..h {
            let row = &mut out[r * w..(r + 1) * w];
            let rows = window(r, radius, h);
            row.copy_from_slice(run(rows.start, r));
            for rr in rows.start + 1..rows.end {
                for (v, &x) in row.iter_mut().zip(run(rr, r)) {
                    *v = runs.direction.shrink(*v, x);
                }
            }
        }
        Plane { values: out, height: h, width: w }
    }

    /// `steps` geodesic dilations (erosions, for a closing) of the marker `self` under (over)
    /// `mask`: each step takes a pixel's extreme over its 3 x 3 window, bounded by the mask.
    /// The window's extreme is taken along the rows, then down the columns.
    fn reconstruct(mut self, mask: &Plane, steps: usize, direction: Direction) -> Plane {
        let (h, w) = (self.height, self.width);
        let mut across = vec![0f32; h * w];
        let mut next = vec![0f32; h * w];
        for _ in 0..steps {
            for (out, row) in across.chunks_exact_mut(w).zip(self.values.chunks_exact(w)) {
                extremes_within(row, 1, direction.flip(), out);
            }
            let mut changed = false;
            for r in 0..h {
                let out = &mut next[r * w..(r + 1) * w];
                let rows = window(r, 1, h);
                out.copy_from_slice(&across[rows.start * w..(rows.start + 1) * w]);
                for rr in rows.start + 1..rows.end {
                    for (v, &x) in out.iter_mut().zip(&across[rr * w..(rr + 1) * w]) {
                        *v = direction.grow(*v, x);
                    }
                }
                let (mask_row, old) = (&mask.values[r * w..(r + 1) * w], &self.values[r * w..(r + 1) * w]);
                for ((v, &m), &o) in out.iter_mut().zip(mask_row).zip(old) {
                    *v = direction.shrink(*v, m);
                    changed |= *v != o;
                }
            }
            std::mem::swap(&mut self.values, &mut next);
            if !changed {
                // Every later step would give the same values.
                break;
            }
        }
        self
    }
}

/// A plane's row runs for one direction: for each half width up to the largest radius, every
/// pixel's extreme over the pixels of its row within that many columns.
struct RowRuns {
    direction: Direction,
    by_half: Vec<Vec<f32>>,
}

impl RowRuns {
    fn new(plane: &Plane, max_half: usize, direction: Direction) -> Self {
        let w = plane.width;
        let by_half = (0..=max_half)
            .map(|half| {
                let mut out = vec![0f32; plane.values.len()];
                for (o, row) in out.chunks_exact_mut(w).zip(plane.values.chunks_exact(w)) {
                    extremes_within(row, half, direction, o);
                }
                out
            })
            .collect();
        RowRuns { direction, by_half }
    }
}

/// Each value's extreme (the one `direction` shrinks to) over the values of `row` within `half`
/// places of it, into `out`.
fn extremes_within(row: &[f32], half: usize, direction: Direction, out: &mut [f32]) {
    for (c, o) in out.iter_mut().enumerate() {
        *o = row[window(c, half, row.len())].iter().fold(row[c], |a, &b| direction.shrink(a, b));
    }
}

/// The profiles of every pixel of `rows`: `rows.len() * width` pixels of `config.dim()`
/// values, per component (the first `config.components` channels) and radius an opening then
/// a closing. Reads the rows within `config.halo()` of `rows`; nothing when the profiles are off.
pub(crate) fn profiles(img: Image, config: &MorphologyConfig, rows: Range<usize>) -> Vec<f32> {
    if !config.is_on() {
        return Vec::new();
    }
    let (w, dim) = (img.width, config.dim());
    let context = rows.start.saturating_sub(config.halo())..(rows.end + config.halo()).min(img.height);
    let first = rows.start - context.start;
    let mut out = vec![0f32; rows.len() * w * dim];
    for c in 0..config.components.min(img.channels) {
        let plane = Plane { values: context.clone().flat_map(|r| (0..w).map(move |x| img.pixel(r, x)[c])).collect(), height: context.len(), width: w };
        let max_radius = config.radii.iter().max().copied().unwrap_or(0);
        for (j, direction) in [Direction::Opening, Direction::Closing].into_iter().enumerate() {
            let runs = RowRuns::new(&plane, max_radius, direction);
            for (k, &radius) in config.radii.iter().enumerate() {
                let filtered = plane.shrink_by_disk(radius, &runs).reconstruct(&plane, config.steps, direction);
                let column = (c * config.radii.len() + k) * 2 + j;
                for (i, v) in filtered.values[first * w..(first + rows.len()) * w].iter().enumerate() {
                    out[i * dim + column] = *v;
                }
            }
        }
    }
    out
}

/// The profiles of the pixels at `(row, col)`, in their order: the values [`profiles`] gives
/// them. Each is computed from its own window of `config.halo()` pixels a side, or, where that
/// is less work (many pixels over few rows, as an epoch's draws from a core), all of them from
/// the profiles of the rows they span. Nothing when the profiles are off.
pub(crate) fn profiles_at(img: Image, config: &MorphologyConfig, at: &[(usize, usize)]) -> Vec<f32> {
    let (Some(first), Some(last)) = (at.iter().map(|p| p.0).min(), at.iter().map(|p| p.0).max()) else { return Vec::new() };
    if !config.is_on() {
        return Vec::new();
    }
    let (halo, d) = (config.halo(), config.dim());
    let window_area = (2 * halo + 1).min(img.height) * (2 * halo + 1).min(img.width);
    if (last + 1 - first) * img.width <= at.len() * window_area {
        let band = profiles(img, config, first..last + 1);
        return at.iter().flat_map(|&(r, c)| band[((r - first) * img.width + c) * d..((r - first) * img.width + c + 1) * d].iter().copied()).collect();
    }
    let ch = config.components.min(img.channels);
    let mut out = Vec::with_capacity(at.len() * d);
    for &(r, c) in at {
        let (rows, cols) = (window(r, halo, img.height), window(c, halo, img.width));
        let crop: Vec<f32> = rows.clone().flat_map(|rr| cols.clone().flat_map(move |cc| img.pixel(rr, cc)[..ch].to_vec())).collect();
        let crop = Image { values: &crop, height: rows.len(), width: cols.len(), channels: ch };
        let row = profiles(crop, config, r - rows.start..r - rows.start + 1);
        let i = c - cols.start;
        out.extend_from_slice(&row[i * d..(i + 1) * d]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-channel image of `background` with `bright` at the given pixels.
    fn image(h: usize, w: usize, background: f32, marked: &[(usize, usize, f32)]) -> Vec<f32> {
        let mut v = vec![background; h * w];
        for &(r, c, x) in marked {
            v[r * w + c] = x;
        }
        v
    }

    fn square(top: usize, left: usize, side: usize, value: f32) -> Vec<(usize, usize, f32)> {
        (top..top + side).flat_map(|r| (left..left + side).map(move |c| (r, c, value))).collect()
    }

    fn config(radii: Vec<usize>, steps: usize) -> MorphologyConfig {
        MorphologyConfig { components: 1, radii, steps, weight: 1.0 }
    }

    /// The opening and closing of every pixel for the one radius of `config`.
    fn open_close(values: &[f32], h: usize, w: usize, config: &MorphologyConfig) -> (Vec<f32>, Vec<f32>) {
        let p = profiles(Image { values, height: h, width: w, channels: 1 }, config, 0..h);
        (p.iter().step_by(2).copied().collect(), p.iter().skip(1).step_by(2).copied().collect())
    }

    #[test]
    fn an_opening_keeps_a_bright_square_a_disk_fits_into_and_removes_one_it_does_not() {
        // A 3 x 3 square holds the disk of radius 1 (5 pixels), not that of radius 2 (13).
        let x = image(11, 12, 1.0, &square(4, 5, 3, 5.0));
        let (opened, closed) = open_close(&x, 11, 12, &config(vec![1], 20));
        assert_eq!(opened, x);
        assert_eq!(closed, x);
        let (opened, closed) = open_close(&x, 11, 12, &config(vec![2], 20));
        assert_eq!(opened, vec![1.0; 11 * 12]);
        assert_eq!(closed, x);
        // A dark square is the mirror: the closing fills it, the opening leaves it.
        let y = image(11, 12, 1.0, &square(4, 5, 3, -2.0));
        let (opened, closed) = open_close(&y, 11, 12, &config(vec![2], 20));
        assert_eq!((opened, closed), (y.clone(), vec![1.0; 11 * 12]));
    }

    #[test]
    fn a_reconstruction_grows_back_as_far_as_its_steps_reach() {
        // A 3 x 3 block with a one-pixel line leaving it to the right: the disk of radius 1 fits
        // the block, not the line, so the erosion keeps the block's centre (4) and the block's
        // right middle pixel, whose disk reaches the line (3), and nothing else. The
        // reconstruction regrows the block in one step and the line one pixel a step from
        // column 3.
        let (h, w) = (5, 20);
        let mut marked = square(1, 1, 3, 4.0);
        marked.extend((4..20).map(|c| (2, c, 3.0)));
        let x = image(h, w, 0.0, &marked);
        for steps in [1, 2, 5, 9] {
            let (opened, _) = open_close(&x, h, w, &config(vec![1], steps));
            let expected: Vec<f32> = (0..h * w).map(|i| if i % w <= 3 + steps { x[i] } else { 0.0 }).collect();
            assert_eq!(opened, expected, "steps {steps}");
        }
    }

    /// Erosion by a disk and geodesic dilation straight from their definitions: the reference
    /// for the row-run implementation.
    fn opening_by_definition(x: &[f32], h: usize, w: usize, radius: usize, steps: usize) -> Vec<f32> {
        let r = radius as isize;
        let inside = |rr: isize, cc: isize| rr >= 0 && cc >= 0 && (rr as usize) < h && (cc as usize) < w;
        let mut marker: Vec<f32> = (0..h * w)
            .map(|i| {
                let (pr, pc) = ((i / w) as isize, (i % w) as isize);
                let mut m = f32::INFINITY;
                for dr in -r..=r {
                    for dc in -r..=r {
                        if dr * dr + dc * dc <= r * r && inside(pr + dr, pc + dc) {
                            m = m.min(x[((pr + dr) as usize) * w + (pc + dc) as usize]);
                        }
                    }
                }
                m
            })
            .collect();
        for _ in 0..steps {
            marker = (0..h * w)
                .map(|i| {
                    let (pr, pc) = ((i / w) as isize, (i % w) as isize);
                    let mut m = f32::NEG_INFINITY;
                    for dr in -1..=1 {
                        for dc in -1..=1 {
                            if inside(pr + dr, pc + dc) {
                                m = m.max(marker[((pr + dr) as usize) * w + (pc + dc) as usize]);
                            }
                        }
                    }
                    m.min(x[i])
                })
                .collect();
        }
        marker
    }

    fn textured(h: usize, w: usize, channels: usize) -> Vec<f32> {
        (0..h * w * channels).map(|i| ((i * 7919 % 101) as f32 * 0.37).sin() + (i / (w * channels)) as f32 * 0.05).collect()
    }

    #[test]
    fn openings_match_their_definition_and_closings_are_openings_of_the_negated_image() {
        let (h, w) = (13, 17);
        let x = textured(h, w, 1);
        let negated: Vec<f32> = x.iter().map(|v| -v).collect();
        for (radius, steps) in [(1, 1), (2, 3), (3, 6), (5, 2)] {
            let (opened, closed) = open_close(&x, h, w, &config(vec![radius], steps));
            assert_eq!(opened, opening_by_definition(&x, h, w, radius, steps), "radius {radius}, steps {steps}");
            let mirrored: Vec<f32> = opening_by_definition(&negated, h, w, radius, steps).iter().map(|v| -v).collect();
            assert_eq!(closed, mirrored, "radius {radius}, steps {steps}");
        }
    }

    #[test]
    fn bands_of_rows_and_single_pixels_give_the_whole_images_profiles() {
        let (h, w, ch) = (60, 9, 3);
        let x = textured(h, w, ch);
        let img = Image { values: &x, height: h, width: w, channels: ch };
        let config = MorphologyConfig { components: 2, radii: vec![1, 3], steps: 4, weight: 1.0 };
        let whole = profiles(img, &config, 0..h);
        assert_eq!(whole.len(), h * w * config.dim());
        let bands: Vec<f32> = (0..h).step_by(4).flat_map(|r| profiles(img, &config, r..(r + 4).min(h))).collect();
        assert_eq!(bands, whole);
        // Many pixels over the rows they span (the band's profiles serve them all), and a few
        // far apart (each from its own window).
        let d = config.dim();
        let pick = |at: &[(usize, usize)]| -> Vec<f32> { at.iter().flat_map(|&(r, c)| whole[(r * w + c) * d..(r * w + c + 1) * d].to_vec()).collect() };
        let many: Vec<(usize, usize)> = (0..40).map(|i| ((i * 7) % 12 + 3, (i * 5) % w)).collect();
        assert_eq!(profiles_at(img, &config, &many), pick(&many));
        let few = [(0, 0), (59, 8), (30, 4)];
        // 60 rows of 9 pixels against 3 windows of 15 x 9.
        assert!(h * w > few.len() * 15 * 9, "the few pixels take the window path");
        assert_eq!(profiles_at(img, &config, &few), pick(&few));
    }

    #[test]
    fn settings_that_cannot_give_profiles_are_refused_by_name() {
        assert!(MorphologyConfig::off().check().is_ok());
        assert!(MorphologyConfig::on(4).check().is_ok());
        for (bad, name) in [
            (MorphologyConfig { radii: vec![], ..MorphologyConfig::on(4) }, "spatial.morphology.radii"),
            (MorphologyConfig { radii: vec![2, 0], ..MorphologyConfig::on(4) }, "spatial.morphology.radii"),
            (MorphologyConfig { steps: 0, ..MorphologyConfig::on(4) }, "spatial.morphology.steps"),
            (MorphologyConfig { weight: f64::NAN, ..MorphologyConfig::on(4) }, "spatial.morphology.weight"),
        ] {
            assert!(bad.check().unwrap_err().to_string().contains(name), "{bad:?}");
        }
        assert_eq!((MorphologyConfig::on(4).dim(), MorphologyConfig::on(4).halo()), (32, 23));
        assert_eq!((MorphologyConfig::off().dim(), MorphologyConfig::off().halo()), (0, 0));
    }
}
