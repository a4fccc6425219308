//! A typed n-dimensional array as it was stored in a file, before any conversion.
//! Readers return this so that round trips can be checked bit for bit.

use std::fmt;

/// The element type a file stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DType {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F32,
    F64,
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            DType::U8 => "uint8",
            DType::I8 => "int8",
            DType::U16 => "uint16",
            DType::I16 => "int16",
            DType::U32 => "uint32",
            DType::I32 => "int32",
            DType::U64 => "uint64",
            DType::I64 => "int64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        };
        f.write_str(s)
    }
}

/// The elements, in row-major (C) order whatever the file's order was.
#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    U8(Vec<u8>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

macro_rules! each_samples {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
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

impl Samples {
    pub fn len(&self) -> usize {
        each_samples!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn dtype(&self) -> DType {
        match self {
            Samples::U8(_) => DType::U8,
            Samples::I8(_) => DType::I8,
            Samples::U16(_) => DType::U16,
            Samples::I16(_) => DType::I16,
            Samples::U32(_) => DType::U32,
            Samples::I32(_) => DType::I32,
            Samples::U64(_) => DType::U64,
            Samples::I64(_) => DType::I64,
            Samples::F32(_) => DType::F32,
            Samples::F64(_) => DType::F64,
        }
    }

    /// All values as f32 (exact for 8- and 16-bit integers and f32).
    // The macro casts every sample type, f32 itself among them.
    #[allow(clippy::unnecessary_cast)]
    pub fn to_f32(&self) -> Vec<f32> {
        each_samples!(self, v => v.iter().map(|&x| x as f32).collect())
    }

    /// All values as f64.
    #[allow(clippy::unnecessary_cast)]
    pub fn to_f64(&self) -> Vec<f64> {
        each_samples!(self, v => v.iter().map(|&x| x as f64).collect())
    }
}

/// A shaped array read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct RawArray {
    pub shape: Vec<usize>,
    pub samples: Samples,
}

impl RawArray {
    pub fn new(shape: Vec<usize>, samples: Samples) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), samples.len());
        RawArray { shape, samples }
    }

    pub fn dtype(&self) -> DType {
        self.samples.dtype()
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// The index of the largest value of every row of `k` values; the first one on ties.
pub fn argmax_rows(values: &[f32], k: usize) -> Vec<usize> {
    values.chunks_exact(k).map(argmax).collect()
}

/// Index of the largest value; the first one on ties.
pub(crate) fn argmax<T: PartialOrd + Copy>(values: &[T]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Copies the rows `indices` of a row-major `n x dim` matrix.
///
/// ```
/// use hyperssl::data::array::gather_rows;
/// let x = [0, 1, 10, 11, 20, 21]; // three rows of two
/// assert_eq!(gather_rows(&x, 2, &[2, 0]), [20, 21, 0, 1]);
/// ```
pub fn gather_rows<T: Copy>(x: &[T], dim: usize, indices: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(indices.len() * dim);
    for &i in indices {
        out.extend_from_slice(&x[i * dim..(i + 1) * dim]);
    }
    out
}

/// The rows of `x` as one row-major buffer: `x`'s own memory when it is laid out so (any array
/// in C order, a NumPy array among them), else a copy.
///
/// ```
/// use hyperssl::data::array::row_major;
/// use std::borrow::Cow;
/// let x = ndarray::array![[1.0f32, 2.0], [3.0, 4.0]];
/// let rows = row_major(x.view());
/// assert!(matches!(rows, Cow::Borrowed(_)) && *rows == [1.0, 2.0, 3.0, 4.0]);
/// let columns = row_major(x.t()); // the transpose, copied into row-major order
/// assert!(matches!(columns, Cow::Owned(_)) && *columns == [1.0, 3.0, 2.0, 4.0]);
/// ```
pub fn row_major<'a>(x: ndarray::ArrayView2<'a, f32>) -> std::borrow::Cow<'a, [f32]> {
    match x.to_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(x.iter().copied().collect()),
    }
}

/// Reverses the axis order of a column-major (Fortran) buffer so that the result is row-major
/// with the same logical shape. MATLAB, Fortran-ordered .npy and HDF5 written by MATLAB need it.
///
/// ```
/// use hyperssl::data::array::fortran_to_c;
/// // A 2 x 3 matrix [[1, 2, 3], [4, 5, 6]] stored column by column.
/// assert_eq!(fortran_to_c(&[1, 4, 2, 5, 3, 6], &[2, 3]), [1, 2, 3, 4, 5, 6]);
/// ```
pub fn fortran_to_c<T: Copy>(data: &[T], shape: &[usize]) -> Vec<T> {
    let n: usize = shape.iter().product();
    debug_assert_eq!(n, data.len());
    if shape.len() < 2 {
        return data.to_vec();
    }
    let mut out = Vec::with_capacity(n);
    // Column-major strides.
    let mut fstride = vec![1usize; shape.len()];
    for d in 1..shape.len() {
        fstride[d] = fstride[d - 1] * shape[d - 1];
    }
    let mut idx = vec![0usize; shape.len()];
    for _ in 0..n {
        let off: usize = idx.iter().zip(&fstride).map(|(i, s)| i * s).sum();
        out.push(data[off]);
        // Increment the row-major multi-index.
        for d in (0..shape.len()).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_rows_copies_rows() {
        let x = [0.0f32, 1.0, 10.0, 11.0, 20.0, 21.0];
        assert_eq!(gather_rows(&x, 2, &[2, 0]), vec![20.0, 21.0, 0.0, 1.0]);
    }

    #[test]
    fn fortran_order_becomes_row_major() {
        // A 2x3 matrix [[1,2,3],[4,5,6]] stored column-major is 1,4,2,5,3,6.
        let f = [1, 4, 2, 5, 3, 6];
        assert_eq!(fortran_to_c(&f, &[2, 3]), vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn fortran_order_3d() {
        // Element (i,j,k) of a 2x2x2 array at column-major offset i + 2j + 4k.
        let shape = [2, 2, 2];
        let mut f = vec![0; 8];
        for i in 0..2 {
            for j in 0..2 {
                for k in 0..2 {
                    f[i + 2 * j + 4 * k] = 100 * i + 10 * j + k;
                }
            }
        }
        let c = fortran_to_c(&f, &shape);
        assert_eq!(c, vec![0, 1, 10, 11, 100, 101, 110, 111]);
    }
}
