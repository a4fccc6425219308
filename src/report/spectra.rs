//! spectra.png: small multiples of spectra, one panel per class (mean real spectrum with a few
//! generated ones) or, for M1, real pixels beside their reconstructions plus free samples.

use super::canvas::{self, PixelRect};
use super::chart::{self, Panel, Series, Style};
use super::paper;
use super::text;
use crate::error::{Error, Result};
use image::RgbImage;
use plotters::element::{PathElement, Text};
use plotters::style::Color;

/// The spectra of one class.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassSpectra {
    pub name: String,
    /// Mean of the real (scaled) spectra of the class, one value per band.
    pub real_mean: Vec<f32>,
    /// Spectra the model generated for the class.
    pub generated: Vec<Vec<f32>>,
}

/// Real spectra, their reconstructions (same order) and samples drawn from the prior.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReconstructionSpectra {
    pub real: Vec<Vec<f32>>,
    pub reconstructed: Vec<Vec<f32>>,
    pub samples: Vec<Vec<f32>>,
}

const PANEL_WIDTH: u32 = 320;
const PANEL_HEIGHT: u32 = 230;
const MAX_COLUMNS: usize = 4;
const TEXT_SIZE: f32 = 12.0;
const HEADER: u32 = 40;
const REAL: [u8; 3] = [0, 0, 0];
const GENERATED: [u8; 3] = [70, 130, 180];
const RECONSTRUCTED: [u8; 3] = [214, 39, 40];

/// One panel per class: the mean real spectrum (black) over the generated ones (blue). The x
/// axis is `wavelengths` when given, the band index otherwise.
pub fn class_spectra(
    classes: &[ClassSpectra],
    wavelengths: Option<&[f32]>,
    title: &str,
) -> Result<RgbImage> {
    let first = classes
        .first()
        .ok_or_else(|| Error::invalid("spectra: no classes to draw"))?;
    let axis = Axis::new(first.real_mean.len(), wavelengths)?;
    let mut panels = Vec::with_capacity(classes.len());
    for c in classes {
        let what = format!("class {:?}", c.name);
        let mut series: Vec<Series> = Vec::with_capacity(c.generated.len() + 1);
        for (i, g) in c.generated.iter().enumerate() {
            let label = if i == 0 { "generated" } else { "" };
            series.push(axis.series(
                g,
                &format!("{what}, generated spectrum {i}"),
                label,
                GENERATED,
                1.2,
            )?);
        }
        series.push(axis.series(
            &c.real_mean,
            &format!("{what}, mean real spectrum"),
            "mean real",
            REAL,
            2.0,
        )?);
        panels.push(axis.panel(&c.name, series));
    }
    let key = [("mean real spectrum", REAL), ("generated", GENERATED)];
    grid(&panels, title, &key)
}

/// One panel per real spectrum with its reconstruction, and a last panel of free samples.
pub fn reconstruction_spectra(
    spectra: &ReconstructionSpectra,
    wavelengths: Option<&[f32]>,
    title: &str,
) -> Result<RgbImage> {
    if spectra.real.len() != spectra.reconstructed.len() {
        return Err(Error::invalid(format!(
            "spectra: {} real spectra but {} reconstructions",
            spectra.real.len(),
            spectra.reconstructed.len()
        )));
    }
    let bands = spectra
        .real
        .first()
        .or(spectra.samples.first())
        .ok_or_else(|| Error::invalid("spectra: nothing to draw"))?
        .len();
    let axis = Axis::new(bands, wavelengths)?;
    let mut panels = Vec::new();
    for (i, (real, rec)) in spectra.real.iter().zip(&spectra.reconstructed).enumerate() {
        let series = vec![
            axis.series(real, &format!("real spectrum {i}"), "real", REAL, 2.0)?,
            axis.series(
                rec,
                &format!("reconstruction {i}"),
                "reconstruction",
                RECONSTRUCTED,
                1.5,
            )?,
        ];
        panels.push(axis.panel(&format!("pixel {}", i + 1), series));
    }
    if !spectra.samples.is_empty() {
        let mut series = Vec::with_capacity(spectra.samples.len());
        for (i, s) in spectra.samples.iter().enumerate() {
            series.push(axis.series(s, &format!("sample {i}"), "", GENERATED, 1.2)?);
        }
        panels.push(axis.panel("samples from the prior", series));
    }
    let key = [
        ("real", REAL),
        ("reconstruction", RECONSTRUCTED),
        ("sample", GENERATED),
    ];
    grid(&panels, title, &key)
}

/// The x values of the bands, checked once for all spectra.
struct Axis {
    x: Vec<f64>,
    label: &'static str,
}

impl Axis {
    fn new(bands: usize, wavelengths: Option<&[f32]>) -> Result<Self> {
        if bands == 0 {
            return Err(Error::invalid("spectra: a spectrum has no bands"));
        }
        match wavelengths {
            None => Ok(Axis {
                x: (0..bands).map(|b| b as f64).collect(),
                label: "band",
            }),
            Some(w) if w.len() != bands => Err(Error::invalid(format!(
                "spectra: {} wavelengths for {bands} bands",
                w.len()
            ))),
            Some(w) if w.iter().any(|v| !v.is_finite()) => {
                Err(Error::invalid("spectra: a wavelength is NaN or infinite"))
            }
            Some(w) => Ok(Axis {
                x: w.iter().map(|&v| v as f64).collect(),
                label: "wavelength",
            }),
        }
    }

    /// Checks one spectrum (length, finite values) and makes it a series.
    fn series(
        &self,
        values: &[f32],
        what: &str,
        label: &str,
        colour: [u8; 3],
        thickness: f64,
    ) -> Result<Series> {
        if values.len() != self.x.len() {
            return Err(Error::invalid(format!(
                "spectra: {what} has {} values, expected {} bands",
                values.len(),
                self.x.len()
            )));
        }
        if let Some(b) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "spectra: {what} is NaN or infinite at band {b}"
            )));
        }
        Ok(Series {
            label: label.to_string(),
            colour,
            thickness,
            style: Style::Line,
            points: self
                .x
                .iter()
                .zip(values)
                .map(|(&x, &y)| (x, y as f64))
                .collect(),
        })
    }

    fn panel(&self, title: &str, series: Vec<Series>) -> Panel {
        Panel {
            title: title.to_string(),
            x_label: self.label.to_string(),
            y_label: "value".to_string(),
            series,
            y_limits: None,
            legend: false,
            min_y_tick_width: 0,
        }
    }
}

/// Lays the panels out in rows of up to four under a title and a colour key.
fn grid(panels: &[Panel], title: &str, key: &[(&str, [u8; 3])]) -> Result<RgbImage> {
    let columns = panels.len().clamp(1, MAX_COLUMNS);
    let rows = panels.len().div_ceil(columns).max(1);
    let width = columns as u32 * PANEL_WIDTH;
    let height = u32::try_from(rows)
        .ok()
        .and_then(|r| r.checked_mul(PANEL_HEIGHT))
        .and_then(|h| h.checked_add(HEADER))
        .ok_or_else(|| Error::invalid(format!("spectra: {} panels are too many", panels.len())))?;
    let mut image = canvas::blank(width.max(PANEL_WIDTH * 2), height)?;
    paper::draw_on(&mut image, |root| {
        let failed = paper::failed("spectra");
        root.draw(&Text::new(title, (12, 6), paper::font(16.0)))
            .map_err(&failed)?;
        // The colour key: a short stroke and the label of each kind of spectrum.
        let mut x = 12 + text::size_of(title, 16.0)?.0 as i32 + 24;
        for &(label, colour) in key {
            let stroke = PathElement::new(
                vec![(x, 17), (x + 22, 17)],
                paper::rgb(colour).stroke_width(2),
            );
            root.draw(&stroke).map_err(&failed)?;
            root.draw(&Text::new(
                label,
                (x + 28, 9),
                paper::font(TEXT_SIZE.into()),
            ))
            .map_err(&failed)?;
            x += 28 + text::size_of(label, TEXT_SIZE)?.0 as i32 + 20;
        }
        for (i, panel) in panels.iter().enumerate() {
            let (row, col) = ((i / columns) as u32, (i % columns) as u32);
            let area = PixelRect {
                x: col * PANEL_WIDTH + 4,
                y: HEADER + row * PANEL_HEIGHT + 4,
                width: PANEL_WIDTH - 8,
                height: PANEL_HEIGHT - 8,
            };
            chart::draw_panel(root, area, panel, TEXT_SIZE)?;
        }
        Ok(())
    })?;
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::save_png;

    fn bump(bands: usize, centre: f32, height: f32) -> Vec<f32> {
        (0..bands)
            .map(|b| height * (-((b as f32 - centre) / 8.0).powi(2)).exp())
            .collect()
    }

    /// Pixels mostly of colour `c` (thin anti-aliased lines rarely cover a pixel fully).
    fn near(p: [u8; 3], c: [u8; 3]) -> bool {
        p.iter()
            .zip(&c)
            .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
            .sum::<f64>()
            .sqrt()
            < 80.0
    }

    fn count(img: &RgbImage, c: [u8; 3]) -> usize {
        img.pixels().filter(|p| near(p.0, c)).count()
    }

    #[test]
    fn one_panel_per_class_in_rows_of_four() {
        let classes: Vec<ClassSpectra> = (0..5)
            .map(|k| ClassSpectra {
                name: format!("class {k}"),
                real_mean: bump(50, 10.0 + 5.0 * k as f32, 1.0),
                generated: (0..3)
                    .map(|g| bump(50, 11.0 + 5.0 * k as f32, 0.8 + 0.1 * g as f32))
                    .collect(),
            })
            .collect();
        let wavelengths: Vec<f32> = (0..50).map(|b| 400.0 + 10.0 * b as f32).collect();
        let img = class_spectra(&classes, Some(&wavelengths), "Spectra").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spectra.png");
        save_png(&path, &img).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(
            img.dimensions(),
            (4 * PANEL_WIDTH, HEADER + 2 * PANEL_HEIGHT)
        );
        assert!(count(&img, GENERATED) > 500, "generated spectra missing");
        // The fifth panel (second row, first column) has data; the sixth place stays empty.
        let in_area = |x0: u32, y0: u32, c: [u8; 3]| {
            (x0..x0 + PANEL_WIDTH)
                .flat_map(|x| (y0..y0 + PANEL_HEIGHT).map(move |y| (x, y)))
                .filter(|&(x, y)| near(img.get_pixel(x, y).0, c))
                .count()
        };
        assert!(in_area(0, HEADER + PANEL_HEIGHT, GENERATED) > 50);
        assert_eq!(in_area(PANEL_WIDTH, HEADER + PANEL_HEIGHT, GENERATED), 0);
    }

    #[test]
    fn reconstructions_and_samples() {
        let spectra = ReconstructionSpectra {
            real: vec![bump(30, 10.0, 1.0), bump(30, 20.0, 1.0)],
            reconstructed: vec![bump(30, 11.0, 0.9), bump(30, 19.0, 0.9)],
            samples: vec![bump(30, 15.0, 0.5), bump(30, 5.0, 0.7)],
        };
        let img = reconstruction_spectra(&spectra, None, "M1").unwrap();
        assert_eq!(img.dimensions(), (3 * PANEL_WIDTH, HEADER + PANEL_HEIGHT));
        assert!(count(&img, RECONSTRUCTED) > 200);
        assert!(count(&img, GENERATED) > 200);
    }

    #[test]
    fn bad_spectra_are_errors() {
        let ok = || ClassSpectra {
            name: "a".into(),
            real_mean: vec![0.1, 0.2, 0.3],
            generated: vec![vec![0.1, 0.2, 0.25]],
        };
        assert!(class_spectra(&[], None, "t").is_err(), "no classes");
        let mut short = ok();
        short.generated[0].pop();
        assert!(
            class_spectra(&[ok(), short], None, "t").is_err(),
            "a generated spectrum too short"
        );
        let mut nan = ok();
        nan.real_mean[1] = f32::NAN;
        assert!(class_spectra(&[nan], None, "t").is_err(), "NaN");
        assert!(
            class_spectra(&[ok()], Some(&[400.0, 500.0]), "t").is_err(),
            "wavelength count"
        );
        let empty = ClassSpectra {
            name: "a".into(),
            real_mean: vec![],
            generated: vec![],
        };
        assert!(class_spectra(&[empty], None, "t").is_err(), "no bands");
        let r = ReconstructionSpectra {
            real: vec![vec![0.1, 0.2]],
            reconstructed: vec![],
            samples: vec![],
        };
        assert!(
            reconstruction_spectra(&r, None, "t").is_err(),
            "missing reconstruction"
        );
        assert!(reconstruction_spectra(&ReconstructionSpectra::default(), None, "t").is_err());
    }
}
