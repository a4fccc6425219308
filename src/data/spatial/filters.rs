//! Local filters over an image of `channels` values per pixel (row-major pixels, pixel-major
//! values). Each output pixel reads only the pixels of its own window, so that any band of rows
//! can be computed on its own from the rows around it.
//!
//! At the image border a window is cut to the part inside the image: the mean is over the pixels
//! that exist, never over padding.

use std::ops::Range;

/// An image of `channels` values per pixel.
#[derive(Clone, Copy)]
pub struct Image<'a> {
    pub values: &'a [f32],
    pub height: usize,
    pub width: usize,
    pub channels: usize,
}

impl Image<'_> {
    /// The values of the pixel at row `r`, column `c`.
    pub(crate) fn pixel(&self, r: usize, c: usize) -> &[f32] {
        let i = (r * self.width + c) * self.channels;
        &self.values[i..i + self.channels]
    }
}

/// The positions within `radius` of `centre` on an axis of `len`, clipped to it.
pub(crate) fn window(centre: usize, radius: usize, len: usize) -> Range<usize> {
    centre.saturating_sub(radius)..(centre + radius + 1).min(len)
}

/// Mean of each channel over the `(2 radius + 1)^2` window of every pixel of `rows`; returns
/// `rows.len() * width` pixels of `channels` values.
pub fn box_means(img: Image, radius: usize, rows: Range<usize>) -> Vec<f32> {
    let (w, ch) = (img.width, img.channels);
    // Column sums over each output row's vertical window, then a horizontal pass over them.
    let mut out = Vec::with_capacity(rows.len() * w * ch);
    let mut col = vec![0f64; w * ch];
    for r in rows {
        col.iter_mut().for_each(|v| *v = 0.0);
        let vr = window(r, radius, img.height);
        let n_rows = vr.len();
        for rr in vr {
            for (acc, &v) in col.iter_mut().zip(&img.values[rr * w * ch..(rr + 1) * w * ch]) {
                *acc += v as f64;
            }
        }
        for c in 0..w {
            let hc = window(c, radius, w);
            let n = (n_rows * hc.len()) as f64;
            for k in 0..ch {
                let s: f64 = hc.clone().map(|cc| col[cc * ch + k]).sum();
                out.push((s / n) as f32);
            }
        }
    }
    out
}

/// Edge-aware means at several radii: for every pixel of `rows`, the mean of the pixels of its
/// `(2 r + 1)^2` window whose values lie within Euclidean distance `threshold` of its own (the
/// pixel itself always counts), for each radius r in `radii`. Returns, per pixel, the means for
/// each radius in turn (`radii.len() * channels` values).
///
/// Within a field the window's pixels all count, so this is a local mean; across a field's edge
/// the other side is left out, as a superpixel would, but without any segmentation of the whole
/// image.
pub fn edge_aware_means(img: Image, radii: &[usize], threshold: f32, rows: Range<usize>) -> Vec<f32> {
    let mut means = EdgeAware::new(img, radii, threshold);
    let mut out = Vec::with_capacity(rows.len() * img.width * means.per_pixel());
    for r in rows {
        for c in 0..img.width {
            means.append((r, c), &mut out);
        }
    }
    out
}

/// [`edge_aware_means`] of the pixels at `(row, col)` positions only, in their order.
pub fn edge_aware_means_at(img: Image, radii: &[usize], threshold: f32, at: &[(usize, usize)]) -> Vec<f32> {
    let mut means = EdgeAware::new(img, radii, threshold);
    let mut out = Vec::with_capacity(at.len() * means.per_pixel());
    for &p in at {
        means.append(p, &mut out);
    }
    out
}

/// The edge-aware means of one image, pixel by pixel, with the sums' scratch space.
struct EdgeAware<'a> {
    img: Image<'a>,
    radii: &'a [usize],
    /// The largest radius: how far a pixel's window reaches.
    reach: usize,
    /// The squared distance threshold.
    limit: f32,
    sums: Vec<f32>,
    counts: Vec<u32>,
}

impl<'a> EdgeAware<'a> {
    fn new(img: Image<'a>, radii: &'a [usize], threshold: f32) -> Self {
        let sums = vec![0f32; radii.len() * img.channels];
        let reach = radii.iter().copied().max().unwrap_or(0);
        EdgeAware { img, radii, reach, limit: threshold * threshold, sums, counts: vec![0u32; radii.len()] }
    }

    fn per_pixel(&self) -> usize {
        self.sums.len()
    }

    /// Appends the edge-aware means of the pixel at `(r, c)` to `out`.
    fn append(&mut self, (r, c): (usize, usize), out: &mut Vec<f32>) {
        let EdgeAware { img, radii, reach, limit, .. } = *self;
        let (sums, counts) = (&mut self.sums, &mut self.counts);
        let ch = img.channels;
        sums.iter_mut().for_each(|v| *v = 0.0);
        counts.iter_mut().for_each(|v| *v = 0);
        let centre = img.pixel(r, c);
        for rr in window(r, reach, img.height) {
            let dr = rr.abs_diff(r);
            for cc in window(c, reach, img.width) {
                let other = img.pixel(rr, cc);
                let d2: f32 = centre.iter().zip(other).map(|(a, b)| (a - b) * (a - b)).sum();
                if d2 >= limit && (rr, cc) != (r, c) {
                    continue;
                }
                let ring = dr.max(cc.abs_diff(c));
                for (k, &radius) in radii.iter().enumerate() {
                    if ring <= radius {
                        counts[k] += 1;
                        for (s, &v) in sums[k * ch..(k + 1) * ch].iter_mut().zip(other) {
                            *s += v;
                        }
                    }
                }
            }
        }
        for (k, &n) in counts.iter().enumerate() {
            out.extend(sums[k * ch..(k + 1) * ch].iter().map(|s| s / n as f32));
        }
    }
}

/// [`box_means`] of the pixels at `(row, col)` positions only, in their order.
pub fn box_means_at(img: Image, radius: usize, at: &[(usize, usize)]) -> Vec<f32> {
    let ch = img.channels;
    let mut out = Vec::with_capacity(at.len() * ch);
    let mut sums = vec![0f64; ch];
    for &(r, c) in at {
        sums.iter_mut().for_each(|v| *v = 0.0);
        let (vr, hc) = (window(r, radius, img.height), window(c, radius, img.width));
        let n = (vr.len() * hc.len()) as f64;
        // Column sums first, as box_means adds them, so both give the same rounding.
        for cc in hc {
            let mut col = vec![0f64; ch];
            for rr in vr.clone() {
                col.iter_mut().zip(img.pixel(rr, cc)).for_each(|(a, &v)| *a += v as f64);
            }
            sums.iter_mut().zip(&col).for_each(|(s, v)| *s += v);
        }
        out.extend(sums.iter().map(|s| (s / n) as f32));
    }
    out
}

/// Euclidean distances between each pixel of `rows` and the pixel below it (where there is
/// one).
pub fn vertical_distances(img: Image, rows: Range<usize>) -> Vec<f32> {
    rows.filter(|&r| r + 1 < img.height)
        .flat_map(|r| (0..img.width).map(move |c| (r, c)))
        .map(|(r, c)| img.pixel(r, c).iter().zip(img.pixel(r + 1, c)).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt())
        .collect()
}

/// The upper median (0 for no values).
pub fn median(mut d: Vec<f32>) -> f32 {
    if d.is_empty() {
        return 0.0;
    }
    let mid = d.len() / 2;
    *d.select_nth_unstable_by(mid, f32::total_cmp).1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(h: usize, w: usize, ch: usize) -> Vec<f32> {
        (0..h * w * ch).map(|i| ((i * 7919 % 104_729) as f32 / 1000.0).sin() * 10.0).collect()
    }

    /// The means of the definition, pixel by pixel.
    fn brute_force(values: &[f32], h: usize, w: usize, ch: usize, radius: usize, keep: impl Fn(&[f32], &[f32]) -> bool) -> Vec<f32> {
        let px = |r: usize, c: usize| &values[(r * w + c) * ch..(r * w + c + 1) * ch];
        let mut out = Vec::new();
        for r in 0..h {
            for c in 0..w {
                let mut s = vec![0f64; ch];
                let mut n = 0;
                for rr in 0..h {
                    for cc in 0..w {
                        if rr.abs_diff(r) <= radius && cc.abs_diff(c) <= radius && ((rr, cc) == (r, c) || keep(px(r, c), px(rr, cc))) {
                            n += 1;
                            s.iter_mut().zip(px(rr, cc)).for_each(|(a, &b)| *a += b as f64);
                        }
                    }
                }
                out.extend(s.iter().map(|v| (v / n as f64) as f32));
            }
        }
        out
    }

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() < 1e-4 * (1.0 + y.abs()), "value {i}: {x} vs {y}");
        }
    }

    #[test]
    fn box_means_are_the_window_means_cut_at_the_border() {
        let (h, w, ch) = (7, 9, 2);
        let v = image(h, w, ch);
        let img = Image { values: &v, height: h, width: w, channels: ch };
        for radius in [0, 1, 2, 5] {
            close(&box_means(img, radius, 0..h), &brute_force(&v, h, w, ch, radius, |_, _| true));
        }
        // A band of rows is those rows of the whole.
        let whole = box_means(img, 2, 0..h);
        close(&box_means(img, 2, 3..6), &whole[3 * w * ch..6 * w * ch]);
    }

    #[test]
    fn edge_aware_means_leave_out_pixels_beyond_the_threshold() {
        let (h, w, ch) = (6, 8, 3);
        let v = image(h, w, ch);
        let img = Image { values: &v, height: h, width: w, channels: ch };
        let t = 9.0f32;
        let keep = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>() < t * t;
        let got = edge_aware_means(img, &[1, 3], t, 0..h);
        let (r1, r3) = (brute_force(&v, h, w, ch, 1, keep), brute_force(&v, h, w, ch, 3, keep));
        let want: Vec<f32> = r1.chunks(ch).zip(r3.chunks(ch)).flat_map(|(a, b)| a.iter().chain(b).copied()).collect();
        close(&got, &want);
        // A threshold of zero keeps the pixel alone; an infinite one gives the box mean.
        close(&edge_aware_means(img, &[2], 0.0, 0..h), &v);
        close(&edge_aware_means(img, &[2], f32::INFINITY, 0..h), &box_means(img, 2, 0..h));
    }

    #[test]
    fn median_distance_of_a_ramp() {
        // Rows differ by 1 in one channel and 0 in the other: every vertical distance is 1.
        let v: Vec<f32> = (0..5).flat_map(|r| (0..4).flat_map(move |c| [r as f32, c as f32])).collect();
        let img = Image { values: &v, height: 5, width: 4, channels: 2 };
        assert_eq!(median(vertical_distances(img, 0..5)), 1.0);
    }
}
