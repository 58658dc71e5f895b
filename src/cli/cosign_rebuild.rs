//! `cosign-rebuild`: argument definitions and the glue between them and the library.
//!
//! One file per command below this module; each defines its `clap::Args`, its own error type
//! and a `run` that calls one library entry point and prints. This file holds the command
//! list, plugin-word handling and the mapping of outcomes to exit statuses.
//!
//! Not for: building ([`crate::build`]), attesting or verifying ([`crate::attest`]), the audit
//! ([`crate::rebuild`]).

pub mod attest;
pub mod audit;
pub mod build;
pub mod catalog;
pub mod diff;
pub mod download;
pub mod gc;
pub mod initialize;
pub mod keys;
pub mod verify;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

const EXIT_STATUS: &str = "\
Exit status:
  0  success; for an audit: the rebuild reproduced the image (identical or equivalent)
  1  error, including a failed verification
  2  invalid arguments
  3  audit or diff: rebuilt, but different

Called as `cosign-rebuild rebuild …` (the way a plugin shim calls it), `rebuild` is the audit.
`cosign-rebuild shim bash` prints a shell function that makes `cosign rebuild …` run
cosign-rebuild and every other `cosign …` the real cosign.";

/// Build apko images from a locked configuration, attest them as cosign does, and audit
/// published images: verify the image-configuration attestation, rebuild from its predicate and
/// prove the digest is the same, or show why it is not.
#[derive(Debug, Parser)]
#[command(
    name = "cosign-rebuild",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_long_help = EXIT_STATUS
)]
pub struct Args {
    /// A command; without one, IMAGE is audited.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Audit options (the default command).
    #[command(flatten)]
    pub audit: audit::AuditArgs,
    /// Print no progress on stderr (errors and warnings still are).
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
}

/// `cosign-rebuild`'s commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit IMAGE (the default command, spelled out for shims: `cosign rebuild IMAGE`).
    #[command(after_long_help = EXIT_STATUS)]
    Rebuild(audit::AuditArgs),
    /// Build an image from an apko configuration (locked, or with --lockfile) into an OCI
    /// layout or a registry; prints the image index digest.
    Build(Box<build::BuildArgs>),
    /// Sign the locked configuration as an in-toto attestation and attach it to IMAGE, as
    /// `cosign attest` does.
    Attest(attest::AttestArgs),
    /// Write a cosign key pair (`cosign.key`, `cosign.pub`), as `cosign generate-key-pair`.
    ///
    /// The private key is encrypted with the password in the COSIGN_PASSWORD environment
    /// variable (as cosign reads it; empty: no password), or typed twice at a terminal when it
    /// is unset.
    GenerateKeyPair(keys::GenerateKeyPairArgs),
    /// Initialize the Sigstore TUF root (mirror, initial root, cache), as `cosign initialize`.
    Initialize(initialize::InitializeArgs),
    /// Print IMAGE's attestations, as `cosign download attestation`.
    Download(download::DownloadArgs),
    /// Verify IMAGE's attestations, as `cosign verify-attestation`.
    Verify(verify::VerifyArgs),
    /// Verify one Sigstore bundle (the sigstore-conformance CLI protocol).
    #[command(hide = true)]
    VerifyBundle(verify::VerifyBundleArgs),
    /// Compare two images: manifests, configs and layer file trees.
    #[command(after_long_help = EXIT_STATUS)]
    Diff(diff::DiffArgs),
    /// Audit a whole catalogue of images (sharded, resumable) and merge the reports.
    Catalog(catalog::CatalogArgs),
    /// Remove the blobs of an OCI layout (`oci:DIR`) that nothing its index.json lists reaches
    /// (tags, attestations and other referrers are kept) and scratch files of killed runs;
    /// prints what it removed. `--dry-run` only reports.
    Gc(gc::GcArgs),
    /// Print a shell function that makes `cosign rebuild …` run cosign-rebuild (and every
    /// other `cosign …` the real cosign): `eval "$(cosign-rebuild shim bash)"`.
    Shim(super::plugin::ShimArgs),
    /// Print docker-style CLI plugin metadata as JSON (for plugin managers).
    #[command(hide = true)]
    PluginMetadata,
    /// Write shell completions and man pages for both binaries under DIR
    /// (scripts/generate-assets).
    #[command(hide = true)]
    GenerateAssets(super::assets::GenerateArgs),
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `build` failed.
    #[error(transparent)]
    Build(#[from] build::Error),
    /// `attest` failed.
    #[error(transparent)]
    Attest(#[from] attest::Error),
    /// `generate-key-pair` failed.
    #[error(transparent)]
    Keys(#[from] keys::Error),
    /// `initialize` failed.
    #[error(transparent)]
    Initialize(#[from] initialize::Error),
    /// `download` failed.
    #[error(transparent)]
    Download(#[from] download::Error),
    /// `verify` or `verify-bundle` failed.
    #[error(transparent)]
    Verify(#[from] verify::Error),
    /// The audit failed.
    #[error(transparent)]
    Audit(#[from] audit::Error),
    /// `diff` failed.
    #[error(transparent)]
    Diff(#[from] diff::Error),
    /// `catalog` failed.
    #[error(transparent)]
    Catalog(#[from] catalog::Error),
    /// `gc` failed.
    #[error(transparent)]
    Gc(#[from] gc::Error),
    /// `shim` or `plugin-metadata` failed.
    #[error(transparent)]
    Plugin(#[from] super::plugin::Error),
    /// `generate-assets` failed.
    #[error(transparent)]
    Assets(#[from] super::assets::Error),
}

/// How a successful run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The command did its work (an audit: the image was reproduced).
    Done,
    /// An audit or diff: the images differ.
    Different,
}

impl Args {
    /// Parses the command line; a leading `rebuild` (plugin dispatch, `cosign rebuild …`) names
    /// the audit. Invalid arguments print clap's message and exit with status 2.
    pub fn parse_plugin<I: IntoIterator<Item = OsString>>(args: I) -> Args {
        let args = super::quiet_after_subcommand(args.into_iter().collect(), &Args::command());
        if args.len() <= 1 {
            // Bare `cosign-rebuild`: the commands, not a complaint about a missing IMAGE.
            eprintln!("{}", Args::command().render_help());
            std::process::exit(2);
        }
        let parsed = Args::parse_from(args);
        if let Some(message) = parsed.usage_error() {
            Args::command()
                .error(clap::error::ErrorKind::ArgumentConflict, message)
                .exit();
        }
        parsed
    }

    /// A command line clap accepts but that cannot be right (exit 2, before any work).
    fn usage_error(&self) -> Option<String> {
        match &self.command {
            None => audit::usage_error(&self.audit),
            Some(Command::Rebuild(audit)) => audit::usage_error(audit),
            Some(Command::Build(build)) => build::usage_error(build),
            _ => None,
        }
    }
}

/// Runs the command. Scratch files are removed on SIGINT, SIGTERM and SIGHUP (the process then
/// exits with 128 + the signal, 130 for Ctrl-C); without the handler they would outlive it.
pub fn run(args: Args) -> Result<Outcome, Error> {
    if let Err(error) = crate::scratch::install_signal_cleanup() {
        eprintln!("warning: no clean-up on interrupt: {error}");
    }
    match args.command {
        Some(Command::Rebuild(audit)) => Ok(audit::run(&audit, args.quiet)?),
        Some(Command::Build(build)) => Ok(build::run(&build, args.quiet)?),
        Some(Command::Attest(attest)) => Ok(attest::run(&attest, args.quiet)?),
        Some(Command::GenerateKeyPair(keys)) => Ok(keys::run(&keys, args.quiet)?),
        Some(Command::Initialize(initialize)) => Ok(initialize::run(&initialize)?),
        Some(Command::Download(download)) => Ok(download::run(&download)?),
        Some(Command::Verify(verify)) => Ok(verify::run(&verify, args.quiet)?),
        Some(Command::VerifyBundle(bundle)) => Ok(verify::run_bundle(&bundle)?),
        Some(Command::Diff(diff)) => Ok(diff::run(&diff, args.quiet)?),
        Some(Command::Catalog(command)) => Ok(catalog::run(&command, args.quiet)?),
        Some(Command::Gc(gc)) => Ok(gc::run(&gc, args.quiet)?),
        Some(Command::Shim(shim)) => {
            super::plugin::print_shim(&super::plugin::COSIGN_REBUILD, &shim)?;
            Ok(Outcome::Done)
        }
        Some(Command::PluginMetadata) => {
            super::plugin::print_metadata(&super::plugin::COSIGN_REBUILD)?;
            Ok(Outcome::Done)
        }
        Some(Command::GenerateAssets(assets)) => {
            super::assets::run(&assets)?;
            Ok(Outcome::Done)
        }
        None => Ok(audit::run(&args.audit, args.quiet)?),
    }
}

/// Prints an error chain and maps the outcome to the exit status in the long help.
pub fn exit(result: Result<Outcome, Error>) -> ExitCode {
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Different) => ExitCode::from(3),
        Err(error) => super::report(&error),
    }
}
