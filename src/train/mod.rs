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

// Types that public signatures and fields use, nameable where their modules are private.
pub use checkpoint::LoopState;
pub use config::{Keep, TrainConfig};
pub use log::LogRow;
pub use noise::Noise;
pub use trainer::{train, Progress, Session, TrainOutcome, TrainTask};
