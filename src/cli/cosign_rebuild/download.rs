//! `cosign-rebuild download`: print an image's attestations as `cosign download attestation`
//! does — referrer bundles first, then legacy envelopes, one JSON document per line, unverified.
//!
//! Not for: verification (`verify`) or discovery rules ([`crate::attest::fetch`]).

use std::io::Write as _;

use super::Outcome;
use crate::attest::bundle::Bundle;
use crate::attest::dsse::{self, Envelope, EnvelopeForm};
use crate::attest::fetch::{self, predicate_type_uri};
use crate::cli::registry::RegistryArgs;
use crate::oci::Store;

/// Options of this command.
#[derive(Debug, Clone, clap::Args)]
pub struct DownloadArgs {
    /// The image: `HOST/REPO[:TAG][@DIGEST]` or `oci:DIR[:TAG|@DIGEST]`.
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Print only attestations of this predicate type (a URI or a cosign short name).
    #[arg(long = "predicate-type", value_name = "URI")]
    pub predicate_type: Option<String>,
    /// Registry access.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// IMAGE does not parse.
    #[error(transparent)]
    Reference(#[from] crate::cli::image::InvalidImage),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] crate::oci::store::Error),
    /// Discovery failed.
    #[error(transparent)]
    Fetch(#[from] fetch::Error),
    /// A legacy layer is not an envelope with a statement (fatal with --predicate-type).
    #[error("legacy attestation layer {digest} is unreadable")]
    Layer {
        /// The layer digest.
        digest: crate::oci::Digest,
        /// The envelope error.
        #[source]
        source: dsse::Error,
    },
    /// `--predicate-type` matched nothing.
    #[error("no attestations with predicate type '{predicate_type}' found")]
    NoneOfType {
        /// The type asked for.
        predicate_type: String,
    },
}

fn bundle_type(bundle: &Bundle) -> Option<String> {
    bundle
        .dsse_envelope()
        .and_then(|e| e.statement().ok())
        .map(|s| s.predicate_type)
}

/// Runs the command.
pub fn run(args: &DownloadArgs) -> Result<Outcome, Error> {
    let reference = crate::cli::image::parse(&args.image).map_err(Error::from)?;
    let store = Store::open(&reference, &args.registry.settings())?;
    let image = fetch::resolve(&store, &reference)?;
    let wanted = args.predicate_type.as_deref().map(predicate_type_uri);
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for found in fetch::bundles(&store, &image.digest)? {
        if let Some(wanted) = wanted
            && bundle_type(&found.bundle).as_deref() != Some(wanted)
        {
            continue;
        }
        lines.push(found.bundle.to_json());
    }
    for layer in fetch::legacy(&store, &image.digest)? {
        let envelope = match Envelope::from_json(&layer.bytes) {
            Ok(envelope) => envelope,
            Err(source) if wanted.is_some() => {
                return Err(Error::Layer {
                    digest: layer.descriptor.digest,
                    source,
                });
            }
            Err(_) => continue,
        };
        if let Some(wanted) = wanted {
            let statement = envelope.statement().map_err(|source| Error::Layer {
                digest: layer.descriptor.digest,
                source,
            })?;
            if statement.predicate_type != wanted {
                continue;
            }
        }
        lines.push(envelope.to_json(EnvelopeForm::SecureSystemsLib));
    }
    if lines.is_empty()
        && let Some(wanted) = wanted
    {
        return Err(Error::NoneOfType {
            predicate_type: wanted.to_owned(),
        });
    }
    let mut stdout = std::io::stdout().lock();
    for line in lines {
        let _ = stdout.write_all(&line);
        let _ = stdout.write_all(b"\n");
    }
    let _ = stdout.flush();
    Ok(Outcome::Done)
}
