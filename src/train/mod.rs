//! Training loop, checkpoints, log.
