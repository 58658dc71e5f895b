//! `cosign-rebuild`: build, attest and audit apko images.
use receipts::cli::cosign_rebuild;

fn main() -> std::process::ExitCode {
    let args = cosign_rebuild::Args::parse_plugin(std::env::args_os());
    cosign_rebuild::exit(cosign_rebuild::run(args)) // prints the error chain, picks the status
}
