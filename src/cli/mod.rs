//! Command-line definitions and glue for the two binaries.
//!
//! Not for: library work. Each binary parses here, calls one library entry point and maps the
//! result to an exit status.

pub mod cosign_rebuild;
pub mod oras_lock;
pub mod registry;
pub mod resolve;

use std::process::ExitCode;

/// Prints an error with its chain of causes on stderr and returns the failure status.
pub fn report(error: &dyn std::error::Error) -> ExitCode {
    print_chain(error);
    ExitCode::from(1)
}

/// Prints `error: …` and then one `  caused by: …` line per cause on stderr.
pub fn print_chain(error: &dyn std::error::Error) {
    let mut message = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    eprintln!("{message}");
}
