//! NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), plain or gzip-compressed.
//!
//! The header is a Python dict literal such as
//! `{'descr': '<u2', 'fortran_order': True, 'shape': (145, 145, 200), }`; it is parsed by a small
//! literal parser so that a malformed header gives a precise message instead of a panic.

use crate::data::array::{fortran_to_c, DType, RawArray, Samples};
use crate::error::{Error, Result};
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

const MAGIC: &[u8] = b"\x93NUMPY";
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
/// Nesting deeper than this in a header is not a real .npy header (and would risk the stack).
const MAX_LITERAL_DEPTH: usize = 32;

/// Reads a `.npy` file, gzip-compressed or not (detected by its first bytes, not its name).
pub fn read_npy(path: &Path) -> Result<RawArray> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_npy(&bytes, path)
}

/// Parses the bytes of a `.npy` file; `path` is only used in messages.
pub fn parse_npy(bytes: &[u8], path: &Path) -> Result<RawArray> {
    let bytes = gunzip_if_compressed(bytes, path)?;
    let bad = |msg: String| Error::bad(path, msg);

    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(bad(format!(
            "not a .npy file: it should start with \\x93NUMPY, found {}",
            describe_start(&bytes)
        )));
    }
    let (major, minor) = match bytes.get(6..8) {
        Some(v) => (v[0], v[1]),
        None => {
            return Err(bad(
                "truncated header: file ends inside the version bytes".into()
            ))
        }
    };
    // Version 1 stores the header length in 2 bytes, versions 2 and 3 in 4.
    let len_size = match major {
        1 => 2,
        2 | 3 => 4,
        _ => {
            return Err(bad(format!(
                "unsupported .npy format version {major}.{minor}"
            )))
        }
    };
    let header_start = 8 + len_size;
    let len_bytes = bytes
        .get(8..header_start)
        .ok_or_else(|| bad("truncated header: file ends inside the header length field".into()))?;
    let header_len = len_bytes
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | b as usize);
    let header_end = header_start
        .checked_add(header_len)
        .filter(|&end| end <= bytes.len());
    let header_end = header_end.ok_or_else(|| {
        bad(format!(
            "truncated header: the header length field says {header_len} bytes but only {} follow",
            bytes.len() - header_start
        ))
    })?;
    let header_bytes = &bytes[header_start..header_end];
    let header = std::str::from_utf8(header_bytes)
        .map_err(|_| bad(format!("header is not text: {}", shorten(header_bytes))))?;
    let header = parse_header(header).map_err(&bad)?;

    let dtype_size = header.dtype_size();
    let data = &bytes[header_end..];
    let element_count = shape_product(&header.shape).ok_or_else(|| {
        bad(format!(
            "shape {} overflows the address space",
            format_shape(&header.shape)
        ))
    })?;
    let expected = element_count.checked_mul(dtype_size).ok_or_else(|| {
        bad(format!(
            "shape {} x {} bytes overflows",
            format_shape(&header.shape),
            dtype_size
        ))
    })?;
    if data.len() != expected {
        let hint = if data.len() < expected {
            "truncated?"
        } else {
            "trailing bytes?"
        };
        return Err(bad(format!(
            "header says {} {} = {expected} bytes, file has {} ({hint})",
            format_shape(&header.shape),
            header.dtype,
            data.len()
        )));
    }

    let samples = decode(data, header.dtype, header.big_endian);
    let samples = if header.fortran_order && element_count > 0 {
        reorder_fortran(samples, &header.shape)
    } else {
        samples
    };
    Ok(RawArray::new(header.shape, samples))
}

/// Writes `array` as a version 1.0, C-order, little-endian `.npy` file, through `<name>.tmp` so
/// that an interrupted write leaves no half-written file under the final name.
pub fn write_npy(path: &Path, array: &RawArray) -> Result<()> {
    crate::atomic::write(path, &npy_bytes(array))
}

/// The bytes of a version 1.0 (2.0 when the header is too long), C-order, little-endian `.npy`
/// file holding `array`.
pub fn npy_bytes(array: &RawArray) -> Vec<u8> {
    let shape = match array.shape.as_slice() {
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        descr(array.dtype())
    );
    // Pad with spaces so that the data starts on a 64-byte boundary; the header ends in '\n'.
    // Version 1.0 has a 2-byte header length; only a gigantic shape needs 2.0's 4 bytes.
    let padded_len = |prefix: usize| {
        let padding = (64 - (prefix + dict.len() + 1) % 64) % 64;
        (padding, dict.len() + padding + 1)
    };
    let (version, (padding, header_len)) = match padded_len(MAGIC.len() + 4) {
        (p, len) if len <= u16::MAX as usize => (1u8, (p, len)),
        _ => (2u8, padded_len(MAGIC.len() + 6)),
    };

    let data_len = array.len() * dtype_size(array.dtype());
    let mut out = Vec::with_capacity(MAGIC.len() + 6 + header_len + data_len);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(header_len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header_len as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', padding));
    out.push(b'\n');
    match &array.samples {
        Samples::U8(v) => out.extend_from_slice(v),
        Samples::I8(v) => out.extend(v.iter().map(|x| *x as u8)),
        Samples::U16(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Samples::I16(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Samples::U32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Samples::I32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Samples::U64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Samples::I64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Samples::F32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Samples::F64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
    }
    out
}

/// Decompresses `bytes` when they start with the gzip magic; otherwise borrows them unchanged.
/// Shared by the readers of formats that are commonly distributed gzipped (.npy, MNIST idx).
pub(crate) fn gunzip_if_compressed<'a>(bytes: &'a [u8], path: &Path) -> Result<Cow<'a, [u8]>> {
    if !bytes.starts_with(GZIP_MAGIC) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| Error::bad(path, format!("gzip data is corrupt or truncated: {e}")))?;
    Ok(Cow::Owned(out))
}

/// What the header dict says about the array.
#[derive(Debug)]
struct Header {
    dtype: DType,
    big_endian: bool,
    fortran_order: bool,
    shape: Vec<usize>,
}

impl Header {
    fn dtype_size(&self) -> usize {
        dtype_size(self.dtype)
    }
}

pub(crate) fn dtype_size(dtype: DType) -> usize {
    match dtype {
        DType::U8 | DType::I8 => 1,
        DType::U16 | DType::I16 => 2,
        DType::U32 | DType::I32 | DType::F32 => 4,
        DType::U64 | DType::I64 | DType::F64 => 8,
    }
}

fn descr(dtype: DType) -> &'static str {
    match dtype {
        DType::U8 => "|u1",
        DType::I8 => "|i1",
        DType::U16 => "<u2",
        DType::I16 => "<i2",
        DType::U32 => "<u4",
        DType::I32 => "<i4",
        DType::U64 => "<u8",
        DType::I64 => "<i8",
        DType::F32 => "<f4",
        DType::F64 => "<f8",
    }
}

fn parse_header(text: &str) -> std::result::Result<Header, String> {
    let unparsable = |why: String| {
        format!(
            "header dict is unparsable ({why}): {}",
            shorten(text.as_bytes())
        )
    };
    let mut parser = LiteralParser {
        text: text.as_bytes(),
        pos: 0,
    };
    let value = parser.value(0).map_err(unparsable)?;
    parser.skip_space();
    if parser.pos != text.len() {
        return Err(unparsable(format!(
            "unexpected text at byte {}",
            parser.pos
        )));
    }
    let Literal::Dict(entries) = value else {
        return Err(unparsable("it is not a dict".into()));
    };
    let get = |key: &str| {
        entries.iter().find_map(|(k, v)| match k {
            Literal::Str(s) if s == key => Some(v),
            _ => None,
        })
    };
    let missing = |key: &str| format!("header has no '{key}' entry: {}", shorten(text.as_bytes()));

    let (dtype, big_endian) = match get("descr").ok_or_else(|| missing("descr"))? {
        Literal::Str(descr) => parse_descr(descr)?,
        other => {
            return Err(format!(
                "unsupported dtype {} (structured arrays are not supported; supported: {SUPPORTED_DTYPES})",
                other.describe()
            ))
        }
    };
    let fortran_order = match get("fortran_order").ok_or_else(|| missing("fortran_order"))? {
        Literal::Bool(b) => *b,
        other => {
            return Err(format!(
                "'fortran_order' should be True or False, found {}",
                other.describe()
            ))
        }
    };
    let shape = match get("shape").ok_or_else(|| missing("shape"))? {
        Literal::Tuple(items) => items
            .iter()
            .map(|item| match item {
                Literal::Int(n) => {
                    usize::try_from(*n).map_err(|_| format!("dimension {n} is too large"))
                }
                other => Err(format!(
                    "shape entries should be integers, found {}",
                    other.describe()
                )),
            })
            .collect::<std::result::Result<Vec<_>, _>>()?,
        other => {
            return Err(format!(
                "'shape' should be a tuple, found {}",
                other.describe()
            ))
        }
    };
    Ok(Header {
        dtype,
        big_endian,
        fortran_order,
        shape,
    })
}

const SUPPORTED_DTYPES: &str = "u1 i1 u2 i2 u4 i4 u8 i8 f4 f8";

/// `'<u2'` -> (U16, little endian). `|` and `=` mean "not applicable" and "native".
fn parse_descr(descr: &str) -> std::result::Result<(DType, bool), String> {
    let unsupported = || format!("unsupported dtype '{descr}' (supported: {SUPPORTED_DTYPES})");
    let mut chars = descr.chars();
    let big_endian = match chars.next() {
        Some('<') => false,
        Some('>') => true,
        Some('|') | Some('=') => cfg!(target_endian = "big"),
        _ => return Err(unsupported()),
    };
    let dtype = match chars.as_str() {
        "u1" | "B" => DType::U8,
        "i1" | "b" => DType::I8,
        "u2" => DType::U16,
        "i2" => DType::I16,
        "u4" => DType::U32,
        "i4" => DType::I32,
        "u8" => DType::U64,
        "i8" => DType::I64,
        "f4" => DType::F32,
        "f8" => DType::F64,
        _ => return Err(unsupported()),
    };
    Ok((dtype, big_endian))
}

/// The Python literals that can appear in a .npy header.
#[derive(Debug)]
enum Literal {
    Str(String),
    Int(u64),
    Bool(bool),
    None,
    Tuple(Vec<Literal>),
    List(Vec<Literal>),
    Dict(Vec<(Literal, Literal)>),
}

impl Literal {
    fn describe(&self) -> String {
        match self {
            Literal::Str(s) => format!("'{s}'"),
            Literal::Int(n) => n.to_string(),
            Literal::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            Literal::None => "None".to_string(),
            Literal::Tuple(_) => "a tuple".to_string(),
            Literal::List(items) => format!("a list of {} items", items.len()),
            Literal::Dict(_) => "a dict".to_string(),
        }
    }
}

struct LiteralParser<'a> {
    text: &'a [u8],
    pos: usize,
}

impl LiteralParser<'_> {
    fn skip_space(&mut self) {
        while self
            .text
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.text.get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> std::result::Result<(), String> {
        match self.peek() {
            Some(found) if found == c => {
                self.pos += 1;
                Ok(())
            }
            Some(found) => Err(format!(
                "expected '{}' at byte {}, found '{}'",
                c as char, self.pos, found as char
            )),
            None => Err(format!("expected '{}', found the end", c as char)),
        }
    }

    fn value(&mut self, depth: usize) -> std::result::Result<Literal, String> {
        if depth > MAX_LITERAL_DEPTH {
            return Err("nested too deeply".into());
        }
        match self.peek() {
            None => Err("unexpected end".into()),
            Some(b'\'') | Some(b'"') => self.string(),
            Some(b'(') => self.sequence(b')', depth).map(Literal::Tuple),
            Some(b'[') => self.sequence(b']', depth).map(Literal::List),
            Some(b'{') => self.dict(depth),
            Some(c) if c.is_ascii_digit() => self.int(),
            Some(c) if c.is_ascii_alphabetic() => self.word(),
            Some(c) => Err(format!("unexpected '{}' at byte {}", c as char, self.pos)),
        }
    }

    fn string(&mut self) -> std::result::Result<Literal, String> {
        let quote = self.text[self.pos];
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.text.get(self.pos) {
                None => return Err("unterminated string".into()),
                Some(&c) if c == quote => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    let escaped = self.text.get(self.pos + 1).ok_or("unterminated string")?;
                    out.push(*escaped);
                    self.pos += 2;
                }
                Some(&c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        Ok(Literal::Str(String::from_utf8_lossy(&out).into_owned()))
    }

    fn int(&mut self) -> std::result::Result<Literal, String> {
        let start = self.pos;
        while self.text.get(self.pos).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits = std::str::from_utf8(&self.text[start..self.pos]).map_err(|e| e.to_string())?;
        let n = digits
            .parse::<u64>()
            .map_err(|_| format!("integer {digits} is too large"))?;
        // Python 2 wrote long integers with an L suffix.
        if matches!(self.text.get(self.pos), Some(b'L') | Some(b'l')) {
            self.pos += 1;
        }
        Ok(Literal::Int(n))
    }

    fn word(&mut self) -> std::result::Result<Literal, String> {
        let start = self.pos;
        while self
            .text
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.pos += 1;
        }
        match &self.text[start..self.pos] {
            b"True" => Ok(Literal::Bool(true)),
            b"False" => Ok(Literal::Bool(false)),
            b"None" => Ok(Literal::None),
            other => Err(format!("unknown name '{}'", String::from_utf8_lossy(other))),
        }
    }

    /// Comma-separated values up to `close`; a trailing comma is allowed, as in Python.
    fn sequence(&mut self, close: u8, depth: usize) -> std::result::Result<Vec<Literal>, String> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok(items);
            }
            items.push(self.value(depth + 1)?);
            match self.peek() {
                Some(b',') => self.pos += 1,
                _ => {
                    self.expect(close)?;
                    return Ok(items);
                }
            }
        }
    }

    fn dict(&mut self, depth: usize) -> std::result::Result<Literal, String> {
        self.pos += 1;
        let mut entries = Vec::new();
        loop {
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(Literal::Dict(entries));
            }
            let key = self.value(depth + 1)?;
            self.expect(b':')?;
            let value = self.value(depth + 1)?;
            entries.push((key, value));
            match self.peek() {
                Some(b',') => self.pos += 1,
                _ => {
                    self.expect(b'}')?;
                    return Ok(Literal::Dict(entries));
                }
            }
        }
    }
}

/// Number of elements, `None` on overflow. Any zero dimension makes it zero whatever the others.
pub(crate) fn shape_product(shape: &[usize]) -> Option<usize> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

pub(crate) fn format_shape(shape: &[usize]) -> String {
    if shape.is_empty() {
        "scalar".to_string()
    } else {
        shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("x")
    }
}

/// Decodes `data`, whose length the caller has checked to be a multiple of the element size.
pub(crate) fn decode(data: &[u8], dtype: DType, big_endian: bool) -> Samples {
    macro_rules! numbers {
        ($variant:ident, $t:ty) => {
            Samples::$variant(
                data.chunks_exact(std::mem::size_of::<$t>())
                    .map(|chunk| {
                        let mut raw = [0u8; std::mem::size_of::<$t>()];
                        raw.copy_from_slice(chunk);
                        if big_endian {
                            <$t>::from_be_bytes(raw)
                        } else {
                            <$t>::from_le_bytes(raw)
                        }
                    })
                    .collect(),
            )
        };
    }
    match dtype {
        DType::U8 => Samples::U8(data.to_vec()),
        DType::I8 => Samples::I8(data.iter().map(|&b| b as i8).collect()),
        DType::U16 => numbers!(U16, u16),
        DType::I16 => numbers!(I16, i16),
        DType::U32 => numbers!(U32, u32),
        DType::I32 => numbers!(I32, i32),
        DType::U64 => numbers!(U64, u64),
        DType::I64 => numbers!(I64, i64),
        DType::F32 => numbers!(F32, f32),
        DType::F64 => numbers!(F64, f64),
    }
}

/// Column-major samples to row-major. The caller guarantees a non-empty, non-overflowing shape.
pub(crate) fn reorder_fortran(samples: Samples, shape: &[usize]) -> Samples {
    match samples {
        Samples::U8(v) => Samples::U8(fortran_to_c(&v, shape)),
        Samples::I8(v) => Samples::I8(fortran_to_c(&v, shape)),
        Samples::U16(v) => Samples::U16(fortran_to_c(&v, shape)),
        Samples::I16(v) => Samples::I16(fortran_to_c(&v, shape)),
        Samples::U32(v) => Samples::U32(fortran_to_c(&v, shape)),
        Samples::I32(v) => Samples::I32(fortran_to_c(&v, shape)),
        Samples::U64(v) => Samples::U64(fortran_to_c(&v, shape)),
        Samples::I64(v) => Samples::I64(fortran_to_c(&v, shape)),
        Samples::F32(v) => Samples::F32(fortran_to_c(&v, shape)),
        Samples::F64(v) => Samples::F64(fortran_to_c(&v, shape)),
    }
}

/// The first bytes of a file, printable, for "found ..." messages.
fn describe_start(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "an empty file".to_string();
    }
    let head: String = bytes.iter().take(8).map(|b| format!("{b:02x} ")).collect();
    format!("bytes {}", head.trim_end())
}

fn shorten(bytes: &[u8]) -> String {
    const LIMIT: usize = 200;
    // Bytes as ASCII with everything else escaped (\n, \xff): the header may be anything.
    let text = bytes[..bytes.len().min(LIMIT)].escape_ascii().to_string();
    let text = text.trim_end();
    if bytes.len() > LIMIT {
        format!("{text}...")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    use crate::data::testdata::{error_naming, gzip, shared_file as shared_data};

    fn file(name: &str) -> PathBuf {
        PathBuf::from(format!("/data/{name}"))
    }

    /// A .npy file with the given header dict text (unpadded) and data, format version 1.0.
    fn hand_made(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&((dict.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(data);
        out
    }

    fn error_of(bytes: &[u8], name: &str) -> String {
        error_naming(parse_npy(bytes, &file(name)), name)
    }

    fn every_dtype() -> Vec<RawArray> {
        vec![
            RawArray::new(vec![2, 3], Samples::U8(vec![0, 1, 2, 127, 128, 255])),
            RawArray::new(vec![3, 2], Samples::I8(vec![i8::MIN, -1, 0, 1, 5, i8::MAX])),
            RawArray::new(vec![4], Samples::U16(vec![0, 955, 9604, u16::MAX])),
            RawArray::new(
                vec![2, 2],
                Samples::I16(vec![i16::MIN, -300, 300, i16::MAX]),
            ),
            RawArray::new(vec![1, 3], Samples::U32(vec![0, 70_000, u32::MAX])),
            RawArray::new(vec![3], Samples::I32(vec![i32::MIN, -7, i32::MAX])),
            RawArray::new(vec![2], Samples::U64(vec![u64::MAX, 1 << 40])),
            RawArray::new(vec![2, 1], Samples::I64(vec![i64::MIN, i64::MAX])),
            RawArray::new(
                vec![2, 2, 1],
                Samples::F32(vec![-1.5, 0.25, f32::MAX, f32::INFINITY]),
            ),
            RawArray::new(vec![3], Samples::F64(vec![-0.0, 1e-300, f64::MIN_POSITIVE])),
            RawArray::new(vec![], Samples::F64(vec![42.5])),
            RawArray::new(vec![0, 3], Samples::U16(vec![])),
        ]
    }

    #[test]
    fn round_trip_every_dtype() {
        for array in every_dtype() {
            let bytes = npy_bytes(&array);
            let back = parse_npy(&bytes, &file("round.npy")).unwrap();
            assert_eq!(back, array);
            // Bit-exact for floats too (PartialEq treats -0.0 as 0.0).
            if let (Samples::F64(a), Samples::F64(b)) = (&back.samples, &array.samples) {
                assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()));
            }
        }
    }

    #[test]
    fn written_header_is_aligned_version_1() {
        for array in every_dtype() {
            let bytes = npy_bytes(&array);
            assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
            let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
            assert_eq!((10 + header_len) % 64, 0);
            assert_eq!(bytes[10 + header_len - 1], b'\n');
            assert_eq!(
                bytes.len() - 10 - header_len,
                array.len() * dtype_size(array.dtype())
            );
        }
    }

    #[test]
    fn numpy_header_text_is_reproduced() {
        let array = RawArray::new(vec![145, 145, 200], Samples::U16(vec![0; 145 * 145 * 200]));
        let bytes = npy_bytes(&array);
        let header = std::str::from_utf8(&bytes[10..128]).unwrap();
        assert_eq!(
            header.trim_end(),
            "{'descr': '<u2', 'fortran_order': False, 'shape': (145, 145, 200), }"
        );
        let vector = RawArray::new(vec![3], Samples::U8(vec![1, 2, 3]));
        let bytes = npy_bytes(&vector);
        assert!(std::str::from_utf8(&bytes[10..64])
            .unwrap()
            .contains("'shape': (3,)"));
    }

    #[test]
    fn write_then_read_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cube.npy");
        let array = RawArray::new(vec![2, 2], Samples::F32(vec![1.0, 2.0, 3.0, 4.0]));
        write_npy(&path, &array).unwrap();
        assert_eq!(read_npy(&path).unwrap(), array);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("cube.npy")]);
    }

    #[test]
    fn fortran_order_big_endian() {
        // [[1, 2, 3], [4, 5, -6]] stored column-major as big-endian int16: 1 4 2 5 3 -6.
        let data: Vec<u8> = [1i16, 4, 2, 5, 3, -6]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let bytes = hand_made(
            "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 3), }",
            &data,
        );
        let array = parse_npy(&bytes, &file("f.npy")).unwrap();
        assert_eq!(array.shape, vec![2, 3]);
        assert_eq!(array.samples, Samples::I16(vec![1, 2, 3, 4, 5, -6]));
    }

    #[test]
    fn fortran_order_3d_float() {
        // Element (i, j, k) = 100i + 10j + k at column-major offset i + 2j + 4k.
        let mut column_major = [0f64; 8];
        for i in 0..2 {
            for j in 0..2 {
                for k in 0..2 {
                    column_major[i + 2 * j + 4 * k] = (100 * i + 10 * j + k) as f64;
                }
            }
        }
        let data: Vec<u8> = column_major.iter().flat_map(|v| v.to_le_bytes()).collect();
        let bytes = hand_made(
            "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2, 2)}",
            &data,
        );
        let array = parse_npy(&bytes, &file("f3.npy")).unwrap();
        let expected = vec![0.0, 1.0, 10.0, 11.0, 100.0, 101.0, 110.0, 111.0];
        assert_eq!(array.samples, Samples::F64(expected));
    }

    #[test]
    fn big_endian_every_width() {
        let data: Vec<u8> = [0x0102_0304_0506_0708u64]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let u64s = parse_npy(
            &hand_made(
                "{'descr': '>u8', 'fortran_order': False, 'shape': (1,)}",
                &data,
            ),
            &file("a.npy"),
        );
        assert_eq!(
            u64s.unwrap().samples,
            Samples::U64(vec![0x0102_0304_0506_0708])
        );
        let u32s = parse_npy(
            &hand_made(
                "{'descr': '>u4', 'fortran_order': False, 'shape': (2,)}",
                &data,
            ),
            &file("b.npy"),
        );
        assert_eq!(
            u32s.unwrap().samples,
            Samples::U32(vec![0x0102_0304, 0x0506_0708])
        );
        let f32s = parse_npy(
            &hand_made(
                "{'descr': '>f4', 'fortran_order': False, 'shape': (1,)}",
                &2.5f32.to_be_bytes(),
            ),
            &file("c.npy"),
        );
        assert_eq!(f32s.unwrap().samples, Samples::F32(vec![2.5]));
    }

    #[test]
    fn header_versions_2_and_3_and_python2_longs() {
        let dict = "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (2L,), }\n";
        let data: Vec<u8> = [7i32, -8].iter().flat_map(|v| v.to_le_bytes()).collect();
        for major in [2u8, 3] {
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&[major, 0]);
            bytes.extend_from_slice(&(dict.len() as u32).to_le_bytes());
            bytes.extend_from_slice(dict.as_bytes());
            bytes.extend_from_slice(&data);
            let array = parse_npy(&bytes, &file("v2.npy")).unwrap();
            assert_eq!(array.samples, Samples::I32(vec![7, -8]));
        }
    }

    #[test]
    fn gzip_is_detected_by_content() {
        let array = RawArray::new(vec![2, 3], Samples::I16(vec![1, -2, 3, -4, 5, -6]));
        let compressed = gzip(&npy_bytes(&array));
        assert_eq!(
            parse_npy(&compressed, &file("plain_name.npy")).unwrap(),
            array
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no_gz_extension.npy");
        std::fs::write(&path, &compressed).unwrap();
        assert_eq!(read_npy(&path).unwrap(), array);
    }

    #[test]
    fn wrong_magic() {
        let message = error_of(b"PK\x03\x04 not numpy", "wrong.npy");
        assert!(message.contains("not a .npy file"), "{message}");
        error_of(b"", "empty.npy");
        error_of(b"\x93NUM", "short.npy");
    }

    #[test]
    fn truncated_header() {
        let bytes = npy_bytes(&RawArray::new(vec![2], Samples::U8(vec![1, 2])));
        for cut in [7, 9, 40] {
            let message = error_of(&bytes[..cut], "cut.npy");
            assert!(message.contains("truncated header"), "{message}");
        }
    }

    #[test]
    fn unsupported_version() {
        let mut bytes = npy_bytes(&RawArray::new(vec![1], Samples::U8(vec![1])));
        bytes[6] = 9;
        assert!(error_of(&bytes, "v9.npy").contains("version 9.0"));
    }

    #[test]
    fn unparsable_header() {
        for dict in [
            "{'descr': '<u2', 'fortran_order': False, 'shape': (2,",
            "{'descr' '<u2'}",
            "not a dict at all",
            "{'descr': '<u2', 'fortran_order': Maybe, 'shape': (2,), }",
            "[1, 2]",
            "{'descr': '<u2', 'fortran_order': False, 'shape': (2,), } extra",
        ] {
            let message = error_of(&hand_made(dict, &[0; 4]), "dict.npy");
            assert!(message.contains("unparsable"), "{message}");
        }
        let deep = format!("{}{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(error_of(&hand_made(&deep, &[]), "deep.npy").contains("nested too deeply"));
        let no_shape = error_of(
            &hand_made("{'descr': '<u2', 'fortran_order': False}", &[]),
            "n.npy",
        );
        assert!(no_shape.contains("no 'shape'"), "{no_shape}");
        let bad_shape = error_of(
            &hand_made(
                "{'descr': '<u2', 'fortran_order': False, 'shape': (2, 'x')}",
                &[],
            ),
            "s.npy",
        );
        assert!(bad_shape.contains("integers"), "{bad_shape}");
        let huge = error_of(
            &hand_made(
                "{'descr': '<u2', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
                &[],
            ),
            "h.npy",
        );
        assert!(huge.contains("too large"), "{huge}");
    }

    #[test]
    fn unsupported_dtype_is_named() {
        let message = error_of(
            &hand_made(
                "{'descr': '<c16', 'fortran_order': False, 'shape': (1,)}",
                &[0; 16],
            ),
            "c.npy",
        );
        assert!(message.contains("unsupported dtype '<c16'"), "{message}");
        let message = error_of(
            &hand_made(
                "{'descr': '|b1', 'fortran_order': False, 'shape': (1,)}",
                &[1],
            ),
            "b.npy",
        );
        assert!(message.contains("'|b1'"), "{message}");
        let structured =
            "{'descr': [('x', '<f4'), ('y', '<f4')], 'fortran_order': False, 'shape': (1,)}";
        let message = error_of(&hand_made(structured, &[0; 8]), "s.npy");
        assert!(message.contains("structured"), "{message}");
    }

    #[test]
    fn data_length_must_match_shape() {
        let dict = "{'descr': '<u2', 'fortran_order': False, 'shape': (145, 145, 200), }";
        let message = error_of(&hand_made(dict, &[0; 1000]), "short.npy");
        assert!(
            message.contains("header says 145x145x200 uint16 = 8410000 bytes, file has 1000"),
            "{message}"
        );
        let dict = "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }";
        let message = error_of(&hand_made(dict, &[0; 14]), "long.npy");
        assert!(
            message.contains("header says 2x3 int16 = 12 bytes, file has 14"),
            "{message}"
        );
    }

    #[test]
    fn shape_overflow() {
        let dict = "{'descr': '<f8', 'fortran_order': True, 'shape': (4294967296, 4294967296, 4294967296), }";
        assert!(error_of(&hand_made(dict, &[0; 8]), "big.npy").contains("overflow"));
        let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }";
        assert!(error_of(&hand_made(dict, &[0; 8]), "big2.npy").contains("overflow"));
        // A zero dimension makes the array empty whatever the other dimensions are.
        let dict =
            "{'descr': '<f8', 'fortran_order': True, 'shape': (4294967296, 4294967296, 0), }";
        let empty = parse_npy(&hand_made(dict, &[]), &file("empty.npy")).unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn corrupt_gzip() {
        let compressed = gzip(&npy_bytes(&RawArray::new(
            vec![100],
            Samples::U8(vec![3; 100]),
        )));
        let message = error_of(&compressed[..compressed.len() / 2], "cut.npy.gz");
        assert!(message.contains("gzip"), "{message}");
    }

    /// Every truncation and many random corruptions of valid files give a result or an error,
    /// never a panic.
    #[test]
    fn mutated_files_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for array in every_dtype() {
            let bytes = npy_bytes(&array);
            for cut in 0..bytes.len() {
                let _ = parse_npy(&bytes[..cut], &file("cut.npy"));
            }
            for _ in 0..300 {
                let mut mutated = bytes.clone();
                for _ in 0..rng.random_range(1..4) {
                    let at = rng.random_range(0..mutated.len());
                    mutated[at] = rng.random();
                }
                let _ = parse_npy(&mutated, &file("mutated.npy"));
            }
        }
    }

    #[test]
    fn error_names_the_file_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Indian_pines_broken.npy");
        let bytes = npy_bytes(&RawArray::new(vec![4], Samples::U16(vec![1, 2, 3, 4])));
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let message = read_npy(&path).unwrap_err().to_string();
        assert!(message.contains("Indian_pines_broken.npy"), "{message}");
        let missing = read_npy(&dir.path().join("absent.npy"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("absent.npy"), "{missing}");
    }

    #[test]
    fn real_indian_pines_cube() {
        let Some(path) = shared_data("indian_pines/Indian_pines_corrected.npy") else {
            return;
        };
        let array = read_npy(&path).unwrap();
        assert_eq!(array.shape, vec![145, 145, 200]);
        let Samples::U16(values) = &array.samples else {
            panic!("expected uint16, got {}", array.dtype())
        };
        assert_eq!(values.iter().min(), Some(&955));
        assert_eq!(values.iter().max(), Some(&9604));
    }

    #[test]
    fn real_indian_pines_ground_truth() {
        let Some(path) = shared_data("indian_pines/Indian_pines_gt.npy") else {
            return;
        };
        let array = read_npy(&path).unwrap();
        assert_eq!(array.shape, vec![145, 145]);
        let Samples::U8(values) = &array.samples else {
            panic!("expected uint8, got {}", array.dtype())
        };
        assert_eq!(values.iter().filter(|&&v| v != 0).count(), 10_249);
        let count = |class: u8| values.iter().filter(|&&v| v == class).count();
        assert_eq!(
            (count(1), count(2), count(11), count(16)),
            (46, 1428, 2455, 93)
        );
        // The file is Fortran-ordered: row 0 is almost all Corn-mintill (3) while column 0 has
        // it only in its first 6 rows, which pins the reordering.
        let row0: u32 = values[..145].iter().map(|&v| v as u32).sum();
        let column0: Vec<u8> = (0..12).map(|i| values[i * 145]).collect();
        assert_eq!(row0, 660);
        assert_eq!(column0, vec![3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0]);
    }
}
