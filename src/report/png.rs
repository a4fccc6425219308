//! Saving pictures: encoded in memory, written to `<name>.png.tmp`, then renamed, so that a
//! killed run never leaves a half-written PNG behind.

use crate::error::{Error, Result};
use crate::atomic;
use image::codecs::png::PngEncoder;
use image::{ImageEncoder, RgbImage};
use std::path::Path;

/// Writes `image` as an RGB PNG at `path`.
pub fn save_png(path: &Path, image: &RgbImage) -> Result<()> {
    let mut bytes = Vec::new();
    PngEncoder::new(&mut bytes)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| Error::bad(path, format!("cannot encode PNG: {e}")))?;
    atomic::write(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn round_trip_and_no_temporary_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let mut img = RgbImage::from_pixel(3, 2, Rgb([1, 2, 3]));
        img.put_pixel(2, 1, Rgb([200, 100, 50]));
        save_png(&path, &img).unwrap();
        let back = image::open(&path).unwrap().to_rgb8();
        assert_eq!(back, img);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn unwritable_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("a.png");
        let img = RgbImage::new(1, 1);
        assert!(matches!(save_png(&path, &img), Err(Error::Io { .. })));
    }
}
