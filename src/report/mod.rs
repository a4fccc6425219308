//! Maps, plots and the run report: what a person looks at after a run.
//!
//! Everything here takes plain data (slices, small structs) and knows nothing of the models, so
//! that any command can draw any picture. Pictures are built as [`image::RgbImage`] values and
//! written with [`save_png`] (temporary name, then rename). Text is drawn with a font compiled
//! into the library, so no system fonts are needed.

mod canvas;
mod chart;
mod heat;
mod image_grid;
mod learning_curves;
mod legend;
pub mod maps;
mod markdown;
pub mod palette;
mod png;
mod spectra;
mod text;

pub use heat::{heat_colour, PixelRect};
pub use image_grid::{image_grid, GridLayout, ImageRow, IMAGE_SCALE};
pub use learning_curves::{learning_curves, learning_curves_from_log};
pub use legend::LegendEntry;
pub use maps::{class_map, errors_map, outcomes, uncertainty_map, MapPicture, Outcome, PixelClass};
pub use markdown::{render_markdown, write_markdown, ReportMetrics, RunReport, CLEAR_MARGIN};
pub use png::save_png;
pub use spectra::{class_spectra, reconstruction_spectra, ClassSpectra, ReconstructionSpectra};
