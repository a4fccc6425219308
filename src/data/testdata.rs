//! Test data: the Indian Pines scene from `../shared/data`, read with a minimal .npy parser
//! (version 1 headers, little-endian) so these tests depend on no other reader. The shared
//! copies are stored in Fortran order, so C order is restored with `fortran_to_c`.

use crate::data::array::{fortran_to_c, RawArray};
use std::io::Write;
use std::path::PathBuf;

pub const HEIGHT: usize = 145;
pub const WIDTH: usize = 145;
pub const BANDS: usize = 200;

/// Finds `shared/data/<relative>` next to the project (or next to a folder above it, for
/// work trees one level deeper). Returns `None`, after saying so, when it is absent; under CI
/// the data must be there, so a missing file fails the test.
pub fn shared_file(relative: &str) -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let found = manifest
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("shared/data").join(relative))
        .find(|p| p.exists());
    if found.is_none() {
        let expected = manifest.join("../shared/data").join(relative);
        if std::env::var_os("CI").is_some() {
            panic!("{} not found (required under CI)", expected.display());
        }
        eprintln!("skipping: {} not found", expected.display());
    }
    found
}

/// The bytes after the header of a version-1 .npy file, checking its element type and shape,
/// and whether they are in Fortran order.
fn npy_payload(relative: &str, descr: &str, shape: &str) -> Option<(Vec<u8>, bool)> {
    let path = shared_file(relative)?;
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY", "{}", path.display());
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(
        header.contains(descr) && header.contains(shape),
        "unexpected header {header}"
    );
    let fortran = header.contains("'fortran_order': True");
    assert!(
        fortran || header.contains("'fortran_order': False"),
        "unexpected header {header}"
    );
    Some((bytes[10 + header_len..].to_vec(), fortran))
}

/// Indian Pines (corrected), 145 x 145 x 200 uint16, row-major.
pub fn indian_pines() -> Option<Vec<u16>> {
    let (payload, fortran) = npy_payload(
        "indian_pines/Indian_pines_corrected.npy",
        "<u2",
        "(145, 145, 200)",
    )?;
    assert_eq!(payload.len(), HEIGHT * WIDTH * BANDS * 2);
    let values: Vec<u16> = payload
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    Some(if fortran {
        fortran_to_c(&values, &[HEIGHT, WIDTH, BANDS])
    } else {
        values
    })
}

/// Indian Pines ground truth, 145 x 145 uint8 (0 = unlabelled, 1..=16).
pub fn indian_pines_gt() -> Option<Vec<u8>> {
    let (payload, fortran) = npy_payload("indian_pines/Indian_pines_gt.npy", "|u1", "(145, 145)")?;
    assert_eq!(payload.len(), HEIGHT * WIDTH);
    Some(if fortran {
        fortran_to_c(&payload, &[HEIGHT, WIDTH])
    } else {
        payload
    })
}

/// `bytes` gzip-compressed, for the readers' `.gz` tests.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The message of a read that must fail; asserts that it names the file `name`.
pub fn error_naming(read: crate::error::Result<RawArray>, name: &str) -> String {
    match read {
        Ok(array) => panic!("expected an error, got an array of shape {:?}", array.shape),
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains(name), "message does not name the file: {message}");
            message
        }
    }
}
