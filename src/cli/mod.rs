//! Command-line definitions and glue for the two binaries.
//!
//! Not for: library work. Each binary parses here, calls one library entry point and maps the
//! result to an exit status.

use std::process::ExitCode;

/// Prints an error with its chain of causes on stderr and returns the failure status.
pub fn report(error: &dyn std::error::Error) -> ExitCode {
    let mut message = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    eprintln!("{message}");
    ExitCode::from(1)
}
