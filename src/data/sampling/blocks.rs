//! Spatially disjoint split: neighbouring pixels of a scene are nearly identical, so a test pixel
//! next to a training pixel measures memory more than generalisation.
//!
//! The image is tiled in `b x b` blocks (smaller at the right and bottom edges), and whole blocks
//! go to training or to testing:
//! 1. Blocks are shuffled (seeded). Classes are visited from the rarest to the commonest; each
//!    takes, in the shuffled order, blocks holding its pixels into the training side until the
//!    training side holds its train + valid quota (blocks taken for earlier classes count).
//!    Every other block is a test block.
//! 2. Training and validation pixels are drawn (shuffled, per class) only from training blocks.
//! 3. Test pixels are drawn only from test blocks, and never from a one-pixel guard band: a
//!    pixel 8-adjacent to any training or validation pixel cannot be a test pixel. So no
//!    training or validation pixel touches a test pixel, not even diagonally.
//!
//! Labelled pixels of training blocks that training and validation did not take belong to no
//! labelled set.

use super::{shuffle_indices, ClassDraw, SplitConfig};
use crate::data::labels::LabelMap;
use crate::data::spatial::filters::window;
use rand_chacha::ChaCha8Rng;

/// Square tiling of a height x width image.
struct Tiling {
    height: usize,
    width: usize,
    side: usize,
    cols: usize,
    rows: usize,
}

impl Tiling {
    fn new(height: usize, width: usize, side: usize) -> Self {
        Tiling {
            height,
            width,
            side,
            cols: width.div_ceil(side),
            rows: height.div_ceil(side),
        }
    }

    fn n_blocks(&self) -> usize {
        self.rows * self.cols
    }

    fn block_of(&self, pixel: usize) -> usize {
        let (r, c) = (pixel / self.width, pixel % self.width);
        (r / self.side) * self.cols + c / self.side
    }

    /// Row-major pixel indices of a block.
    fn pixels(&self, block: usize) -> impl Iterator<Item = usize> + '_ {
        let (r0, c0) = (
            (block / self.cols) * self.side,
            (block % self.cols) * self.side,
        );
        let (r1, c1) = (
            (r0 + self.side).min(self.height),
            (c0 + self.side).min(self.width),
        );
        (r0..r1).flat_map(move |r| (c0..c1).map(move |c| r * self.width + c))
    }
}

pub(super) fn draw_disjoint(
    labels: &LabelMap,
    by_class: &[Vec<usize>],
    side: usize,
    config: &SplitConfig,
    rng: &mut ChaCha8Rng,
) -> Vec<ClassDraw> {
    let tiling = Tiling::new(labels.height, labels.width, side);
    let sizes: Vec<usize> = by_class.iter().map(|p| p.len().min(config.cap())).collect();
    let train_quota: Vec<usize> = sizes
        .iter()
        .map(|&n| config.train.count(n).min(n))
        .collect();
    let need: Vec<usize> = sizes
        .iter()
        .zip(&train_quota)
        .map(|(&n, &t)| t + config.valid.count(n).min(n - t))
        .collect();
    let is_train_block = choose_train_blocks(labels, by_class, &tiling, &need, rng);

    // Training and validation from training blocks.
    let mut draws: Vec<ClassDraw> = Vec::with_capacity(by_class.len());
    for (k, pixels) in by_class.iter().enumerate() {
        let n = sizes[k];
        let mut pool: Vec<usize> = pixels
            .iter()
            .copied()
            .filter(|&i| is_train_block[tiling.block_of(i)])
            .collect();
        shuffle_indices(&mut pool, rng);
        let n_train = train_quota[k].min(pool.len());
        let n_valid = config
            .valid
            .count(n)
            .min(n - n_train)
            .min(pool.len() - n_train);
        draws.push(ClassDraw {
            n,
            train: pool[..n_train].to_vec(),
            valid: pool[n_train..n_train + n_valid].to_vec(),
            train_available: pool.len(),
            valid_available: pool.len() - n_train,
            ..ClassDraw::default()
        });
    }

    // Test from test blocks, outside the guard band around training and validation pixels.
    let guarded = guard_band(
        labels.height,
        labels.width,
        draws.iter().flat_map(|d| d.train.iter().chain(&d.valid)),
    );
    for (draw, pixels) in draws.iter_mut().zip(by_class) {
        let mut pool: Vec<usize> = pixels
            .iter()
            .copied()
            .filter(|&i| !is_train_block[tiling.block_of(i)] && !guarded[i])
            .collect();
        shuffle_indices(&mut pool, rng);
        let room = draw.n - draw.train.len() - draw.valid.len();
        let n_test = match &config.test {
            None => pool.len(),
            Some(t) => t.count(draw.n).min(pool.len()),
        }
        .min(room);
        draw.test_available = pool.len().min(room);
        draw.test = pool[..n_test].to_vec();
    }
    draws
}

/// Marks the training blocks (rule 1 of the module documentation).
fn choose_train_blocks(
    labels: &LabelMap,
    by_class: &[Vec<usize>],
    tiling: &Tiling,
    need: &[usize],
    rng: &mut ChaCha8Rng,
) -> Vec<bool> {
    let mut order: Vec<usize> = (0..tiling.n_blocks()).collect();
    shuffle_indices(&mut order, rng);
    let mut rank = vec![0; order.len()];
    for (position, &block) in order.iter().enumerate() {
        rank[block] = position;
    }

    let mut classes: Vec<usize> = (0..by_class.len()).collect();
    classes.sort_by_key(|&k| (by_class[k].len(), k));

    let mut is_train = vec![false; tiling.n_blocks()];
    let mut have = vec![0usize; by_class.len()];
    for k in classes {
        if have[k] >= need[k] {
            continue;
        }
        let mut blocks: Vec<usize> = by_class[k].iter().map(|&i| tiling.block_of(i)).collect();
        blocks.sort_unstable_by_key(|&b| rank[b]);
        blocks.dedup();
        for block in blocks {
            if have[k] >= need[k] {
                break;
            }
            if is_train[block] {
                continue;
            }
            is_train[block] = true;
            for i in tiling.pixels(block) {
                if let Some(Some(c)) = labels.classes.get(i) {
                    if let Some(h) = have.get_mut(*c as usize) {
                        *h += 1;
                    }
                }
            }
        }
    }
    is_train
}

/// Pixels equal or 8-adjacent to any of `marked`.
fn guard_band<'a>(
    height: usize,
    width: usize,
    marked: impl Iterator<Item = &'a usize>,
) -> Vec<bool> {
    let mut guarded = vec![false; height * width];
    for &i in marked {
        let (r, c) = (i / width, i % width);
        for rr in window(r, 1, height) {
            for cc in window(c, 1, width) {
                guarded[rr * width + cc] = true;
            }
        }
    }
    guarded
}
