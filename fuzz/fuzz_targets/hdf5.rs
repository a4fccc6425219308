//! Arbitrary bytes as an HDF5 file: every reader must return an error, never panic.
#![no_main]

use hyperssl::data::readers::hdf5::{open_core, read_dataset, read_mat73, LabelKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // The readers take paths, so the input goes through a scratch file of this process.
    let path = std::env::temp_dir().join(format!("hyperssl-fuzz-hdf5-{}.h5", std::process::id()));
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    if let Ok(core) = open_core(&path) {
        let _ = core.read_rows(0, core.rows.min(2));
        let _ = core.read_labels(LabelKind::Mineralogy);
    }
    let _ = read_dataset(&path, "/hsimage/data");
    let _ = read_mat73(&path, None);
});
