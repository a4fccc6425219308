//! Any bytes given to the MAT-file parser give an array or an error, never a panic, whether a
//! variable is named or chosen automatically.
#![no_main]

use hyperssl::data::readers::mat::{is_mat73, parse_mat};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.mat");
    let _ = is_mat73(data);
    for variable in [None, Some("x"), Some("indian_pines_gt")] {
        if let Ok(array) = parse_mat(data, path, variable) {
            assert_eq!(array.shape.iter().product::<usize>(), array.len());
        }
    }
});
