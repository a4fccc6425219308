//! End-to-end runs that tie the layers together: read -> split -> scale -> train -> classify ->
//! evaluate -> write the run folder. The CLI and the benchmarks call these.

pub mod backend;
pub mod baseline;
pub mod experiment;
pub mod config;
pub mod corpus_baseline;
pub mod corpus_predict;
pub mod corpus_run;
pub(crate) mod features;
pub mod fit;
// Its cache serves the CUDA build alone.
#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
pub(crate) mod kernel_cache;
pub mod m1_run;
pub mod m2_run;
pub mod mnist;
pub(crate) mod outcome;
pub mod outputs;
pub(crate) mod predictor;
pub mod prepared;
pub mod run_dir;
pub mod run_lock;
pub mod scene_run;
pub mod trained;

pub use config::{ExperimentConfig, ModelKind};
pub use outcome::RunOutcome;
