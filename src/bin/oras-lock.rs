//! `oras-lock`: lock an apko configuration at release time.
use receipts::cli::oras_lock;

fn main() -> std::process::ExitCode {
    let args = oras_lock::Args::parse_plugin(std::env::args_os()); // drops `lock` of `oras lock`
    oras_lock::exit(oras_lock::run(args)) // prints the error chain, picks the documented status
}
