//! Errors of the library. Every data error names the file it came from, so that a user with
//! dozens of files knows which one to look at.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened, read or written.
    // The io error is part of the message rather than a `source`, so that error chains do not
    // print it twice.
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    /// A file was read but its content is not what it claims or what we need.
    #[error("{}: {message}", path.display())]
    BadData { path: PathBuf, message: String },
    /// A request that does not fit the data (a class with no pixels, a band mismatch, ...).
    #[error("{0}")]
    Invalid(String),
    /// Training diverged or produced non-finite numbers that recovery could not fix.
    #[error("training failed: {0}")]
    Training(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().to_path_buf(), error: source }
    }

    pub fn bad(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::BadData { path: path.as_ref().to_path_buf(), message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }
}
