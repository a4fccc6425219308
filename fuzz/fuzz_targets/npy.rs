//! Any bytes given to the .npy parser give an array or an error, never a panic; an array that
//! parses survives a write and a second parse unchanged.
#![no_main]

use hyperssl::data::readers::npy::{npy_bytes, parse_npy};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.npy");
    if let Ok(array) = parse_npy(data, path) {
        assert_eq!(array.shape.iter().product::<usize>(), array.len());
        let written = npy_bytes(&array);
        let again = parse_npy(&written, path).expect("a written array reads back");
        // Compared as bytes, so that NaN values compare equal to themselves.
        assert_eq!(npy_bytes(&again), written);
    }
});
