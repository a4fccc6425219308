//! Writes that never leave a half-written file under the final name: the content goes to
//! `<name>.tmp`, is flushed to the disk, and the temporary file is renamed over the old one. A
//! write that fails (a full disk, a file-size limit, a killed process) leaves the old file as it
//! was; the temporary file is removed when the failure is seen. A fixed temporary name rather
//! than a random one: a run folder has one writer (`pipeline::run_lock`), and a stray `.tmp`
//! says which write was cut short.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// `a/b/name.ext` -> `a/b/name.ext.tmp`.
fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Writes `path` with what `fill` writes, all or nothing.
pub fn write_with(path: &Path, fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>) -> Result<()> {
    let tmp = tmp_path(path);
    let written = File::create(&tmp).and_then(|file| {
        let mut w = BufWriter::new(file);
        fill(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()
    });
    let renamed = match written {
        Ok(()) => std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)),
        Err(e) => Err(Error::io(&tmp, e)),
    };
    if renamed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    renamed
}

/// Writes `bytes` to `path`, all or nothing.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("scores.json");
/// hyperssl::atomic::write_json(&path, &[0.5, 0.25]).unwrap();
/// let back: Vec<f64> = hyperssl::atomic::read_json(&path).unwrap();
/// assert_eq!(back, [0.5, 0.25]);
/// ```
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |w| w.write_all(bytes))
}

pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::bad(path, e.to_string()))?;
    write(path, text.as_bytes())
}

pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::bad(path, format!("not a valid file of this kind: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write(&p, b"one").unwrap();
        write(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_removes_its_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("model.bin");
        write(&p, b"good").unwrap();
        let err = write_with(&p, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "no space left on device"))
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("model.bin.tmp") && err.contains("no space left"), "{err}");
        assert_eq!(std::fs::read(&p).unwrap(), b"good");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
