//! Any bytes as an ENVI header followed, after the first NUL byte, by its data file. Parsing and
//! decoding must return errors rather than panic, a header that parses and is writable must
//! read back the same after being written, and a decoded image must have the header's shape.

#![no_main]

use std::path::Path;

use hyperssl::data::readers::envi::{check_writable, decode_image, header_text, parse_header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let (text, data) = match input.iter().position(|&b| b == 0) {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => (input, &[][..]),
    };
    let text = String::from_utf8_lossy(text);
    let Ok(header) = parse_header(&text, Path::new("fuzz.hdr")) else {
        return;
    };

    if check_writable(&header).is_ok() {
        let written = header_text(&header);
        match parse_header(&written, Path::new("written.hdr")) {
            Ok(again) => assert_eq!(again, header, "written header:\n{written}"),
            Err(e) => panic!("a writable header does not parse back: {e}\n{written}"),
        }
    }

    if let Ok(array) = decode_image(&header, data, Path::new("fuzz.img")) {
        assert_eq!(array.shape, [header.lines, header.samples, header.bands]);
        assert_eq!(array.len(), header.lines * header.samples * header.bands);
    }
});
