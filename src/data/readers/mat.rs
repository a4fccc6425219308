//! MATLAB v5 MAT-files (what `save` wrote up to v7; v7.3 files are HDF5 and read elsewhere).
//!
//! A v5 file is a 128-byte header followed by data elements, each an 8-byte tag (type, byte
//! count) and its data padded to 8 bytes. Variables are `miMATRIX` elements, possibly wrapped in
//! a zlib-compressed `miCOMPRESSED` element. A matrix holds sub-elements: array flags (class),
//! dimensions, name, then the values in column-major order, stored in whatever integer or float
//! type was smallest (MATLAB saves a double array of small integers as uint8), so the values are
//! converted back to the array's class.

use super::npy::{decode, dtype_size, format_shape, reorder_fortran, shape_product};
use crate::data::array::{DType, RawArray, Samples};
use crate::error::{Error, Result};
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

const HEADER_LEN: usize = 128;
const HDF5_SIGNATURE: &[u8] = b"\x89HDF\r\n\x1a\n";

// Data element types.
const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;

// Array flag bits (above the class byte).
const FLAG_COMPLEX: u32 = 0x0800;
const FLAG_LOGICAL: u32 = 0x0200;

/// Decompressed bytes needed to read a variable's flags, dimensions and name.
const INFO_PREFIX: u64 = 64 * 1024;

/// Reads one numeric variable from a v5 MAT-file: the one named, or the only numeric array.
pub fn read_mat(path: &Path, variable: Option<&str>) -> Result<RawArray> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_mat(&bytes, path, variable)
}

/// Parses the bytes of a v5 MAT-file; `path` is only used in messages.
pub fn parse_mat(bytes: &[u8], path: &Path, variable: Option<&str>) -> Result<RawArray> {
    let bad = |msg: String| Error::bad(path, msg);
    let file = MatFile::parse(bytes).map_err(bad)?;
    let infos = file.infos().map_err(bad)?;
    let index = match variable {
        Some(name) => infos
            .iter()
            .position(|info| info.name == name)
            .ok_or_else(|| {
                bad(format!(
                    "variable '{name}' not found; the file holds {}",
                    list(infos.iter())
                ))
            })?,
        None => {
            let numeric: Vec<usize> = (0..infos.len())
                .filter(|&i| infos[i].is_numeric())
                .collect();
            match numeric.as_slice() {
                [only] => *only,
                [] => {
                    return Err(bad(format!(
                        "no numeric array to read; the file holds {}",
                        list(infos.iter())
                    )))
                }
                several => {
                    return Err(bad(format!(
                        "{} numeric arrays, name the one to read: {}",
                        several.len(),
                        list(several.iter().map(|&i| &infos[i]))
                    )))
                }
            }
        }
    };
    let info = &infos[index];
    if !info.is_numeric() {
        return Err(bad(format!(
            "variable '{}' is a {} array, which is unsupported (only real numeric arrays are)",
            info.name,
            info.class_name()
        )));
    }
    file.read_numeric(info).map_err(bad)
}

/// The named variables of a v5 MAT-file with their shapes (MATLAB's dimensions), numeric or not.
pub fn list_mat_variables(path: &Path) -> Result<Vec<(String, Vec<usize>)>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |msg: String| Error::bad(path, msg);
    let infos = MatFile::parse(&bytes)
        .and_then(|file| file.infos())
        .map_err(bad)?;
    Ok(infos
        .into_iter()
        .map(|info| (info.name, info.dims))
        .collect())
}

/// Whether `bytes` are a MATLAB v7.3 MAT-file, which is an HDF5 file behind a 512-byte header.
pub fn is_mat73(bytes: &[u8]) -> bool {
    let version_73 = match (bytes.get(124..126), bytes.get(126..128)) {
        (Some(v), Some(b"IM")) => v == [0x00, 0x02],
        (Some(v), Some(b"MI")) => v == [0x02, 0x00],
        _ => false,
    };
    bytes.starts_with(b"MATLAB 7.3") || version_73 || bytes.get(512..520) == Some(HDF5_SIGNATURE)
}

/// What the first sub-elements of a matrix say.
#[derive(Debug)]
struct VariableInfo {
    /// Index of the top-level element holding the variable.
    element: usize,
    name: String,
    class: u8,
    complex: bool,
    logical: bool,
    dims: Vec<usize>,
}

impl VariableInfo {
    /// The class as the array's element type, for numeric classes.
    fn dtype(&self) -> Option<DType> {
        Some(match self.class {
            6 => DType::F64,
            7 => DType::F32,
            8 => DType::I8,
            9 => DType::U8,
            10 => DType::I16,
            11 => DType::U16,
            12 => DType::I32,
            13 => DType::U32,
            14 => DType::I64,
            15 => DType::U64,
            _ => return None,
        })
    }

    fn is_numeric(&self) -> bool {
        self.dtype().is_some() && !self.complex
    }

    fn class_name(&self) -> String {
        let base = match self.class {
            1 => "cell",
            2 => "struct",
            3 => "object",
            4 => "char",
            5 => "sparse",
            6 => "double",
            7 => "single",
            8 => "int8",
            9 => "uint8",
            10 => "int16",
            11 => "uint16",
            12 => "int32",
            13 => "uint32",
            14 => "int64",
            15 => "uint64",
            16 => "function handle",
            17 | 18 => "opaque",
            other => return format!("unknown class {other}"),
        };
        match (self.logical, self.complex) {
            (true, _) => "logical".to_string(),
            (false, true) => format!("complex {base}"),
            (false, false) => base.to_string(),
        }
    }
}

/// `a (145x145 double), b (1x5 char)`.
fn list<'a>(infos: impl Iterator<Item = &'a VariableInfo>) -> String {
    let items: Vec<String> = infos
        .map(|info| {
            format!(
                "'{}' ({} {})",
                info.name,
                format_shape(&info.dims),
                info.class_name()
            )
        })
        .collect();
    if items.is_empty() {
        "no variables".to_string()
    } else {
        items.join(", ")
    }
}

/// A variable as it lies in the file.
enum Stored<'a> {
    /// The body of a miMATRIX element.
    Plain(&'a [u8]),
    /// A zlib stream holding one miMATRIX element.
    Compressed(&'a [u8]),
}

struct TopElement<'a> {
    offset: usize,
    stored: Stored<'a>,
}

struct MatFile<'a> {
    big_endian: bool,
    elements: Vec<TopElement<'a>>,
}

impl<'a> MatFile<'a> {
    /// Checks the header and splits the file into its top-level elements.
    fn parse(bytes: &'a [u8]) -> std::result::Result<Self, String> {
        if is_mat73(bytes) {
            return Err("this file is MATLAB v7.3 (HDF5); it is read by the HDF5 reader".into());
        }
        if bytes.len() < HEADER_LEN {
            return Err(format!(
                "not a MAT-file or truncated: a MAT-file starts with a {HEADER_LEN}-byte header, \
                 this file has {} bytes",
                bytes.len()
            ));
        }
        let big_endian = match &bytes[126..128] {
            b"IM" => false,
            b"MI" => true,
            _ if bytes[..4].contains(&0) => {
                return Err("this looks like a MATLAB v4 MAT-file, which is not supported".into())
            }
            other => {
                return Err(format!(
                    "not a MATLAB v5 MAT-file: bytes 126..128 should be 'IM' or 'MI', found {:02x} {:02x}",
                    other[0], other[1]
                ))
            }
        };
        let version = read_u16(&bytes[124..126], big_endian);
        if version != 0x0100 {
            return Err(format!(
                "unsupported MAT-file version 0x{version:04x} (expected 0x0100)"
            ));
        }

        let mut elements = Vec::new();
        let mut pos = HEADER_LEN;
        // Anything shorter than a tag at the end is padding.
        while bytes.len() - pos >= 8 {
            let data_type = read_u32(&bytes[pos..pos + 4], big_endian);
            let size = read_u32(&bytes[pos + 4..pos + 8], big_endian) as usize;
            let start = pos + 8;
            let data = start
                .checked_add(size)
                .and_then(|end| bytes.get(start..end))
                .ok_or_else(|| {
                    format!(
                    "truncated: the variable at byte {pos} claims {size} bytes but only {} remain",
                    bytes.len() - start
                )
                })?;
            let stored = match data_type {
                MI_MATRIX => Stored::Plain(data),
                MI_COMPRESSED => Stored::Compressed(data),
                other => {
                    return Err(format!(
                        "unexpected data element of type {other} at byte {pos} (expected a \
                         matrix or a compressed matrix; the file may be corrupt)"
                    ))
                }
            };
            elements.push(TopElement {
                offset: pos,
                stored,
            });
            // Compressed elements are not padded; matrices are (their size is a multiple of 8).
            pos = if data_type == MI_COMPRESSED {
                start + size
            } else {
                start + pad8(size)
            };
            pos = pos.min(bytes.len());
        }
        Ok(MatFile {
            big_endian,
            elements,
        })
    }

    /// Flags, dimensions and names of the named variables (the unnamed subsystem data skipped).
    fn infos(&self) -> std::result::Result<Vec<VariableInfo>, String> {
        let mut infos = Vec::new();
        for (index, element) in self.elements.iter().enumerate() {
            let body = self.matrix_body(element, false)?;
            let info = self.matrix_info(&body, index).map(|(info, _)| info);
            let info = info.map_err(|e| format!("variable at byte {}: {e}", element.offset))?;
            if !info.name.is_empty() {
                infos.push(info);
            }
        }
        Ok(infos)
    }

    /// The miMATRIX body of a top-level element; for a compressed one, only the first
    /// [`INFO_PREFIX`] bytes unless `whole`.
    fn matrix_body(
        &self,
        element: &TopElement<'a>,
        whole: bool,
    ) -> std::result::Result<Cow<'a, [u8]>, String> {
        let stream = match element.stored {
            Stored::Plain(body) => return Ok(Cow::Borrowed(body)),
            Stored::Compressed(stream) => stream,
        };
        let at = element.offset;
        let mut inflated = Vec::new();
        let mut decoder = flate2::read::ZlibDecoder::new(stream);
        let result = if whole {
            decoder.read_to_end(&mut inflated)
        } else {
            (&mut decoder).take(INFO_PREFIX).read_to_end(&mut inflated)
        };
        result.map_err(|e| {
            format!("compressed variable at byte {at}: zlib data is corrupt or truncated ({e})")
        })?;
        let tag = inflated.get(..8).ok_or_else(|| {
            format!(
                "compressed variable at byte {at} inflates to only {} bytes",
                inflated.len()
            )
        })?;
        let data_type = read_u32(&tag[..4], self.big_endian);
        let size = read_u32(&tag[4..8], self.big_endian) as usize;
        if data_type != MI_MATRIX {
            return Err(format!(
                "compressed variable at byte {at} holds a data element of type {data_type}, not a matrix"
            ));
        }
        let end = size.saturating_add(8);
        if whole && inflated.len() < end {
            return Err(format!(
                "compressed variable at byte {at}: the matrix claims {size} bytes but only {} were compressed",
                inflated.len() - 8
            ));
        }
        inflated.truncate(end);
        inflated.drain(..8);
        Ok(Cow::Owned(inflated))
    }

    /// Reads the flags, dimensions and name sub-elements; also returns the reader positioned
    /// after them, at the values.
    fn matrix_info<'b>(
        &self,
        body: &'b [u8],
        element: usize,
    ) -> std::result::Result<(VariableInfo, Elements<'b>), String> {
        let mut elements = Elements {
            bytes: body,
            pos: 0,
            big_endian: self.big_endian,
        };
        let flags = elements.next_element("array flags")?;
        if flags.data_type != MI_UINT32 || flags.data.len() != 8 {
            return Err(format!(
                "array flags should be 8 bytes of type uint32, found {} bytes of type {}",
                flags.data.len(),
                flags.data_type
            ));
        }
        let flag_word = read_u32(&flags.data[..4], self.big_endian);

        let dims = elements.next_element("dimensions")?;
        if dims.data_type != MI_INT32 || dims.data.len() % 4 != 0 || dims.data.is_empty() {
            return Err(format!(
                "dimensions should be int32 values, found {} bytes of type {}",
                dims.data.len(),
                dims.data_type
            ));
        }
        let dims = dims
            .data
            .chunks_exact(4)
            .map(|d| {
                let d = read_u32(d, self.big_endian) as i32;
                usize::try_from(d).map_err(|_| format!("negative dimension {d}"))
            })
            .collect::<std::result::Result<Vec<usize>, String>>()?;

        let name = elements.next_element("name")?;
        if name.data_type != MI_INT8 && name.data_type != MI_UINT8 {
            return Err(format!(
                "the name should be of type int8, found type {}",
                name.data_type
            ));
        }
        let name = String::from_utf8_lossy(name.data)
            .trim_end_matches('\0')
            .to_string();

        let info = VariableInfo {
            element,
            name,
            class: (flag_word & 0xff) as u8,
            complex: flag_word & FLAG_COMPLEX != 0,
            logical: flag_word & FLAG_LOGICAL != 0,
            dims,
        };
        Ok((info, elements))
    }

    /// Decodes a real numeric variable to row-major values of its class.
    fn read_numeric(&self, info: &VariableInfo) -> std::result::Result<RawArray, String> {
        let class = info.dtype().ok_or("not a numeric array")?;
        let in_variable = |e: String| format!("variable '{}': {e}", info.name);
        let element = self.elements.get(info.element).ok_or("no such element")?;
        let body = self.matrix_body(element, true)?;
        let (_, mut elements) = self.matrix_info(&body, info.element).map_err(in_variable)?;
        let values = elements.next_element("values").map_err(in_variable)?;

        let stored_dtype = storage_dtype(values.data_type).ok_or_else(|| {
            in_variable(format!(
                "values stored as unsupported data type {}",
                values.data_type
            ))
        })?;
        let count = shape_product(&info.dims).ok_or_else(|| {
            in_variable(format!("dimensions {} overflow", format_shape(&info.dims)))
        })?;
        let size = dtype_size(stored_dtype);
        if count.checked_mul(size) != Some(values.data.len()) {
            return Err(in_variable(format!(
                "dimensions {} need {count} values but the file holds {} bytes of {stored_dtype}",
                format_shape(&info.dims),
                values.data.len()
            )));
        }
        let stored = decode(values.data, stored_dtype, self.big_endian);
        let samples = convert(stored, class).map_err(in_variable)?;
        let samples = if count > 0 {
            reorder_fortran(samples, &info.dims)
        } else {
            samples
        };
        Ok(RawArray::new(info.dims.clone(), samples))
    }
}

/// One sub-element.
struct Element<'b> {
    data_type: u32,
    data: &'b [u8],
}

/// Reads consecutive data elements, in the normal or the small (4-byte) format.
struct Elements<'b> {
    bytes: &'b [u8],
    pos: usize,
    big_endian: bool,
}

impl<'b> Elements<'b> {
    fn next_element(&mut self, what: &str) -> std::result::Result<Element<'b>, String> {
        let tag = self
            .bytes
            .get(self.pos..self.pos + 8)
            .ok_or_else(|| format!("truncated: the matrix ends before its {what}"))?;
        let first = read_u32(&tag[..4], self.big_endian);
        // Small data element: byte count in the upper 16 bits, up to 4 bytes of data in the tag.
        let small_size = (first >> 16) as usize;
        if small_size != 0 {
            let data = tag.get(4..4 + small_size).ok_or_else(|| {
                format!("{what}: a small data element cannot hold {small_size} bytes")
            })?;
            self.pos += 8;
            return Ok(Element {
                data_type: first & 0xffff,
                data,
            });
        }
        let size = read_u32(&tag[4..8], self.big_endian) as usize;
        let start = self.pos + 8;
        let data = start
            .checked_add(size)
            .and_then(|end| self.bytes.get(start..end))
            .ok_or_else(|| {
                format!(
                    "truncated: the {what} claim {size} bytes but the matrix has {} left",
                    self.bytes.len() - start
                )
            })?;
        self.pos = start.saturating_add(pad8(size)).min(self.bytes.len());
        Ok(Element {
            data_type: first,
            data,
        })
    }
}

fn storage_dtype(data_type: u32) -> Option<DType> {
    Some(match data_type {
        MI_INT8 => DType::I8,
        MI_UINT8 => DType::U8,
        MI_INT16 => DType::I16,
        MI_UINT16 => DType::U16,
        MI_INT32 => DType::I32,
        MI_UINT32 => DType::U32,
        MI_SINGLE => DType::F32,
        MI_DOUBLE => DType::F64,
        MI_INT64 => DType::I64,
        MI_UINT64 => DType::U64,
        _ => return None,
    })
}

/// A stored value, for converting between storage type and class.
trait StoredValue: Copy + std::fmt::Display {
    fn as_f64(self) -> f64;
    /// The value as an integer when it is one.
    fn as_whole(self) -> Option<i128>;
}

macro_rules! stored_int {
    ($($t:ty),*) => {$(
        impl StoredValue for $t {
            fn as_f64(self) -> f64 { self as f64 }
            fn as_whole(self) -> Option<i128> { Some(self as i128) }
        }
    )*};
}
stored_int!(u8, i8, u16, i16, u32, i32, u64, i64);

macro_rules! stored_float {
    ($($t:ty),*) => {$(
        impl StoredValue for $t {
            fn as_f64(self) -> f64 { self as f64 }
            fn as_whole(self) -> Option<i128> {
                let whole = self.is_finite() && self.fract() == 0.0 && self.abs() < 1e38;
                whole.then_some(self as i128)
            }
        }
    )*};
}
stored_float!(f32, f64);

/// Converts every value to integer type `T`, failing on the first that does not fit.
fn to_int<S: StoredValue, T: TryFrom<i128>>(
    values: &[S],
    stored: DType,
    class: DType,
) -> std::result::Result<Vec<T>, String> {
    values
        .iter()
        .map(|&v| {
            v.as_whole()
                .and_then(|w| T::try_from(w).ok())
                .ok_or_else(|| {
                    format!(
                        "value {v} stored as {stored} is not a valid {class} (the array's class)"
                    )
                })
        })
        .collect()
}

/// Values in the storage type to the array's class (exact for every value MATLAB writes).
fn convert(stored: Samples, class: DType) -> std::result::Result<Samples, String> {
    let from = stored.dtype();
    if from == class {
        return Ok(stored);
    }
    macro_rules! each_stored {
        ($v:ident => $body:expr) => {
            match &stored {
                Samples::U8($v) => $body,
                Samples::I8($v) => $body,
                Samples::U16($v) => $body,
                Samples::I16($v) => $body,
                Samples::U32($v) => $body,
                Samples::I32($v) => $body,
                Samples::U64($v) => $body,
                Samples::I64($v) => $body,
                Samples::F32($v) => $body,
                Samples::F64($v) => $body,
            }
        };
    }
    Ok(match class {
        DType::F64 => Samples::F64(each_stored!(v => v.iter().map(|x| x.as_f64()).collect())),
        DType::F32 => {
            Samples::F32(each_stored!(v => v.iter().map(|x| x.as_f64() as f32).collect()))
        }
        DType::U8 => Samples::U8(each_stored!(v => to_int(v, from, class)?)),
        DType::I8 => Samples::I8(each_stored!(v => to_int(v, from, class)?)),
        DType::U16 => Samples::U16(each_stored!(v => to_int(v, from, class)?)),
        DType::I16 => Samples::I16(each_stored!(v => to_int(v, from, class)?)),
        DType::U32 => Samples::U32(each_stored!(v => to_int(v, from, class)?)),
        DType::I32 => Samples::I32(each_stored!(v => to_int(v, from, class)?)),
        DType::U64 => Samples::U64(each_stored!(v => to_int(v, from, class)?)),
        DType::I64 => Samples::I64(each_stored!(v => to_int(v, from, class)?)),
    })
}

fn pad8(size: usize) -> usize {
    size.saturating_add(7) & !7
}

/// `bytes` holds exactly 4 bytes.
fn read_u32(bytes: &[u8], big_endian: bool) -> u32 {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(bytes);
    if big_endian {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    }
}

/// `bytes` holds exactly 2 bytes.
fn read_u16(bytes: &[u8], big_endian: bool) -> u16 {
    let raw = [bytes[0], bytes[1]];
    if big_endian {
        u16::from_be_bytes(raw)
    } else {
        u16::from_le_bytes(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::PathBuf;

    use crate::data::testdata::{error_naming, shared_file as shared_data};

    fn file(name: &str) -> PathBuf {
        PathBuf::from(format!("/data/{name}"))
    }

    /// A variable for the test encoder: `values` are column-major, in the storage type.
    struct TestVar<'a> {
        name: &'a str,
        class: u8,
        flags: u32,
        dims: Vec<i32>,
        values: Samples,
    }

    fn var<'a>(name: &'a str, class: u8, dims: &[i32], values: Samples) -> TestVar<'a> {
        TestVar {
            name,
            class,
            flags: 0,
            dims: dims.to_vec(),
            values,
        }
    }

    /// A minimal v5 writer, enough to exercise the reader: both byte orders, compression, small
    /// data elements for anything of 4 bytes or less (as MATLAB writes names like "a").
    struct Encoder {
        big_endian: bool,
    }

    impl Encoder {
        fn u32(&self, v: u32) -> [u8; 4] {
            if self.big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }

        fn element(&self, data_type: u32, data: &[u8], allow_small: bool) -> Vec<u8> {
            let mut out = Vec::new();
            if allow_small && data.len() <= 4 {
                out.extend_from_slice(&self.u32(((data.len() as u32) << 16) | data_type));
                out.extend_from_slice(data);
                out.resize(8, 0);
                return out;
            }
            out.extend_from_slice(&self.u32(data_type));
            out.extend_from_slice(&self.u32(data.len() as u32));
            out.extend_from_slice(data);
            out.resize(8 + pad8(data.len()), 0);
            out
        }

        fn values(&self, values: &Samples) -> (u32, Vec<u8>) {
            macro_rules! bytes {
                ($v:expr) => {
                    $v.iter()
                        .flat_map(|x| {
                            if self.big_endian {
                                x.to_be_bytes().to_vec()
                            } else {
                                x.to_le_bytes().to_vec()
                            }
                        })
                        .collect()
                };
            }
            match values {
                Samples::I8(v) => (MI_INT8, bytes!(v)),
                Samples::U8(v) => (MI_UINT8, v.clone()),
                Samples::I16(v) => (MI_INT16, bytes!(v)),
                Samples::U16(v) => (MI_UINT16, bytes!(v)),
                Samples::I32(v) => (MI_INT32, bytes!(v)),
                Samples::U32(v) => (MI_UINT32, bytes!(v)),
                Samples::F32(v) => (MI_SINGLE, bytes!(v)),
                Samples::F64(v) => (MI_DOUBLE, bytes!(v)),
                Samples::I64(v) => (MI_INT64, bytes!(v)),
                Samples::U64(v) => (MI_UINT64, bytes!(v)),
            }
        }

        fn matrix(&self, var: &TestVar) -> Vec<u8> {
            let mut body = Vec::new();
            let flags = [self.u32(var.class as u32 | var.flags), [0; 4]].concat();
            body.extend(self.element(MI_UINT32, &flags, false));
            let dims: Vec<u8> = var.dims.iter().flat_map(|&d| self.u32(d as u32)).collect();
            body.extend(self.element(MI_INT32, &dims, false));
            body.extend(self.element(MI_INT8, var.name.as_bytes(), true));
            let (data_type, data) = self.values(&var.values);
            body.extend(self.element(data_type, &data, true));
            self.element(MI_MATRIX, &body, false)
        }

        fn file(&self, vars: &[TestVar], compressed: bool) -> Vec<u8> {
            let mut out = format!(
                "{:<116}",
                "MATLAB 5.0 MAT-file, written by the hyperssl tests"
            )
            .into_bytes();
            out.extend_from_slice(&[0; 8]);
            out.extend_from_slice(if self.big_endian {
                &[0x01, 0x00]
            } else {
                &[0x00, 0x01]
            });
            out.extend_from_slice(if self.big_endian { b"MI" } else { b"IM" });
            for var in vars {
                let matrix = self.matrix(var);
                if compressed {
                    let mut zlib =
                        flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                    zlib.write_all(&matrix).unwrap();
                    let stream = zlib.finish().unwrap();
                    // Compressed elements are written without padding.
                    out.extend_from_slice(&self.u32(MI_COMPRESSED));
                    out.extend_from_slice(&self.u32(stream.len() as u32));
                    out.extend_from_slice(&stream);
                } else {
                    out.extend(matrix);
                }
            }
            out
        }
    }

    fn encode(vars: &[TestVar], big_endian: bool, compressed: bool) -> Vec<u8> {
        Encoder { big_endian }.file(vars, compressed)
    }

    /// Every combination of byte order and compression.
    fn variants(vars: &[TestVar]) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for big_endian in [false, true] {
            for compressed in [false, true] {
                let label = format!("big_endian={big_endian} compressed={compressed}");
                out.push((label, encode(vars, big_endian, compressed)));
            }
        }
        out
    }

    fn error_of(bytes: &[u8], name: &str, variable: Option<&str>) -> String {
        error_naming(parse_mat(bytes, &file(name), variable), name)
    }

    #[test]
    fn double_matrix() {
        // [[1, 2, 3], [4, 5, 6.5]] column-major.
        let values = Samples::F64(vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.5]);
        for (label, bytes) in variants(&[var("matrix", 6, &[2, 3], values)]) {
            let array = parse_mat(&bytes, &file("m.mat"), None).unwrap();
            assert_eq!(array.shape, vec![2, 3], "{label}");
            assert_eq!(
                array.samples,
                Samples::F64(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.5]),
                "{label}"
            );
        }
    }

    #[test]
    fn int16_3d_array() {
        // Element (i, j, k) of a 2x3x4 array = 100i + 10j + k - 50, at column-major offset
        // i + 2j + 6k.
        let mut column_major = vec![0i16; 24];
        let mut row_major = Vec::new();
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    let v = (100 * i + 10 * j + k) as i16 - 50;
                    column_major[i + 2 * j + 6 * k] = v;
                    row_major.push(v);
                }
            }
        }
        let vars = [var("cube", 10, &[2, 3, 4], Samples::I16(column_major))];
        for (label, bytes) in variants(&vars) {
            let array = parse_mat(&bytes, &file("c.mat"), Some("cube")).unwrap();
            assert_eq!(array.shape, vec![2, 3, 4], "{label}");
            assert_eq!(array.samples, Samples::I16(row_major.clone()), "{label}");
        }
    }

    #[test]
    fn big_endian_values_of_every_width() {
        let vars = [
            var("u16", 11, &[1, 3], Samples::U16(vec![1, 0x0102, u16::MAX])),
            var(
                "i32",
                12,
                &[3, 1],
                Samples::I32(vec![-1, 0x0102_0304, i32::MIN]),
            ),
            var(
                "u64",
                15,
                &[1, 1],
                Samples::U64(vec![0x0102_0304_0506_0708]),
            ),
            var("f32", 7, &[1, 2], Samples::F32(vec![2.5, -0.125])),
        ];
        let bytes = encode(&vars, true, false);
        let read = |name| {
            parse_mat(&bytes, &file("be.mat"), Some(name))
                .unwrap()
                .samples
        };
        assert_eq!(read("u16"), Samples::U16(vec![1, 0x0102, u16::MAX]));
        assert_eq!(read("i32"), Samples::I32(vec![-1, 0x0102_0304, i32::MIN]));
        assert_eq!(read("u64"), Samples::U64(vec![0x0102_0304_0506_0708]));
        assert_eq!(read("f32"), Samples::F32(vec![2.5, -0.125]));
    }

    #[test]
    fn values_are_converted_to_the_class() {
        // MATLAB stores a double array of small whole numbers as uint8 or int16.
        let vars = [
            var("labels", 6, &[2, 2], Samples::U8(vec![0, 16, 3, 255])),
            var("offsets", 6, &[1, 3], Samples::I16(vec![-300, 0, 300])),
            var("counts", 13, &[1, 2], Samples::U8(vec![7, 200])),
            var("tiny", 7, &[1, 1], Samples::I8(vec![-3])),
        ];
        for (label, bytes) in variants(&vars) {
            let read = |name| {
                parse_mat(&bytes, &file("conv.mat"), Some(name))
                    .unwrap()
                    .samples
            };
            assert_eq!(
                read("labels"),
                Samples::F64(vec![0.0, 3.0, 16.0, 255.0]),
                "{label}"
            );
            assert_eq!(
                read("offsets"),
                Samples::F64(vec![-300.0, 0.0, 300.0]),
                "{label}"
            );
            assert_eq!(read("counts"), Samples::U32(vec![7, 200]), "{label}");
            assert_eq!(read("tiny"), Samples::F32(vec![-3.0]), "{label}");
        }
    }

    #[test]
    fn stored_value_outside_the_class_is_an_error() {
        let bytes = encode(
            &[var("x", 9, &[1, 2], Samples::I16(vec![5, -1]))],
            false,
            false,
        );
        let message = error_of(&bytes, "neg.mat", None);
        assert!(
            message.contains("value -1 stored as int16 is not a valid uint8"),
            "{message}"
        );
        let bytes = encode(
            &[var("y", 12, &[1, 1], Samples::F64(vec![1.5]))],
            false,
            true,
        );
        assert!(error_of(&bytes, "frac.mat", None).contains("1.5"));
    }

    #[test]
    fn logical_arrays_read_as_uint8() {
        let mut mask = var("mask", 9, &[1, 3], Samples::U8(vec![1, 0, 1]));
        mask.flags = FLAG_LOGICAL;
        let bytes = encode(&[mask], false, true);
        assert_eq!(
            parse_mat(&bytes, &file("l.mat"), None).unwrap().samples,
            Samples::U8(vec![1, 0, 1])
        );
    }

    #[test]
    fn small_elements_for_names_and_values() {
        // Name "a" and a single uint8 value both fit in the tag (small data element format).
        let vars = [var("a", 9, &[1, 1], Samples::U8(vec![42]))];
        for (label, bytes) in variants(&vars) {
            let array = parse_mat(&bytes, &file("s.mat"), Some("a")).unwrap();
            assert_eq!(
                (array.shape, array.samples),
                (vec![1, 1], Samples::U8(vec![42])),
                "{label}"
            );
        }
    }

    #[test]
    fn empty_array() {
        let bytes = encode(
            &[var("empty", 6, &[0, 0], Samples::F64(vec![]))],
            false,
            false,
        );
        let array = parse_mat(&bytes, &file("e.mat"), None).unwrap();
        assert_eq!(array.shape, vec![0, 0]);
        assert!(array.is_empty());
    }

    fn mixed_file(big_endian: bool, compressed: bool) -> Vec<u8> {
        let text: Vec<u16> = "hello".encode_utf16().collect();
        let mut complex = var("z", 6, &[1, 1], Samples::F64(vec![1.0]));
        complex.flags = FLAG_COMPLEX;
        let vars = [
            var("title", 4, &[1, 5], Samples::U16(text)),
            complex,
            var("image", 11, &[2, 2], Samples::U16(vec![1, 3, 2, 4])),
        ];
        encode(&vars, big_endian, compressed)
    }

    #[test]
    fn auto_selection_skips_non_numeric_variables() {
        for compressed in [false, true] {
            let bytes = mixed_file(false, compressed);
            let array = parse_mat(&bytes, &file("mixed.mat"), None).unwrap();
            assert_eq!(array.samples, Samples::U16(vec![1, 2, 3, 4]));
        }
    }

    #[test]
    fn non_numeric_variable_by_name_is_unsupported() {
        let bytes = mixed_file(true, true);
        let message = error_of(&bytes, "mixed.mat", Some("title"));
        assert!(
            message.contains("'title' is a char array, which is unsupported"),
            "{message}"
        );
        let message = error_of(&bytes, "mixed.mat", Some("z"));
        assert!(message.contains("complex double"), "{message}");
    }

    #[test]
    fn several_numeric_arrays_need_a_name() {
        let vars = [
            var("first", 6, &[1, 1], Samples::F64(vec![1.0])),
            var("second", 9, &[1, 2], Samples::U8(vec![1, 2])),
        ];
        let bytes = encode(&vars, false, true);
        let message = error_of(&bytes, "two.mat", None);
        assert!(
            message.contains("'first' (1x1 double), 'second' (1x2 uint8)"),
            "{message}"
        );
        assert_eq!(
            parse_mat(&bytes, &file("two.mat"), Some("second"))
                .unwrap()
                .samples,
            Samples::U8(vec![1, 2])
        );
        let only_text = encode(
            &[var("t", 4, &[1, 1], Samples::U16(vec![65]))],
            false,
            false,
        );
        assert!(error_of(&only_text, "text.mat", None).contains("no numeric array"));
    }

    #[test]
    fn missing_variable_lists_what_exists() {
        let bytes = mixed_file(false, false);
        let message = error_of(&bytes, "mixed.mat", Some("gt"));
        assert!(message.contains("variable 'gt' not found"), "{message}");
        assert!(
            message.contains("'title' (1x5 char), 'z' (1x1 complex double), 'image' (2x2 uint16)"),
            "{message}"
        );
    }

    #[test]
    fn unnamed_subsystem_data_is_ignored() {
        let vars = [
            var("x", 6, &[1, 1], Samples::F64(vec![2.0])),
            var("", 9, &[1, 8], Samples::U8(vec![0; 8])),
        ];
        let bytes = encode(&vars, false, false);
        assert_eq!(
            parse_mat(&bytes, &file("sub.mat"), None).unwrap().samples,
            Samples::F64(vec![2.0])
        );
    }

    #[test]
    fn list_variables_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mixed.mat");
        std::fs::write(&path, mixed_file(true, true)).unwrap();
        let listed = list_mat_variables(&path).unwrap();
        let expected = vec![
            ("title".to_string(), vec![1, 5]),
            ("z".to_string(), vec![1, 1]),
            ("image".to_string(), vec![2, 2]),
        ];
        assert_eq!(listed, expected);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let vars = [var("cube", 10, &[2, 3, 4], Samples::I16((0..24).collect()))];
        for (label, bytes) in variants(&vars) {
            for cut in 0..bytes.len() {
                let result = parse_mat(&bytes[..cut], &file("cut.mat"), None);
                let message = result
                    .err()
                    .unwrap_or_else(|| panic!("{label}: cut at {cut} was accepted"))
                    .to_string();
                assert!(message.contains("cut.mat"), "{message}");
            }
        }
    }

    #[test]
    fn data_length_must_match_dimensions() {
        let bytes = encode(
            &[var("x", 6, &[2, 3], Samples::F64(vec![1.0; 5]))],
            false,
            false,
        );
        let message = error_of(&bytes, "short.mat", None);
        assert!(
            message.contains("dimensions 2x3 need 6 values but the file holds 40 bytes of float64"),
            "{message}"
        );
        let bytes = encode(
            &[var(
                "x",
                6,
                &[65536, 65536, 65536, 65536],
                Samples::F64(vec![1.0]),
            )],
            false,
            false,
        );
        assert!(error_of(&bytes, "huge.mat", None).contains("overflow"));
        let bytes = encode(
            &[var("x", 6, &[-1, 3], Samples::F64(vec![1.0]))],
            false,
            false,
        );
        assert!(error_of(&bytes, "neg.mat", None).contains("negative dimension -1"));
    }

    #[test]
    fn not_a_v5_file() {
        assert!(error_of(b"", "empty.mat", None).contains("128-byte header"));
        assert!(error_of(&[b'x'; 300], "text.mat", None).contains("'IM' or 'MI'"));
        let mut v4 = vec![0u8; 300];
        v4[4] = 2;
        assert!(error_of(&v4, "v4.mat", None).contains("v4"));
        let mut future = encode(
            &[var("x", 6, &[1, 1], Samples::F64(vec![1.0]))],
            false,
            false,
        );
        future[124] = 0x07;
        assert!(error_of(&future, "ver.mat", None).contains("version"));
    }

    #[test]
    fn corrupt_compressed_data() {
        let mut bytes = encode(
            &[var("x", 6, &[1, 64], Samples::F64(vec![3.0; 64]))],
            false,
            true,
        );
        let middle = HEADER_LEN + 8 + 4;
        bytes[middle] ^= 0xff;
        bytes[middle + 1] ^= 0xff;
        let message = error_of(&bytes, "zlib.mat", None);
        assert!(
            message.contains("zlib") || message.contains("compressed"),
            "{message}"
        );
    }

    #[test]
    fn mat73_files_are_recognised() {
        let mut bytes = format!(
            "{:<116}",
            "MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 ."
        )
        .into_bytes();
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&[0x00, 0x02]);
        bytes.extend_from_slice(b"IM");
        bytes.resize(512, 0);
        bytes.extend_from_slice(HDF5_SIGNATURE);
        bytes.resize(1024, 0);
        assert!(is_mat73(&bytes));
        assert!(error_of(&bytes, "new.mat", None).contains("MATLAB v7.3 (HDF5)"));
        // The HDF5 signature alone is enough (the header text is free-form).
        let mut plain = vec![b' '; 512];
        plain.extend_from_slice(HDF5_SIGNATURE);
        assert!(is_mat73(&plain));
        let v5 = encode(
            &[var("x", 6, &[1, 1], Samples::F64(vec![1.0]))],
            false,
            true,
        );
        assert!(!is_mat73(&v5));
    }

    /// Every truncation and many random corruptions give a result or an error, never a panic.
    #[test]
    fn mutated_files_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for big_endian in [false, true] {
            for compressed in [false, true] {
                let bytes = mixed_file(big_endian, compressed);
                for _ in 0..2000 {
                    let mut mutated = bytes.clone();
                    for _ in 0..rng.random_range(1..4) {
                        // Mostly the element tags and sub-element headers after the file header.
                        let at = rng.random_range(HEADER_LEN.min(mutated.len() - 1)..mutated.len());
                        mutated[at] = rng.random();
                    }
                    let _ = parse_mat(&mutated, &file("mutated.mat"), None);
                    let _ = parse_mat(&mutated, &file("mutated.mat"), Some("image"));
                }
            }
        }
    }

    #[test]
    fn error_names_the_file_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Salinas_broken.mat");
        let bytes = encode(
            &[var("x", 6, &[1, 4], Samples::F64(vec![1.0; 4]))],
            false,
            true,
        );
        std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
        let message = read_mat(&path, None).unwrap_err().to_string();
        assert!(message.contains("Salinas_broken.mat"), "{message}");
    }

    #[test]
    fn real_indian_pines_ground_truth_matches_npy() {
        let Some(mat_path) = shared_data("indian_pines/indian_pines_gt.mat") else {
            return;
        };
        let Some(npy_path) = shared_data("indian_pines/Indian_pines_gt.npy") else {
            return;
        };
        let from_npy = super::super::npy::read_npy(&npy_path).unwrap();
        let named = read_mat(&mat_path, Some("indian_pines_gt")).unwrap();
        let automatic = read_mat(&mat_path, None).unwrap();
        assert_eq!(named, automatic);
        assert_eq!(named.shape, vec![145, 145]);
        assert_eq!(named.shape, from_npy.shape);
        // The class is double (stored as uint8 in the file); the values are the same.
        assert_eq!(named.dtype(), DType::F64);
        assert_eq!(named.samples.to_f64(), from_npy.samples.to_f64());
        assert_eq!(
            list_mat_variables(&mat_path).unwrap(),
            vec![("indian_pines_gt".to_string(), vec![145, 145])]
        );
        let message = read_mat(&mat_path, Some("indian_pines"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("indian_pines_gt.mat"), "{message}");
        assert!(
            message.contains(
                "'indian_pines' not found; the file holds 'indian_pines_gt' (145x145 double)"
            ),
            "{message}"
        );
    }
}
