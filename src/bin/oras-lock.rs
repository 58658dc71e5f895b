//! `oras-lock`: lock an apko configuration at release time.
fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
