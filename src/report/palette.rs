//! Fixed class colours, so that the same class has the same colour in every picture of every
//! run.
//!
//! Classes 0..=20 take the colour table of the `spectral` Python package (without its leading
//! black), which is what most published Indian Pines, Salinas and Pavia maps use: class index 0
//! (the scene's label 1) is red, 1 is green, 2 is blue, and so on. Further classes each take,
//! from a fixed set of candidate colours, the one farthest from all colours given out before
//! (and from black and white), so that the first hundred or so stay tellable apart. Past the
//! candidate set the colours repeat.

/// Colour of pixels with no class (unlabelled ground truth, background).
pub const BACKGROUND: [u8; 3] = [0, 0, 0];

const TABLE: [[u8; 3]; 21] = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 0],
    [255, 0, 255],
    [0, 255, 255],
    [200, 100, 0],
    [0, 200, 100],
    [100, 0, 200],
    [200, 0, 100],
    [100, 200, 0],
    [0, 100, 200],
    [150, 75, 75],
    [75, 150, 75],
    [75, 75, 150],
    [255, 100, 100],
    [100, 255, 100],
    [100, 100, 255],
    [255, 150, 75],
    [75, 255, 150],
    [150, 75, 255],
];

/// The colour of class `index` (0-based).
pub fn class_colour(index: usize) -> [u8; 3] {
    match TABLE.get(index) {
        Some(&c) => c,
        None => {
            let extra = extra_colours();
            extra[(index - TABLE.len()) % extra.len()]
        }
    }
}

/// The colours of classes `0..n`.
pub fn class_colours(n: usize) -> Vec<[u8; 3]> {
    (0..n).map(class_colour).collect()
}

/// Colours past the table, in order: greedy farthest-point picks from hues every 10 degrees at
/// five saturation/brightness levels.
fn extra_colours() -> &'static [[u8; 3]] {
    static EXTRA: std::sync::OnceLock<Vec<[u8; 3]>> = std::sync::OnceLock::new();
    EXTRA.get_or_init(|| {
        const LEVELS: [(f64, f64); 5] =
            [(0.9, 0.9), (0.5, 0.95), (0.9, 0.6), (0.4, 0.75), (0.7, 0.8)];
        let mut candidates: Vec<[u8; 3]> = LEVELS
            .iter()
            .flat_map(|&(s, v)| (0..36).map(move |h| hsv_to_rgb(h as f64 * 10.0, s, v)))
            .collect();
        let mut taken: Vec<[u8; 3]> = TABLE.to_vec();
        taken.extend([BACKGROUND, [255, 255, 255]]);
        let mut extra = Vec::with_capacity(candidates.len());
        while !candidates.is_empty() {
            let nearest = |c: &[u8; 3]| taken.iter().map(|t| distance2(*c, *t)).min().unwrap_or(0);
            // Ties go to the earlier candidate, so the order never depends on anything but this code.
            let mut best = 0;
            for i in 1..candidates.len() {
                if nearest(&candidates[i]) > nearest(&candidates[best]) {
                    best = i;
                }
            }
            let c = candidates.remove(best);
            taken.push(c);
            extra.push(c);
        }
        extra
    })
}

fn distance2(a: [u8; 3], b: [u8; 3]) -> u32 {
    a.iter()
        .zip(&b)
        .map(|(&x, &y)| (x as i32 - y as i32).pow(2) as u32)
        .sum()
}

fn hsv_to_rgb(hue: f64, saturation: f64, value: f64) -> [u8; 3] {
    let c = value * saturation;
    let h = hue / 60.0;
    let x = c * (1.0 - (h.rem_euclid(2.0) - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = value - c;
    let to_byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [to_byte(r), to_byte(g), to_byte(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance(a: [u8; 3], b: [u8; 3]) -> f64 {
        a.iter()
            .zip(&b)
            .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
            .sum::<f64>()
            .sqrt()
    }

    #[test]
    fn first_classes_follow_the_spectral_table() {
        assert_eq!(class_colour(0), [255, 0, 0]);
        assert_eq!(class_colour(1), [0, 255, 0]);
        assert_eq!(class_colour(15), [255, 100, 100]);
        assert_eq!(class_colour(20), [150, 75, 255]);
    }

    #[test]
    fn a_hundred_classes_are_distinct_and_none_is_black() {
        let colours = class_colours(100);
        for (i, &a) in colours.iter().enumerate() {
            assert!(
                distance(a, BACKGROUND) > 100.0,
                "class {i} {a:?} is too dark"
            );
            for (j, &b) in colours.iter().enumerate().skip(i + 1) {
                assert!(
                    distance(a, b) > 30.0,
                    "classes {i} {a:?} and {j} {b:?} look alike"
                );
            }
        }
    }

    #[test]
    fn hsv_primaries() {
        assert_eq!(hsv_to_rgb(0.0, 1.0, 1.0), [255, 0, 0]);
        assert_eq!(hsv_to_rgb(120.0, 1.0, 1.0), [0, 255, 0]);
        assert_eq!(hsv_to_rgb(240.0, 1.0, 1.0), [0, 0, 255]);
        assert_eq!(hsv_to_rgb(77.0, 0.0, 0.5), [128, 128, 128]);
    }
}
