//! Finding the header of a data file (and the other way round), reading both, and writing them
//! so that nothing half-written is left behind.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::header::{check_writable, header_text, parse_header, EnviHeader};
use super::layout::{check_length, decode_image, encode_image};
use crate::data::array::RawArray;
use crate::error::{Error, Result};

/// Extensions a data file may have next to `X.hdr`, besides none at all.
const DATA_EXTENSIONS: [&str; 6] = ["img", "dat", "raw", "bsq", "bil", "bip"];

/// No real header comes near this; a bigger file is almost surely the data file.
const MAX_HEADER_BYTES: u64 = 16 << 20;

fn is_header_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("hdr"))
}

/// `path` with `suffix` appended to its file name (`a.img` -> `a.img.hdr`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The header and data file of an ENVI image, given either of them.
///
/// From `X.hdr` the data file is `X`, `X.img`, `X.dat`, `X.raw`, `X.bsq`, `X.bil` or `X.bip`
/// (the first that exists; upper-case extensions too). From a data file `X.img` the header is
/// `X.img.hdr` or `X.hdr`.
pub fn find_pair(path: &Path) -> Result<(PathBuf, PathBuf)> {
    fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let from_header = is_header_name(path);
    // The names to try, each also with an upper-case extension.
    let names: Vec<PathBuf> = if from_header {
        std::iter::once(path.with_extension(""))
            .chain(DATA_EXTENSIONS.iter().map(|ext| path.with_extension(ext)))
            .collect()
    } else {
        vec![with_suffix(path, ".hdr"), path.with_extension("hdr")]
    };
    let upper_case = |p: &PathBuf| match p.extension() {
        Some(ext) if p != path => p.with_extension(ext.to_ascii_uppercase()),
        _ => p.clone(),
    };
    let found = names
        .iter()
        .flat_map(|p| [p.clone(), upper_case(p)])
        .find(|p| p.is_file());
    let Some(found) = found else {
        let what = if from_header {
            "data file"
        } else {
            "ENVI header"
        };
        let tried: Vec<String> = names.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::bad(
            path,
            format!("no {what} found (looked for {})", tried.join(", ")),
        ));
    };
    if from_header {
        Ok((path.to_path_buf(), found))
    } else {
        Ok((found, path.to_path_buf()))
    }
}

/// Reads and parses a `.hdr` file.
pub fn read_header(hdr_path: &Path) -> Result<EnviHeader> {
    let file = File::open(hdr_path).map_err(|e| Error::io(hdr_path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_HEADER_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(hdr_path, e))?;
    if bytes.len() as u64 > MAX_HEADER_BYTES {
        return Err(Error::bad(
            hdr_path,
            "over 16 MiB: too large for an ENVI header",
        ));
    }
    // Descriptions are sometimes Latin-1; only the ASCII parts matter.
    parse_header(&String::from_utf8_lossy(&bytes), hdr_path)
}

/// Reads an ENVI image given its header or its data file. Returns the header and the image as
/// `[lines, samples, bands]`. The data file must be exactly as long as the header says.
pub fn read_envi(path: &Path) -> Result<(EnviHeader, RawArray)> {
    let (hdr_path, data_path) = find_pair(path)?;
    let header = read_header(&hdr_path)?;
    let data_bytes = header.data_bytes().ok_or_else(|| {
        Error::bad(
            &hdr_path,
            format!(
                "{} lines x {} samples x {} bands of {} is more than can be addressed",
                header.lines, header.samples, header.bands, header.data_type
            ),
        )
    })?;
    // Check the size before reading, so that a lying header never makes us read a huge file.
    let file_len = fs::metadata(&data_path)
        .map_err(|e| Error::io(&data_path, e))?
        .len();
    check_length(&header, data_bytes, file_len, &data_path)?;
    let bytes = fs::read(&data_path).map_err(|e| Error::io(&data_path, e))?;
    let array = decode_image(&header, &bytes, &data_path)?;
    Ok((header, array))
}

/// Writes `array` (`[lines, samples, bands]`, matching the header's sizes and data type) to
/// `data_path` in the header's interleave and byte order, after `header_offset` zero bytes, and
/// the header to `data_path` with its extension replaced by `.hdr` (`X.img` -> `X.hdr`). A
/// header without a file type is written as `ENVI Standard`.
pub fn write_envi(data_path: &Path, header: &EnviHeader, array: &RawArray) -> Result<()> {
    let refuse = |msg: String| Error::invalid(format!("{}: {msg}", data_path.display()));
    if is_header_name(data_path) {
        return Err(refuse(
            "the data file cannot have the extension .hdr".into(),
        ));
    }
    check_writable(header).map_err(refuse)?;
    let shape = [header.lines, header.samples, header.bands];
    if array.shape != shape {
        return Err(refuse(format!(
            "array has shape {:?} but the header describes [lines, samples, bands] = {shape:?}",
            array.shape
        )));
    }
    if array.dtype() != header.data_type || array.len() != array.shape.iter().product::<usize>() {
        return Err(refuse(format!(
            "array holds {} {} values but the header says {}",
            array.len(),
            array.dtype(),
            header.data_type
        )));
    }
    let mut header = header.clone();
    header
        .file_type
        .get_or_insert_with(|| "ENVI Standard".to_string());

    let image = encode_image(&header, array);
    crate::atomic::write_with(data_path, |w| {
        io::copy(&mut io::repeat(0).take(header.header_offset as u64), w)?;
        w.write_all(&image)
    })?;
    let hdr_path = data_path.with_extension("hdr");
    crate::atomic::write_with(&hdr_path, |w| w.write_all(header_text(&header).as_bytes()))
}

