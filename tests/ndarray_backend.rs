//! burn's ndarray backend, enabled by the `ndarray-backend` feature, runs the library's models:
//! the same default model fitted on it and on Flex from the same seed classifies the scene
//! alike (the backends differ only in floating-point rounding: 1.2e-7 at most here), and a
//! model fitted on one backend, saved, predicts the same probabilities when loaded on the other.
//! `scripts/test.sh` runs it (`cargo test --release --features ndarray-backend`).
#![cfg(feature = "ndarray-backend")]

mod common;
use burn::backend::{Autodiff, NdArray};
use common::write_scene;
use hyperssl::data::readers::npy::read_npy;
use hyperssl::data::{LabelMap, Samples, Scene};
use hyperssl::prelude::*;
use std::path::Path;

fn scene(dir: &Path) -> Scene {
    let (img, lab) = write_scene(dir, false);
    let scene = Scene::from_array(&read_npy(Path::new(&img)).unwrap(), Path::new(&img)).unwrap();
    let Samples::U8(values) = read_npy(Path::new(&lab)).unwrap().samples else { panic!("u8 labels") };
    let values: Vec<u32> = values.into_iter().map(u32::from).collect();
    scene.with_labels(LabelMap::from_values(24, 24, &values).unwrap(), Path::new(&lab)).unwrap()
}

fn small_default() -> ExperimentConfig {
    let mut config = ExperimentConfig::default().on(Device::Cpu);
    (config.m2.hidden_classifier, config.m2.hidden_encoder, config.m2.hidden_decoder, config.m2.latent) = (vec![8], vec![8], vec![8], 2);
    config.spatial.components = 4;
    (config.labelled_batch, config.train.epochs, config.train.batch_size) = (Some(16), 3, 64);
    config
}

#[test]
fn the_ndarray_backend_fits_and_predicts_as_flex_does() {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene(dir.path());
    let config = small_default().checked().unwrap();
    let on_flex = fit_scene::<CpuTrain>(&scene, &config, &Default::default()).unwrap();
    let on_ndarray = fit_scene::<Autodiff<NdArray>>(&scene, &config, &Default::default()).unwrap();
    let (flex_map, flex_p) = on_flex.predict_scene(&scene, &Default::default()).unwrap();
    let (nd_map, nd_p) = on_ndarray.predict_scene(&scene, &Default::default()).unwrap();
    assert_eq!(flex_map, nd_map);
    let worst = flex_p.iter().zip(&nd_p).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "probabilities differ by up to {worst}");

    // Saved from Flex, loaded on ndarray: the same network, so the same probabilities up to
    // rounding.
    let run = dir.path().join("flex-model");
    on_flex.save(&run).unwrap();
    let loaded = Trained::<NdArray>::load(&run, &Default::default()).unwrap();
    let (_, loaded_p) = loaded.predict_scene(&scene, &Default::default()).unwrap();
    let worst = flex_p.iter().zip(&loaded_p).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "loaded on ndarray, probabilities differ by up to {worst}");
}
