//! `cosign-rebuild attest`: sign a predicate about IMAGE and attach it, as
//! `cosign attest [--key KEY] --type URI --predicate FILE` does: with a key or keylessly
//! (Fulcio), logged in Rekor (v1, or v2 when the signing config chooses it) unless
//! `--tlog-upload=false`, timestamped when a TSA is named. The services come from the flags,
//! `--signing-config`, or else the TUF repository's signing config.
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
use crate::attest::sign::SigningConfig;
use crate::attest::statement::{
    self, APKO_IMAGE_CONFIGURATION, Predicate, Sha256Digest, Statement, SubjectName,
};
use crate::attest::store::{self, Format};
use crate::attest::{key, sign, tuf};
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
    /// COSIGN_PASSWORD, a terminal prompt or stdin. Without it, signing is keyless: an
    /// ephemeral key certified by Fulcio for the OIDC identity token.
    #[arg(long, value_name = "KEY")]
    pub key: Option<PathBuf>,
    /// Transparency log, certificate authority and timestamp options.
    #[command(flatten)]
    pub signing: SigningArgs,
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

/// Where signatures are logged, certified and timestamped (cosign's flags).
#[derive(Debug, Clone, clap::Args)]
pub struct SigningArgs {
    /// Log the signature in the Rekor transparency log (true, cosign's default); false signs
    /// air-gapped, and the attestation then verifies only with --insecure-ignore-tlog.
    #[arg(
        long,
        value_name = "BOOL",
        default_value_t = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub tlog_upload: bool,
    /// The Rekor (v1 API) base URL; overrides the signing config's.
    #[arg(long, value_name = "URL")]
    pub rekor_url: Option<String>,
    /// The Fulcio base URL for keyless signing; overrides the signing config's.
    #[arg(long, value_name = "URL")]
    pub fulcio_url: Option<String>,
    /// The OIDC identity token for keyless signing, or a file holding it. Otherwise
    /// SIGSTORE_ID_TOKEN, or GitHub Actions' ambient token (ACTIONS_ID_TOKEN_REQUEST_URL and
    /// _TOKEN, audience sigstore).
    #[arg(long, value_name = "TOKEN")]
    pub identity_token: Option<String>,
    /// An RFC 3161 timestamp authority to timestamp the signature; overrides the signing
    /// config's.
    #[arg(long, value_name = "URL")]
    pub timestamp_server_url: Option<String>,
    /// A Sigstore signing config (signing_config.v0.2.json) naming the Fulcio, Rekor (v1 or v2)
    /// and TSA services to use. Without it and without the flags above, the signing config
    /// comes from Sigstore's TUF repository, as in cosign v3 (TUF_MIRROR, TUF_ROOT; see
    /// `initialize`); signing with --key and --tlog-upload=false needs no services.
    #[arg(long, value_name = "FILE")]
    pub signing_config: Option<PathBuf>,
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
    /// The signing config cannot be used.
    #[error(transparent)]
    SigningConfig(#[from] sign::config::Error),
    /// No service flag and no `--signing-config`, and the TUF repository did not provide one.
    #[error(
        "cannot get the signing config ({target}) from the TUF repository {mirror}; name the \
         services with --signing-config FILE or --rekor-url (and --fulcio-url to sign \
         keylessly), or sign offline with --key and --tlog-upload=false",
        target = crate::attest::tuf::SIGNING_CONFIG_TARGET
    )]
    Tuf {
        /// The mirror.
        mirror: String,
        /// Why.
        #[source]
        source: Box<crate::attest::tuf::Error>,
    },
    /// Certifying, logging or timestamping failed; nothing was attached.
    #[error("cannot sign the attestation for {image}; nothing was attached")]
    Sign {
        /// The image.
        image: String,
        /// The failure.
        #[source]
        source: Box<sign::Error>,
    },
    /// Standard output cannot be written.
    #[error("cannot write to standard output")]
    Stdout(#[source] std::io::Error),
}

/// Runs the command; `quiet` silences every stderr line but errors.
pub fn run(args: &AttestArgs, quiet: bool) -> Result<Outcome, Error> {
    let reference = crate::cli::image::parse(&args.image).map_err(Error::from)?;
    let resolve_error = |source| Error::Resolve {
        image: args.image.clone(),
        source: Box::new(source),
    };
    let store = Store::open(&reference, &args.registry.settings()).map_err(resolve_error)?;
    let subject = store.resolve(&reference).map_err(resolve_error)?;
    let (statement, predicate_type) = statement(args, &reference, &subject.digest, quiet)?;
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
    let image = format!("{}@{}", store.name(), subject.digest);
    let signed =
        sign_statement(args, &statement, &subject.digest, format).map_err(|e| match e {
            Signing::Cli(error) => *error,
            Signing::Sign(source) => Error::Sign {
                image: image.clone(),
                source,
            },
        })?;
    let created = store::referrer::rfc3339_utc(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    );
    let attached =
        store::attach(&store, &subject, &signed, format, &created).map_err(|source| {
            Error::Store {
                image: image.clone(),
                source: Box::new(source),
            }
        })?;
    if !quiet {
        for replacement in &attached.replacements {
            let verb = if replacement.replaced {
                "Replacing"
            } else {
                "Not replacing"
            };
            eprintln!(
                "{verb} attestation predicate: {}",
                replacement.predicate_type
            );
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
        eprintln!(
            "Attached {predicate_type} attestation to {image} as {} ({place})",
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

/// The in-toto statement about `subject`: the predicate file under `--type`, the subject
/// named by the repository (or layout); returns it with the predicate type URI.
fn statement(
    args: &AttestArgs,
    reference: &Reference,
    subject: &crate::oci::Digest,
    quiet: bool,
) -> Result<(Statement, String), Error> {
    let statement_error = |what: &str| {
        let what = what.to_owned();
        move |source| Error::Statement { what, source }
    };
    let name = match reference {
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
    let digest = Sha256Digest::from_bytes(*subject.as_bytes());
    let statement = Statement::for_image(&name, &digest, &predicate_type, predicate);
    Ok((statement, predicate_type))
}

/// A failure before anything is attached: reading the key or config, or a signing service.
enum Signing {
    Cli(Box<Error>),
    Sign(Box<sign::Error>),
}

impl From<Error> for Signing {
    fn from(error: Error) -> Self {
        Signing::Cli(Box::new(error))
    }
}

impl From<sign::Error> for Signing {
    fn from(error: sign::Error) -> Self {
        Signing::Sign(Box::new(error))
    }
}

/// The signing config: `--signing-config FILE`; else, when no service flag is given and a
/// service is needed (keyless, or a log upload), the TUF repository's
/// `signing_config.v0.2.json`, as cosign v3 reads it by default. Signing with a key and
/// `--tlog-upload=false` needs no service and never reaches TUF.
fn signing_config(args: &AttestArgs, flags: &sign::Flags) -> Result<Option<SigningConfig>, Error> {
    if let Some(path) = &args.signing.signing_config {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let origin = path.display().to_string();
        return Ok(Some(SigningConfig::from_json(&bytes, &origin)?));
    }
    let needed = args.key.is_none() || args.signing.tlog_upload;
    if flags.any() || !needed {
        return Ok(None);
    }
    let mirror = tuf::Client::mirror_from_env();
    let bytes = tuf::signing_config().map_err(|source| Error::Tuf {
        mirror: mirror.clone(),
        source: Box::new(source),
    })?;
    let origin = format!("{mirror}/targets/{}", tuf::SIGNING_CONFIG_TARGET);
    Ok(Some(SigningConfig::from_json(&bytes, &origin)?))
}

/// Signs with `--key` or keylessly, logs and timestamps, as the flags and signing config say.
fn sign_statement(
    args: &AttestArgs,
    statement: &Statement,
    subject: &crate::oci::Digest,
    format: Format,
) -> Result<store::Signed, Signing> {
    let now = crate::attest::verify::now();
    let flags = sign::Flags {
        fulcio: args.signing.fulcio_url.clone(),
        rekor: args.signing.rekor_url.clone(),
        tsa: args.signing.timestamp_server_url.clone(),
    };
    let config = signing_config(args, &flags)?;
    let endpoints = sign::Endpoints::resolve(&flags, config.as_ref(), now);
    if !args.signing.tlog_upload {
        eprintln!(
            "WARNING: --tlog-upload=false: the attestation is not logged; it verifies only with \
             --insecure-ignore-tlog"
        );
    }
    let plan = sign::Plan {
        endpoints,
        tlog_upload: args.signing.tlog_upload,
        format,
    };
    let private;
    let signer = match &args.key {
        Some(path) => {
            private = load_key(path)?;
            sign::Signer::Key(&private)
        }
        None => {
            let flag = match &args.signing.identity_token {
                // cosign reads the flag as a file when one of that name exists.
                Some(text) if std::path::Path::new(text).is_file() => {
                    Some(std::fs::read_to_string(text).map_err(|source| Error::Read {
                        path: text.into(),
                        source,
                    })?)
                }
                other => other.clone(),
            };
            let ambient = sign::oidc::Ambient {
                sigstore_id_token: std::env::var("SIGSTORE_ID_TOKEN").ok(),
                actions_request_url: std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL").ok(),
                actions_request_token: std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN").ok(),
            };
            let token = sign::oidc::token(flag.as_deref(), &ambient, now)
                .map_err(|e| Signing::Sign(Box::new(e.into())))?;
            sign::Signer::Keyless(token)
        }
    };
    let signed = sign::attestation(statement, subject, signer, &plan)?;
    if let Some(entry) = signed_entry_index(&signed) {
        eprintln!("tlog entry created with index: {entry}");
    }
    Ok(signed)
}

fn signed_entry_index(signed: &store::Signed) -> Option<i64> {
    crate::attest::bundle::Bundle::from_json(signed.bundle_json())
        .ok()?
        .verification_material
        .tlog_entries
        .first()
        .map(|e| e.log_index)
}

/// Reads and decrypts `--key`.
fn load_key(path: &std::path::Path) -> Result<key::PrivateKey, Error> {
    let key_text = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    // Only encrypted keys need a password; do not wait on stdin for the others.
    let encrypted = String::from_utf8_lossy(&key_text).contains("-----BEGIN ENCRYPTED ");
    let password = if encrypted {
        keys::read_password(false)?
    } else {
        Default::default()
    };
    key::load_private_key(&key_text, &password).map_err(|source| Error::Key {
        path: path.to_owned(),
        source,
    })
}
