//! A program outside the crate can name and set every part of a run's configuration, and the
//! settings it writes are the settings read back.

use hyperssl::data::corpus::CorpusConfig;
use hyperssl::data::sampling::{SplitConfig, TrainSize};
use hyperssl::data::scaling::ScalingConfig;
use hyperssl::data::spatial::SpatialConfig;
use hyperssl::eval::propagation::PropagationConfig;
use hyperssl::eval::{ClassifierKind, MrfConfig};
use hyperssl::models::{M1Config, M2Config};
use hyperssl::pipeline::config::Input;
use hyperssl::pipeline::{ExperimentConfig, ModelKind};
use hyperssl::train::TrainConfig;

#[test]
fn every_part_of_a_configuration_is_set_from_outside_and_survives_its_file() {
    let cfg = ExperimentConfig {
        model: ModelKind::M2,
        input: Input::Spatial,
        classifier: ClassifierKind::LogReg,
        spatial: SpatialConfig { components: 12, box_windows: vec![3, 7], ..Default::default() },
        mrf: MrfConfig { weight: 1.5, sweeps: 2 },
        propagation: PropagationConfig { neighbours: 6, ..Default::default() },
        m1: M1Config { latent: 8, ..Default::default() },
        m2: M2Config { latent: 4, ..Default::default() },
        train: TrainConfig { epochs: 3, batch_size: 64, ..Default::default() },
        split: SplitConfig { train: TrainSize::PerClass(7), seed: 11, ..Default::default() },
        scaling: ScalingConfig::default(),
        corpus: CorpusConfig { block_rows: 32, unlabelled_per_epoch: 0, ..Default::default() },
        ..Default::default()
    };
    cfg.check().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, cfg.to_toml()).unwrap();
    let back = ExperimentConfig::from_toml_file(&path).unwrap();
    assert_eq!(back, cfg);
    assert_ne!(back, ExperimentConfig::default());
}
