//! The scene that ships inside the binary: AVIRIS Indian Pines, 145 x 145 pixels, 200 bands
//! (water-absorption bands removed), 16 classes. Baumgardner, Biehl, Landgrebe (2015), Purdue
//! University Research Repository, doi:10.4231/R7RX991C, CC BY 3.0.

use std::path::Path;

use super::readers::{npy, source::label_values};
use super::{LabelMap, Scene};
use crate::error::Result;

const IMAGE: &[u8] = include_bytes!("../../data/indian_pines_corrected.npy.gz");
const LABELS: &[u8] = include_bytes!("../../data/indian_pines_gt.npy.gz");

pub const NAME: &str = "Indian Pines (embedded)";

pub const CLASS_NAMES: [&str; 16] = [
    "Alfalfa",
    "Corn-notill",
    "Corn-mintill",
    "Corn",
    "Grass-pasture",
    "Grass-trees",
    "Grass-pasture-mowed",
    "Hay-windrowed",
    "Oats",
    "Soybean-notill",
    "Soybean-mintill",
    "Soybean-clean",
    "Wheat",
    "Woods",
    "Buildings-Grass-Trees-Drives",
    "Stone-Steel-Towers",
];

/// The embedded Indian Pines scene with its ground truth and class names.
pub fn indian_pines() -> Result<Scene> {
    let path = Path::new("<embedded>/indian_pines_corrected.npy");
    let image = npy::parse_npy(IMAGE, path)?;
    let scene = Scene::from_array(&image, path)?;
    let lpath = Path::new("<embedded>/indian_pines_gt.npy");
    let gt = npy::parse_npy(LABELS, lpath)?;
    let mut labels = LabelMap::from_values(gt.shape[0], gt.shape[1], &label_values(&gt, lpath)?)?;
    labels.name_by_stored_value(&CLASS_NAMES.map(String::from));
    scene.with_labels(labels, lpath)
}
