//! The library's fit / save / load path and the command line share one run folder: a model
//! fitted and saved from a program is what `hyperssl predict` applies.

mod common;
use common::{hyperssl, stderr, write_scene};
use hyperssl::data::readers::npy::read_npy;
use hyperssl::data::{LabelMap, Samples, Scene};
use hyperssl::prelude::*;
use std::path::Path;

fn read_scene(img: &str, lab: &str) -> Scene {
    let scene = Scene::from_array(&read_npy(Path::new(img)).unwrap(), Path::new(img)).unwrap();
    let labels = read_npy(Path::new(lab)).unwrap();
    let Samples::U8(values) = labels.samples else { panic!("u8 labels") };
    let values: Vec<u32> = values.into_iter().map(u32::from).collect();
    scene.with_labels(LabelMap::from_values(24, 24, &values).unwrap(), Path::new(lab)).unwrap()
}

#[test]
fn a_model_fitted_and_saved_by_a_program_is_applied_by_predict() {
    let dir = tempfile::tempdir().unwrap();
    let (img, lab) = write_scene(dir.path(), false);
    let scene = read_scene(&img, &lab);
    // The default model (spatial features, graph cut), small.
    let mut config = ExperimentConfig::default().on(Device::Cpu);
    (config.m2.hidden_classifier, config.m2.hidden_encoder, config.m2.hidden_decoder, config.m2.latent) = (vec![8], vec![8], vec![8], 2);
    config.spatial.components = 4;
    (config.labelled_batch, config.train.epochs, config.train.batch_size) = (Some(16), 3, 64);
    let model = fit_scene::<CpuTrain>(&scene, &config.checked().unwrap(), &Default::default()).unwrap();
    let labelled = scene.labels.as_ref().unwrap().n_labelled();
    assert_eq!(model.split.train.len(), labelled);

    let run = dir.path().join("model");
    model.save(&run).unwrap();
    let out = dir.path().join("predicted");
    let o = hyperssl(&["predict", "--run", run.to_str().unwrap(), &img, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (classes, probabilities) = model.predict_scene(&scene, &Default::default()).unwrap();
    let Samples::U32(cli_map) = read_npy(&out.join("class_map.npy")).unwrap().samples else { panic!("u32 class map") };
    assert_eq!(cli_map, model.label_values(&classes));
    // And the loaded model gives the same probabilities.
    let loaded = Trained::<Cpu>::load(&run, &Default::default()).unwrap();
    assert_eq!(loaded.predict_scene(&scene, &Default::default()).unwrap().1, probabilities);
}
