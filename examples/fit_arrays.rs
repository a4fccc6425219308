//! Fits M2 on rows of spectra of which ten per class are labelled, predicts every row, saves the
//! model, loads it back and predicts the same: the library's API from outside the crate.
//! `cargo run --release --example fit_arrays`
use hyperssl::data::sampling::{split, SplitConfig};
use hyperssl::prelude::*;
use ndarray::Array2;

fn main() -> hyperssl::Result<()> {
    hyperssl::train::heap::keep_freed_blocks(); // before any thread starts: see its documentation
    let scene = hyperssl::data::embedded::indian_pines()?;
    let ground_truth = scene.labels.as_ref().expect("Indian Pines has ground truth");
    let truth = ground_truth.to_values();
    let x = Array2::from_shape_vec((scene.n_pixels(), scene.bands), scene.pixels.clone()).expect("pixels x bands");
    // Ten pixels of each class, drawn with a seed, keep their label; the other rows are 0.
    let draw = split(ground_truth, &SplitConfig::default())?;
    let mut labels = vec![0; truth.len()];
    for &i in &draw.train {
        labels[i] = truth[i];
    }
    let model = fit_array::<CpuTrain>(x.view(), &labels, &ExperimentConfig::rows().on(Device::Cpu).checked()?, &Default::default())?;
    let predicted = model.predict(x.view())?;
    let right = draw.test.iter().filter(|&&i| predicted[i] == truth[i]).count();
    println!("{} labelled rows; accuracy on the other {}: {:.1}%", draw.train.len(), draw.test.len(), 100.0 * right as f64 / draw.test.len() as f64);
    let dir = std::env::temp_dir().join(format!("hyperssl-fit-arrays-{}", std::process::id()));
    model.save(&dir)?;
    let loaded = Trained::<Cpu>::load(&dir, &Default::default())?;
    assert_eq!(loaded.predict(x.view())?, predicted);
    println!("saved to {}, loaded, and the same {} classes predicted", dir.display(), predicted.len());
    Ok(())
}
