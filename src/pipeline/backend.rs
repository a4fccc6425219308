//! The burn backends hyperssl is built with.

use serde::{Deserialize, Serialize};

use crate::train::Noise;

/// CPU: burn's pure-Rust Flex backend.
pub type Cpu = burn::backend::Flex;
pub type CpuTrain = burn::backend::Autodiff<Cpu>;

/// NVIDIA GPUs (feature `cuda`).
#[cfg(feature = "cuda")]
pub type Gpu = burn::backend::Cuda;
#[cfg(feature = "cuda")]
pub type GpuTrain = burn::backend::Autodiff<Gpu>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    #[default]
    Cpu,
    /// The first NVIDIA GPU (needs a build with `--features cuda`).
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
}
