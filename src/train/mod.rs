//! Training: the optimiser loop with early stopping and divergence recovery, checkpoints that let
//! a killed run resume to the same result, and the CSV log.

pub(crate) mod checkpoint;
pub(crate) mod config;
pub mod heap;
pub mod interrupt;
pub(crate) mod log;
pub mod m1_task;
pub mod m2_task;
pub(crate) mod noise;
pub mod trainer;

pub use config::{Keep, TrainConfig};
pub use noise::Noise;
pub use trainer::{train, Progress, Session, TrainOutcome, TrainTask};
