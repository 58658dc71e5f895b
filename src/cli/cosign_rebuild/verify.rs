//! `cosign-rebuild verify` (as `cosign verify-attestation`) and the hidden `verify-bundle` (the
//! sigstore-conformance CLI protocol): argument checks, trusted material, one library call,
//! printing.
//!
//! Not for: verification itself ([`crate::attest::verify`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::Outcome;
use crate::attest::bundle::Bundle;
use crate::attest::fetch::predicate_type_uri;
use crate::attest::key;
use crate::attest::tuf;
use crate::attest::verify::{
    self, Expected, GithubClaims, Identity, Matcher, Policy, TrustedRoot, image, trust,
};
use crate::cli::registry::RegistryArgs;
use crate::oci::Store;

/// Who must have signed: a key or a certificate identity, as cosign spells it.
#[derive(Debug, Clone, clap::Args)]
pub struct SignerArgs {
    /// Public key (PEM) the attestations must be signed with.
    #[arg(long, value_name = "KEY")]
    pub key: Option<PathBuf>,
    /// The certificate's expected identity (SAN), exactly.
    #[arg(
        long = "certificate-identity",
        value_name = "ID",
        conflicts_with = "key"
    )]
    pub certificate_identity: Option<String>,
    /// A regular expression the certificate's SAN must match (unanchored, as cosign).
    #[arg(
        long = "certificate-identity-regexp",
        value_name = "RE",
        conflicts_with_all = ["key", "certificate_identity"]
    )]
    pub certificate_identity_regexp: Option<String>,
    /// The certificate's expected OIDC issuer, exactly.
    #[arg(
        long = "certificate-oidc-issuer",
        value_name = "ISS",
        conflicts_with = "key"
    )]
    pub certificate_oidc_issuer: Option<String>,
    /// A regular expression the OIDC issuer must match (unanchored).
    #[arg(
        long = "certificate-oidc-issuer-regexp",
        value_name = "RE",
        conflicts_with_all = ["key", "certificate_oidc_issuer"]
    )]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// Expected GitHub workflow trigger claim.
    #[arg(long = "certificate-github-workflow-trigger", value_name = "V")]
    pub github_workflow_trigger: Option<String>,
    /// Expected GitHub workflow SHA claim.
    #[arg(long = "certificate-github-workflow-sha", value_name = "V")]
    pub github_workflow_sha: Option<String>,
    /// Expected GitHub workflow name claim.
    #[arg(long = "certificate-github-workflow-name", value_name = "V")]
    pub github_workflow_name: Option<String>,
    /// Expected GitHub workflow repository claim.
    #[arg(long = "certificate-github-workflow-repository", value_name = "V")]
    pub github_workflow_repository: Option<String>,
    /// Expected GitHub workflow ref claim.
    #[arg(long = "certificate-github-workflow-ref", value_name = "V")]
    pub github_workflow_ref: Option<String>,
}

/// Options of `verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// The image: `HOST/REPO[:TAG][@DIGEST]` or `oci:DIR[:TAG|@DIGEST]`.
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// The predicate type to keep (a URI or a cosign short name).
    #[arg(long = "type", value_name = "URI", default_value = "custom")]
    pub predicate_type: String,
    /// The signer (boxed: the flag set is large).
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
    /// Write the predicate of the (first) verified attestation to FILE.
    #[arg(long = "predicate-out", value_name = "FILE")]
    pub predicate_out: Option<PathBuf>,
    /// Registry access.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Options of `verify-bundle` (the sigstore-conformance CLI protocol).
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyBundleArgs {
    /// Accepted for the protocol; the staging root must come from --trusted-root.
    #[arg(long)]
    pub staging: bool,
    /// The bundle to verify.
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    /// The expected certificate identity.
    #[arg(
        long = "certificate-identity",
        value_name = "ID",
        conflicts_with = "key"
    )]
    pub certificate_identity: Option<String>,
    /// The expected OIDC issuer.
    #[arg(
        long = "certificate-oidc-issuer",
        value_name = "ISS",
        conflicts_with = "key"
    )]
    pub certificate_oidc_issuer: Option<String>,
    /// The expected public key (PEM).
    #[arg(long, value_name = "KEY")]
    pub key: Option<PathBuf>,
    /// A Sigstore trusted_root.json.
    #[arg(long = "trusted-root", value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// The artifact file, or its digest as `sha256:<hex>`, `sha384:<hex>` or `sha512:<hex>`.
    #[arg(value_name = "ARTIFACT_OR_DIGEST")]
    pub artifact: String,
}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Keyless mode without an identity.
    #[error(
        "--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode"
    )]
    NoIdentity,
    /// Keyless mode without an issuer.
    #[error(
        "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode"
    )]
    NoIssuer,
    /// A file could not be read or written.
    #[error("{path}")]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key file is unusable.
    #[error("{path}: not a usable public key")]
    Key {
        /// The file.
        path: PathBuf,
        /// The key error.
        #[source]
        source: key::Error,
    },
    /// A regular expression does not compile.
    #[error(transparent)]
    Identity(#[from] verify::identity::Error),
    /// Trusted material could not be loaded, or is missing.
    #[error(transparent)]
    Trust(#[from] trust::Error),
    /// IMAGE does not parse.
    #[error(transparent)]
    Reference(#[from] crate::cli::image::InvalidImage),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] crate::oci::store::Error),
    /// Verification of the image failed.
    #[error(transparent)]
    Image(#[from] image::Error),
    /// The bundle file is not a bundle.
    #[error("{path}: not a Sigstore bundle")]
    Bundle {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: crate::attest::bundle::Error,
    },
    /// The artifact digest is malformed.
    #[error("{text}: not a sha256:, sha384: or sha512: digest of the right length")]
    Digest {
        /// The text.
        text: String,
    },
    /// The bundle did not verify.
    #[error(transparent)]
    Verify(#[from] verify::Error),
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::File {
        path: path.to_owned(),
        source,
    })
}

fn load_key(path: &Path) -> Result<key::PublicKey, Error> {
    key::load_public_key(&read(path)?).map_err(|source| Error::Key {
        path: path.to_owned(),
        source,
    })
}

impl SignerArgs {
    /// The expectation these flags describe, with cosign's keyless-mode errors.
    pub fn expected(&self) -> Result<Expected, Error> {
        if let Some(path) = &self.key {
            return Ok(Expected::Key(load_key(path)?));
        }
        let subject = match (
            &self.certificate_identity,
            &self.certificate_identity_regexp,
        ) {
            (Some(exact), _) => Matcher::Exact(exact.clone()),
            (None, Some(re)) => Matcher::regex(re)?,
            (None, None) => return Err(Error::NoIdentity),
        };
        let issuer = match (
            &self.certificate_oidc_issuer,
            &self.certificate_oidc_issuer_regexp,
        ) {
            (Some(exact), _) => Matcher::Exact(exact.clone()),
            (None, Some(re)) => Matcher::regex(re)?,
            (None, None) => return Err(Error::NoIssuer),
        };
        Ok(Expected::Identity(Identity {
            subject,
            issuer,
            github: GithubClaims {
                trigger: self.github_workflow_trigger.clone(),
                sha: self.github_workflow_sha.clone(),
                name: self.github_workflow_name.clone(),
                repository: self.github_workflow_repository.clone(),
                git_ref: self.github_workflow_ref.clone(),
            },
        }))
    }
}

/// Loads trusted material as cosign does: `--trusted-root`, else the `SIGSTORE_*` overrides,
/// else the Sigstore TUF repository ([`tuf::FromEnv`]) — except that a key with
/// `--insecure-ignore-tlog` needs none and fetches nothing.
pub fn trusted_root(
    path: Option<PathBuf>,
    expected: &Expected,
    ignore_tlog: bool,
) -> Result<Option<TrustedRoot>, Error> {
    let offline_key = matches!(expected, Expected::Key(_)) && ignore_tlog;
    let fetch: Option<&dyn trust::Fetch> = if offline_key {
        None
    } else {
        Some(&tuf::FromEnv)
    };
    let root = trust::Source::from_env(path).load(fetch)?;
    if root.is_none() && !(matches!(expected, Expected::Key(_)) && ignore_tlog) {
        return Err(trust::Error::Missing.into());
    }
    Ok(root)
}

/// Runs `verify`.
/// Runs `verify`; `quiet` silences every stderr line but errors.
pub fn run(args: &VerifyArgs, quiet: bool) -> Result<Outcome, Error> {
    let expected = args.signer.expected()?;
    let root = trusted_root(
        args.trusted_root.clone(),
        &expected,
        args.insecure_ignore_tlog,
    )?;
    if args.insecure_ignore_tlog && !quiet {
        eprintln!(
            "WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the attestation."
        );
    }
    let policy = Policy {
        expected,
        ignore_tlog: args.insecure_ignore_tlog,
        ignore_sct: args.insecure_ignore_sct,
    };
    let reference = crate::cli::image::parse(&args.image).map_err(Error::from)?;
    let store = Store::open(&reference, &args.registry.settings())?;
    let verified = image::verify_image(
        &store,
        &reference,
        &policy,
        root.as_ref(),
        Some(predicate_type_uri(&args.predicate_type)),
        verify::now(),
    )?;
    if !quiet {
        print_checks(&args.image, &policy, &verified);
    }
    let mut stdout = std::io::stdout().lock();
    for attestation in &verified.attestations {
        let _ = stdout.write_all(&attestation.envelope_json);
        let _ = stdout.write_all(b"\n");
    }
    let _ = stdout.flush();
    if let (Some(path), Some(first)) = (&args.predicate_out, verified.attestations.first()) {
        write_atomically(path, first.predicate_json().as_bytes())?;
    }
    Ok(Outcome::Done)
}

fn print_checks(image_name: &str, policy: &Policy, verified: &image::VerifiedImage) {
    let mut lines = vec![
        format!("\nVerification for {image_name} --"),
        "The following checks were performed on each of these signatures:".to_owned(),
        "  - The cosign claims were validated".to_owned(),
    ];
    if !policy.ignore_tlog {
        lines.push(
            "  - Existence of the claims in the transparency log was verified offline".to_owned(),
        );
    }
    match &policy.expected {
        Expected::Key(_) => {
            lines.push("  - The signatures were verified against the specified public key".into())
        }
        Expected::Identity(_) => lines.push(
            "  - The code-signing certificate was verified using trusted certificate authority certificates"
                .into(),
        ),
    }
    if verified.scheme == image::Scheme::Legacy {
        for attestation in &verified.attestations {
            if let verify::SignerIdentity::Certificate { subject, issuer } = &attestation.signer {
                lines.push(format!("Certificate subject: {subject}"));
                lines.push(format!("Certificate issuer URL: {issuer}"));
            }
        }
    }
    eprintln!("{}", lines.join("\n"));
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let file_error = |source| Error::File {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(file_error)?;
    temp.write_all(bytes).map_err(file_error)?;
    temp.as_file().sync_all().map_err(file_error)?;
    temp.persist(path).map_err(|e| file_error(e.error))?;
    Ok(())
}

/// The artifact: `ALGORITHM:<hex>` when no such file exists, else the file's bytes.
enum ArtifactArg {
    Digest(verify::ArtifactDigest),
    Bytes(Vec<u8>),
}

fn artifact_arg(text: &str) -> Result<ArtifactArg, Error> {
    let path = Path::new(text);
    let named_digest = ["sha256:", "sha384:", "sha512:"]
        .iter()
        .any(|prefix| text.starts_with(prefix));
    if named_digest && !path.exists() {
        return verify::ArtifactDigest::parse(text)
            .map(ArtifactArg::Digest)
            .map_err(|_| Error::Digest {
                text: text.to_owned(),
            });
    }
    Ok(ArtifactArg::Bytes(read(path)?))
}

/// Runs `verify-bundle`.
pub fn run_bundle(args: &VerifyBundleArgs) -> Result<Outcome, Error> {
    let expected = match &args.key {
        Some(path) => Expected::Key(load_key(path)?),
        None => Expected::Identity(Identity {
            subject: Matcher::Exact(args.certificate_identity.clone().ok_or(Error::NoIdentity)?),
            issuer: Matcher::Exact(
                args.certificate_oidc_issuer
                    .clone()
                    .ok_or(Error::NoIssuer)?,
            ),
            github: GithubClaims::default(),
        }),
    };
    let root = trusted_root(args.trusted_root.clone(), &expected, false)?;
    let bundle = Bundle::from_json(&read(&args.bundle)?).map_err(|source| Error::Bundle {
        path: args.bundle.clone(),
        source,
    })?;
    let artifact = artifact_arg(&args.artifact)?;
    let policy = Policy {
        expected,
        ignore_tlog: false,
        ignore_sct: false,
    };
    let artifact = match &artifact {
        ArtifactArg::Digest(digest) => verify::Artifact::Digest(digest),
        ArtifactArg::Bytes(bytes) => verify::Artifact::Bytes(bytes),
    };
    verify::verify_bundle_artifact(&bundle, artifact, &policy, root.as_ref(), verify::now())?;
    Ok(Outcome::Done)
}
