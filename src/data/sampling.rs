//! Drawing the train, validation, test and unlabelled pixel sets of a labelled scene.
//!
//! Every draw is seeded (ChaCha8) and reproducible: the same label map and configuration give
//! the same sets on every machine.
//!
//! Per class, the labelled pixels are shuffled and, when `max_per_class` is set, cut to that many;
//! training takes its quota first, then validation, then test (by default all that is left).
//! A class with fewer pixels than asked gives what it has, training first, and the split carries
//! a warning naming the class; a class left without test pixels is always warned about.
//!
//! With `spatial_block = Some(b)` the split is spatially disjoint: the image is tiled in b x b
//! blocks, whole blocks (chosen seeded, rarest class first, until every class's train + valid
//! quota is met) give the training and validation pixels, the other blocks the test pixels, and
//! no test pixel is 8-adjacent to a training or validation pixel (a one-pixel guard band).
//!
//! The unlabelled pool is what the semi-supervised models learn from without labels; by default
//! it is every pixel of the scene, labelled or not, except the test pixels.

mod blocks;
#[cfg(test)]
mod tests;

use super::labels::LabelMap;
use crate::error::{Error, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How many pixels of a class a set takes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum TrainSize {
    /// This many pixels of every class.
    PerClass(usize),
    /// This fraction (0 to 1) of each class's pixels (after the `max_per_class` cap), rounded,
    /// and at least 1 when the fraction is above 0.
    Fraction(f64),
}

impl TrainSize {
    /// Pixels asked of a class of `n` pixels (may exceed `n` for `PerClass`).
    pub fn count(&self, n: usize) -> usize {
        match *self {
            TrainSize::PerClass(m) => m,
            TrainSize::Fraction(f) => {
                let q = (f * n as f64).round() as usize;
                if f > 0.0 && n > 0 {
                    q.max(1)
                } else {
                    q
                }
            }
        }
    }

    fn validate(&self, set: &str) -> Result<()> {
        match *self {
            TrainSize::Fraction(f) if !(0.0..=1.0).contains(&f) => Err(Error::invalid(format!(
                "{set} fraction must be between 0 and 1, got {f}"
            ))),
            _ => Ok(()),
        }
    }
}

/// Which pixels the models may learn from without their labels.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub enum UnlabelledPool {
    /// Every pixel of the scene, labelled or not, except the test pixels.
    #[default]
    AllButTest,
    /// Every pixel of the scene, test pixels included (transductive use).
    AllPixels,
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SplitConfig {
    pub train: TrainSize,
    /// Taken per class from the labelled pixels that training did not take.
    pub valid: TrainSize,
    /// `None`: all labelled pixels that training and validation did not take.
    pub test: Option<TrainSize>,
    /// A class contributes at most this many pixels to train, valid and test together.
    pub max_per_class: Option<usize>,
    /// Side of the square blocks of a spatially disjoint split (see the module documentation).
    pub spatial_block: Option<usize>,
    pub unlabelled: UnlabelledPool,
    pub seed: u64,
}

impl Split {
    /// The pixels the unsupervised parts learn from: the unlabelled pool, or the training
    /// pixels when the pool is empty (`UnlabelledPool::None`).
    pub fn pool(&self) -> &[usize] {
        if self.unlabelled.is_empty() {
            &self.train
        } else {
            &self.unlabelled
        }
    }

    /// The labelled pixels whose labels a run uses: training, then validation.
    pub fn labels_used(&self) -> Vec<usize> {
        self.train.iter().chain(&self.valid).copied().collect()
    }
}

impl Default for SplitConfig {
    /// 10 training pixels per class, no validation, the rest for testing.
    fn default() -> Self {
        SplitConfig {
            train: TrainSize::PerClass(10),
            valid: TrainSize::PerClass(0),
            test: None,
            max_per_class: None,
            spatial_block: None,
            unlabelled: UnlabelledPool::AllButTest,
            seed: 0,
        }
    }
}

/// Pixel indices (row-major, ascending) of each set.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Split {
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
    pub test: Vec<usize>,
    pub unlabelled: Vec<usize>,
    /// Classes that got fewer pixels than asked, or no test pixels.
    pub warnings: Vec<String>,
}

/// What one class gave to each set, and how many pixels each set could choose from.
#[derive(Debug, Default)]
struct ClassDraw {
    /// The class's pixels after the cap.
    n: usize,
    train: Vec<usize>,
    valid: Vec<usize>,
    test: Vec<usize>,
    train_available: usize,
    valid_available: usize,
    test_available: usize,
}

/// Draws the sets; see the module documentation for the rules.
pub fn split(labels: &LabelMap, config: &SplitConfig) -> Result<Split> {
    validate(labels, config)?;
    let by_class = labels.pixels_by_class();
    let mut rng = seeded_rng(config.seed);
    let draws = match config.spatial_block {
        None => by_class
            .iter()
            .map(|pixels| draw_class(pixels, config, &mut rng))
            .collect(),
        Some(block) => blocks::draw_disjoint(labels, &by_class, block, config, &mut rng),
    };

    let mut out = Split::default();
    for (k, draw) in draws.iter().enumerate() {
        let name = labels
            .names
            .get(k)
            .cloned()
            .unwrap_or_else(|| format!("class {k}"));
        out.warnings.extend(class_warnings(&name, draw, config));
        out.train.extend(&draw.train);
        out.valid.extend(&draw.valid);
        out.test.extend(&draw.test);
    }
    out.train.sort_unstable();
    out.valid.sort_unstable();
    out.test.sort_unstable();
    out.unlabelled = unlabelled_pool(labels.classes.len(), &out.test, &config.unlabelled);
    Ok(out)
}

fn validate(labels: &LabelMap, config: &SplitConfig) -> Result<()> {
    let expected = labels.height.checked_mul(labels.width);
    if expected != Some(labels.classes.len()) {
        return Err(Error::invalid(format!(
            "label map says {} x {} but holds {} pixels",
            labels.height,
            labels.width,
            labels.classes.len()
        )));
    }
    if labels.n_labelled() == 0 {
        return Err(Error::invalid(
            "the label map has no labelled pixels; nothing to split",
        ));
    }
    config.check()
}

impl SplitConfig {
    /// Refuses sizes that cannot make a split, naming the setting.
    pub fn check(&self) -> Result<()> {
        self.train.validate("train")?;
        self.valid.validate("valid")?;
        if let Some(test) = &self.test {
            test.validate("test")?;
        }
        if self.max_per_class == Some(0) {
            return Err(Error::invalid("max_per_class must be at least 1"));
        }
        if self.spatial_block == Some(0) {
            return Err(Error::invalid("spatial_block must be at least 1 pixel"));
        }
        Ok(())
    }

    /// The most pixels of a class that a scene's split draws from (all without a cap).
    fn cap(&self) -> usize {
        self.max_per_class.unwrap_or(usize::MAX)
    }
}

/// Random (not spatially disjoint) draw of one class.
fn draw_class(
    pixels: &[usize],
    config: &SplitConfig,
    rng: &mut ChaCha8Rng,
) -> ClassDraw {
    let mut pool = pixels.to_vec();
    shuffle_indices(&mut pool, rng);
    pool.truncate(config.cap());
    let n = pool.len();
    let n_train = config.train.count(n).min(n);
    let n_valid = config.valid.count(n).min(n - n_train);
    let rest = n - n_train - n_valid;
    let n_test = config.test.as_ref().map_or(rest, |t| t.count(n).min(rest));
    let (train, pool) = pool.split_at(n_train);
    let (valid, pool) = pool.split_at(n_valid);
    ClassDraw {
        n,
        train: train.to_vec(),
        valid: valid.to_vec(),
        test: pool[..n_test].to_vec(),
        train_available: n,
        valid_available: n - n_train,
        test_available: rest,
    }
}

fn class_warnings(name: &str, d: &ClassDraw, config: &SplitConfig) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut short = |set: &str, asked: usize, available: usize, got: usize| {
        if got < asked {
            warnings.push(format!(
                "class '{name}': {asked} {set} pixels asked, only {available} available; {set} \
                 gets {got}"
            ));
        }
    };
    short(
        "training",
        config.train.count(d.n),
        d.train_available,
        d.train.len(),
    );
    short(
        "validation",
        config.valid.count(d.n),
        d.valid_available,
        d.valid.len(),
    );
    let test_asked = config.test.as_ref().map(|t| t.count(d.n));
    if d.test.is_empty() && test_asked != Some(0) {
        let where_ = if config.spatial_block.is_some() {
            " (in test blocks, outside the guard band)"
        } else {
            ""
        };
        warnings.push(format!(
            "class '{name}' gets no test pixels: of its {} pixels, {} went to training, {} to \
             validation and {} are left for testing{where_}",
            d.n,
            d.train.len(),
            d.valid.len(),
            d.test_available
        ));
    } else if let Some(asked) = test_asked {
        short("test", asked, d.test_available, d.test.len());
    }
    warnings
}

fn unlabelled_pool(n_pixels: usize, test: &[usize], pool: &UnlabelledPool) -> Vec<usize> {
    match pool {
        UnlabelledPool::AllPixels => (0..n_pixels).collect(),
        UnlabelledPool::None => Vec::new(),
        UnlabelledPool::AllButTest => {
            let mut is_test = vec![false; n_pixels];
            for &i in test {
                is_test[i] = true;
            }
            (0..n_pixels).filter(|&i| !is_test[i]).collect()
        }
    }
}

/// Number of pixels of each class among `indices`; unlabelled or out-of-range indices are
/// not counted.
pub fn class_counts(labels: &LabelMap, indices: &[usize]) -> Vec<usize> {
    let mut counts = vec![0; labels.n_classes()];
    for &i in indices {
        if let Some(Some(k)) = labels.classes.get(i) {
            if let Some(c) = counts.get_mut(*k as usize) {
                *c += 1;
            }
        }
    }
    counts
}

/// Rows of `n` held out to score a bound on where there is no validation set: a seeded
/// `fraction` of them, rounded down and kept between 1 and 10,000 (none of fewer than 2 rows).
/// Returns the rows kept, in increasing order, and those held out.
pub fn hold_out(n: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rows: Vec<usize> = (0..n).collect();
    if n < 2 {
        return (rows, Vec::new());
    }
    rows.shuffle(&mut seeded_rng(seed ^ 0x6d32_686f_6c64));
    let held = ((n as f64 * fraction) as usize).clamp(1, (n - 1).min(10_000));
    let held: Vec<usize> = rows.drain(..held).collect();
    rows.sort_unstable();
    (rows, held)
}

/// The random number generator of every seeded draw in hyperssl.
pub fn seeded_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Shuffles indices in place (Fisher-Yates), reproducibly for a seeded `rng`.
pub fn shuffle_indices<R: Rng + ?Sized>(indices: &mut [usize], rng: &mut R) {
    indices.shuffle(rng);
}
