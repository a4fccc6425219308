//! Any bytes given to the IDX parser give an array or an error, never a panic.
#![no_main]

use hyperssl::data::readers::mnist::parse_idx;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(array) = parse_idx(data, Path::new("fuzz-idx3-ubyte")) {
        assert_eq!(array.shape.iter().product::<usize>(), array.len());
        assert!(matches!(array.shape.len(), 1 | 3));
    }
});
