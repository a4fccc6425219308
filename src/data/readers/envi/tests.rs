use std::fs;
use std::path::{Path, PathBuf};

use super::*;
use super::header::{check_writable, dtype_size, header_text};
use crate::data::array::{fortran_to_c, DType, RawArray, Samples};

use crate::data::testdata::shared_file as shared_data;

/// Just enough of the .npy format to load the Indian Pines cube (uint16, little-endian).
fn load_npy_u16(path: &Path) -> RawArray {
    let bytes = fs::read(path).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    assert_eq!(bytes[6], 1, "npy version 1 expected");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let dict = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(dict.contains("'descr': '<u2'"), "{dict}");
    let shape_text = dict
        .split("'shape': (")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let shape: Vec<usize> = shape_text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let values: Vec<u16> = bytes[10 + header_len..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(values.len(), shape.iter().product::<usize>());
    let values = if dict.contains("'fortran_order': True") {
        fortran_to_c(&values, &shape)
    } else {
        values
    };
    RawArray::new(shape, Samples::U16(values))
}

fn header_for(array: &RawArray, interleave: Interleave, big_endian: bool) -> EnviHeader {
    let mut h = EnviHeader::new(
        array.shape[0],
        array.shape[1],
        array.shape[2],
        array.dtype(),
    );
    h.interleave = interleave;
    h.big_endian = big_endian;
    h
}

const LAYOUTS: [Interleave; 3] = [Interleave::Bsq, Interleave::Bil, Interleave::Bip];

fn error_text<T: std::fmt::Debug>(r: crate::error::Result<T>) -> String {
    r.expect_err("an error was expected").to_string()
}

#[test]
fn indian_pines_round_trips_in_every_layout_and_byte_order() {
    let Some(npy) = shared_data("indian_pines/Indian_pines_corrected.npy") else {
        return;
    };
    let cube = load_npy_u16(&npy);
    assert_eq!(cube.shape, vec![145, 145, 200]);
    let Samples::U16(values) = &cube.samples else {
        unreachable!()
    };
    assert_eq!(values.iter().min(), Some(&955));
    assert_eq!(values.iter().max(), Some(&9604));

    let dir = tempfile::tempdir().unwrap();
    for (i, (interleave, big_endian, offset)) in LAYOUTS
        .iter()
        .flat_map(|&il| [(il, false, 0), (il, true, 0)])
        .chain([(Interleave::Bil, true, 512)])
        .enumerate()
    {
        let mut h = header_for(&cube, interleave, big_endian);
        h.header_offset = offset;
        h.wavelength = Some((0..200).map(|b| 400.0 + 10.0 * b as f64).collect());
        let data = dir.path().join(format!("pines{i}.img"));
        write_envi(&data, &h, &cube).unwrap();

        // The first stored value is pixel (0, 0) of band 0 in every layout; check its bytes.
        let bytes = fs::read(&data).unwrap();
        assert_eq!(bytes.len(), offset + 145 * 145 * 200 * 2);
        let first = if big_endian {
            values[0].to_be_bytes()
        } else {
            values[0].to_le_bytes()
        };
        assert_eq!(bytes[offset..offset + 2], first);
        // The second is band 1 of that pixel only in BIP; else pixel (0, 1) of band 0.
        let second = if interleave == Interleave::Bip {
            values[1]
        } else {
            values[200]
        };
        let stored = [bytes[offset + 2], bytes[offset + 3]];
        let stored = if big_endian {
            u16::from_be_bytes(stored)
        } else {
            u16::from_le_bytes(stored)
        };
        assert_eq!(stored, second);

        let (back_header, back) = read_envi(&data).unwrap();
        assert_eq!(back_header.interleave, interleave);
        assert_eq!(back_header.big_endian, big_endian);
        assert_eq!(back_header.header_offset, offset);
        assert_eq!(back_header.wavelength, h.wavelength);
        assert!(
            back == cube,
            "{interleave:?} big_endian={big_endian} offset={offset}"
        );
        // Reading through the header gives the same.
        let (_, via_header) = read_envi(&dir.path().join(format!("pines{i}.hdr"))).unwrap();
        assert!(via_header == cube);
    }
}

/// A 2 x 3 x 4 array of `T` whose elements are all different, with the extremes of `T`.
fn small<T: Copy>(make: impl Fn(usize) -> T, lo: T, hi: T) -> Vec<T> {
    let mut v: Vec<T> = (0..24).map(make).collect();
    v[5] = lo;
    v[17] = hi;
    v
}

fn every_dtype() -> Vec<Samples> {
    vec![
        Samples::U8(small(|i| i as u8 * 3, u8::MIN, u8::MAX)),
        Samples::I16(small(|i| i as i16 * -301, i16::MIN, i16::MAX)),
        Samples::I32(small(|i| i as i32 * -70_001, i32::MIN, i32::MAX)),
        Samples::F32(small(|i| i as f32 * -0.37, f32::MIN_POSITIVE, f32::MAX)),
        Samples::F64(small(|i| i as f64 * 1e-7, f64::MIN, f64::EPSILON)),
        Samples::U16(small(|i| i as u16 * 2711, u16::MIN, u16::MAX)),
        Samples::U32(small(|i| i as u32 * 178_000_001, u32::MIN, u32::MAX)),
        Samples::I64(small(|i| i as i64 * -(1 << 40), i64::MIN, i64::MAX)),
        Samples::U64(small(|i| i as u64 * (1 << 50) + 7, u64::MIN, u64::MAX)),
    ]
}

#[test]
fn every_data_type_round_trips_in_every_layout_and_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    for samples in every_dtype() {
        let dtype = samples.dtype();
        let array = RawArray::new(vec![2, 3, 4], samples);
        for interleave in LAYOUTS {
            for big_endian in [false, true] {
                let h = header_for(&array, interleave, big_endian);
                let data = dir
                    .path()
                    .join(format!("{dtype}_{interleave:?}_{big_endian}.dat"));
                write_envi(&data, &h, &array).unwrap();
                let len = fs::metadata(&data).unwrap().len() as usize;
                assert_eq!(len, 24 * dtype_size(dtype));
                let (back_header, back) = read_envi(&data).unwrap();
                assert_eq!(back_header.data_type, dtype);
                assert_eq!(
                    back, array,
                    "{dtype} {interleave:?} big_endian={big_endian}"
                );
            }
        }
    }
    // Only the two files of each write are left: no temporary files.
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 9 * 6 * 2);
    assert!(
        names
            .iter()
            .all(|n| n.ends_with(".dat") || n.ends_with(".hdr")),
        "{names:?}"
    );
}

/// Writes a header and a data file by hand, independently of the writer.
fn write_pair(dir: &Path, stem: &str, data_ext: &str, header: &str, data: &[u8]) -> PathBuf {
    let data_path = dir.join(format!("{stem}{data_ext}"));
    fs::write(dir.join(format!("{stem}.hdr")), header).unwrap();
    fs::write(&data_path, data).unwrap();
    data_path
}

#[test]
fn hand_made_files_are_read_in_the_right_order() {
    // Element (line l, sample s, band b) = 100 l + 10 s + b; 2 lines, 3 samples, 2 bands.
    let value = |l: usize, s: usize, b: usize| (100 * l + 10 * s + b) as u8;
    let mut want = Vec::new();
    for l in 0..2 {
        for s in 0..3 {
            for b in 0..2 {
                want.push(value(l, s, b));
            }
        }
    }
    let mut bsq = Vec::new();
    let mut bil = Vec::new();
    for b in 0..2 {
        for l in 0..2 {
            for s in 0..3 {
                bsq.push(value(l, s, b));
            }
        }
    }
    for l in 0..2 {
        for b in 0..2 {
            for s in 0..3 {
                bil.push(value(l, s, b));
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("bsq", &bsq), ("bil", &bil), ("bip", &want)] {
        let header = format!(
            "ENVI\nsamples = 3\nlines = 2\nbands = 2\ndata type = 1\ninterleave = {name}\n"
        );
        let data = write_pair(dir.path(), name, ".img", &header, bytes);
        let (_, array) = read_envi(&data).unwrap();
        assert_eq!(array.shape, vec![2, 3, 2]);
        assert_eq!(array.samples, Samples::U8(want.clone()), "{name}");
    }

    // Big-endian int16 with a 3-byte offset: 0x0102 = 258, 0xFFFE = -2.
    let header = "ENVI\nsamples = 2\nlines = 1\nbands = 1\ndata type = 2\nbyte order = 1\n\
                  header offset = 3\n";
    let data = write_pair(
        dir.path(),
        "be",
        ".dat",
        header,
        &[9, 9, 9, 0x01, 0x02, 0xFF, 0xFE],
    );
    let (h, array) = read_envi(&data).unwrap();
    assert!(h.big_endian);
    assert_eq!(array.samples, Samples::I16(vec![258, -2]));
    // The same bytes little-endian: 0x0201 = 513, 0xFEFF = -257.
    let header = header.replace("byte order = 1", "byte order = 0");
    let data = write_pair(
        dir.path(),
        "le",
        ".dat",
        &header,
        &[9, 9, 9, 0x01, 0x02, 0xFF, 0xFE],
    );
    assert_eq!(
        read_envi(&data).unwrap().1.samples,
        Samples::I16(vec![513, -257])
    );
}

#[test]
fn partner_files_are_found_from_either_side() {
    let dir = tempfile::tempdir().unwrap();
    let header = "ENVI\nsamples = 1\nlines = 1\nbands = 1\ndata type = 1\n";
    for (i, data_name, hdr_name) in [
        (1, "a.img", "a.hdr"),
        (2, "b.img", "b.img.hdr"),
        (3, "c", "c.hdr"),
        (4, "d.bip", "d.hdr"),
        (5, "e.raw", "e.hdr"),
        (6, "f.DAT", "f.hdr"),
    ] {
        let data = dir.path().join(data_name);
        let hdr = dir.path().join(hdr_name);
        fs::write(&data, [i]).unwrap();
        fs::write(&hdr, header).unwrap();
        for given in [&data, &hdr] {
            let (found_hdr, found_data) = find_pair(given).unwrap();
            assert_eq!(
                (&found_hdr, &found_data),
                (&hdr, &data),
                "given {}",
                given.display()
            );
            assert_eq!(read_envi(given).unwrap().1.samples, Samples::U8(vec![i]));
        }
    }
}

const FULL_HEADER: &str = "ENVI
description = {
  Indian Pines test site,
  AVIRIS 1992}
Samples = 3
LINES   = 2
bands= 4
header offset = 0
File Type = ENVI Standard
data type = 4
interleave = BIL
sensor type = AVIRIS
byte order = 1
; a comment = that is ignored
wavelength units = Nanometers
wavelength = { 400.5, 410.25,
   420,
   4.3e2 }
band names = {band one, band two,
 band three, band four}
classes = 3
class names = {Unclassified, Corn,
  Woods}
class lookup = {0, 0, 0, 255, 0, 0,
  0, 160, 20}
map info = {UTM, 1.000, 1.000, 509045.000, 4373570.000, 20.0, 20.0, 16, North, WGS-84}
";

#[test]
fn full_header_is_parsed() {
    let h = parse_header(FULL_HEADER, Path::new("x.hdr")).unwrap();
    assert_eq!((h.samples, h.lines, h.bands), (3, 2, 4));
    assert_eq!(h.data_type, DType::F32);
    assert_eq!(h.interleave, Interleave::Bil);
    assert!(h.big_endian);
    assert_eq!(h.header_offset, 0);
    assert_eq!(
        h.description.as_deref(),
        Some("Indian Pines test site,\nAVIRIS 1992")
    );
    assert_eq!(h.file_type.as_deref(), Some("ENVI Standard"));
    assert_eq!(h.wavelength_units.as_deref(), Some("Nanometers"));
    assert_eq!(h.wavelength, Some(vec![400.5, 410.25, 420.0, 430.0]));
    let names = ["band one", "band two", "band three", "band four"];
    assert_eq!(
        h.band_names,
        Some(names.iter().map(|s| s.to_string()).collect())
    );
    assert_eq!(h.classes, Some(3));
    assert_eq!(
        h.class_names,
        Some(vec!["Unclassified".into(), "Corn".into(), "Woods".into()])
    );
    assert_eq!(
        h.class_lookup,
        Some(vec![[0, 0, 0], [255, 0, 0], [0, 160, 20]])
    );

    // Writing it and parsing again gives the same header.
    assert_eq!(check_writable(&h), Ok(()));
    assert_eq!(
        parse_header(&header_text(&h), Path::new("y.hdr")).unwrap(),
        h
    );
}

#[test]
fn defaults_and_lenient_syntax() {
    let text = "ENVI\r\nsamples=5\r\nlines = 6\r\nbands = 7\r\ndata type = 12\r\n\
                some line without an equals sign\r\nband names = {a, b, c, d, e, f, g,}\r\n";
    let h = parse_header(text, Path::new("x.hdr")).unwrap();
    assert_eq!(
        (h.samples, h.lines, h.bands, h.data_type),
        (5, 6, 7, DType::U16)
    );
    assert_eq!(h.interleave, Interleave::Bsq);
    assert!(!h.big_endian);
    assert_eq!(h.header_offset, 0);
    assert_eq!(h.band_names.as_ref().map(Vec::len), Some(7));
    assert_eq!(h.wavelength, None);
    assert_eq!(h.file_type, None);
    assert_eq!(h.classes, None);
}

#[test]
fn classification_image_is_written_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("map.img");
    let labels: Vec<u8> = (0..12).map(|i| (i % 4) as u8).collect();
    let names: Vec<String> = ["Corn", "Soybean-notill", "Woods"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let colours = [[255, 0, 0], [0, 255, 0], [10, 20, 30]];
    write_classification(&data, &Classification { labels: &labels, lines: 3, samples: 4, class_names: &names, colours: &colours }).unwrap();

    let text = fs::read_to_string(dir.path().join("map.hdr")).unwrap();
    assert!(text.contains("file type = ENVI Classification\n"), "{text}");
    assert!(
        text.contains("class names = {Unclassified, Corn, Soybean-notill, Woods}\n"),
        "{text}"
    );
    assert!(
        text.contains("class lookup = {0, 0, 0, 255, 0, 0, 0, 255, 0, 10, 20, 30}\n"),
        "{text}"
    );

    let (h, array) = read_envi(&data).unwrap();
    assert_eq!(h.file_type.as_deref(), Some("ENVI Classification"));
    assert_eq!(
        (h.lines, h.samples, h.bands, h.data_type),
        (3, 4, 1, DType::U8)
    );
    assert_eq!(h.classes, Some(4));
    assert_eq!(h.class_names.as_ref().unwrap()[0], "Unclassified");
    assert_eq!(&h.class_names.as_ref().unwrap()[1..], &names[..]);
    assert_eq!(
        h.class_lookup,
        Some(vec![[0, 0, 0], [255, 0, 0], [0, 255, 0], [10, 20, 30]])
    );
    assert_eq!(array.shape, vec![3, 4, 1]);
    assert_eq!(array.samples, Samples::U8(labels));
}

#[test]
fn classification_input_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("map.img");
    let names = vec!["A".to_string()];
    let e = error_text(write_classification(
        &data,
        &Classification { labels: &[0, 1, 2, 1], lines: 2, samples: 2, class_names: &names, colours: &[[1, 2, 3]] },
    ));
    assert!(e.contains("map.img") && e.contains("label 2"), "{e}");
    let e = error_text(write_classification(
        &data,
        &Classification { labels: &[0, 1, 1], lines: 2, samples: 2, class_names: &names, colours: &[[1, 2, 3]] },
    ));
    assert!(e.contains("3 labels for a 2 x 2 image"), "{e}");
    let e = error_text(write_classification(
        &data,
        &Classification { labels: &[0, 1, 1, 0], lines: 2, samples: 2, class_names: &names, colours: &[] },
    ));
    assert!(e.contains("0 colours for 1 classes"), "{e}");
    assert!(!data.exists());
}

/// Parses `text` as `bad.hdr` and returns the error message.
fn parse_error(text: &str) -> String {
    let e = error_text(parse_header(text, Path::new("dir/bad.hdr")));
    assert!(e.starts_with("dir/bad.hdr: "), "{e}");
    e
}

const MINIMAL: &str = "ENVI\nsamples = 2\nlines = 2\nbands = 1\ndata type = 1\n";

#[test]
fn header_errors_name_the_file_and_the_problem() {
    assert!(parse_error("").contains("not an ENVI header"));
    assert!(parse_error("samples = 2\nENVI\n").contains("not an ENVI header"));
    for field in ["samples", "lines", "bands", "data type"] {
        let text: String = MINIMAL
            .lines()
            .filter(|l| !l.starts_with(field))
            .map(|l| format!("{l}\n"))
            .collect();
        let e = parse_error(&text);
        assert!(
            e.contains(&format!("required field '{field}' is missing")),
            "{e}"
        );
    }
    let e = parse_error(&MINIMAL.replace("data type = 1", "data type = 7"));
    assert!(e.contains("unknown ENVI data type '7'"), "{e}");
    for complex in ["6", "9"] {
        let e = parse_error(&MINIMAL.replace("data type = 1", &format!("data type = {complex}")));
        assert!(e.contains("complex") && e.contains("not supported"), "{e}");
    }
    let e = parse_error(&format!("{MINIMAL}interleave = bsx\n"));
    assert!(e.contains("'interleave' is 'bsx'"), "{e}");
    let e = parse_error(&format!("{MINIMAL}byte order = 2\n"));
    assert!(e.contains("'byte order' is '2'"), "{e}");
    let e = parse_error(&MINIMAL.replace("samples = 2", "samples = -2"));
    assert!(e.contains("'samples' is not a whole number: '-2'"), "{e}");
    let e = parse_error(&MINIMAL.replace("lines = 2", "lines = 0"));
    assert!(e.contains("'lines' is 0"), "{e}");
    let e = parse_error(&format!("{MINIMAL}wavelength = {{400, 500}}\n"));
    assert!(
        e.contains("'wavelength' has 2 items, expected one per band (1)"),
        "{e}"
    );
    let e = parse_error(&format!("{MINIMAL}wavelength = {{nan}}\n"));
    assert!(e.contains("'wavelength': item 1 is NaN"), "{e}");
    let e = parse_error(&format!("{MINIMAL}wavelength = {{4oo}}\n"));
    assert!(
        e.contains("'wavelength': item 1 is not valid: '4oo'"),
        "{e}"
    );
    let e = parse_error(&format!("{MINIMAL}band names = {{a,\nb\n"));
    assert!(e.contains("'band names': '{' is never closed"), "{e}");
    let e = parse_error(&format!(
        "{MINIMAL}classes = 2\nclass lookup = {{0, 0, 0, 1, 1}}\n"
    ));
    assert!(e.contains("not a multiple of 3"), "{e}");
    let e = parse_error(&format!(
        "{MINIMAL}classes = 2\nclass lookup = {{0, 0, 0, 1, 1, 256}}\n"
    ));
    assert!(e.contains("item 6 is not valid: '256'"), "{e}");
    let e = parse_error(&format!("{MINIMAL}classes = 3\nclass names = {{a, b}}\n"));
    assert!(
        e.contains("'class names' has 2 items, expected one per class (3)"),
        "{e}"
    );
    let e = parse_error(&format!("{MINIMAL}Samples = 3\n"));
    assert!(e.contains("'samples' is given more than once"), "{e}");
}

#[test]
fn file_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // No header next to the data file, no data file next to the header, nothing at all.
    fs::write(d.join("lonely.img"), [0u8; 4]).unwrap();
    let e = error_text(read_envi(&d.join("lonely.img")));
    assert!(
        e.contains("lonely.img") && e.contains("no ENVI header found"),
        "{e}"
    );
    assert!(
        e.contains("lonely.img.hdr, ") && e.contains("lonely.hdr)"),
        "{e}"
    );
    fs::write(d.join("orphan.hdr"), MINIMAL).unwrap();
    let e = error_text(read_envi(&d.join("orphan.hdr")));
    assert!(
        e.contains("orphan.hdr") && e.contains("no data file found"),
        "{e}"
    );
    for tried in [
        "orphan,",
        "orphan.img,",
        "orphan.dat,",
        "orphan.raw,",
        "orphan.bip)",
    ] {
        assert!(e.contains(tried), "{tried} missing from: {e}");
    }
    let e = error_text(read_envi(&d.join("absent.img")));
    assert!(e.contains("absent.img"), "{e}");

    // A header that is not one.
    let data = write_pair(d, "notenvi", ".img", "samples = 2\n", &[0; 4]);
    let e = error_text(read_envi(&data));
    assert!(
        e.contains("notenvi.hdr") && e.contains("not an ENVI header"),
        "{e}"
    );

    // Data files shorter and longer than the header says (2 x 2 x 1 bytes).
    let data = write_pair(d, "short", ".img", MINIMAL, &[0; 3]);
    let e = error_text(read_envi(&data));
    assert!(
        e.contains("short.img") && e.contains("header says 4 bytes") && e.contains("file has 3"),
        "{e}"
    );
    let data = write_pair(d, "long", ".img", MINIMAL, &[0; 5]);
    let e = error_text(read_envi(&data));
    assert!(
        e.contains("long.img") && e.contains("header says 4 bytes") && e.contains("file has 5"),
        "{e}"
    );
    let offset = MINIMAL.replace("bands = 1", "bands = 1\nheader offset = 2");
    let data = write_pair(d, "offset", ".img", &offset, &[0; 4]);
    let e = error_text(read_envi(&data));
    assert!(
        e.contains("header says 6 bytes") && e.contains("file has 4"),
        "{e}"
    );
}

#[test]
fn absurd_sizes_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let huge = MINIMAL.replace("samples = 2", "samples = 1000000000000000000");
    let data = write_pair(dir.path(), "huge", ".img", &huge, &[0; 4]);
    let e = error_text(read_envi(&data));
    assert!(e.contains("huge.img") && e.contains("file has 4"), "{e}");

    let overflow = huge.replace("lines = 2", "lines = 1000000000000000000");
    let data = write_pair(dir.path(), "overflow", ".img", &overflow, &[0; 4]);
    let e = error_text(read_envi(&data));
    assert!(
        e.contains("overflow.hdr") && e.contains("more than can be addressed"),
        "{e}"
    );

    let offset = MINIMAL.replace(
        "bands = 1",
        &format!("bands = 1\nheader offset = {}", usize::MAX),
    );
    let data = write_pair(dir.path(), "offset", ".img", &offset, &[0; 4]);
    let e = error_text(read_envi(&data));
    assert!(e.contains("offset.img") && e.contains("file has 4"), "{e}");

    let e = parse_error(&MINIMAL.replace("bands = 1", "bands = 99999999999999999999999"));
    assert!(e.contains("'bands' is not a whole number"), "{e}");

    // decode_image checks the same on bytes in memory.
    let h = parse_header(&overflow, Path::new("overflow.hdr")).unwrap();
    assert!(decode_image(&h, &[0; 4], Path::new("m.img")).is_err());
}

#[test]
fn writer_refuses_what_it_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("w.img");
    let array = RawArray::new(vec![1, 2, 1], Samples::U16(vec![1, 2]));
    let good = header_for(&array, Interleave::Bsq, false);

    let mut h = good.clone();
    h.samples = 3;
    assert!(error_text(write_envi(&data, &h, &array)).contains("shape [1, 2, 1]"));
    let mut h = good.clone();
    h.data_type = DType::I16;
    assert!(error_text(write_envi(&data, &h, &array)).contains("header says int16"));
    let int8 = RawArray::new(vec![1, 2, 1], Samples::I8(vec![1, 2]));
    let e = error_text(write_envi(
        &data,
        &header_for(&int8, Interleave::Bsq, false),
        &int8,
    ));
    assert!(
        e.contains("w.img") && e.contains("cannot store int8"),
        "{e}"
    );
    let mut h = good.clone();
    h.band_names = Some(vec!["a, b".into()]);
    assert!(error_text(write_envi(&data, &h, &array)).contains("band names item 'a, b'"));
    let mut h = good.clone();
    h.description = Some("closes } early".into());
    assert!(error_text(write_envi(&data, &h, &array)).contains("description"));
    let mut h = good.clone();
    h.wavelength = Some(vec![f64::INFINITY]);
    assert!(error_text(write_envi(&data, &h, &array)).contains("not finite"));
    assert!(error_text(write_envi(&dir.path().join("x.hdr"), &good, &array)).contains(".hdr"));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);

    // A header without a file type is written as a standard one.
    write_envi(&data, &good, &array).unwrap();
    let (h, back) = read_envi(&data).unwrap();
    assert_eq!(h.file_type.as_deref(), Some("ENVI Standard"));
    assert_eq!(back, array);
}
