//! One writer per run folder. Every command that writes a folder holds an exclusive lock on
//! `<folder>/run.lock` while it runs; the file names the holder's process id for the message a
//! second writer gets. The lock is the operating system's (flock on Unix, LockFileEx on Windows),
//! so it goes when its holder exits, killed or not: a lock file left by a dead process is taken
//! over without anyone having to delete it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Held while a command writes a folder; dropping it releases the folder.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    // Holding the open file holds the lock.
    _file: File,
}

impl RunLock {
    pub const FILE_NAME: &'static str = "run.lock";

    /// Creates `folder` if needed and locks it, or says which process holds it.
    ///
    /// ```
    /// use hyperssl::pipeline::run_lock::RunLock;
    /// let dir = tempfile::tempdir().unwrap();
    /// let held = RunLock::acquire(dir.path()).unwrap();
    /// let refused = RunLock::acquire(dir.path()).unwrap_err().to_string();
    /// assert!(refused.contains("is being written by hyperssl process"));
    /// drop(held);
    /// RunLock::acquire(dir.path()).unwrap();
    /// ```
    pub fn acquire(folder: &Path) -> Result<Self> {
        std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
        let path = folder.join(Self::FILE_NAME);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                // The holder writes its id right after locking; an empty file means it is just starting.
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() { "another process".to_string() } else { holder.to_string() };
                return Err(Error::invalid(format!(
                    "{} is being written by {holder}; wait for it to finish or choose another folder",
                    folder.display()
                )));
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        let me = format!("hyperssl process {}", std::process::id());
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| file.write_all(me.as_bytes()))
            .map_err(|e| Error::io(&path, e))?;
        Ok(RunLock { path, _file: file })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holders_id_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path()).unwrap();
        let err = RunLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&format!("hyperssl process {}", std::process::id())), "{err}");
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
        drop(first);
        RunLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn a_lock_file_left_by_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        // What a killed writer leaves: the file with its id, but no lock held.
        std::fs::write(dir.path().join(RunLock::FILE_NAME), "hyperssl process 4194303").unwrap();
        let lock = RunLock::acquire(dir.path()).unwrap();
        let text = std::fs::read_to_string(lock.path()).unwrap();
        assert_eq!(text, format!("hyperssl process {}", std::process::id()));
    }

    #[test]
    fn the_folder_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("a/b");
        RunLock::acquire(&folder).unwrap();
        assert!(folder.join(RunLock::FILE_NAME).exists());
    }
}
