//! `cosign-rebuild attest`: sign a predicate about IMAGE and attach it, as
//! `cosign attest --key KEY --type URI --predicate FILE` does (without a transparency log).
//!
//! IMAGE is resolved to its digest first; the statement names that digest and the repository
//! (or `oci:DIR`). The default storage is cosign v3's bundle referrer;
//! `--new-bundle-format=false` writes the legacy `.att` manifest.
//!
//! Not for: the statement, signing and storage themselves ([`crate::attest`]).

use std::io::Write as _;
use std::path::PathBuf;

use super::Outcome;
use super::build::Report;
use super::keys;
use crate::attest::key;
use crate::attest::statement::{
    self, APKO_IMAGE_CONFIGURATION, Predicate, Sha256Digest, Statement, SubjectName,
};
use crate::attest::store::{self, Format, Signed};
use crate::cli::registry::RegistryArgs;
use crate::oci::{Reference, Store, store as oci_store};

/// Options of this command.
#[derive(Debug, Clone, clap::Args)]
pub struct AttestArgs {
    /// The image: HOST/REPO[:TAG|@DIGEST] or oci:DIR[:TAG|@DIGEST].
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// The predicate: a JSON object (or YAML mapping).
    #[arg(long, value_name = "FILE")]
    pub predicate: PathBuf,
    /// The signing key (cosign's encrypted format or PKCS#8); its password comes from
    /// COSIGN_PASSWORD, a terminal prompt or stdin.
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// The predicate type: a URI or one of cosign's short names (custom, slsaprovenance, …).
    #[arg(long = "type", value_name = "URI", default_value = APKO_IMAGE_CONFIGURATION)]
    pub predicate_type: String,
    /// Store a Sigstore bundle as an OCI referrer (true, cosign v3's default) or the legacy
    /// `sha256-<hex>.att` manifest (false).
    #[arg(
        long,
        value_name = "BOOL",
        default_value_t = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub new_bundle_format: bool,
    /// Legacy format: drop existing attestations of the same predicate type.
    #[arg(long)]
    pub replace: bool,
    /// Accepted for cosign compatibility; nothing is asked.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// What stdout reports: `text`, nothing (the summary goes to stderr, as cosign's does);
    /// `json`, an object with the `image` (`oci:DIR` or the repository), `subject` (the image
    /// digest), `predicate_type`, `attestation` (the manifest written), `format` (`bundle` or
    /// `legacy`) and `tag` (null when the registry's referrers API lists the referrer).
    /// (`--format` as for `build`, whose `--output` is the destination.)
    #[arg(
        long = "output",
        visible_alias = "format",
        value_enum,
        value_name = "FORMAT",
        default_value_t = Report::Text
    )]
    pub format: Report,
    /// Registry options.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// IMAGE does not parse.
    #[error(transparent)]
    Reference(#[from] crate::cli::image::InvalidImage),
    /// The image cannot be found or its store opened.
    #[error("cannot resolve {image}")]
    Resolve {
        /// The argument.
        image: String,
        /// The failure.
        #[source]
        source: Box<oci_store::Error>,
    },
    /// A file cannot be read.
    #[error("cannot read {path}", path = path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The predicate, its type or the subject name is invalid.
    #[error("{what}")]
    Statement {
        /// What was being read.
        what: String,
        /// The failure.
        #[source]
        source: statement::Error,
    },
    /// The key password could not be read.
    #[error(transparent)]
    Password(#[from] keys::Error),
    /// The key cannot be read or decrypted.
    #[error("cannot load the signing key {path}", path = path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: key::Error,
    },
    /// Signing or storing failed.
    #[error("cannot attest {image}")]
    Store {
        /// The image.
        image: String,
        /// The failure.
        #[source]
        source: Box<store::Error>,
    },
    /// Standard output cannot be written.
    #[error("cannot write to standard output")]
    Stdout(#[source] std::io::Error),
}

/// Runs the command.
/// Runs the command; `quiet` silences every stderr line but errors.
pub fn run(args: &AttestArgs, quiet: bool) -> Result<Outcome, Error> {
    let reference = crate::cli::image::parse(&args.image).map_err(Error::from)?;
    let resolve_error = |source| Error::Resolve {
        image: args.image.clone(),
        source: Box::new(source),
    };
    let store = Store::open(&reference, &args.registry.settings()).map_err(resolve_error)?;
    let subject = store.resolve(&reference).map_err(resolve_error)?;
    let statement_error = |what: &str| {
        let what = what.to_owned();
        move |source| Error::Statement { what, source }
    };
    let name = match &reference {
        Reference::Remote(remote) => SubjectName::from_reference(&remote.repository().to_string()),
        Reference::Local(local) => SubjectName::for_layout(&local.dir().to_string_lossy()),
    }
    .map_err(statement_error("cannot name the image in the statement"))?;
    let predicate_type = statement::predicate_type::from_flag(&args.predicate_type)
        .map_err(statement_error("invalid --type"))?;
    let predicate_text = std::fs::read(&args.predicate).map_err(|source| Error::Read {
        path: args.predicate.clone(),
        source,
    })?;
    let predicate = Predicate::from_json_or_yaml(&predicate_text).map_err(statement_error(
        &format!("invalid predicate {}", args.predicate.display()),
    ))?;
    for pointer in predicate.rounded_integers().iter().filter(|_| !quiet) {
        eprintln!(
            "WARNING: predicate number at {pointer} does not fit a float64 and was rounded, as cosign does"
        );
    }
    let key_text = std::fs::read(&args.key).map_err(|source| Error::Read {
        path: args.key.clone(),
        source,
    })?;
    let key_error = |source| Error::Key {
        path: args.key.clone(),
        source,
    };
    // Only encrypted keys need a password; do not wait on stdin for the others.
    let encrypted = String::from_utf8_lossy(&key_text).contains("-----BEGIN ENCRYPTED ");
    let password = if encrypted {
        keys::read_password(false)?
    } else {
        Default::default()
    };
    let private = key::load_private_key(&key_text, &password).map_err(key_error)?;
    let digest = Sha256Digest::from_bytes(*subject.digest.as_bytes());
    let statement = Statement::for_image(&name, &digest, &predicate_type, predicate);
    let store_error = |source| Error::Store {
        image: format!("{}@{}", store.name(), subject.digest),
        source: Box::new(source),
    };
    let signed = Signed::sign(&statement, &subject.digest, &private).map_err(store_error)?;
    let format = if args.new_bundle_format {
        if args.replace && !quiet {
            eprintln!("WARNING: --replace has no effect with the bundle format");
        }
        Format::Bundle
    } else {
        Format::Legacy {
            replace: args.replace,
        }
    };
    let created = store::referrer::rfc3339_utc(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    );
    let attached =
        store::attach(&store, &subject, &signed, format, &created).map_err(store_error)?;
    for replacement in attached.replacements.iter().filter(|_| !quiet) {
        if replacement.replaced {
            eprintln!(
                "Replacing attestation predicate: {}",
                replacement.predicate_type
            );
        } else {
            eprintln!(
                "Not replacing attestation predicate: {}",
                replacement.predicate_type
            );
        }
    }
    let mut place = match &attached.tag {
        Some(tag) => format!("tag {tag}"),
        None => "the referrers API".to_owned(),
    };
    if attached.attempts > 1 {
        place.push_str(&format!(
            ", after {} attempts among concurrent writers",
            attached.attempts
        ));
    }
    if !quiet {
        eprintln!(
            "Attached {predicate_type} attestation to {}@{} as {} ({place})",
            store.name(),
            subject.digest,
            attached.manifest.digest
        );
    }
    if args.format == Report::Json {
        let report = serde_json::json!({
            "image": store.name(),
            "subject": subject.digest.to_string(),
            "predicate_type": predicate_type,
            "attestation": attached.manifest.digest.to_string(),
            "format": if args.new_bundle_format { "bundle" } else { "legacy" },
            "tag": attached.tag,
        });
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{report}")
            .and_then(|()| stdout.flush())
            .map_err(Error::Stdout)?;
    }
    Ok(Outcome::Done)
}
