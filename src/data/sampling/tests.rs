use super::*;
use std::collections::HashSet;

/// One-row map: class k+1 repeated `sizes[k]` times, then `unlabelled` zeros, interleaved so
/// that classes are not contiguous.
fn map_with_sizes(sizes: &[usize], unlabelled: usize) -> LabelMap {
    let mut stored = Vec::new();
    let longest = sizes.iter().copied().max().unwrap_or(0).max(unlabelled);
    for j in 0..longest {
        for (k, &n) in sizes.iter().enumerate() {
            if j < n {
                stored.push(k as u32 + 1);
            }
        }
        if j < unlabelled {
            stored.push(0);
        }
    }
    LabelMap::from_values(1, stored.len(), &stored).unwrap()
}

fn map_from_fn(height: usize, width: usize, f: impl Fn(usize, usize) -> u32) -> LabelMap {
    let stored: Vec<u32> = (0..height * width)
        .map(|i| f(i / width, i % width))
        .collect();
    LabelMap::from_values(height, width, &stored).unwrap()
}

/// 60 x 60: a vertical stripe, a horizontal stripe, a disk and a small blob, on background.
fn synthetic_scene() -> LabelMap {
    map_from_fn(60, 60, |r, c| {
        let (dr, dc) = (r as i64 - 20, c as i64 - 35);
        if c < 12 {
            1
        } else if r >= 45 {
            2
        } else if dr * dr + dc * dc <= 100 {
            3
        } else if (5..10).contains(&r) && (50..57).contains(&c) {
            4
        } else {
            0
        }
    })
}

fn config(train: usize, valid: usize) -> SplitConfig {
    SplitConfig {
        train: TrainSize::PerClass(train),
        valid: TrainSize::PerClass(valid),
        ..SplitConfig::default()
    }
}

fn assert_sets_disjoint_and_labelled(labels: &LabelMap, s: &Split) {
    let mut seen = HashSet::new();
    for &i in s.train.iter().chain(&s.valid).chain(&s.test) {
        assert!(seen.insert(i), "pixel {i} is in two sets");
        assert!(labels.classes[i].is_some(), "pixel {i} is unlabelled");
    }
}

/// Fails when any test pixel is 8-adjacent to (or is) a training or validation pixel.
fn assert_no_test_pixel_touches_training(labels: &LabelMap, s: &Split) {
    let (h, w) = (labels.height as i64, labels.width as i64);
    let learned: HashSet<usize> = s.train.iter().chain(&s.valid).copied().collect();
    for &i in &s.test {
        let (r, c) = ((i as i64) / w, (i as i64) % w);
        for dr in -1..=1 {
            for dc in -1..=1 {
                let (rr, cc) = (r + dr, c + dc);
                if (0..h).contains(&rr) && (0..w).contains(&cc) {
                    let j = (rr * w + cc) as usize;
                    assert!(
                        !learned.contains(&j),
                        "test pixel {i} touches training pixel {j}"
                    );
                }
            }
        }
    }
}

#[test]
fn per_class_counts_are_exact() {
    let labels = map_with_sizes(&[50, 30, 20], 10);
    let s = split(&labels, &config(5, 3)).unwrap();
    assert_eq!(class_counts(&labels, &s.train), vec![5, 5, 5]);
    assert_eq!(class_counts(&labels, &s.valid), vec![3, 3, 3]);
    assert_eq!(class_counts(&labels, &s.test), vec![42, 22, 12]);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_sets_disjoint_and_labelled(&labels, &s);

    let explicit = SplitConfig {
        test: Some(TrainSize::PerClass(4)),
        ..config(5, 3)
    };
    let s = split(&labels, &explicit).unwrap();
    assert_eq!(class_counts(&labels, &s.test), vec![4, 4, 4]);
}

#[test]
fn small_classes_give_what_they_have_with_a_warning() {
    let mut labels = map_with_sizes(&[50, 4, 12], 0);
    labels.names = vec!["Corn".into(), "Oats".into(), "Hay".into()];
    let s = split(&labels, &config(10, 0)).unwrap();
    assert_eq!(class_counts(&labels, &s.train), vec![10, 4, 10]);
    assert_eq!(class_counts(&labels, &s.test), vec![40, 0, 2]);
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    assert!(
        s.warnings[0].contains("'Oats'")
            && s.warnings[0].contains("10 training pixels asked, only 4")
    );
    assert!(s.warnings[1].contains("'Oats' gets no test pixels"));

    // An explicit test quota that cannot be met is warned about too.
    let c = SplitConfig {
        test: Some(TrainSize::PerClass(5)),
        ..config(10, 0)
    };
    let s = split(&labels, &c).unwrap();
    assert_eq!(class_counts(&labels, &s.test), vec![5, 0, 2]);
    assert!(s
        .warnings
        .iter()
        .any(|w| w.contains("'Hay': 5 test pixels asked, only 2")));
}

#[test]
fn same_seed_same_draw_other_seed_other_draw() {
    let labels = synthetic_scene();
    let a = split(&labels, &config(10, 5)).unwrap();
    let b = split(&labels, &config(10, 5)).unwrap();
    assert_eq!(a, b);
    let c = split(
        &labels,
        &SplitConfig {
            seed: 1,
            ..config(10, 5)
        },
    )
    .unwrap();
    assert_ne!(a.train, c.train);
    assert_eq!(
        class_counts(&labels, &a.train),
        class_counts(&labels, &c.train)
    );
}

#[test]
fn cap_limits_each_class_in_total() {
    let labels = map_with_sizes(&[100, 30, 8], 0);
    let c = SplitConfig {
        max_per_class: Some(20),
        ..config(5, 5)
    };
    let s = split(&labels, &c).unwrap();
    let all: Vec<usize> = s
        .train
        .iter()
        .chain(&s.valid)
        .chain(&s.test)
        .copied()
        .collect();
    assert_eq!(class_counts(&labels, &all), vec![20, 20, 8]);
    assert_eq!(class_counts(&labels, &s.test), vec![10, 10, 0]);
}

#[test]
fn fractions_round_and_take_at_least_one() {
    assert_eq!(TrainSize::Fraction(0.1).count(4), 1);
    assert_eq!(TrainSize::Fraction(0.1).count(0), 0);
    assert_eq!(TrainSize::Fraction(0.0).count(50), 0);
    assert_eq!(TrainSize::Fraction(0.25).count(30), 8);

    let labels = map_with_sizes(&[50, 30, 4], 5);
    let c = SplitConfig {
        train: TrainSize::Fraction(0.1),
        valid: TrainSize::Fraction(0.2),
        test: Some(TrainSize::Fraction(0.5)),
        ..SplitConfig::default()
    };
    let s = split(&labels, &c).unwrap();
    assert_eq!(class_counts(&labels, &s.train), vec![5, 3, 1]);
    assert_eq!(class_counts(&labels, &s.valid), vec![10, 6, 1]);
    assert_eq!(class_counts(&labels, &s.test), vec![25, 15, 2]);
}

#[test]
fn unlabelled_pool_excludes_test_pixels_only() {
    let labels = synthetic_scene();
    let n = labels.classes.len();
    let s = split(&labels, &config(10, 5)).unwrap();
    let pool: HashSet<usize> = s.unlabelled.iter().copied().collect();
    assert!(s.test.iter().all(|i| !pool.contains(i)));
    assert_eq!(pool.len() + s.test.len(), n);
    assert!(s.train.iter().all(|i| pool.contains(i)));
    assert!(pool.iter().any(|&i| labels.classes[i].is_none()));

    let all = split(
        &labels,
        &SplitConfig {
            unlabelled: UnlabelledPool::AllPixels,
            ..config(10, 5)
        },
    );
    assert_eq!(all.unwrap().unlabelled, (0..n).collect::<Vec<_>>());
    let none = split(
        &labels,
        &SplitConfig {
            unlabelled: UnlabelledPool::None,
            ..config(10, 5)
        },
    );
    assert!(none.unwrap().unlabelled.is_empty());
}

#[test]
fn bad_requests_are_errors() {
    let empty = LabelMap::from_values(3, 3, &[0; 9]).unwrap();
    let err = split(&empty, &SplitConfig::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no labelled pixels"), "{err}");

    let labels = map_with_sizes(&[5], 0);
    let bad_fraction = SplitConfig {
        train: TrainSize::Fraction(1.5),
        ..SplitConfig::default()
    };
    assert!(split(&labels, &bad_fraction)
        .unwrap_err()
        .to_string()
        .contains("between 0 and 1"));
    let nan = SplitConfig {
        valid: TrainSize::Fraction(f64::NAN),
        ..SplitConfig::default()
    };
    assert!(split(&labels, &nan).is_err());
    assert!(split(
        &labels,
        &SplitConfig {
            spatial_block: Some(0),
            ..config(1, 0)
        }
    )
    .is_err());
    assert!(split(
        &labels,
        &SplitConfig {
            max_per_class: Some(0),
            ..config(1, 0)
        }
    )
    .is_err());

    let mut wrong_shape = labels.clone();
    wrong_shape.width += 1;
    assert!(split(&wrong_shape, &SplitConfig::default()).is_err());
}

#[test]
fn class_counts_skip_unlabelled_and_out_of_range() {
    let labels = LabelMap::from_values(1, 5, &[0, 2, 1, 2, 2]).unwrap();
    assert_eq!(class_counts(&labels, &[0, 1, 2, 3, 4, 99]), vec![1, 3]);
}

#[test]
fn spatial_split_keeps_test_away_from_training() {
    let labels = synthetic_scene();
    for seed in 0..5 {
        let c = SplitConfig {
            spatial_block: Some(6),
            seed,
            ..config(10, 5)
        };
        let s = split(&labels, &c).unwrap();
        assert_sets_disjoint_and_labelled(&labels, &s);
        assert_no_test_pixel_touches_training(&labels, &s);
        assert_eq!(class_counts(&labels, &s.train), vec![10; 4]);
        assert_eq!(class_counts(&labels, &s.valid), vec![5; 4]);
        assert!(class_counts(&labels, &s.test)[..3].iter().all(|&n| n > 0));

        // No block holds both learned and test pixels.
        let block = |i: usize| (i / 60 / 6, i % 60 / 6);
        let learned: HashSet<_> = s.train.iter().chain(&s.valid).map(|&i| block(i)).collect();
        assert!(s.test.iter().all(|&i| !learned.contains(&block(i))));
        assert_eq!(s, split(&labels, &c).unwrap());
    }
}

#[test]
fn spatial_split_guard_band_drops_adjacent_pixels() {
    // Two classes filling a 4 x 8 map; blocks of 4 give two blocks, one per side of column 4.
    let labels = map_from_fn(4, 8, |_, c| if c % 2 == 0 { 1 } else { 2 });
    let c = SplitConfig {
        spatial_block: Some(4),
        ..config(8, 0)
    };
    let s = split(&labels, &c).unwrap();
    assert_eq!(s.train.len(), 16);
    // The test block keeps only the columns not adjacent to the training block.
    let test_cols: HashSet<usize> = s.test.iter().map(|&i| i % 8).collect();
    assert_eq!(test_cols.len(), 3);
    assert_eq!(s.test.len(), 12);
    assert_no_test_pixel_touches_training(&labels, &s);
}

/// The Indian Pines ground truth as a named label map, or `None` (outside CI) when absent.
#[cfg(feature = "embedded-data")]
fn indian_pines() -> Option<LabelMap> {
    let gt = crate::data::testdata::indian_pines_gt()?;
    let stored: Vec<u32> = gt.iter().map(|&v| v as u32).collect();
    let mut labels = LabelMap::from_values(145, 145, &stored).unwrap();
    labels.name_by_stored_value(&crate::data::embedded::CLASS_NAMES.map(String::from));
    Some(labels)
}

#[test]
#[cfg(feature = "embedded-data")]
fn indian_pines_random_split_warns_about_small_classes() {
    let Some(labels) = indian_pines() else { return };
    assert_eq!(labels.n_labelled(), 10_249);
    let s = split(&labels, &config(30, 0)).unwrap();
    let train = class_counts(&labels, &s.train);
    let expected: Vec<usize> = labels.counts().iter().map(|&n| n.min(30)).collect();
    assert_eq!(train, expected);
    assert_eq!(s.train.len() + s.test.len(), 10_249);
    // Grass-pasture-mowed (28) and Oats (20) have fewer than 30 pixels.
    let short: Vec<&String> = s.warnings.iter().filter(|w| w.contains("only")).collect();
    assert_eq!(short.len(), 2, "{:?}", s.warnings);
    assert!(short[0].contains("'Grass-pasture-mowed'") && short[0].contains("only 28"));
    assert!(short[1].contains("'Oats'") && short[1].contains("only 20"));
}

#[test]
#[cfg(feature = "embedded-data")]
fn indian_pines_spatial_split_keeps_test_away_from_training() {
    let Some(labels) = indian_pines() else { return };
    for block in [5, 10] {
        let c = SplitConfig {
            spatial_block: Some(block),
            seed: 7,
            ..config(10, 5)
        };
        let s = split(&labels, &c).unwrap();
        assert_sets_disjoint_and_labelled(&labels, &s);
        assert_no_test_pixel_touches_training(&labels, &s);
        assert_eq!(class_counts(&labels, &s.train), vec![10; 16]);
        assert_eq!(class_counts(&labels, &s.valid), vec![5; 16]);
        let test = class_counts(&labels, &s.test);
        assert!(
            test.iter().sum::<usize>() > 8_000,
            "block {block}: test {test:?}"
        );
    }
}

#[test]
fn a_hold_out_partitions_the_rows_by_its_fraction_and_seed() {
    for (n, fraction, held) in [(10_856, 0.1, 1_085), (200, 0.05, 10), (7, 0.1, 1), (2, 0.9, 1), (300_000, 0.5, 10_000)] {
        let (kept, out) = hold_out(n, fraction, 3);
        assert_eq!(out.len(), held, "{n} rows at {fraction}");
        assert!(kept.windows(2).all(|w| w[0] < w[1]), "kept rows in order");
        let mut all: Vec<usize> = kept.iter().chain(&out).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..n).collect::<Vec<_>>());
        assert_eq!(hold_out(n, fraction, 3), (kept, out.clone()));
    }
    assert_ne!(hold_out(1000, 0.1, 1).1, hold_out(1000, 0.1, 2).1);
    assert_eq!(hold_out(1, 0.5, 0), (vec![0], vec![]));
}
