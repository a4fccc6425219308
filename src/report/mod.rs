//! Maps, plots and the run report: what a person looks at after a run.
//!
//! Everything here takes plain data (slices, small structs) and knows nothing of the models or
//! the command line, so that any command can draw any picture. Pictures are built as
//! [`image::RgbImage`] values and written with [`save_png`] (temporary name, then rename). Text
//! is drawn with a font compiled into the library, so no system fonts are needed.
//!
//! The charts (learning curves, spectra) are laid out and drawn by plotters on its bitmap
//! backend. The maps, their legends and colour bar, and the grid of digits are drawn by hand:
//! they are pixel images, one block per scene pixel or image pixel, which a chart library does
//! not lay out.
//!
//! | file | made by |
//! | --- | --- |
//! | [`CLASS_MAP`], [`GROUND_TRUTH`] | [`class_map`] (colours from [`palette`]) |
//! | [`ERRORS`] | [`outcomes`] then [`errors_map`] |
//! | [`UNCERTAINTY`] | [`normalised_entropy`] or [`one_minus_max_probability`], then [`uncertainty_map`] |
//! | [`LEARNING_CURVES`] | [`learning_curves`] or [`learning_curves_from_log`] |
//! | [`SPECTRA`] | [`class_spectra`] (M2), [`reconstruction_spectra`] (M1) |
//! | [`DIGITS`] | [`image_grid`] |
//! | [`REPORT`] | [`write_markdown`] |

/// File names of a run directory's pictures and report, so that the report links what the
/// commands write.
pub const CLASS_MAP: &str = "class_map.png";
pub const GROUND_TRUTH: &str = "ground_truth.png";
pub const ERRORS: &str = "errors.png";
pub const UNCERTAINTY: &str = "uncertainty.png";
pub const LEARNING_CURVES: &str = "learning_curves.png";
pub const SPECTRA: &str = "spectra.png";
pub const DIGITS: &str = "digits.png";
pub const REPORT: &str = "report.md";

mod canvas;
mod chart;
mod heat;
mod image_grid;
mod learning_curves;
mod legend;
pub(crate) mod maps;
mod markdown;
pub mod palette;
mod paper;
mod png;
mod spectra;
mod text;
mod uncertainty;

pub use canvas::PixelRect;
pub use heat::heat_colour;
pub use image_grid::{image_grid, GridLayout, ImageRow, IMAGE_SCALE};
pub use learning_curves::{learning_curves, learning_curves_from_log};
pub use maps::{class_map, errors_map, outcomes, uncertainty_map, MapPicture, Outcome, PixelClass};
pub use markdown::{render_markdown, write_markdown, RunReport};
pub use png::save_png;
pub use spectra::{class_spectra, reconstruction_spectra, ClassSpectra, ReconstructionSpectra};
pub use uncertainty::{normalised_entropy, one_minus_max_probability};
