//! Every file parser on thousands of damaged copies of a real file of its format: truncations,
//! bit flips, bytes set to edge values and edits of the header's fields. Each must give an array
//! that keeps its own invariants or an error; none may panic. The same deterministic inputs run
//! in every `cargo test`, so the property holds between fuzzing campaigns (`fuzz/run.sh`);
//! `write_fuzz_seed_corpus` writes the undamaged files as the fuzzers' seed corpus.

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use hyperssl::data::readers::envi::{decode_image, parse_header};
use hyperssl::data::readers::hdf5::{open_core, read_dataset, read_mat73, write_core, LabelKind};
use hyperssl::data::readers::mat::parse_mat;
use hyperssl::data::readers::mnist::parse_idx;
use hyperssl::data::readers::npy::{npy_bytes, parse_npy};
use hyperssl::data::{RawArray, Samples};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn manifest(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Indian Pines' ground truth as numpy wrote it (Fortran order, uint8).
fn npy_real() -> Vec<u8> {
    gunzip("data/indian_pines_gt.npy.gz")
}

/// A small C-order float cube as this crate writes it.
fn npy_small() -> Vec<u8> {
    let values: Vec<f32> = (0..3 * 4 * 5).map(|i| i as f32 * 0.5 - 3.0).collect();
    npy_bytes(&RawArray::new(vec![3, 4, 5], Samples::F32(values)))
}

/// Indian Pines' ground truth as MATLAB wrote it (level 5, compressed).
fn mat_real() -> Vec<u8> {
    std::fs::read(manifest("tests/fixtures/indian_pines_gt.mat")).unwrap()
}

/// Three 4 x 4 images and their labels in MNIST's IDX layout, and MNIST's own test labels.
fn idx_files() -> [Vec<u8>; 3] {
    let mut images = vec![0, 0, 0x08, 0x03, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 4];
    images.extend((0..48u8).map(|i| i.wrapping_mul(37)));
    let labels = vec![0, 0, 0x08, 0x01, 0, 0, 0, 3, 7, 2, 1];
    [images, labels, gunzip("tests/fixtures/t10k-labels.idx1-ubyte.gz")]
}

fn gunzip(rel: &str) -> Vec<u8> {
    let gz = std::fs::read(manifest(rel)).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut out).unwrap();
    out
}

/// An ENVI header as ENVI and Spectral Python write one, then a NUL, then its data (the layout
/// of the envi fuzz target).
fn envi_files() -> Vec<Vec<u8>> {
    let header = |data_type: u8, interleave: &str| {
        format!(
            "ENVI\ndescription = {{\n  Synthetic scene [Fri Dec 04 2026]}}\nsamples = 4\nlines   = 3\nbands   = 5\n\
             header offset = 0\nfile type = ENVI Standard\ndata type = {data_type}\ninterleave = {interleave}\n\
             sensor type = Unknown\nbyte order = 0\nwavelength units = Nanometers\n\
             band names = {{ b1, b2, b3, b4, b5 }}\nwavelength = {{ 400.0, 500.0, 600.0, 700.0, 800.0 }}\n"
        )
    };
    [(12u8, "bil", 2usize), (4, "bsq", 4), (1, "bip", 1)]
        .into_iter()
        .map(|(code, interleave, size)| {
            let mut bytes = header(code, interleave).into_bytes();
            bytes.push(0);
            bytes.extend((0..3 * 4 * 5 * size).map(|i| (i * 13 % 251) as u8));
            bytes
        })
        .collect()
}

/// A drill-core file in the first users' layout written by the HDF5 library (h5py; chunked, the
/// data gzip-compressed; `tests/fixtures/make_core_h5py.py`).
fn hdf5_real() -> Vec<u8> {
    std::fs::read(manifest("tests/fixtures/core_h5py.hdf5")).unwrap()
}

/// The same layout written by this crate through hdf5-pure.
fn hdf5_core(dir: &Path) -> Vec<u8> {
    let path = dir.join("core.hdf5");
    let values: Vec<u16> = (0..4 * 3 * 6).map(|i| (i * 97 % 4096) as u16).collect();
    let labels: Vec<u32> = (0..4 * 3).map(|i| [0, 1, 2, 101][i % 4]).collect();
    write_core(&path, &RawArray::new(vec![4, 3, 6], Samples::U16(values)), &labels).unwrap();
    std::fs::read(path).unwrap()
}

/// Damaged copies of `original`: `header_edits` first, then every truncation within the first
/// 256 bytes and evenly spaced ones after, then seeded bit flips and bytes set to edge values
/// (half of them within the first 512 bytes, where headers are).
fn mutations(original: &[u8], header_edits: Vec<Vec<u8>>, seed: u64, random: usize) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = header_edits.into_iter().enumerate().map(|(i, b)| (format!("header edit {i}"), b)).collect();
    let n = original.len();
    let cuts = (0..n.min(256)).chain((256..n).step_by((n / 64).max(1)));
    out.extend(cuts.map(|len| (format!("truncated to {len} bytes"), original[..len].to_vec())));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for i in 0..random {
        let at = if i % 2 == 0 { rng.random_range(0..n.min(512)) } else { rng.random_range(0..n) };
        let mut bytes = original.to_vec();
        let what = if i % 3 == 0 {
            let value = [0u8, 0xff, 0x7f, 0x80, b'9', b'-'][rng.random_range(0..6)];
            bytes[at] = value;
            format!("byte {at} set to {value:#04x}")
        } else {
            let bit = rng.random_range(0..8);
            bytes[at] ^= 1 << bit;
            format!("bit {bit} of byte {at} flipped")
        };
        out.push((what, bytes));
    }
    out
}

/// `original` with the first `from` replaced by each of `to`.
fn replaced(original: &[u8], from: &str, to: &[&str]) -> Vec<Vec<u8>> {
    let at = original.windows(from.len()).position(|w| w == from.as_bytes()).unwrap_or_else(|| panic!("{from:?} not in the fixture"));
    to.iter()
        .map(|t| [&original[..at], t.as_bytes(), &original[at + from.len()..]].concat())
        .collect()
}

/// Runs `parse` on every input; returns the inputs that made it panic, with the panic message.
fn panics(format: &str, inputs: &[(String, Vec<u8>)], mut parse: impl FnMut(&[u8])) -> Vec<String> {
    inputs
        .iter()
        .filter_map(|(what, bytes)| {
            catch_unwind(AssertUnwindSafe(|| parse(bytes))).err().map(|p| {
                let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
                format!("{format}, {what}: {msg}")
            })
        })
        .collect()
}

fn assert_consistent(array: &RawArray) {
    assert_eq!(array.shape.iter().product::<usize>(), array.len(), "shape {:?} for {} values", array.shape, array.len());
}

#[test]
fn npy_never_panics_and_what_it_reads_survives_a_write() {
    let path = Path::new("damaged.npy");
    let real = npy_real();
    let edits = [
        replaced(&real, "(145, 145)", &["(145,)", "()", "(0, 145)", "(145, 145, 1)", "(-1, 145)", "(99999999999, 99999999999)", "(145 145)", "145"]),
        replaced(&real, "'|u1'", &["'<f8'", "'>i4'", "'|b1'", "'<c8'", "'O'", "'<u2'", "'|S3'", "''"]),
        replaced(&real, "True", &["False", "1", "None"]),
    ]
    .concat();
    let mut failed = Vec::new();
    for (seed, fixture, edits) in [(1, real, edits), (2, npy_small(), Vec::new())] {
        parse_npy(&fixture, path).expect("the undamaged file reads");
        let inputs = mutations(&fixture, edits, seed, 1500);
        failed.extend(panics("npy", &inputs, |b| {
            if let Ok(array) = parse_npy(b, path) {
                assert_consistent(&array);
                let again = parse_npy(&npy_bytes(&array), path).expect("a written array reads back");
                assert_eq!(npy_bytes(&again), npy_bytes(&array));
            }
        }));
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn mat_never_panics_whichever_variable_is_asked_for() {
    let path = Path::new("damaged.mat");
    let real = mat_real();
    // The text header, the version and the endian mark are all that is plain text in this file.
    let edits = [replaced(&real, "MATLAB 5.0", &["MATLAB 7.3", "MATLAB 4.0", "XXXXXXXXXX"]), replaced(&real, "IM", &["MI", "II", "\0\0"])].concat();
    assert_eq!(parse_mat(&real, path, None).unwrap().shape, [145, 145]);
    let inputs = mutations(&real, edits, 3, 2500);
    let failed = panics("mat", &inputs, |b| {
        for variable in [None, Some("indian_pines_gt"), Some("x")] {
            if let Ok(array) = parse_mat(b, path, variable) {
                assert_consistent(&array);
            }
        }
    });
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn idx_never_panics() {
    let path = Path::new("damaged-idx3-ubyte");
    let mut failed = Vec::new();
    for (seed, fixture) in (4..).zip(idx_files()) {
        parse_idx(&fixture, path).expect("the undamaged file reads");
        // The element count and the dimensions: zero, huge, and one more than the data holds.
        let edits = (0..fixture.len().min(16) / 4)
            .flat_map(|field| [0u32, 1, u32::MAX, 0x0100_0000].map(|v| [&fixture[..4 * field], &v.to_be_bytes()[..], &fixture[4 * field + 4..]].concat()))
            .collect();
        let inputs = mutations(&fixture, edits, seed, 1000);
        failed.extend(panics("idx", &inputs, |b| {
            if let Ok(array) = parse_idx(b, path) {
                assert_consistent(&array);
            }
        }));
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn envi_never_panics_and_decodes_to_the_headers_shape() {
    let mut failed = Vec::new();
    for (seed, fixture) in (6..).zip(envi_files()) {
        let mut edits = Vec::new();
        for (field, values) in [
            ("samples = 4", &["samples = 0", "samples = 99999999999999", "samples = -4", "samples = 4.5", "samples ="][..]),
            ("lines   = 3", &["lines = 18446744073709551615", "lines = 0", "lines = {3}"][..]),
            ("bands   = 5", &["bands = 6", "bands = 3", "bands = 1"][..]),
            ("header offset = 0", &["header offset = 99999", "header offset = 1", "header offset = -1"][..]),
            ("byte order = 0", &["byte order = 1", "byte order = 2"][..]),
            ("wavelength = {", &["wavelength = ", "wavelength = {{{"][..]),
        ] {
            edits.extend(replaced(&fixture, field, values));
        }
        let code_at = fixture.windows(12).position(|w| w == b"data type = ").unwrap() + 12;
        for code in ["0", "2", "3", "5", "6", "9", "13", "14", "15", "99", ""] {
            let end = code_at + fixture[code_at..].iter().position(|&b| b == b'\n').unwrap();
            edits.push([&fixture[..code_at], code.as_bytes(), &fixture[end..]].concat());
        }
        for interleave in ["bsq", "bil", "bip", "xyz"] {
            edits.extend(replaced(&fixture, "interleave = b", &[&format!("interleave = {interleave}")[..]]));
        }
        let nul = fixture.iter().position(|&b| b == 0).unwrap();
        let header = parse_header(&String::from_utf8_lossy(&fixture[..nul]), Path::new("fixture.hdr")).unwrap();
        decode_image(&header, &fixture[nul + 1..], Path::new("fixture.img")).expect("the undamaged file reads");
        let inputs = mutations(&fixture, edits, seed, 1000);
        failed.extend(panics("envi", &inputs, |input| {
            let (text, data) = match input.iter().position(|&b| b == 0) {
                Some(i) => (&input[..i], &input[i + 1..]),
                None => (input, &[][..]),
            };
            if let Ok(header) = parse_header(&String::from_utf8_lossy(text), Path::new("damaged.hdr")) {
                if let Ok(array) = decode_image(&header, data, Path::new("damaged.img")) {
                    assert_eq!(array.shape, [header.lines, header.samples, header.bands]);
                    assert_consistent(&array);
                }
            }
        }));
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn hdf5_readers_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.hdf5");
    let mut failed = Vec::new();
    for (seed, fixture) in [(8, hdf5_real()), (9, hdf5_core(dir.path()))] {
        std::fs::write(&path, &fixture).unwrap();
        assert_eq!(open_core(&path).unwrap().read_rows(0, 4).unwrap().shape, [4, 3, 6]);
        // Each input goes through a file, as the readers take paths; fewer inputs than the others.
        let inputs = mutations(&fixture, Vec::new(), seed, 400);
        failed.extend(panics("hdf5", &inputs, |b| {
            std::fs::write(&path, b).unwrap();
            if let Ok(core) = open_core(&path) {
                if let Ok(rows) = core.read_rows(0, core.rows.min(2)) {
                    assert_consistent(&rows);
                }
                let _ = core.read_labels(LabelKind::Mineralogy);
            }
            if let Ok(array) = read_dataset(&path, "/hsimage/data") {
                assert_consistent(&array);
            }
            let _ = read_mat73(&path, None);
        }));
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

/// `HYPERSSL_FUZZ_CORPUS=fuzz/corpus cargo test --release --test parsers_under_mutation -- --ignored`
/// writes the undamaged fixtures as the seed corpus of each fuzz target.
#[test]
#[ignore = "writes the fuzzers' seed corpus; fuzz/run.sh runs it"]
fn write_fuzz_seed_corpus() {
    let root = PathBuf::from(std::env::var("HYPERSSL_FUZZ_CORPUS").expect("HYPERSSL_FUZZ_CORPUS names the corpus folder"));
    let dir = tempfile::tempdir().unwrap();
    let [images, labels, mnist_labels] = idx_files();
    let seeds: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("npy", vec![npy_real(), npy_small()]),
        ("mat", vec![mat_real()]),
        ("mnist", vec![images, labels, mnist_labels]),
        ("envi", envi_files()),
        ("hdf5", vec![hdf5_real(), hdf5_core(dir.path())]),
    ];
    for (target, files) in seeds {
        let folder = root.join(target);
        std::fs::create_dir_all(&folder).unwrap();
        for (i, bytes) in files.iter().enumerate() {
            std::fs::write(folder.join(format!("seed-{i}")), bytes).unwrap();
        }
    }
}

/// Found by fuzzing: a chunked dataset whose header declares terabytes of values. The HDF5
/// reader allocated them at once, and the failed allocation ended the process.
#[test]
fn an_hdf5_dataset_declaring_more_than_its_file_can_hold_is_an_error() {
    let path = manifest("tests/fixtures/hdf5_declares_terabytes.hdf5");
    let err = read_dataset(&path, "/hsimage/data").unwrap_err().to_string();
    assert!(err.contains("declares") && err.contains("hdf5_declares_terabytes.hdf5"), "{err}");
}

/// Found by fuzzing: a 3 KB file whose chunk index says a chunk holds 4 GB; the HDF5 reader
/// allocated that much before reading past the end of the file.
#[test]
fn an_hdf5_chunk_declaring_more_than_its_file_can_hold_is_an_error() {
    let path = manifest("tests/fixtures/hdf5_chunk_declares_gigabytes.hdf5");
    let err = read_dataset(&path, "/hsimage/data").unwrap_err().to_string();
    assert!(err.contains("past the end of the file") && err.contains("hdf5_chunk_declares_gigabytes.hdf5"), "{err}");
}
