//! The burn backends hyperssl is built with.

use serde::{Deserialize, Serialize};

use crate::pipeline::config::ExperimentConfig;
use crate::train::Noise;

/// CPU: burn's pure-Rust Flex backend.
pub type Cpu = burn::backend::Flex;
pub type CpuTrain = burn::backend::Autodiff<Cpu>;

/// NVIDIA GPUs (feature `cuda`).
#[cfg(feature = "cuda")]
pub type Gpu = burn::backend::Cuda;
#[cfg(feature = "cuda")]
pub type GpuTrain = burn::backend::Autodiff<Gpu>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Device {
    #[default]
    Cpu,
    /// The first NVIDIA GPU (needs a build with `--features cuda`); compiled kernels are kept in
    /// ~/.cache/hyperssl/kernels (HYPERSSL_KERNEL_CACHE=DIR moves them, =off stops it).
    Cuda,
}

impl Device {
    /// Fails when the binary was built without the backend asked for.
    pub fn check_available(self) -> crate::Result<()> {
        if self == Device::Cuda && !cfg!(feature = "cuda") {
            return Err(crate::Error::invalid(
                "this hyperssl was built without GPU support: rebuild with `cargo build --release --features cuda`",
            ));
        }
        #[cfg(feature = "cuda")]
        if self == Device::Cuda {
            if let Some(dir) = crate::pipeline::kernel_cache::enable() {
                log::info!("compiled GPU kernels are kept in {} (the first run compiles them)", dir.display());
            }
            probe_gpu()?;
        }
        Ok(())
    }

    /// Where training draws its noise on this device: on a GPU, drawing it there saves a host
    /// draw and a copy every step; on the CPU the host stream is as fast and reproducible
    /// across backends.
    pub fn noise(self) -> Noise {
        match self {
            Device::Cpu => Noise::Host,
            Device::Cuda => Noise::Device,
        }
    }

    /// The fewest labelled rows an M2 step takes on this device unless `--labelled-batch` says
    /// otherwise (a smaller share is repeated; see `M2Task::labelled_repeats`). On the GPU,
    /// burn's CUDA backend (0.21) hit an illegal memory access about one epoch into M2 runs that
    /// took one labelled row a step (MNIST with 100 labels, M2 and M1+M2 alike); with ten rows,
    /// two epochs of M1+M2 ran cleanly.
    pub fn min_labelled_batch(self) -> usize {
        match self {
            Device::Cpu => 1,
            Device::Cuda => 10,
        }
    }

    /// Whether M2 runs its many-row layers in row chunks here: faster on the GPU, slower on the
    /// CPU (see `models::row_chunks`).
    pub fn row_chunks(self) -> bool {
        self == Device::Cuda
    }

    /// Parts a training step is split into (see `TrainConfig::step_parts`): two on the CPU,
    /// whose matrix products on two threads alone scale poorly at these sizes; one on the GPU,
    /// which is already kept busy by one.
    pub fn step_parts(self) -> usize {
        match self {
            Device::Cpu => 2,
            Device::Cuda => 1,
        }
    }

    /// Sets the parts of an experiment's configuration that follow from the device.
    pub fn configure(self, cfg: &mut ExperimentConfig) {
        cfg.train.noise = self.noise();
        cfg.train.step_parts = self.step_parts();
        cfg.min_labelled_batch = self.min_labelled_batch();
        cfg.row_chunks = self.row_chunks();
    }
}

/// Runs one tiny operation on the GPU, so that a missing driver or GPU is an error that says what
/// to do, before any work starts.
#[cfg(feature = "cuda")]
fn probe_gpu() -> crate::Result<()> {
    crate::error::quietly(|| burn::tensor::Tensor::<Gpu, 1>::zeros([1], &Default::default()).into_data())
        .map(|_| ())
        .map_err(|why| {
            // cudarc's message lists every library name it tried: keep its first sentence.
            let why = why.split(" - searched").next().unwrap_or("").trim().to_string();
            crate::Error::invalid(format!(
                "--device cuda: no usable NVIDIA GPU ({why}); the CUDA driver (libcuda.so) and the \
                 CUDA runtime libraries must be on LD_LIBRARY_PATH"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_keeps_the_reference_settings_and_the_gpu_its_own() {
        let mut cfg = ExperimentConfig::default();
        Device::Cpu.configure(&mut cfg);
        assert_eq!((cfg.train.noise, cfg.min_labelled_batch, cfg.row_chunks, cfg.train.step_parts), (Noise::Host, 1, false, 2));
        Device::Cuda.configure(&mut cfg);
        assert_eq!((cfg.train.noise, cfg.min_labelled_batch, cfg.row_chunks, cfg.train.step_parts), (Noise::Device, 10, true, 1));
    }
}
