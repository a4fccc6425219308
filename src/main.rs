//! The `hyperssl` command: a thin layer over the library.

mod cli;

fn main() -> std::process::ExitCode {
    hyperssl::train::heap::keep_freed_blocks();
    // Past a file-size limit (`ulimit -f`) the kernel's default is to kill the process mid-write;
    // ignored, the write fails with "File too large", which is reported like a full disk and
    // leaves the last good files in place.
    #[cfg(unix)]
    // SAFETY: sets a signal's disposition to "ignore" before any thread starts.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    cli::main()
}
