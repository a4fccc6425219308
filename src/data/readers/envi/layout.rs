//! Image bytes <-> [`RawArray`]: byte order and the BSQ/BIL/BIP layouts. Arrays are always
//! `[lines, samples, bands]`, row-major (the BIP layout).

use std::path::Path;

use byteorder::{BigEndian, ByteOrder, LittleEndian};

use super::header::{dtype_size, EnviHeader, Interleave};
use crate::data::array::{DType, RawArray, Samples};
use crate::error::{Error, Result};

/// Index in the file layout of each element of the band-last array, in array order.
/// `file_index(l, s, b)` for an image of `lines x samples x bands`.
fn file_index(
    interleave: Interleave,
    samples: usize,
    bands: usize,
    lines: usize,
) -> impl Fn(usize, usize, usize) -> usize {
    move |l, s, b| match interleave {
        Interleave::Bsq => (b * lines + l) * samples + s,
        Interleave::Bil => (l * bands + b) * samples + s,
        Interleave::Bip => (l * samples + s) * bands + b,
    }
}

/// Reorders `file` (in the header's interleave) into band-last order.
fn to_band_last<T: Copy>(file: Vec<T>, h: &EnviHeader) -> Vec<T> {
    if h.interleave == Interleave::Bip {
        return file;
    }
    let index = file_index(h.interleave, h.samples, h.bands, h.lines);
    let mut out = Vec::with_capacity(file.len());
    for l in 0..h.lines {
        for s in 0..h.samples {
            out.extend((0..h.bands).map(|b| file[index(l, s, b)]));
        }
    }
    out
}

/// Reorders a band-last array into the header's interleave.
fn from_band_last<T: Copy + Default>(array: &[T], h: &EnviHeader) -> Vec<T> {
    if h.interleave == Interleave::Bip {
        return array.to_vec();
    }
    let index = file_index(h.interleave, h.samples, h.bands, h.lines);
    let mut out = vec![T::default(); array.len()];
    let mut values = array.iter();
    for l in 0..h.lines {
        for s in 0..h.samples {
            for b in 0..h.bands {
                if let Some(&v) = values.next() {
                    out[index(l, s, b)] = v;
                }
            }
        }
    }
    out
}

/// Decodes fixed-size elements in either byte order.
macro_rules! decode {
    ($bytes:expr, $big:expr, $t:ty, $read:ident) => {{
        let mut v: Vec<$t> = vec![Default::default(); $bytes.len() / std::mem::size_of::<$t>()];
        if $big {
            BigEndian::$read($bytes, &mut v);
        } else {
            LittleEndian::$read($bytes, &mut v);
        }
        v
    }};
}

macro_rules! encode {
    ($values:expr, $big:expr, $write:ident) => {{
        let mut out = vec![0u8; $values.len() * std::mem::size_of_val(&$values[0])];
        if $big {
            BigEndian::$write($values, &mut out);
        } else {
            LittleEndian::$write($values, &mut out);
        }
        out
    }};
}

/// Decodes a whole data file (`bytes`, header offset included) into a `[lines, samples, bands]`
/// array. The file must be exactly as long as the header says.
pub fn decode_image(h: &EnviHeader, bytes: &[u8], data_path: &Path) -> Result<RawArray> {
    let data_bytes = h.data_bytes().ok_or_else(|| {
        Error::bad(
            data_path,
            format!(
                "header describes {} x {} x {} {} values, more than can be addressed",
                h.lines, h.samples, h.bands, h.data_type
            ),
        )
    })?;
    check_length(h, data_bytes, bytes.len() as u64, data_path)?;
    let body = bytes.get(h.header_offset..).unwrap_or(&[]);
    let big = h.big_endian;
    let b = body;
    let samples = match h.data_type {
        DType::U8 => Samples::U8(to_band_last(b.to_vec(), h)),
        DType::I8 => Samples::I8(to_band_last(b.iter().map(|&x| x as i8).collect(), h)),
        DType::U16 => Samples::U16(to_band_last(decode!(b, big, u16, read_u16_into), h)),
        DType::I16 => Samples::I16(to_band_last(decode!(b, big, i16, read_i16_into), h)),
        DType::U32 => Samples::U32(to_band_last(decode!(b, big, u32, read_u32_into), h)),
        DType::I32 => Samples::I32(to_band_last(decode!(b, big, i32, read_i32_into), h)),
        DType::U64 => Samples::U64(to_band_last(decode!(b, big, u64, read_u64_into), h)),
        DType::I64 => Samples::I64(to_band_last(decode!(b, big, i64, read_i64_into), h)),
        DType::F32 => Samples::F32(to_band_last(decode!(b, big, f32, read_f32_into), h)),
        DType::F64 => Samples::F64(to_band_last(decode!(b, big, f64, read_f64_into), h)),
    };
    Ok(RawArray::new(vec![h.lines, h.samples, h.bands], samples))
}

/// The data file must hold exactly the offset plus the image: a shorter one is truncated and a
/// longer one means the header does not describe it.
pub(super) fn check_length(
    h: &EnviHeader,
    data_bytes: usize,
    file_len: u64,
    data_path: &Path,
) -> Result<()> {
    let want = (h.header_offset as u128) + (data_bytes as u128);
    if want != file_len as u128 {
        let what = if (file_len as u128) < want {
            "too short"
        } else {
            "too long"
        };
        return Err(Error::bad(
            data_path,
            format!(
                "{what}: header says {want} bytes ({} offset + {} x {} x {} x {} bytes of {}), file has {file_len}",
                h.header_offset,
                h.lines,
                h.samples,
                h.bands,
                dtype_size(h.data_type),
                h.data_type
            ),
        ));
    }
    Ok(())
}

/// The image bytes of `array` (shape `[lines, samples, bands]`, matching `h`) in the header's
/// interleave and byte order, without the offset.
pub(super) fn encode_image(h: &EnviHeader, array: &RawArray) -> Vec<u8> {
    let big = h.big_endian;
    if array.is_empty() {
        return Vec::new();
    }
    match &array.samples {
        Samples::U8(v) => from_band_last(v, h),
        Samples::I8(v) => from_band_last(v, h).into_iter().map(|x| x as u8).collect(),
        Samples::U16(v) => encode!(&from_band_last(v, h), big, write_u16_into),
        Samples::I16(v) => encode!(&from_band_last(v, h), big, write_i16_into),
        Samples::U32(v) => encode!(&from_band_last(v, h), big, write_u32_into),
        Samples::I32(v) => encode!(&from_band_last(v, h), big, write_i32_into),
        Samples::U64(v) => encode!(&from_band_last(v, h), big, write_u64_into),
        Samples::I64(v) => encode!(&from_band_last(v, h), big, write_i64_into),
        Samples::F32(v) => encode!(&from_band_last(v, h), big, write_f32_into),
        Samples::F64(v) => encode!(&from_band_last(v, h), big, write_f64_into),
    }
}
