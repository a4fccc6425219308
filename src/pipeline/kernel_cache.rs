//! Where compiled GPU kernels are kept between runs.
//!
//! burn's CUDA backend compiles each kernel the first time a process launches it: on an H200,
//! about 15 s before M1's first epoch and 28 s before M2's. cubecl can keep the compiled PTX on
//! disk, keyed by kernel, but does not by default. hyperssl switches that on, in a folder per GPU
//! architecture (PTX compiled for one does not load on an older one), so that every run after the
//! first on a machine starts at once. `HYPERSSL_KERNEL_CACHE=off` switches it off, a path moves
//! it, and a `cubecl.toml` that sets `[compilation] cache` keeps cubecl's own choice.

use std::ffi::OsString;
use std::path::PathBuf;

/// The environment variable that moves the cache or (`off`) switches it off.
pub const VARIABLE: &str = "HYPERSSL_KERNEL_CACHE";

/// The folder for kernels compiled for compute capability `arch` (90 for an H100 or H200):
/// `$HYPERSSL_KERNEL_CACHE`, else `$XDG_CACHE_HOME/hyperssl/kernels`, else
/// `$HOME/.cache/hyperssl/kernels`, each with a `sm_<arch>` folder inside. None when switched off
/// or when there is nowhere to put it.
pub fn folder(setting: Option<OsString>, xdg_cache: Option<OsString>, home: Option<OsString>, arch: u32) -> Option<PathBuf> {
    let non_empty = |v: Option<OsString>| v.filter(|v| !v.is_empty());
    let root = match non_empty(setting) {
        Some(v) if ["off", "0", "false", "no"].iter().any(|off| v.eq_ignore_ascii_case(off)) => return None,
        Some(v) => PathBuf::from(v),
        None => match (non_empty(xdg_cache), non_empty(home)) {
            (Some(xdg), _) => PathBuf::from(xdg).join("hyperssl").join("kernels"),
            (None, Some(home)) => PathBuf::from(home).join(".cache").join("hyperssl").join("kernels"),
            (None, None) => return None,
        },
    };
    Some(root.join(format!("sm_{arch}")))
}

/// Turns the cache on for this process, before its first use of the GPU. Returns the folder, or
/// None when it is off, when cubecl's configuration was already read or sets its own cache, or
/// when the GPU cannot be asked its architecture (the GPU probe that follows says why).
#[cfg(feature = "cuda")]
pub fn enable() -> Option<PathBuf> {
    use cubecl_runtime::config::{cache::CacheConfig, CubeClRuntimeConfig, RuntimeConfig};
    use std::sync::Arc;

    let mut slot = CubeClRuntimeConfig::storage().lock();
    if slot.is_some() {
        return None;
    }
    // What cubecl would have read itself: a cubecl.toml in this folder or above, then its
    // environment variables.
    let mut config = CubeClRuntimeConfig::from_current_dir().override_from_env();
    let dir = if config.compilation.cache.is_some() {
        None
    } else {
        let var = |name: &str| std::env::var_os(name);
        compute_capability()
            .and_then(|arch| folder(var(VARIABLE), var("XDG_CACHE_HOME"), var("HOME"), arch))
            .filter(|dir| std::fs::create_dir_all(dir).is_ok())
    };
    if let Some(dir) = &dir {
        config.compilation.cache = Some(CacheConfig::File(dir.clone()));
    }
    *slot = Some(Arc::new(config));
    dir
}

/// The first GPU's compute capability as major * 10 + minor, asked of the driver directly
/// (burn's backend reads the kernel cache setting when it starts, so it cannot be asked first).
#[cfg(feature = "cuda")]
fn compute_capability() -> Option<u32> {
    use cudarc::driver::{result, sys::CUdevice_attribute as Attribute};
    crate::error::quietly(|| {
        result::init().ok()?;
        let device = result::device::get(0).ok()?;
        // SAFETY: `device` is a valid handle from `device::get`; the attributes are plain integers.
        let (major, minor) = unsafe {
            (
                result::device::get_attribute(device, Attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR).ok()?,
                result::device::get_attribute(device, Attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR).ok()?,
            )
        };
        u32::try_from(major * 10 + minor).ok()
    })
    .ok()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> Option<OsString> {
        Some(s.into())
    }

    #[test]
    fn the_folder_follows_the_setting_then_xdg_then_home_with_one_folder_per_architecture() {
        assert_eq!(folder(None, os("/x"), os("/h"), 90), Some(PathBuf::from("/x/hyperssl/kernels/sm_90")));
        assert_eq!(folder(None, None, os("/h"), 80), Some(PathBuf::from("/h/.cache/hyperssl/kernels/sm_80")));
        assert_eq!(folder(None, os(""), os("/h"), 90), Some(PathBuf::from("/h/.cache/hyperssl/kernels/sm_90")));
        assert_eq!(folder(os("/k"), os("/x"), os("/h"), 90), Some(PathBuf::from("/k/sm_90")));
        assert_eq!(folder(None, None, None, 90), None);
        for off in ["off", "OFF", "0", "false", "no"] {
            assert_eq!(folder(os(off), os("/x"), os("/h"), 90), None, "{off}");
        }
    }
}
