//! Command-line definitions and glue for the two binaries.
//!
//! Not for: library work. Each binary parses here, calls one library entry point and maps the
//! result to an exit status.

pub mod assets;
pub mod cosign_rebuild;
pub mod hint;
pub mod image;
pub mod oras_lock;
pub mod plugin;
pub mod progress;
pub mod registry;
pub mod resolve;

use std::ffi::OsString;
use std::process::ExitCode;

/// Prints an error with its chain of causes on stderr and returns the failure status.
pub fn report(error: &(dyn std::error::Error + 'static)) -> ExitCode {
    print_chain(error);
    ExitCode::from(1)
}

/// Prints `error: …`, one `  caused by: …` line per cause, and a `hint: …` line saying what to
/// do when one is known ([`hint::for_error`]), on stderr.
pub fn print_chain(error: &(dyn std::error::Error + 'static)) {
    eprintln!("{}", render_chain(error));
}

/// The text [`print_chain`] prints, without the final newline.
pub fn render_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    if let Some(hint) = hint::for_error(error) {
        message.push_str(&format!("\nhint: {hint}"));
    }
    message
}

/// Moves `-q`/`--quiet` given before a subcommand word to just after it.
///
/// Both binaries take arguments without a subcommand (their default command), so clap refuses
/// any option before a subcommand (`args_conflicts_with_subcommands`), global ones included:
/// `cosign-rebuild -q build …` would be an error without this.
pub fn quiet_after_subcommand(args: Vec<OsString>, command: &clap::Command) -> Vec<OsString> {
    let is_quiet = |arg: &OsString| arg == "-q" || arg == "--quiet";
    let leading = args.iter().skip(1).take_while(|arg| is_quiet(arg)).count();
    let is_subcommand = args.get(1 + leading).is_some_and(|word| {
        command
            .get_subcommands()
            .any(|sub| sub.get_name() == word || sub.get_all_aliases().any(|alias| alias == word))
    });
    if leading == 0 || !is_subcommand {
        return args;
    }
    let mut moved = Vec::with_capacity(args.len());
    moved.extend(args.first().cloned());
    moved.push(args[1 + leading].clone());
    moved.extend(args[1..1 + leading].iter().cloned());
    moved.extend(args[2 + leading..].iter().cloned());
    moved
}
