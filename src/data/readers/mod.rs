//! File readers. Each returns arrays exactly as stored ([`RawArray`](crate::data::RawArray)) and names the file in every
//! error.

pub mod envi;
pub mod hdf5;
pub mod mat;
pub mod mnist;
pub mod npy;
pub mod source;
