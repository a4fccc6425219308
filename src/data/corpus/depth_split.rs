//! Training, validation and test pixels of a corpus, split by depth intervals.
//!
//! Each file is cut into blocks of `block_rows` rows (intervals of depth along a core); the
//! blocks of all files are shuffled with the seed and dealt out whole: a share to test, a share
//! to validation, the rest to training. Neighbouring pixels of one layer so fall on one side,
//! and test pixels within `guard` rows of a block of another set are left out, so that no
//! training pixel lies in a test pixel's window. Training and validation take each class's
//! labelled pixels of their blocks up to a cap, in an order drawn with the seed; test takes all
//! of its own.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How a corpus is split and how much of it an epoch visits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CorpusConfig {
    /// Rows of a depth block: the unit that goes wholly to training, validation or test.
    pub block_rows: usize,
    /// Share of the blocks whose labelled pixels are validation pixels.
    pub valid_share: f64,
    /// Share of the blocks whose labelled pixels are test pixels.
    pub test_share: f64,
    /// A class gives at most this many pixels to training, and as many to validation, when
    /// `split.max_per_class` is not set.
    pub max_per_class: usize,
    /// Unlabelled pixels an epoch trains on, drawn from shuffled bands of rows across all
    /// files (0: every pixel of the corpus).
    pub unlabelled_per_epoch: usize,
    /// Rows of one band of that draw.
    pub chunk_rows: usize,
}

impl Default for CorpusConfig {
    fn default() -> Self {
        CorpusConfig { block_rows: 64, valid_share: 0.1, test_share: 0.3, max_per_class: 2000, unlabelled_per_epoch: 100_000, chunk_rows: 32 }
    }
}

impl CorpusConfig {
    /// Refuses settings that cannot split a corpus, naming the setting.
    pub fn check(&self) -> Result<()> {
        for (name, v) in [("corpus.block_rows", self.block_rows), ("corpus.chunk_rows", self.chunk_rows), ("corpus.max_per_class", self.max_per_class)] {
            if v == 0 {
                return Err(Error::invalid(format!("{name} must be at least 1")));
            }
        }
        for (name, v) in [("corpus.valid_share", self.valid_share), ("corpus.test_share", self.test_share)] {
            if !(v.is_finite() && (0.0..1.0).contains(&v)) {
                return Err(Error::invalid(format!("{name} must lie in [0, 1), not {v}")));
            }
        }
        if self.valid_share + self.test_share >= 1.0 {
            return Err(Error::invalid(format!("corpus.valid_share + corpus.test_share must be below 1 (training needs blocks), not {}", self.valid_share + self.test_share)));
        }
        Ok(())
    }
}

/// One labelled pixel of a corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PixelRef {
    pub file: u32,
    pub row: u32,
    pub col: u32,
    /// Dense class index.
    pub class: u32,
}

impl PixelRef {
    /// The dense class of each pixel of `set`.
    pub fn classes(set: &[PixelRef]) -> Vec<usize> {
        set.iter().map(|p| p.class as usize).collect()
    }
}

/// Which set a depth block went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Train,
    Valid,
    Test,
}

/// The split: every block's set, and the pixels of each set (sorted by file, row, column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpusSplit {
    pub block_rows: usize,
    pub guard_rows: usize,
    /// `(file, first row, set)` of every block.
    pub blocks: Vec<(u32, u32, Role)>,
    pub train: Vec<PixelRef>,
    pub valid: Vec<PixelRef>,
    pub test: Vec<PixelRef>,
    /// Classes with no training or no test pixels.
    pub warnings: Vec<String>,
}

/// How [`split_corpus`] deals out the pixels.
#[derive(Debug, Clone, Copy)]
pub struct SplitRule<'a> {
    pub config: &'a CorpusConfig,
    /// Per-class limit of the training and of the validation pixels.
    pub cap: usize,
    /// Rows kept clear between test pixels and blocks of the other sets.
    pub guard: usize,
    pub seed: u64,
}

/// Splits by depth blocks (see the module documentation) a corpus of files of `rows[f]` rows
/// of `cols` pixels, reading one file's dense classes at a time through `classes_of(f)`
/// (row-major, `None` where unlabelled, each below `n_classes`).
pub fn split_corpus(rows: &[usize], cols: usize, n_classes: usize, mut classes_of: impl FnMut(usize) -> Result<Vec<Option<u32>>>, rule: SplitRule) -> Result<CorpusSplit> {
    let SplitRule { config, cap, guard, seed } = rule;
    config.check()?;
    let mut blocks: Vec<(u32, u32)> = Vec::new();
    for (f, &n) in rows.iter().enumerate() {
        blocks.extend((0..n).step_by(config.block_rows).map(|r| (f as u32, r as u32)));
    }
    if blocks.len() < 2 {
        return Err(Error::invalid(format!("the corpus has {} depth block(s) of {} rows: too few to hold training and test pixels apart (lower corpus.block_rows)", blocks.len(), config.block_rows)));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    blocks.shuffle(&mut rng);
    let n_test = ((config.test_share * blocks.len() as f64).round() as usize).clamp(1, blocks.len() - 1);
    let n_valid = ((config.valid_share * blocks.len() as f64).round() as usize).min(blocks.len() - 1 - n_test);
    let role = |i: usize| if i < n_test { Role::Test } else if i < n_test + n_valid { Role::Valid } else { Role::Train };
    let mut blocks: Vec<(u32, u32, Role)> = blocks.iter().enumerate().map(|(i, &(f, r))| (f, r, role(i))).collect();
    blocks.sort_by_key(|b| (b.0, b.1));

    let (mut train, mut valid, mut test) = (vec![Vec::new(); n_classes], vec![Vec::new(); n_classes], Vec::new());
    for (f, &n_rows) in rows.iter().enumerate() {
        let classes = classes_of(f)?;
        if classes.len() != n_rows * cols {
            return Err(Error::invalid(format!("file {f}: {} labels for {n_rows} x {cols} pixels", classes.len())));
        }
        let row_role: Vec<Role> = (0..n_rows).map(|r| blocks[blocks.partition_point(|b| (b.0, b.1) <= (f as u32, r as u32)) - 1].2).collect();
        // Rows from each row to the nearest row of another set than test.
        let mut clear = vec![usize::MAX; n_rows];
        let mut last = None;
        for r in 0..n_rows {
            if row_role[r] != Role::Test {
                last = Some(r);
            }
            clear[r] = last.map_or(usize::MAX, |l| r - l);
        }
        let mut next = None;
        for r in (0..n_rows).rev() {
            if row_role[r] != Role::Test {
                next = Some(r);
            }
            clear[r] = clear[r].min(next.map_or(usize::MAX, |n| n - r));
        }
        for (i, class) in classes.iter().enumerate() {
            let Some(class) = *class else { continue };
            if class as usize >= n_classes {
                return Err(Error::invalid(format!("file {f}: class {class} with only {n_classes} classes")));
            }
            let (row, col) = (i / cols, i % cols);
            let p = PixelRef { file: f as u32, row: row as u32, col: col as u32, class };
            match row_role[row] {
                Role::Train => train[class as usize].push(p),
                Role::Valid => valid[class as usize].push(p),
                Role::Test if clear[row] > guard => test.push(p),
                Role::Test => {}
            }
        }
    }
    let mut take = |by_class: Vec<Vec<PixelRef>>| {
        let mut out: Vec<PixelRef> = by_class
            .into_iter()
            .flat_map(|mut pixels| {
                pixels.shuffle(&mut rng);
                pixels.truncate(cap);
                pixels
            })
            .collect();
        out.sort();
        out
    };
    let (train, valid) = (take(train), take(valid));
    let mut warnings = Vec::new();
    for c in 0..n_classes as u32 {
        for (set, pixels) in [("training", &train), ("test", &test)] {
            if !pixels.iter().any(|p| p.class == c) {
                warnings.push(format!("class {c} has no {set} pixels in this split"));
            }
        }
    }
    if train.is_empty() {
        return Err(Error::invalid("no labelled pixel lies in a training block: label more pixels or change corpus.test_share"));
    }
    Ok(CorpusSplit { block_rows: config.block_rows, guard_rows: guard, blocks, train, valid, test, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two files of 40 and 25 rows, 3 columns; pixel i of file f has class (i + f) % 3 when
    /// i % 2 == 0.
    fn labelled() -> Vec<Vec<Option<u32>>> {
        [40, 25].iter().enumerate().map(|(f, &rows)| (0..rows * 3).map(|i| (i % 2 == 0).then_some(((i + f) % 3) as u32)).collect()).collect()
    }

    fn split(classes: &[Vec<Option<u32>>], n_classes: usize, config: &CorpusConfig, cap: usize, guard: usize, seed: u64) -> Result<CorpusSplit> {
        let rows: Vec<usize> = classes.iter().map(|c| c.len() / 3).collect();
        split_corpus(&rows, 3, n_classes, |f| Ok(classes[f].clone()), SplitRule { config, cap, guard, seed })
    }

    #[test]
    fn blocks_go_wholly_to_one_set_and_test_keeps_clear_of_the_others() {
        let classes = labelled();
        let config = CorpusConfig { block_rows: 5, valid_share: 0.2, test_share: 0.3, ..Default::default() };
        let split = split(&classes, 3, &config, usize::MAX, 2, 7).unwrap();
        // 8 + 5 blocks: 4 test, 3 validation, 6 training.
        assert_eq!(split.blocks.len(), 13);
        let count = |r: Role| split.blocks.iter().filter(|b| b.2 == r).count();
        assert_eq!((count(Role::Test), count(Role::Valid), count(Role::Train)), (4, 3, 6));
        let role_of = |p: &PixelRef| split.blocks.iter().rev().find(|b| b.0 == p.file && b.1 <= p.row).unwrap().2;
        for (set, role) in [(&split.train, Role::Train), (&split.valid, Role::Valid), (&split.test, Role::Test)] {
            assert!(set.iter().all(|p| role_of(p) == role));
        }
        // Every labelled pixel of a training or validation block is taken (no cap), once.
        let labelled_in = |role: Role| classes.iter().enumerate().flat_map(|(f, c)| c.iter().enumerate().filter(move |(i, c)| c.is_some() && role_of(&PixelRef { file: f as u32, row: (*i / 3) as u32, col: 0, class: 0 }) == role)).count();
        assert_eq!(split.train.len(), labelled_in(Role::Train));
        assert_eq!(split.valid.len(), labelled_in(Role::Valid));
        // Test pixels lie more than 2 rows from any row of another set of their file.
        for p in &split.test {
            for d in 0..=2u32 {
                for r in [p.row.saturating_sub(d), p.row + d] {
                    if let Some(b) = split.blocks.iter().rev().find(|b| b.0 == p.file && b.1 <= r) {
                        if (r as usize) < classes[p.file as usize].len() / 3 {
                            assert_eq!(b.2, Role::Test, "test pixel {p:?} is {d} rows from row {r} of a {:?} block", b.2);
                        }
                    }
                }
            }
            assert_eq!(Some(p.class), classes[p.file as usize][(p.row * 3 + p.col) as usize]);
        }
        // The same seed gives the same split, another seed another.
        assert_eq!(split, super::tests::split(&classes, 3, &config, usize::MAX, 2, 7).unwrap());
        assert_ne!(split.blocks, super::tests::split(&classes, 3, &config, usize::MAX, 2, 8).unwrap().blocks);
    }

    #[test]
    fn the_cap_limits_each_class_of_training_and_validation() {
        let classes = labelled();
        let split = split(&classes, 3, &CorpusConfig { block_rows: 5, ..Default::default() }, 4, 0, 1).unwrap();
        for c in 0..3 {
            assert_eq!(split.train.iter().filter(|p| p.class == c).count(), 4);
            assert!(split.valid.iter().filter(|p| p.class == c).count() <= 4);
        }
    }

    #[test]
    fn settings_and_corpora_that_cannot_split_are_refused() {
        let classes = labelled();
        let err = split(&classes, 3, &CorpusConfig { valid_share: 0.5, test_share: 0.5, ..Default::default() }, 10, 0, 0).unwrap_err();
        assert!(err.to_string().contains("corpus.valid_share + corpus.test_share"), "{err}");
        let err = split(&classes[..1], 3, &CorpusConfig { block_rows: 100, ..Default::default() }, 10, 0, 0).unwrap_err();
        assert!(err.to_string().contains("too few"), "{err}");
        let unlabelled = vec![vec![None; 30]; 2];
        let err = split(&unlabelled, 1, &CorpusConfig { block_rows: 2, ..Default::default() }, 10, 0, 0).unwrap_err();
        assert!(err.to_string().contains("no labelled pixel"), "{err}");
    }
}
