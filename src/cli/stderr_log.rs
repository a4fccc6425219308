//! Where the library's `log` records go on the command line: standard error, one line each,
//! warnings and errors marked as such (progress bars are the CLI's own). A warning already
//! printed by this command is not printed again: `experiment` draws each split for the model and
//! again for its labels-only control, and a user needs to read a split's warning once.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::collections::BTreeSet;
use std::sync::Mutex;

struct StderrLog {
    warned: Mutex<BTreeSet<String>>,
}

impl StderrLog {
    /// Whether `line` should be printed: anything but a warning printed before.
    fn first_time(&self, level: Level, line: &str) -> bool {
        if level != Level::Warn {
            return true;
        }
        self.warned.lock().unwrap_or_else(|e| e.into_inner()).insert(line.to_string())
    }
}

/// How a record reads on standard error.
fn line(level: Level, message: &str) -> String {
    match level {
        Level::Error => format!("error: {message}"),
        Level::Warn => format!("warning: {message}"),
        _ => message.to_string(),
    }
}

impl Log for StderrLog {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= Level::Info
    }

    fn log(&self, record: &Record) {
        // Records of dependencies stay out of a user's terminal.
        if self.enabled(record.metadata()) && record.target().starts_with("hyperssl") {
            let text = line(record.level(), &record.args().to_string());
            if self.first_time(record.level(), &text) {
                eprintln!("{text}");
            }
        }
    }

    fn flush(&self) {}
}

static LOGGER: StderrLog = StderrLog { warned: Mutex::new(BTreeSet::new()) };

/// Sends the library's records of level info and above to standard error.
pub fn install() {
    // A second installation (none is made) would only keep the first.
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(LevelFilter::Info);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_and_errors_are_marked_and_information_is_not() {
        assert_eq!(line(Level::Warn, "class 'Oats' gets no test pixels"), "warning: class 'Oats' gets no test pixels");
        assert_eq!(line(Level::Error, "x"), "error: x");
        assert_eq!(line(Level::Info, "kernels are kept in /tmp"), "kernels are kept in /tmp");
        let meta = |level| Metadata::builder().level(level).target("hyperssl::pipeline").build();
        let log = StderrLog { warned: Mutex::new(BTreeSet::new()) };
        assert!(log.enabled(&meta(Level::Warn)) && log.enabled(&meta(Level::Info)));
        assert!(!log.enabled(&meta(Level::Debug)));
    }

    #[test]
    fn a_warning_is_printed_once_and_other_lines_every_time() {
        let log = StderrLog { warned: Mutex::new(BTreeSet::new()) };
        assert!(log.first_time(Level::Warn, "warning: a"));
        assert!(!log.first_time(Level::Warn, "warning: a"));
        assert!(log.first_time(Level::Warn, "warning: b"));
        assert!(log.first_time(Level::Info, "epoch 1") && log.first_time(Level::Info, "epoch 1"));
    }
}
