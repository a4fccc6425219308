//! Streaming a folder of drill-core files with flat memory.
//!
//! A corpus is dozens of files of about a million pixels each: too much to hold at once.
//! [`Corpus::chunks`] visits every (file, block of rows) exactly once, in an order shuffled by
//! a seed, reading one block from disk at a time and shuffling the pixels inside it, so
//! memory stays at about one chunk whatever the corpus size.

pub(crate) mod depth_split;
pub mod epoch_draw;
pub mod inputs;
pub mod synthetic;

// A run's corpus settings and split, which its configuration and outcome hold.
pub use depth_split::{CorpusConfig, CorpusSplit, PixelRef, Role};

use crate::data::array::Samples;
use crate::data::readers::hdf5::{check_same_layout, common_layout, list_core_files, open_core, CoreFile, LabelKind};
use crate::error::{Error, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

/// Drill-core files that share one width and band count.
#[derive(Debug, Clone)]
pub struct Corpus {
    files: Vec<CoreFile>,
    cols: usize,
    bands: usize,
    kind: LabelKind,
}

/// A block of rows of one file, its pixels shuffled.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// `n x bands` values, pixel-major.
    pub pixels: Vec<f32>,
    /// Stored label of each pixel (0 = unlabelled), after the corpus's [`LabelKind`].
    pub labels: Vec<u32>,
    /// Index of the file in [`Corpus::files`].
    pub file: usize,
    /// First row of the block in that file.
    pub first_row: usize,
}

impl Chunk {
    pub fn n_pixels(&self) -> usize {
        self.labels.len()
    }
}

impl Corpus {
    /// Opens the drill-core files of `dir` (see [`list_core_files`]).
    pub fn open(dir: &Path) -> Result<Corpus> {
        Corpus::from_paths(&list_core_files(dir)?)
    }

    /// Opens the given files; they must share cols and bands (the error names the odd file).
    pub fn from_paths(paths: &[PathBuf]) -> Result<Corpus> {
        let files = paths
            .iter()
            .map(|p| open_core(p))
            .collect::<Result<Vec<_>>>()?;
        let (cols, bands) = common_layout(&files)?;
        Ok(Corpus {
            files,
            cols,
            bands,
            kind: LabelKind::All,
        })
    }

    /// Opens the given files and checks each one can be read (its layout, its labels, its
    /// first and last rows) before any long work starts. A file that fails, or whose width
    /// and bands differ from the first good file's, is an error naming it; with `skip_bad` it
    /// is left out instead and its error returned among the warnings.
    pub fn open_checked(paths: &[PathBuf], kind: LabelKind, skip_bad: bool) -> Result<(Corpus, Vec<String>)> {
        let mut files: Vec<CoreFile> = Vec::new();
        let mut skipped = Vec::new();
        for path in paths {
            let checked = open_core(path).and_then(|f| {
                f.read_labels(kind)?;
                f.read_rows(0, 1)?;
                f.read_rows(f.rows - 1, 1)?;
                if let Some(first) = files.first() {
                    check_same_layout(first, &f)?;
                }
                Ok(f)
            });
            match checked {
                Ok(f) => files.push(f),
                Err(e) if skip_bad => skipped.push(format!("skipped: {e}")),
                Err(e) => return Err(e),
            }
        }
        if files.is_empty() {
            return Err(Error::invalid(format!("none of the {} drill-core files could be read", paths.len())));
        }
        let (cols, bands) = (files[0].cols, files[0].bands);
        Ok((Corpus { files, cols, bands, kind }, skipped))
    }

    /// Keeps only the labels of `kind` in the chunks (default: all).
    pub fn with_label_kind(mut self, kind: LabelKind) -> Corpus {
        self.kind = kind;
        self
    }

    pub fn files(&self) -> &[CoreFile] {
        &self.files
    }

    pub fn n_pixels(&self) -> usize {
        self.files.iter().map(CoreFile::n_pixels).sum()
    }

    pub fn bands(&self) -> usize {
        self.bands
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn label_kind(&self) -> LabelKind {
        self.kind
    }

    /// Every block of `rows_per_chunk` rows (shorter at the end of a file) of every file,
    /// once each, in an order and with pixel shuffles fixed by `seed`.
    pub fn chunks(&self, rows_per_chunk: usize, seed: u64) -> ChunkIter {
        let mut blocks = Vec::new();
        if rows_per_chunk > 0 {
            for (file, f) in self.files.iter().enumerate() {
                for first_row in (0..f.rows).step_by(rows_per_chunk) {
                    blocks.push(Block {
                        file,
                        first_row,
                        rows: rows_per_chunk.min(f.rows - first_row),
                    });
                }
            }
        }
        blocks.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let failed =
            (rows_per_chunk == 0).then(|| Error::invalid("rows_per_chunk must be at least 1"));
        ChunkIter {
            files: self.files.clone(),
            kind: self.kind,
            blocks,
            next: 0,
            seed,
            failed,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Block {
    file: usize,
    first_row: usize,
    rows: usize,
}

/// Iterator over the chunks of a corpus; owns what it needs, so it can move to another
/// thread. Stops after the first error.
#[derive(Debug)]
pub struct ChunkIter {
    files: Vec<CoreFile>,
    kind: LabelKind,
    blocks: Vec<Block>,
    next: usize,
    seed: u64,
    failed: Option<Error>,
}

impl ChunkIter {
    /// Chunks left to read.
    pub fn remaining(&self) -> usize {
        self.blocks.len() - self.next
    }

    fn read(&self, index: usize, block: Block) -> Result<Chunk> {
        let f = &self.files[block.file];
        let (data, stored_labels) = f.read_block(block.first_row, block.rows, self.kind)?;
        // Each chunk has its own stream of the seeded generator, so its shuffle does not
        // depend on which chunks were read before it.
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(index as u64 + 1);
        let mut order: Vec<usize> = (0..stored_labels.len()).collect();
        order.shuffle(&mut rng);
        // Convert while gathering, so no second full-size copy of the block is made.
        let pixels = match &data.samples {
            Samples::U16(v) => gather(v, &order, f.bands),
            Samples::U8(v) => gather(v, &order, f.bands),
            Samples::I16(v) => gather(v, &order, f.bands),
            other => gather(&other.to_f32(), &order, f.bands),
        };
        let labels = order.iter().map(|&i| stored_labels[i]).collect();
        Ok(Chunk {
            pixels,
            labels,
            file: block.file,
            first_row: block.first_row,
        })
    }
}

/// Pixels `order[0], order[1], ...` of a pixel-major buffer, as f32.
fn gather<T: Copy + Into<f32>>(values: &[T], order: &[usize], bands: usize) -> Vec<f32> {
    let mut pixels = Vec::with_capacity(order.len() * bands);
    for &i in order {
        pixels.extend(values[i * bands..(i + 1) * bands].iter().map(|&v| v.into()));
    }
    pixels
}

impl Iterator for ChunkIter {
    type Item = Result<Chunk>;

    fn next(&mut self) -> Option<Result<Chunk>> {
        if let Some(e) = self.failed.take() {
            self.next = self.blocks.len();
            return Some(Err(e));
        }
        let block = *self.blocks.get(self.next)?;
        let index = self.next;
        self.next += 1;
        let chunk = self.read(index, block);
        if chunk.is_err() {
            self.next = self.blocks.len();
        }
        Some(chunk)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining() + usize::from(self.failed.is_some());
        (n, Some(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::array::{RawArray, Samples};
    use crate::data::readers::hdf5::{write_core, write_core_fixture};

    /// A small scene whose pixel values say where they came from: band b of (r, c) is
    /// 1000 r + 10 c + b, so a pixel can be traced after shuffling.
    fn traceable_scene(height: usize, width: usize, bands: usize) -> (RawArray, Vec<u32>) {
        let mut values = Vec::new();
        for r in 0..height {
            for c in 0..width {
                for b in 0..bands {
                    values.push((1000 * r + 10 * c + b) as u16);
                }
            }
        }
        let labels = (0..height * width).map(|i| (i % 7) as u32 * 20).collect();
        (
            RawArray {
                shape: vec![height, width, bands],
                samples: Samples::U16(values),
            },
            labels,
        )
    }

    /// Every pixel as (values, label), sorted, so that two pixel sets compare as multisets.
    fn sorted_pixels(pixels: &[f32], labels: &[u32], bands: usize) -> Vec<(Vec<u32>, u32)> {
        let mut all: Vec<(Vec<u32>, u32)> = pixels
            .chunks_exact(bands)
            .zip(labels)
            .map(|(p, &l)| (p.iter().map(|v| v.to_bits()).collect(), l))
            .collect();
        all.sort();
        all
    }

    fn read_all(corpus: &Corpus, rows: usize, seed: u64) -> Vec<Chunk> {
        corpus
            .chunks(rows, seed)
            .collect::<Result<Vec<_>>>()
            .unwrap()
    }

    #[test]
    fn chunks_visit_every_block_once_and_keep_pixels_with_their_labels() {
        let dir = tempfile::tempdir().unwrap();
        let (scene, labels) = traceable_scene(23, 5, 3);
        write_core_fixture(dir.path(), &scene, &labels, 3).unwrap();
        let corpus = Corpus::open(dir.path()).unwrap();
        assert_eq!(
            (corpus.n_pixels(), corpus.bands(), corpus.cols()),
            (23 * 5, 3, 5)
        );
        assert_eq!(
            corpus.files().iter().map(|f| f.rows).collect::<Vec<_>>(),
            vec![8, 8, 7]
        );

        let chunks = read_all(&corpus, 3, 11);
        // 8 rows in blocks of 3 is 3 blocks, 7 rows is 3 blocks.
        let mut blocks: Vec<(usize, usize)> =
            chunks.iter().map(|c| (c.file, c.first_row)).collect();
        assert_eq!(blocks.len(), 9);
        blocks.sort();
        blocks.dedup();
        assert_eq!(blocks.len(), 9);
        let offsets = [0, 8, 16];
        for c in &chunks {
            let rows = if c.file == 2 && c.first_row == 6 {
                1
            } else if c.first_row == 6 {
                2
            } else {
                3
            };
            assert_eq!(c.n_pixels(), rows * 5);
            assert_eq!(c.pixels.len(), rows * 5 * 3);
            for (p, &l) in c.pixels.chunks_exact(3).zip(&c.labels) {
                // Trace the pixel back to its place in the scene and check its label.
                let (r, col) = (p[0] as usize / 1000, p[0] as usize % 1000 / 10);
                assert!(
                    r >= offsets[c.file] + c.first_row && r < offsets[c.file] + c.first_row + rows
                );
                assert_eq!(p, &[p[0], p[0] + 1.0, p[0] + 2.0]);
                assert_eq!(l, labels[r * 5 + col]);
            }
        }
        let pixels: Vec<f32> = chunks.iter().flat_map(|c| c.pixels.clone()).collect();
        let got_labels: Vec<u32> = chunks.iter().flat_map(|c| c.labels.clone()).collect();
        let Samples::U16(values) = &scene.samples else {
            unreachable!()
        };
        let expected: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        assert_eq!(
            sorted_pixels(&pixels, &got_labels, 3),
            sorted_pixels(&expected, &labels, 3)
        );
    }

    #[test]
    fn the_seed_fixes_the_order() {
        let dir = tempfile::tempdir().unwrap();
        let (scene, labels) = traceable_scene(40, 6, 2);
        write_core_fixture(dir.path(), &scene, &labels, 4).unwrap();
        let corpus = Corpus::open(dir.path()).unwrap();
        let a = read_all(&corpus, 2, 1);
        assert_eq!(a, read_all(&corpus, 2, 1));
        let b = read_all(&corpus, 2, 2);
        let order = |c: &[Chunk]| c.iter().map(|c| (c.file, c.first_row)).collect::<Vec<_>>();
        assert_ne!(order(&a), order(&b));
        // The same block is shuffled differently under another seed.
        let find = |c: &[Chunk], file, row| {
            c.iter()
                .find(|c| (c.file, c.first_row) == (file, row))
                .unwrap()
                .pixels
                .clone()
        };
        assert_ne!(find(&a, 0, 0), find(&b, 0, 0));
        let mut sorted_a = find(&a, 0, 0);
        let mut sorted_b = find(&b, 0, 0);
        sorted_a.sort_by(f32::total_cmp);
        sorted_b.sort_by(f32::total_cmp);
        assert_eq!(sorted_a, sorted_b);
    }

    #[test]
    fn indian_pines_streams_back_every_pixel_exactly_once() {
        use crate::data::testdata;
        let (Some(data), Some(gt)) = (testdata::indian_pines(), testdata::indian_pines_gt()) else {
            return;
        };
        let (h, w, b) = (testdata::HEIGHT, testdata::WIDTH, testdata::BANDS);
        let dir = tempfile::tempdir().unwrap();
        let labels: Vec<u32> = gt.iter().map(|&v| u32::from(v)).collect();
        let scene = RawArray {
            shape: vec![h, w, b],
            samples: Samples::U16(data.clone()),
        };
        write_core_fixture(dir.path(), &scene, &labels, 3).unwrap();
        let corpus = Corpus::open(dir.path()).unwrap();
        assert_eq!(corpus.n_pixels(), h * w);
        let chunks = read_all(&corpus, 16, 7);
        let pixels: Vec<f32> = chunks
            .iter()
            .flat_map(|c| c.pixels.iter().copied())
            .collect();
        let got: Vec<u32> = chunks
            .iter()
            .flat_map(|c| c.labels.iter().copied())
            .collect();
        let expected: Vec<f32> = data.iter().map(|&v| v as f32).collect();
        assert_eq!(
            sorted_pixels(&pixels, &got, b),
            sorted_pixels(&expected, &labels, b)
        );
    }

    #[test]
    fn label_kind_applies_to_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let (scene, _) = traceable_scene(2, 4, 1);
        write_core(
            &dir.path().join("a-labeled.hdf5"),
            &scene,
            &[0, 5, 50, 99, 100, 101, 120, 7],
        )
        .unwrap();
        let corpus = Corpus::open(dir.path())
            .unwrap()
            .with_label_kind(LabelKind::Lithology);
        let mut labels: Vec<u32> = read_all(&corpus, 5, 0)
            .into_iter()
            .flat_map(|c| c.labels)
            .collect();
        labels.sort();
        assert_eq!(labels, vec![0, 0, 0, 0, 0, 0, 101, 120]);
    }

    #[test]
    fn mismatched_files_and_bad_requests_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (scene, labels) = traceable_scene(4, 3, 5);
        write_core(&dir.path().join("a-labeled.hdf5"), &scene, &labels).unwrap();
        let (other, other_labels) = traceable_scene(4, 3, 4);
        write_core(&dir.path().join("b-labeled.hdf5"), &other, &other_labels).unwrap();
        let msg = Corpus::open(dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains("b-labeled.hdf5") && msg.contains("4 bands"),
            "{msg}"
        );

        let empty = tempfile::tempdir().unwrap();
        assert!(Corpus::open(empty.path()).is_err());

        let corpus = Corpus::from_paths(&[dir.path().join("a-labeled.hdf5")]).unwrap();
        let mut it = corpus.chunks(0, 0);
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());

        // A file removed after opening fails its chunk, and the iterator stops.
        std::fs::remove_file(dir.path().join("a-labeled.hdf5")).unwrap();
        let mut it = corpus.chunks(1, 0);
        let msg = it.next().unwrap().unwrap_err().to_string();
        assert!(msg.contains("a-labeled.hdf5"), "{msg}");
        assert!(it.next().is_none());
    }
}
