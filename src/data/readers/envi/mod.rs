//! ENVI images: a raw data file plus a `.hdr` text header. Read into, and written from,
//! [`RawArray`](crate::data::RawArray)s of shape `[lines, samples, bands]` (band-last, row-major) whatever the file's
//! interleave and byte order.

mod classification;
mod files;
mod header;
mod layout;

#[cfg(test)]
mod tests;

pub use classification::{write_classification, Classification};
pub use files::{find_pair, read_envi, read_header, write_envi};
pub use header::{parse_header, EnviHeader, Interleave};
pub use layout::decode_image;
