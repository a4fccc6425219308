//! The `hyperssl` command: a thin layer over the library.

mod cli;

fn main() -> std::process::ExitCode {
    hyperssl::train::heap::keep_freed_blocks();
    cli::main()
}
