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
    /// Training stopped because its [`crate::train::interrupt::StopToken`] was stopped.
    #[error("training interrupted at epoch {epoch}")]
    Interrupted { epoch: usize },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().to_path_buf(), error: source }
    }

    /// `message` may quote the file; it is kept to printable text on one line.
    pub fn bad(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::BadData { path: path.as_ref().to_path_buf(), message: printable(&message.into()) }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(printable(&message.into()))
    }
}

/// `text` as one line of printable characters, at most `MAX_MESSAGE` of them: control characters
/// (line breaks, escapes, bells) become escapes such as `\n` and `\u{1b}`, so that bytes quoted
/// from a damaged file cannot break or recolour a terminal.
///
/// ```
/// assert_eq!(hyperssl::error::printable("bad header: \u{1b}[31m\n"), "bad header: \\u{1b}[31m\\n");
/// ```
pub fn printable(text: &str) -> String {
    const MAX_MESSAGE: usize = 1000;
    let mut out = String::with_capacity(text.len().min(MAX_MESSAGE));
    for (i, c) in text.chars().enumerate() {
        if i == MAX_MESSAGE {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs `f`, turning a panic into its message without the panic being printed: for code outside
/// this crate that panics on bad input (burn's CUDA backend when no driver or GPU is there, the
/// HDF5 parser on some malformed files, burn's record loading on parameters of other shapes).
/// The panic hook is the process's, so it is swapped only for the duration of `f`.
pub fn quietly<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> std::result::Result<T, String> {
    use std::sync::{Arc, Mutex};
    let first: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = first.clone();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let mut first = seen.lock().unwrap_or_else(|e| e.into_inner());
        if first.is_none() {
            let msg = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            *first = Some(msg);
        }
    }));
    let result = std::panic::catch_unwind(f);
    std::panic::set_hook(hook);
    result.map_err(|_| first.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_escapes_control_characters_and_is_cut() {
        assert_eq!(printable("plain text, 1.5 µm"), "plain text, 1.5 µm");
        assert_eq!(printable("a\nb\u{7}c\u{1b}[31m"), "a\\nb\\u{7}c\\u{1b}[31m");
        let long = "x".repeat(5000);
        assert_eq!(printable(&long), format!("{}...", "x".repeat(1000)));
        let e = Error::bad("f.npy", "header is not text: {'descr'\n\u{0}");
        assert_eq!(e.to_string(), "f.npy: header is not text: {'descr'\\n\\u{0}");
        assert_eq!(e.to_string().lines().count(), 1);
    }
}
