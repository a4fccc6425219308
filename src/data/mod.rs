//! Reading scenes, scaling them, their spatial features and drawing the pixel sets that models
//! train and are tested on.
//! Everything here hands out plain contiguous f32 buffers; no deep-learning types.

pub mod array;
pub mod corpus;
#[cfg(feature = "embedded-data")]
pub mod embedded;
pub(crate) mod labels;
pub mod readers;
pub mod sampling;
pub mod scaling;
pub(crate) mod scene;
pub mod spatial;
#[cfg(test)]
pub(crate) mod testdata;

pub use array::{DType, RawArray, Samples};
pub use labels::LabelMap;
pub use scene::Scene;
