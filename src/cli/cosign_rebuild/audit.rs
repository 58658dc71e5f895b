//! `cosign-rebuild IMAGE` (also `cosign-rebuild rebuild IMAGE`): the audit's arguments, the
//! verification policy and trusted material they name, one call to [`rebuild::audit()`], and
//! the report on stdout.
//!
//! Exit 0 when reproduced (identical or equivalent), 3 when rebuilt but different, 1 on any
//! error (a failed verification included: nothing is built from an unverified predicate unless
//! `--insecure-skip-attestation-verification`, which says so on stderr).
//!
//! Not for: the audit itself ([`crate::rebuild::audit`](mod@crate::rebuild::audit)),
//! verification ([`crate::attest`]), the comparison and report ([`crate::rebuild`]).

use std::path::PathBuf;

use super::Outcome;
use super::diff::Output;
use super::verify::{self, SignerArgs};
use crate::apk::repository::{self, Network};
use crate::attest::verify::{self as attest_verify, Policy, TrustedRoot};
use crate::cli::progress::Progress;
use crate::cli::registry::RegistryArgs;
use crate::oci::Reference;
use crate::rebuild::audit::{self as library, Audited, Event, Settings, Target, Verification};
use crate::rebuild::{self};

/// The predicate type an audit rebuilds from.
pub const PREDICATE_TYPE: &str = library::PREDICATE_TYPE;
/// Options of the audit.
#[derive(Debug, Clone, clap::Args)]
pub struct AuditArgs {
    /// The image to audit: `HOST/REPO[:TAG][@DIGEST]` or `oci:DIR[:TAG|@DIGEST]`.
    #[arg(value_name = "IMAGE", required = true)]
    pub image: Option<String>,
    /// Rebuild from the attested predicate WITHOUT checking any signature, key or identity
    /// (insecure: the result proves nothing about who made the image).
    #[arg(long = "insecure-skip-attestation-verification")]
    pub insecure_skip_verify: bool,
    /// The former name of --insecure-skip-attestation-verification, refused: cosign's
    /// --insecure-skip-verify skips far less.
    #[arg(long = "insecure-skip-verify", hide = true)]
    pub old_insecure_skip_verify: bool,
    /// Who must have signed the attestation (boxed: the flag set is large).
    #[command(flatten)]
    pub signer: Box<SignerArgs>,
    /// A Sigstore trusted_root.json to verify against.
    #[arg(long = "trusted-root", value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// Skip transparency log checks (insecure).
    #[arg(long = "insecure-ignore-tlog")]
    pub insecure_ignore_tlog: bool,
    /// Skip the embedded SCT check (insecure).
    #[arg(long = "insecure-ignore-sct")]
    pub insecure_ignore_sct: bool,
    /// Rebuild and compare only this platform (`os/arch[/variant]`; repeatable).
    #[arg(long = "platform", value_name = "OS/ARCH")]
    pub platforms: Vec<String>,
    /// Push the rebuilt image to REF and print its digest.
    #[arg(long, value_name = "REF")]
    pub publish: Option<String>,
    /// Leave the rebuilt image in DIR as an OCI layout (a new or empty directory).
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Use no network for packages: indexes, keys and packages must be in the download cache.
    #[arg(long)]
    pub offline: bool,
    /// Package download cache directory (default: the user cache directory's `receipts/apk`).
    #[arg(long = "cache-dir", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Registry options.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Why the audit failed (a difference is not a failure: it exits 3).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No IMAGE (clap requires it; kept for callers that build the options themselves).
    #[error("no image to audit")]
    NoImage,
    /// IMAGE (or `--publish REF`) does not parse.
    #[error(transparent)]
    Reference(#[from] crate::cli::image::InvalidImage),
    /// The signer flags or trusted material are unusable.
    #[error("cannot verify {image}")]
    Policy {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<verify::Error>,
    },
    /// A key-signed attestation checked against a transparency log: cosign attaches none to a
    /// key signature unless it was uploaded, so without `--insecure-ignore-tlog` nothing
    /// verifies.
    #[error("{image}: a key was given, and the transparency log was not skipped")]
    KeyNeedsTlog {
        /// The image.
        image: String,
        /// The failure.
        #[source]
        source: Box<Error>,
    },
    /// `--platform` is not `os/arch[/variant]`.
    #[error("--platform {platform:?}: expected OS/ARCH[/VARIANT]")]
    Platform {
        /// The value.
        platform: String,
    },
    /// `--keep DIR` exists and is not empty.
    #[error("--keep {dir}: the directory exists and is not empty", dir = dir.display())]
    KeepNotEmpty {
        /// The directory.
        dir: PathBuf,
    },
    /// The audit failed (its own message and causes).
    #[error(transparent)]
    Audit(library::Error),
}

impl From<library::Error> for Error {
    /// The library's error, with the flag named where one was at fault (the library's messages
    /// name no flag; the hints in `cli::hint` add them to the others).
    fn from(error: library::Error) -> Error {
        match error {
            library::Error::Platform { platform } => Error::Platform { platform },
            library::Error::KeepNotEmpty { dir } => Error::KeepNotEmpty { dir },
            other => Error::Audit(other),
        }
    }
}

/// What is wrong with the audit's command line before anything runs (exit 2): the former flag
/// name, or no signer to verify against. The text says what to write instead.
pub fn usage_error(args: &AuditArgs) -> Option<String> {
    if args.old_insecure_skip_verify {
        return Some(
            "--insecure-skip-verify is now --insecure-skip-attestation-verification: it skips \
             every signature, key and identity check of the attestation (cosign's flag of that \
             name skips far less)"
                .to_owned(),
        );
    }
    let signer = &args.signer;
    let identity = signer.certificate_identity.is_some()
        || signer.certificate_identity_regexp.is_some()
        || signer.certificate_oidc_issuer.is_some()
        || signer.certificate_oidc_issuer_regexp.is_some();
    if args.image.is_some() && !args.insecure_skip_verify && signer.key.is_none() && !identity {
        return Some(
            "say who must have signed the attestation\n\nhint: pass --key cosign.pub (a key \
             pair), or --certificate-identity (or --certificate-identity-regexp) and \
             --certificate-oidc-issuer (keyless)"
                .to_owned(),
        );
    }
    None
}

/// Runs the audit; `quiet` silences progress and warnings.
pub fn run(args: &AuditArgs, quiet: bool) -> Result<Outcome, Error> {
    let progress = Progress::new(quiet);
    let image = args.image.clone().ok_or(Error::NoImage)?;
    progress.step(format_args!("resolving {image}"));
    let audited = audit(args, &image, &progress)?;
    // The bars end first, so that the line below is not drawn over.
    progress.finish();
    if let (Some(target), Some(digest)) = (&args.publish, &audited.published) {
        // Printed whatever --quiet says: the digest is what was asked for.
        eprintln!("published the rebuild to {target}: {digest}");
    }
    let report = &audited.report;
    match args.output {
        Output::Text => print!("{}", report.to_text()),
        Output::Json => print!("{}", report.to_json()),
    }
    Ok(if report.verdict.reproduced() {
        Outcome::Done
    } else {
        Outcome::Different
    })
}

/// The audit of `image` as `args` describe it, reported on `progress`, printing nothing else:
/// the command's work, shared with the catalogue's auditor.
pub fn audit(args: &AuditArgs, image: &str, progress: &Progress) -> Result<Audited, Error> {
    let reference = parse(image)?;
    let publish = match &args.publish {
        Some(target) => Some(Target {
            reference: parse(target)?,
            name: target.clone(),
        }),
        None => None,
    };
    let trust = if args.insecure_skip_verify {
        None
    } else {
        Some(trust(args, progress, image)?)
    };
    let key_name = args
        .signer
        .key
        .as_ref()
        .map(|path| path.display().to_string());
    let verification = match &trust {
        None => Verification::Unverified,
        Some((policy, trusted_root)) => Verification::Policy {
            policy,
            trusted_root: trusted_root.as_ref(),
            key_name: key_name.as_deref(),
        },
    };
    let settings = Settings {
        platforms: args.platforms.clone(),
        working_dir: PathBuf::new(),
        fetch: repository::Settings {
            cache_dir: args.cache_dir.clone(),
            network: if args.offline {
                Network::Offline
            } else {
                Network::Online
            },
        },
        // Swept once: the audit's rebuilt layout and the rebuild's scratch files both live here.
        scratch_dir: Some(crate::cli::resolve::scratch_area(args.cache_dir.as_deref())),
        keep: args.keep.clone(),
        publish,
        registry: args.registry.settings(),
    };
    let mut audited = rebuild::audit(image, &reference, &verification, &settings, &|event| {
        report(progress, event)
    })?;
    if args.insecure_skip_verify {
        audited.report.signer =
            Some("UNVERIFIED (--insecure-skip-attestation-verification)".to_owned());
    }
    Ok(audited)
}

fn parse(text: &str) -> Result<Reference, Error> {
    crate::cli::image::parse(text).map_err(Error::from)
}

/// The policy the signer flags describe and the trusted material to check it with.
fn trust(
    args: &AuditArgs,
    progress: &Progress,
    image: &str,
) -> Result<(Policy, Option<TrustedRoot>), Error> {
    let policy_error = |source| Error::Policy {
        image: image.to_owned(),
        source: Box::new(source),
    };
    let key_without_tlog = args.signer.key.is_some() && !args.insecure_ignore_tlog;
    let expected = args.signer.expected().map_err(policy_error)?;
    let trusted = verify::trusted_root(
        args.trusted_root.clone(),
        &expected,
        args.insecure_ignore_tlog,
    )
    .map_err(|source| {
        // No trusted root at all, or none from Sigstore's TUF repository: either way a key
        // given without --insecure-ignore-tlog is the likelier mistake to name.
        let missing = matches!(
            &source,
            verify::Error::Trust(
                attest_verify::trust::Error::Missing | attest_verify::trust::Error::Fetch(_)
            )
        );
        let error = policy_error(source);
        if key_without_tlog && missing {
            Error::KeyNeedsTlog {
                image: image.to_owned(),
                source: Box::new(error),
            }
        } else {
            error
        }
    })?;
    if args.insecure_ignore_tlog {
        progress.warn(
            "Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the attestation.",
        );
    }
    let policy = Policy {
        expected,
        ignore_tlog: args.insecure_ignore_tlog,
        ignore_sct: args.insecure_ignore_sct,
    };
    Ok((policy, trusted))
}

fn report(progress: &Progress, event: Event<'_>) {
    use crate::build::pipeline::Progress as Build;
    match event {
        Event::Verifying { image, root } => {
            progress.step(format_args!("verifying the attestation of {image}@{root}"));
        }
        Event::Unverified { image } => progress.warn(format_args!(
            "--insecure-skip-attestation-verification: the {PREDICATE_TYPE} attestation of {image} is NOT \
             VERIFIED; this audit proves nothing about who built the image"
        )),
        Event::Rebuilding { image } => progress.step(format_args!(
            "rebuilding {image} from its attested configuration"
        )),
        Event::Build(Build::Resolved { arch, packages }) => {
            progress.step(format_args!("{arch}: installing {packages} packages"));
        }
        Event::Build(Build::Image {
            arch,
            digest,
            layer_bytes,
        }) => progress.step(format_args!(
            "{arch}: rebuilt image {digest} ({layer_bytes} bytes of layers)"
        )),
        Event::Build(Build::Repinned { created }) => progress.step(format_args!(
            "rebuilding with the published creation time {} pinned",
            created.rfc3339()
        )),
        Event::Comparing { image } => {
            progress.step(format_args!("comparing {image} with the rebuild"));
        }
        Event::Publishing { target } => {
            progress.step(format_args!("publishing the rebuild to {target}"));
        }
    }
}
