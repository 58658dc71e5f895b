//! `cosign-rebuild IMAGE` (also `cosign-rebuild rebuild IMAGE`): the audit. Resolve IMAGE to a
//! digest, verify its image-configuration attestation, rebuild every platform from the verified
//! predicate as apko would, and compare the rebuild with the published image.
//!
//! Exit 0 when reproduced (identical or equivalent), 3 when rebuilt but different, 1 on any
//! error (a failed verification included: nothing is built from an unverified predicate unless
//! `--insecure-skip-attestation-verification`, which says so on stderr).
//!
//! The creation time is not in the predicate: the rebuild first lets apko's rule pick it (the
//! newest package build time) and, when that is not the published index's `created`, builds
//! again pinned to the published time, as `SOURCE_DATE_EPOCH` would have.
//!
//! Not for: verification ([`crate::attest`]), building ([`crate::build::pipeline`]), the
//! comparison and report ([`crate::rebuild`]).

use std::path::{Path, PathBuf};

use super::Outcome;
use super::diff::Output;
use super::verify::{self, SignerArgs};
use crate::apk::repository::{self, Network};
use crate::attest::dsse::Envelope;
use crate::attest::fetch;
use crate::attest::statement::Statement;
use crate::attest::verify::{self as attest_verify, Expected, Policy, SignerIdentity, image};
use crate::build::image::GoTime;
use crate::build::pipeline::{self, Built};
use crate::cli::progress::Progress;
use crate::cli::registry::RegistryArgs;
use crate::config::ImageConfiguration;
use crate::oci::{self, Digest, Reference, Store};
use crate::rebuild::{self, Options, Side};

/// The predicate type an audit rebuilds from.
pub const PREDICATE_TYPE: &str = "https://apko.dev/image-configuration";
/// The index annotation apko records the creation time in.
const CREATED: &str = "org.opencontainers.image.created";

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
    /// IMAGE does not parse.
    #[error(transparent)]
    Reference(#[from] crate::cli::image::InvalidImage),
    /// A registry or layout operation failed.
    #[error("{what} {image}")]
    Store {
        /// What was being done.
        what: &'static str,
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<oci::store::Error>,
    },
    /// The signer flags or trusted material are unusable.
    #[error("cannot verify {image}")]
    Policy {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<verify::Error>,
    },
    /// The attestations could not be read (network, HTTP status): nothing is built, and
    /// nothing is known about them.
    #[error("could not fetch the attestations of {image}; nothing was rebuilt")]
    AttestationFetch {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<image::Error>,
    },
    /// The image, or any attestation of it, is not there: nothing is built.
    #[error("{image}: not found, or not attested; nothing was rebuilt")]
    AttestationNotFound {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<image::Error>,
    },
    /// The attestation is of another type, or does not verify: nothing is built.
    #[error("the {PREDICATE_TYPE} attestation of {image} does not verify; nothing was rebuilt")]
    Verification {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<image::Error>,
    },
    /// `--insecure-skip-attestation-verification` found no readable attestation of the type.
    #[error("{image} has no readable {PREDICATE_TYPE} attestation for {digest} (found: {found})")]
    NoAttestation {
        /// The image.
        image: String,
        /// Its digest.
        digest: Digest,
        /// The predicate types found, comma-joined.
        found: String,
    },
    /// Discovery failed (`--insecure-skip-attestation-verification`).
    #[error("could not fetch the attestations of {image}")]
    Fetch {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<fetch::Error>,
    },
    /// The predicate is not an apko image configuration.
    #[error("the {PREDICATE_TYPE} predicate of {image} is not an apko configuration")]
    Predicate {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<crate::config::Error>,
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
    /// A `--platform` is not in the published image.
    #[error("platform {platform} is not in {image} (it has: {found})")]
    PlatformMissing {
        /// The platform asked for.
        platform: String,
        /// The image.
        image: String,
        /// Its platforms.
        found: String,
    },
    /// `--platform` is not `os/arch[/variant]`.
    #[error("--platform {platform:?}: expected OS/ARCH[/VARIANT]")]
    Platform {
        /// The value.
        platform: String,
    },
    /// The rebuild failed (a package withdrawn, a repository unreachable, …).
    #[error("cannot rebuild {image} from its attested configuration")]
    Build {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<pipeline::Error>,
    },
    /// `--keep DIR` exists and is not empty.
    #[error("--keep {dir}: the directory exists and is not empty", dir = dir.display())]
    KeepNotEmpty {
        /// The directory.
        dir: PathBuf,
    },
    /// The rebuilt layout cannot be written.
    #[error("cannot write the rebuilt image to {dir}", dir = dir.display())]
    Layout {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: Box<pipeline::Error>,
    },
    /// A temporary directory cannot be made.
    #[error("cannot create a temporary directory")]
    TempDir(#[source] std::io::Error),
    /// The comparison failed.
    #[error("comparing {image} with its rebuild")]
    Compare {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<rebuild::Error>,
    },
}

/// A verified predicate and who signed it.
struct Verified {
    configuration: ImageConfiguration,
    signer: Option<String>,
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
    let settings = args.registry.settings();
    let reference = parse(&image)?;
    let store_error = |what, source| Error::Store {
        what,
        image: image.clone(),
        source: Box::new(source),
    };
    let store = Store::open(&reference, &settings).map_err(|e| store_error("cannot open", e))?;
    let root = store
        .resolve(&reference)
        .map_err(|e| store_error("cannot resolve", e))?
        .digest;
    let archs = archs(&args.platforms)?;
    // Swept once: the audit's rebuilt layout and the rebuild's scratch files both live here.
    let area = crate::cli::resolve::scratch_area(args.cache_dir.as_deref());
    // Checked before anything is verified or built.
    let temp;
    let dir: &Path = match &args.keep {
        Some(dir) => {
            if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
                return Err(Error::KeepNotEmpty { dir: dir.clone() });
            }
            dir
        }
        None => {
            std::fs::create_dir_all(&area).map_err(Error::TempDir)?;
            temp = crate::scratch::Dir::create_in(&area, crate::cli::resolve::AUDIT_PREFIX)
                .map_err(Error::TempDir)?;
            temp.path()
        }
    };
    if !args.platforms.is_empty() {
        let found = rebuild::platforms(&store, &root).map_err(|source| Error::Compare {
            image: image.clone(),
            source: Box::new(source),
        })?;
        if let Some(missing) = args.platforms.iter().find(|p| !found.contains(p)) {
            return Err(Error::PlatformMissing {
                platform: missing.clone(),
                image,
                found: found.join(", "),
            });
        }
    }
    progress.step(format_args!("verifying the attestation of {image}@{root}"));
    let verified = verified_predicate(args, &progress, &image, &store, &reference, &root)?;
    let built = build(
        args,
        &progress,
        &image,
        &verified.configuration,
        archs,
        &Published::read(&store, &root),
        area,
    )?;

    built.write_layout(dir).map_err(|source| Error::Layout {
        dir: dir.to_owned(),
        source: Box::new(source),
    })?;
    let rebuilt_store =
        Store::from(
            oci::layout::Layout::open(dir).map_err(|source| Error::Store {
                what: "cannot open the rebuilt layout",
                image: dir.display().to_string(),
                source: Box::new(source.into()),
            })?,
        );
    let options = Options {
        platforms: args.platforms.clone(),
        ..Options::default()
    };
    progress.step(format_args!("comparing {image} with the rebuild"));
    let mut report = rebuild::audit(
        Side {
            store: &store,
            root,
            trusted: false,
        },
        &image,
        Side {
            store: &rebuilt_store,
            root: built.digest(),
            trusted: true,
        },
        &options,
    )
    .map_err(|source| Error::Compare {
        image: image.clone(),
        source: Box::new(source),
    })?;
    report.signer = verified.signer;

    if let Some(target) = &args.publish {
        let target_reference = parse(target)?;
        let publish_error = |source| Error::Store {
            what: "cannot publish the rebuild to",
            image: target.clone(),
            source: Box::new(source),
        };
        let target_store = Store::create(&target_reference, &settings).map_err(publish_error)?;
        let tag = match &target_reference {
            Reference::Remote(remote) => remote.tag().map(str::to_owned),
            Reference::Local(local) => match local.selector() {
                oci::Selector::Tag(tag) => Some(tag.clone()),
                _ => None,
            },
        };
        progress.step(format_args!("publishing the rebuild to {target}"));
        let published = target_store
            .publish(&built.image_set(), tag.as_deref())
            .map_err(publish_error)?;
        // Printed whatever --quiet says: the digest is what was asked for.
        eprintln!("published the rebuild to {target}: {}", published.digest);
    }
    progress.finish();
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

fn parse(text: &str) -> Result<Reference, Error> {
    crate::cli::image::parse(text).map_err(Error::from)
}

/// The image-configuration predicate of `root`, verified (or, with
/// `--insecure-skip-attestation-verification`,
/// read without verification after a warning).
fn verified_predicate(
    args: &AuditArgs,
    progress: &Progress,
    image: &str,
    store: &Store,
    reference: &Reference,
    root: &Digest,
) -> Result<Verified, Error> {
    if args.insecure_skip_verify {
        progress.warn(format_args!(
            "--insecure-skip-attestation-verification: the {PREDICATE_TYPE} attestation of {image} is NOT \
             VERIFIED; this audit proves nothing about who built the image"
        ));
        let statement = unverified_statement(image, store, root)?;
        return Ok(Verified {
            configuration: configuration(image, &statement)?,
            signer: Some("UNVERIFIED (--insecure-skip-attestation-verification)".to_owned()),
        });
    }
    let policy_error = |source| Error::Policy {
        image: image.to_owned(),
        source: Box::new(source),
    };
    let key_without_tlog = args.signer.key.is_some() && !args.insecure_ignore_tlog;
    let tlog_error = |error: Error, tlog_reason: bool| {
        if key_without_tlog && tlog_reason {
            Error::KeyNeedsTlog {
                image: image.to_owned(),
                source: Box::new(error),
            }
        } else {
            error
        }
    };
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
        tlog_error(policy_error(source), missing)
    })?;
    if args.insecure_ignore_tlog {
        progress.warn(
            "Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the attestation.",
        );
    }
    let key_path = args.signer.key.clone();
    let policy = Policy {
        expected,
        ignore_tlog: args.insecure_ignore_tlog,
        ignore_sct: args.insecure_ignore_sct,
    };
    let verified = image::verify_image(
        store,
        reference,
        &policy,
        trusted.as_ref(),
        Some(PREDICATE_TYPE),
        attest_verify::now(),
    )
    .map_err(|source| {
        let tlog = matches!(&source, image::Error::NoneVerified { errors } if errors.contains("transparency log"));
        tlog_error(verification_failure(image, source), tlog)
    })?;
    // verify_image keeps only attestations of the type, and fails when there are none.
    let Some(attestation) = verified.attestations.first() else {
        return Err(Error::NoAttestation {
            image: image.to_owned(),
            digest: *root,
            found: String::new(),
        });
    };
    let signer = match (&attestation.signer, &policy.expected) {
        (SignerIdentity::Certificate { subject, issuer }, _) => format!("{subject} ({issuer})"),
        (SignerIdentity::Key, Expected::Key(_)) => match key_path {
            Some(path) => format!("key {}", path.display()),
            None => "key".to_owned(),
        },
        (SignerIdentity::Key, _) => "key".to_owned(),
    };
    Ok(Verified {
        configuration: configuration(image, &attestation.statement)?,
        signer: Some(signer),
    })
}

/// The audit's error for a failed verification, by the story it tells.
fn verification_failure(image: &str, source: image::Error) -> Error {
    let (image, source) = (image.to_owned(), Box::new(source));
    match source.class() {
        crate::attest::fetch::Class::CouldNotFetch => Error::AttestationFetch { image, source },
        crate::attest::fetch::Class::NotFound => Error::AttestationNotFound { image, source },
        crate::attest::fetch::Class::DoesNotVerify => Error::Verification { image, source },
    }
}

/// The first statement of the predicate type attached to `root`, read without checking any
/// signature (bundle referrers first, then the legacy `.att` layers, as cosign looks).
fn unverified_statement(image: &str, store: &Store, root: &Digest) -> Result<Statement, Error> {
    let fetch_error = |source| Error::Fetch {
        image: image.to_owned(),
        source: Box::new(source),
    };
    let mut statements: Vec<Statement> = fetch::bundles(store, root)
        .map_err(fetch_error)?
        .iter()
        .filter_map(|found| found.bundle.dsse_envelope()?.statement().ok())
        .collect();
    if statements.is_empty() {
        statements = fetch::legacy(store, root)
            .map_err(fetch_error)?
            .iter()
            .filter_map(|layer| Envelope::from_json(&layer.bytes).ok()?.statement().ok())
            .collect();
    }
    let found: Vec<String> = statements
        .iter()
        .map(|s| s.predicate_type.clone())
        .collect();
    statements
        .into_iter()
        .find(|s| s.predicate_type == PREDICATE_TYPE)
        .ok_or_else(|| Error::NoAttestation {
            image: image.to_owned(),
            digest: *root,
            found: if found.is_empty() {
                "nothing".to_owned()
            } else {
                found.join(", ")
            },
        })
}

/// The predicate as a configuration.
fn configuration(image: &str, statement: &Statement) -> Result<ImageConfiguration, Error> {
    ImageConfiguration::from_json(statement.predicate.to_json().as_bytes()).map_err(|source| {
        Error::Predicate {
            image: image.to_owned(),
            source: Box::new(source),
        }
    })
}

/// `--platform linux/amd64` → `--arch amd64`, `linux/arm/v7` → `arm/v7` (apko's canonical
/// architecture names are the OCI platform without the OS).
fn archs(platforms: &[String]) -> Result<Vec<String>, Error> {
    platforms
        .iter()
        .map(|platform| match platform.split_once('/') {
            Some((os, arch)) if !os.is_empty() && !arch.is_empty() => Ok(arch.to_owned()),
            _ => Err(Error::Platform {
                platform: platform.clone(),
            }),
        })
        .collect()
}

/// What the rebuild needs of the published root, read once.
struct Published {
    /// Its `created` annotation, when it has one that parses.
    created: Option<GoTime>,
    /// The digests of its platform manifests (the root itself when it is one manifest): a
    /// rebuild whose every image is among them reproduces what was published.
    manifests: Vec<Digest>,
}

impl Published {
    fn read(store: &Store, root: &Digest) -> Published {
        let Ok(raw) = store.manifest(root) else {
            return Published {
                created: None,
                manifests: Vec::new(),
            };
        };
        let created = serde_json::from_slice::<serde_json::Value>(&raw.bytes)
            .ok()
            .and_then(|json| {
                let created = json.get("annotations")?.get(CREATED)?.as_str()?;
                GoTime::parse_rfc3339(created).ok()
            });
        let manifests = match crate::oci::manifest::Index::parse(&raw.bytes) {
            Ok(index) if !index.manifests.is_empty() => index
                .manifests
                .iter()
                .map(|descriptor| descriptor.digest)
                .collect(),
            _ => vec![*root],
        };
        Published { created, manifests }
    }
}

/// Rebuilds the predicate as `build::predicate::rebuild` does (the path its package order
/// names; the published creation time pinned when apko's rule does not reproduce the image).
fn build(
    args: &AuditArgs,
    progress: &Progress,
    image: &str,
    configuration: &ImageConfiguration,
    archs: Vec<String>,
    published: &Published,
    scratch: PathBuf,
) -> Result<Built, Error> {
    let settings = crate::lock::Settings {
        archs,
        fetch: repository::Settings {
            cache_dir: args.cache_dir.clone(),
            network: if args.offline {
                Network::Offline
            } else {
                Network::Online
            },
        },
        ..crate::lock::Settings::default()
    };
    progress.step(format_args!(
        "rebuilding {image} from its attested configuration"
    ));
    crate::build::predicate::rebuild(
        image,
        configuration,
        settings,
        Some(scratch),
        published.created,
        &|built: &Built| {
            built
                .images
                .iter()
                .all(|rebuilt| published.manifests.contains(&rebuilt.digest()))
        },
        &|event| report(progress, event),
    )
    .map_err(|source| Error::Build {
        image: image.to_owned(),
        source: Box::new(source),
    })
}

fn report(progress: &Progress, event: pipeline::Progress<'_>) {
    match event {
        pipeline::Progress::Resolved { arch, packages } => {
            progress.step(format_args!("{arch}: installing {packages} packages"));
        }
        pipeline::Progress::Image {
            arch,
            digest,
            layer_bytes,
        } => progress.step(format_args!(
            "{arch}: rebuilt image {digest} ({layer_bytes} bytes of layers)"
        )),
        pipeline::Progress::Repinned { created } => progress.step(format_args!(
            "rebuilding with the published creation time {} pinned",
            created.rfc3339()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_become_apko_architectures() {
        let platforms = ["linux/amd64", "linux/arm/v7"].map(String::from);
        assert_eq!(archs(&platforms).unwrap(), ["amd64", "arm/v7"]);
        assert!(archs(&["amd64".to_owned()]).is_err());
        assert!(archs(&["linux/".to_owned()]).is_err());
    }
}
