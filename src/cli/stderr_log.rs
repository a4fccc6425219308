//! Where the library's `log` records go on the command line: standard error, one line each,
//! warnings and errors marked as such (progress bars are the CLI's own).

use log::{Level, LevelFilter, Log, Metadata, Record};

struct StderrLog;

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
            eprintln!("{}", line(record.level(), &record.args().to_string()));
        }
    }

    fn flush(&self) {}
}

static LOGGER: StderrLog = StderrLog;

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
        assert!(StderrLog.enabled(&meta(Level::Warn)) && StderrLog.enabled(&meta(Level::Info)));
        assert!(!StderrLog.enabled(&meta(Level::Debug)));
    }
}
