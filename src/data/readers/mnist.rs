//! MNIST in its IDX format: a 4-byte magic (two zero bytes, the element type, the number of
//! dimensions), each dimension as a big-endian u32, then the elements. MNIST files hold unsigned
//! bytes: images are `idx3` (count x rows x columns), labels `idx1` (count).

use super::npy::{format_shape, gunzip_if_compressed, shape_product};
use crate::data::array::{RawArray, Samples};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// IDX element type code for unsigned bytes, the only one MNIST uses.
const IDX_UBYTE: u8 = 0x08;

/// The four MNIST arrays: images are N x 28 x 28 uint8, labels N uint8 digits.
#[derive(Debug, Clone)]
pub struct Mnist {
    pub train_images: RawArray,
    pub train_labels: RawArray,
    pub test_images: RawArray,
    pub test_labels: RawArray,
}

/// Reads an IDX file of unsigned bytes, gzip-compressed or not (detected by its content).
pub fn read_idx(path: &Path) -> Result<RawArray> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_idx(&bytes, path)
}

/// Parses the bytes of an IDX file; `path` is only used in messages.
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<RawArray> {
    let bytes = gunzip_if_compressed(bytes, path)?;
    let bad = |msg: String| Error::bad(path, msg);
    let magic = bytes.get(..4).ok_or_else(|| {
        bad(format!(
            "not an IDX file: {} bytes is shorter than the 4-byte magic number",
            bytes.len()
        ))
    })?;
    // 0x0000 then the element type (0x08, unsigned byte) and the number of dimensions.
    let n_dims = match magic {
        [0, 0, IDX_UBYTE, n_dims @ (1 | 3)] => *n_dims,
        _ => {
            return Err(bad(format!(
                "not an MNIST IDX file: magic number is {:02x}{:02x}{:02x}{:02x}, expected \
                 00000801 (labels) or 00000803 (images)",
                magic[0], magic[1], magic[2], magic[3]
            )))
        }
    };
    let header_len = 4 + 4 * n_dims as usize;
    let dims_bytes = bytes.get(4..header_len).ok_or_else(|| {
        bad(format!(
            "truncated header: {n_dims} dimensions need {header_len} header bytes, the file has {}",
            bytes.len()
        ))
    })?;
    let shape: Vec<usize> = dims_bytes
        .chunks_exact(4)
        .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize)
        .collect();
    let expected = shape_product(&shape)
        .ok_or_else(|| bad(format!("dimensions {} overflow", format_shape(&shape))))?;
    let data = &bytes[header_len..];
    if data.len() != expected {
        let hint = if data.len() < expected {
            "truncated?"
        } else {
            "trailing bytes?"
        };
        return Err(bad(format!(
            "header says {} uint8 = {expected} bytes, file has {} ({hint})",
            format_shape(&shape),
            data.len()
        )));
    }
    Ok(RawArray::new(shape, Samples::U8(data.to_vec())))
}

/// Loads the four MNIST files from `dir`, each plain or gzipped, named as distributed
/// (`train-images-idx3-ubyte.gz`) or with a dot (`train-images.idx3-ubyte.gz`).
pub fn load_mnist(dir: &Path) -> Result<Mnist> {
    let (train_images, train_labels) = load_pair(dir, "train")?;
    let (test_images, test_labels) = load_pair(dir, "t10k")?;
    if train_images.shape[1..] != test_images.shape[1..] {
        return Err(Error::bad(
            dir,
            format!(
                "training images are {} but test images are {}",
                format_shape(&train_images.shape[1..]),
                format_shape(&test_images.shape[1..])
            ),
        ));
    }
    Ok(Mnist {
        train_images,
        train_labels,
        test_images,
        test_labels,
    })
}

/// Images and labels of one split, checked to agree.
fn load_pair(dir: &Path, split: &str) -> Result<(RawArray, RawArray)> {
    let images_path = find_file(dir, split, "images", 3)?;
    let labels_path = find_file(dir, split, "labels", 1)?;
    let images = read_idx(&images_path)?;
    let labels = read_idx(&labels_path)?;
    if images.shape.len() != 3 {
        let shape = format_shape(&images.shape);
        return Err(Error::bad(
            &images_path,
            format!("images should have 3 dimensions, found {shape}"),
        ));
    }
    if labels.shape.len() != 1 {
        let shape = format_shape(&labels.shape);
        return Err(Error::bad(
            &labels_path,
            format!("labels should have 1 dimension, found {shape}"),
        ));
    }
    if images.shape[0] != labels.shape[0] {
        return Err(Error::bad(
            &labels_path,
            format!(
                "{} labels for {} images in {}",
                labels.shape[0],
                images.shape[0],
                images_path.display()
            ),
        ));
    }
    if let Samples::U8(values) = &labels.samples {
        if let Some(position) = values.iter().position(|&v| v > 9) {
            let value = values[position];
            return Err(Error::bad(
                &labels_path,
                format!("label {value} at index {position} is not a digit 0-9"),
            ));
        }
    }
    Ok((images, labels))
}

/// The first of the usual names for an MNIST file that exists in `dir`.
fn find_file(dir: &Path, split: &str, kind: &str, n_dims: u8) -> Result<PathBuf> {
    let candidates: Vec<PathBuf> = [
        format!("{split}-{kind}.idx{n_dims}-ubyte"),
        format!("{split}-{kind}.idx{n_dims}-ubyte.gz"),
        format!("{split}-{kind}-idx{n_dims}-ubyte"),
        format!("{split}-{kind}-idx{n_dims}-ubyte.gz"),
    ]
    .iter()
    .map(|name| dir.join(name))
    .collect();
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .ok_or_else(|| {
            let names: Vec<String> = candidates
                .iter()
                .filter_map(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect();
            Error::bad(
                dir,
                format!(
                    "no MNIST {split} {kind} file: looked for {}",
                    names.join(", ")
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::data::testdata::{error_naming, gzip, shared_file as shared_data};

    fn file(name: &str) -> PathBuf {
        PathBuf::from(format!("/data/{name}"))
    }

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, IDX_UBYTE, dims.len() as u8];
        dims.iter()
            .for_each(|d| out.extend_from_slice(&d.to_be_bytes()));
        out.extend_from_slice(data);
        out
    }

    fn error_of(bytes: &[u8], name: &str) -> String {
        error_naming(parse_idx(bytes, &file(name)), name)
    }

    #[test]
    fn images_and_labels_plain_and_gzipped() {
        let pixels: Vec<u8> = (0..12).collect();
        let images = idx(&[3, 2, 2], &pixels);
        let labels = idx(&[3], &[7, 0, 9]);
        for (images, labels) in [
            (images.clone(), labels.clone()),
            (gzip(&images), gzip(&labels)),
        ] {
            let read = parse_idx(&images, &file("images")).unwrap();
            assert_eq!(
                read,
                RawArray::new(vec![3, 2, 2], Samples::U8(pixels.clone()))
            );
            let read = parse_idx(&labels, &file("labels")).unwrap();
            assert_eq!(read, RawArray::new(vec![3], Samples::U8(vec![7, 0, 9])));
        }
    }

    #[test]
    fn wrong_magic() {
        let message = error_of(&[0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 1, 5], "two_d.idx");
        assert!(message.contains("magic number is 00000802"), "{message}");
        // Float elements (0x0d) are valid IDX but not MNIST.
        assert!(error_of(&[0, 0, 0x0d, 1, 0, 0, 0, 0], "float.idx").contains("00000d01"));
        assert!(error_of(b"\x89PNG\r\n\x1a\n", "image.png").contains("not an MNIST IDX file"));
        assert!(error_of(&[0, 0], "tiny.idx").contains("shorter than the 4-byte magic"));
    }

    #[test]
    fn truncated_files() {
        let images = idx(&[3, 2, 2], &[1; 12]);
        let message = error_of(&images[..10], "cut_header.idx3-ubyte");
        assert!(message.contains("truncated header"), "{message}");
        let message = error_of(&images[..images.len() - 2], "cut_data.idx3-ubyte");
        assert!(
            message.contains("header says 3x2x2 uint8 = 12 bytes, file has 10"),
            "{message}"
        );
        let mut longer = images.clone();
        longer.push(0);
        assert!(error_of(&longer, "long.idx3-ubyte").contains("file has 13 (trailing bytes?)"));
        let compressed = gzip(&images);
        assert!(error_of(&compressed[..compressed.len() - 6], "cut.gz").contains("gzip"));
        for cut in 0..images.len() {
            error_of(&images[..cut], "every_cut.idx3-ubyte");
        }
    }

    #[test]
    fn overflowing_dimensions() {
        let bytes = idx(&[u32::MAX, u32::MAX, u32::MAX], &[]);
        if usize::BITS == 64 {
            assert!(error_of(&bytes, "huge.idx3-ubyte").contains("overflow"));
        }
    }

    #[test]
    fn mutated_files_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let images = idx(&[2, 3, 3], &[9; 18]);
        for _ in 0..3000 {
            let mut mutated = images.clone();
            let at = rng.random_range(0..20);
            mutated[at] = rng.random();
            let _ = parse_idx(&mutated, &file("mutated.idx3-ubyte"));
        }
    }

    #[test]
    fn error_names_the_file_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train-labels.idx1-ubyte");
        std::fs::write(&path, [0, 0, 8, 3, 0]).unwrap();
        let message = read_idx(&path).unwrap_err().to_string();
        assert!(message.contains("train-labels.idx1-ubyte"), "{message}");
    }

    /// Writes a small MNIST-like directory: `n_train` and 2 test images of 2x2.
    fn write_dir(dir: &Path, n_train_labels: u32, labels: &[u8]) {
        std::fs::write(
            dir.join("train-images-idx3-ubyte"),
            idx(&[3, 2, 2], &[1; 12]),
        )
        .unwrap();
        std::fs::write(
            dir.join("train-labels.idx1-ubyte.gz"),
            gzip(&idx(&[n_train_labels], labels)),
        )
        .unwrap();
        std::fs::write(
            dir.join("t10k-images.idx3-ubyte.gz"),
            gzip(&idx(&[2, 2, 2], &[2; 8])),
        )
        .unwrap();
        std::fs::write(dir.join("t10k-labels-idx1-ubyte"), idx(&[2], &[4, 5])).unwrap();
    }

    #[test]
    fn load_a_directory_with_mixed_names() {
        let dir = tempfile::tempdir().unwrap();
        write_dir(dir.path(), 3, &[0, 1, 9]);
        let mnist = load_mnist(dir.path()).unwrap();
        assert_eq!(mnist.train_images.shape, vec![3, 2, 2]);
        assert_eq!(mnist.train_labels.samples, Samples::U8(vec![0, 1, 9]));
        assert_eq!(mnist.test_images.samples, Samples::U8(vec![2; 8]));
        assert_eq!(mnist.test_labels.samples, Samples::U8(vec![4, 5]));
    }

    #[test]
    fn image_and_label_counts_must_agree() {
        let dir = tempfile::tempdir().unwrap();
        write_dir(dir.path(), 2, &[0, 1]);
        let message = load_mnist(dir.path()).unwrap_err().to_string();
        assert!(message.contains("2 labels for 3 images"), "{message}");
        assert!(message.contains("train-labels.idx1-ubyte.gz"), "{message}");
    }

    #[test]
    fn labels_must_be_digits() {
        let dir = tempfile::tempdir().unwrap();
        write_dir(dir.path(), 3, &[0, 10, 1]);
        let message = load_mnist(dir.path()).unwrap_err().to_string();
        assert!(message.contains("label 10 at index 1"), "{message}");
    }

    #[test]
    fn missing_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        write_dir(dir.path(), 3, &[0, 1, 2]);
        std::fs::remove_file(dir.path().join("t10k-images.idx3-ubyte.gz")).unwrap();
        let message = load_mnist(dir.path()).unwrap_err().to_string();
        assert!(message.contains("no MNIST t10k images file"), "{message}");
        assert!(message.contains("t10k-images-idx3-ubyte.gz"), "{message}");
    }

    #[test]
    fn real_mnist() {
        let Some(dir) = shared_data("mnist") else {
            return;
        };
        let mnist = load_mnist(&dir).unwrap();
        assert_eq!(mnist.train_images.shape, vec![60_000, 28, 28]);
        assert_eq!(mnist.train_labels.shape, vec![60_000]);
        assert_eq!(mnist.test_images.shape, vec![10_000, 28, 28]);
        assert_eq!(mnist.test_labels.shape, vec![10_000]);
        let counts = |labels: &RawArray| {
            let Samples::U8(values) = &labels.samples else {
                panic!("labels are {}", labels.dtype())
            };
            (0..10u8)
                .map(|d| values.iter().filter(|&&v| v == d).count())
                .collect::<Vec<_>>()
        };
        let train = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
        let test = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];
        assert_eq!(counts(&mnist.train_labels), train);
        assert_eq!(counts(&mnist.test_labels), test);
        // The first training digit is a 5; the sum of its pixels is a fingerprint of the order.
        let Samples::U8(pixels) = &mnist.train_images.samples else {
            panic!("images are not uint8")
        };
        assert_eq!(pixels[..784].iter().map(|&p| p as u32).sum::<u32>(), 27_525);
        assert_eq!(
            &pixels[14 * 28 + 13..14 * 28 + 17],
            &[0x51, 0xf0, 0xfd, 0xfd]
        );
    }
}
