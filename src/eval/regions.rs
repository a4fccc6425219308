//! Where a classifier was right: test pixels in regions of the label map that hold a training
//! pixel, against regions that hold none. A region is an 8-connected piece of one class (a field,
//! a layer of a core). Random draws put most test pixels in a region beside a training pixel, so
//! their accuracy says little about regions nobody labelled; this says how much of the score
//! comes from each.

use serde::{Deserialize, Serialize};

use crate::data::spatial::filters::window;
use crate::data::LabelMap;

/// The labelled pixels of an image: the dense class of each pixel (None = unlabelled),
/// row-major `height x width`.
#[derive(Debug, Clone, Copy)]
pub struct ClassGrid<'a> {
    pub classes: &'a [Option<u16>],
    pub height: usize,
    pub width: usize,
}

impl<'a> From<&'a LabelMap> for ClassGrid<'a> {
    fn from(labels: &'a LabelMap) -> Self {
        ClassGrid { classes: &labels.classes, height: labels.height, width: labels.width }
    }
}

/// Test pixels and correct ones, in regions with a labelled pixel that the run used (a training
/// or validation pixel) and in the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RegionAccuracy {
    /// Regions of the label map.
    pub regions: usize,
    /// Regions that hold a pixel whose label the run used.
    pub labelled_regions: usize,
    pub test_in_labelled: usize,
    pub correct_in_labelled: usize,
    pub test_elsewhere: usize,
    pub correct_elsewhere: usize,
}

impl RegionAccuracy {
    /// Fraction of the test pixels in regions with a pixel whose label the run used (None
    /// without test pixels).
    pub fn labelled_share(&self) -> Option<f64> {
        fraction(self.test_in_labelled, self.test_in_labelled + self.test_elsewhere)
    }

    /// Overall accuracy (0..1) on test pixels in those regions; None when none lies there.
    pub fn accuracy_in_labelled(&self) -> Option<f64> {
        fraction(self.correct_in_labelled, self.test_in_labelled)
    }

    /// Overall accuracy (0..1) on test pixels in regions without one; None when none lies there.
    pub fn accuracy_elsewhere(&self) -> Option<f64> {
        fraction(self.correct_elsewhere, self.test_elsewhere)
    }

    /// One sentence for a run's report.
    pub fn sentence(&self) -> String {
        let percent = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{:.1}%", 100.0 * v));
        let elsewhere = if self.test_elsewhere == 0 {
            "no test pixel lies in a region without one".to_string()
        } else {
            format!("in the other regions, {} (OA {})", percent(self.labelled_share().map(|s| 1.0 - s)), percent(self.accuracy_elsewhere()))
        };
        format!(
            "Test pixels in regions of the label map (8-connected pieces of one class; {} of {} hold a pixel whose label the run used: a training or validation pixel) that hold one: {} (OA {}); {elsewhere}.",
            self.labelled_regions,
            self.regions,
            percent(self.labelled_share()),
            percent(self.accuracy_in_labelled()),
        )
    }
}

fn fraction(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The region of every labelled pixel (`None` for unlabelled ones) and the number of regions.
pub fn regions(labels: ClassGrid) -> (Vec<Option<usize>>, usize) {
    let (h, w) = (labels.height, labels.width);
    let mut region = vec![None; labels.classes.len()];
    let mut count = 0;
    let mut stack = Vec::new();
    for start in 0..labels.classes.len() {
        let Some(class) = labels.classes[start] else { continue };
        if region[start].is_some() {
            continue;
        }
        region[start] = Some(count);
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (r, c) = (i / w, i % w);
            for rr in window(r, 1, h) {
                for cc in window(c, 1, w) {
                    let j = rr * w + cc;
                    if region[j].is_none() && labels.classes[j] == Some(class) {
                        region[j] = Some(count);
                        stack.push(j);
                    }
                }
            }
        }
        count += 1;
    }
    (region, count)
}

/// Counts the `test` pixels whose class in `predicted` (one class index per pixel) is right, in
/// regions that hold one of the `shown` pixels (those whose labels the run used) and in the
/// others.
pub fn region_accuracy(labels: ClassGrid, (shown, test): (&[usize], &[usize]), predicted: &[usize]) -> RegionAccuracy {
    let (region, count) = regions(labels);
    let mut labelled = vec![false; count];
    for &i in shown {
        if let Some(r) = region[i] {
            labelled[r] = true;
        }
    }
    let mut out = RegionAccuracy { regions: count, labelled_regions: labelled.iter().filter(|&&l| l).count(), ..Default::default() };
    for &i in test {
        let (Some(r), Some(class)) = (region[i], labels.classes[i]) else { continue };
        let right = usize::from(predicted[i] == class as usize);
        if labelled[r] {
            out.test_in_labelled += 1;
            out.correct_in_labelled += right;
        } else {
            out.test_elsewhere += 1;
            out.correct_elsewhere += right;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map from rows of characters: '.' unlabelled, 'a' class 0, 'b' class 1.
    fn map(rows: &[&str]) -> LabelMap {
        let stored: Vec<u32> = rows.iter().flat_map(|r| r.chars().map(|ch| match ch { 'a' => 1, 'b' => 2, _ => 0 })).collect();
        LabelMap::from_values(rows.len(), rows[0].len(), &stored).unwrap()
    }

    #[test]
    fn regions_are_8_connected_pieces_of_one_class() {
        // Three pieces of a (one joined through a diagonal), one of b; unlabelled pixels separate
        // them and belong to none.
        let labels = map(&["aa.a", "a..b", "..ab", "aa.b"]);
        let (region, count) = regions((&labels).into());
        assert_eq!(count, 4);
        let r = |row: usize, col: usize| region[row * 4 + col];
        assert_eq!(r(0, 0), r(0, 1));
        assert_eq!(r(0, 0), r(1, 0));
        // (0, 3) touches only b and unlabelled pixels: its own region.
        assert_ne!(r(0, 3), r(0, 0));
        // (2, 2) reaches (3, 1) diagonally; b's three pixels are one region.
        assert_eq!(r(2, 2), r(3, 1));
        assert_eq!(r(3, 0), r(3, 1));
        assert_eq!(r(1, 3), r(3, 3));
        assert_ne!(r(2, 2), r(1, 3), "touching pixels of two classes are two regions");
        assert_eq!(r(1, 1), None);
    }

    #[test]
    fn test_pixels_count_by_whether_their_region_holds_a_training_pixel() {
        // Left field of a (6 pixels), right field of b (6 pixels), one lone a at the bottom right.
        let labels = map(&["aa.bb", "aa.bb", "aa.bb", "....a"]);
        let px = |row: usize, col: usize| row * 5 + col;
        let train = [px(0, 0)];
        let test = [px(1, 0), px(2, 1), px(0, 3), px(1, 4), px(2, 3), px(3, 4)];
        let mut predicted = vec![0; 20];
        // Right in the labelled field: (1, 0) yes, (2, 1) no. Elsewhere: b's (0, 3) right, the
        // other two b wrong, the lone a right.
        predicted[px(2, 1)] = 1;
        predicted[px(0, 3)] = 1;
        let got = region_accuracy((&labels).into(), (&train, &test), &predicted);
        assert_eq!(got, RegionAccuracy { regions: 3, labelled_regions: 1, test_in_labelled: 2, correct_in_labelled: 1, test_elsewhere: 4, correct_elsewhere: 2 });
        assert!((got.labelled_share().unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!((got.accuracy_in_labelled(), got.accuracy_elsewhere()), (Some(0.5), Some(0.5)));
        assert!(got.sentence().contains("1 of 3 hold a pixel whose label the run used"), "{}", got.sentence());
        assert!(got.sentence().contains("33.3% (OA 50.0%)"), "{}", got.sentence());
    }

    #[test]
    fn with_every_region_labelled_the_sentence_says_so() {
        let labels = map(&["ab"]);
        let got = region_accuracy((&labels).into(), (&[0, 1], &[0, 1]), &[0, 0]);
        assert_eq!((got.test_in_labelled, got.correct_in_labelled, got.test_elsewhere), (2, 1, 0));
        assert!(got.sentence().ends_with("no test pixel lies in a region without one."), "{}", got.sentence());
    }
}
