//! The `xent` command line: argument parsing, .npy I/O and printing. The numerics are
//! all in the library.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
