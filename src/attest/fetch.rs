//! Finding an image's attestations where cosign stores them: Sigstore bundle referrers (referrers
//! API or the `sha256-<hex>` fallback tag) and the legacy `sha256-<hex>.att` manifest, in a
//! registry or an OCI layout, through [`Store`].
//!
//! A failure says which of three stories it is ([`Class`]): the store could not be read
//! (network, HTTP status, a body too large), something is not there (the image; "no
//! attestations" is the verifier's to say), or what was read is not a valid attestation. A
//! referrer that cannot be fetched is an error, never skipped: only referrers that are fetched
//! and turn out not to be bundles are skipped, as cosign skips them.
//!
//! Not for: verifying them ([`super::verify`]) or writing them (the attestation writer).
//! Reproduces reference/cosign-attestations.md §3.4, §2.1 and §9.

use crate::oci::manifest::Manifest;
use crate::oci::reference::Reference;
use crate::oci::store::{self, Store};
use crate::oci::{Descriptor, Digest};

use super::bundle::Bundle;
use super::names;

/// cosign's cap on attestations read from one `.att` manifest (`maxAllowedSigsOrAtts`).
pub const MAX_LEGACY_LAYERS: usize = 100;
/// The media type prefix of bundle layers cosign reads.
pub const BUNDLE_MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";

/// Which story a failed lookup or verification tells; each has its own top line and hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The store could not be read: network, HTTP status, a body too large. Says nothing about
    /// the attestations.
    CouldNotFetch,
    /// The image, or any attestation of it, is not there.
    NotFound,
    /// Attestations were read and failed a check.
    DoesNotVerify,
}

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The image itself is not in the store.
    #[error("{store}: image not found")]
    ImageNotFound {
        /// The store's name.
        store: String,
        /// The store error (boxed: store errors are large).
        #[source]
        source: Box<store::Error>,
    },
    /// The store could not be read.
    #[error("{store}: could not fetch {what}")]
    Store {
        /// The store's name.
        store: String,
        /// What was being read.
        what: String,
        /// The store error (boxed: store errors are large).
        #[source]
        source: Box<store::Error>,
    },
    /// The legacy manifest is not an image manifest.
    #[error("{store}: attestation manifest {digest} is not an image manifest")]
    LegacyManifest {
        /// The store.
        store: String,
        /// Its digest.
        digest: Digest,
    },
    /// More layers than cosign reads.
    #[error("{store}: {count} attestations in {digest}, more than the {MAX_LEGACY_LAYERS} allowed")]
    TooManyLayers {
        /// The store.
        store: String,
        /// The manifest.
        digest: Digest,
        /// How many layers it has.
        count: usize,
    },
}

/// A bundle found as a referrer of the image.
#[derive(Debug, Clone)]
pub struct FoundBundle {
    /// The referrer manifest's digest.
    pub manifest: Digest,
    /// The bundle's bytes as stored.
    pub json: Vec<u8>,
    /// The parsed bundle.
    pub bundle: Bundle,
}

/// One layer of the legacy `.att` manifest.
#[derive(Debug, Clone)]
pub struct LegacyLayer {
    /// The layer's descriptor, with its annotations.
    pub descriptor: Descriptor,
    /// The layer bytes (a DSSE envelope).
    pub bytes: Vec<u8>,
}

impl Error {
    /// Which story this failure tells.
    pub fn class(&self) -> Class {
        match self {
            Self::ImageNotFound { .. } => Class::NotFound,
            Self::Store { .. } => Class::CouldNotFetch,
            Self::LegacyManifest { .. } | Self::TooManyLayers { .. } => Class::DoesNotVerify,
        }
    }
}

fn store_error(store: &Store, what: impl Into<String>) -> impl FnOnce(store::Error) -> Error {
    let name = store.name();
    let what = what.into();
    move |source| Error::Store {
        store: name,
        what,
        source: Box::new(source),
    }
}

/// What `reference` names: the digest attestations attach to (an index for multi-arch tags).
pub fn resolve(store: &Store, reference: &Reference) -> Result<Descriptor, Error> {
    store.resolve(reference).map_err(|source| {
        if source.is_not_found() {
            Error::ImageNotFound {
                store: store.name(),
                source: Box::new(source),
            }
        } else {
            store_error(store, "the image")(source)
        }
    })
}

/// The usable bundles among `subject`'s referrers, in the order listed. As cosign's `GetBundles`,
/// a referrer that is not exactly one bundle layer of version 0.3 or later is skipped silently;
/// one that cannot be fetched is an error.
pub fn bundles(store: &Store, subject: &Digest) -> Result<Vec<FoundBundle>, Error> {
    let referrers = store
        .referrers(subject, None)
        .map_err(store_error(store, format!("the referrers of {subject}")))?;
    let mut found = Vec::new();
    for referrer in referrers {
        let raw = match store.manifest(&referrer.digest) {
            Ok(raw) => raw,
            Err(store::Error::NotAManifest { .. }) => continue,
            Err(source) => {
                return Err(store_error(
                    store,
                    format!("referrer {} of {subject}", referrer.digest),
                )(source));
            }
        };
        let Ok(manifest) = Manifest::parse(&raw.bytes) else {
            continue;
        };
        let [layer] = manifest.layers.as_slice() else {
            continue;
        };
        if !layer.media_type.starts_with(BUNDLE_MEDIA_TYPE_PREFIX) {
            continue;
        }
        let json = store
            .read_blob(&layer.digest)
            .map_err(store_error(store, format!("bundle {}", layer.digest)))?;
        let Ok(bundle) = Bundle::from_json(&json) else {
            continue;
        };
        if bundle.version().is_none_or(|v| v < (0, 3)) {
            continue;
        }
        found.push(FoundBundle {
            manifest: referrer.digest,
            json,
            bundle,
        });
    }
    Ok(found)
}

/// The layers of `subject`'s legacy `.att` manifest, in manifest order; empty when the tag does
/// not exist.
pub fn legacy(store: &Store, subject: &Digest) -> Result<Vec<LegacyLayer>, Error> {
    let tag = names::attestation_tag(subject);
    let Some(descriptor) = store
        .resolve_tag(&tag)
        .map_err(store_error(store, format!("tag {tag}")))?
    else {
        return Ok(Vec::new());
    };
    let raw = store
        .manifest(&descriptor.digest)
        .map_err(store_error(store, format!("the manifest of tag {tag}")))?;
    let manifest = Manifest::parse(&raw.bytes).map_err(|_| Error::LegacyManifest {
        store: store.name(),
        digest: descriptor.digest,
    })?;
    if manifest.layers.len() > MAX_LEGACY_LAYERS {
        return Err(Error::TooManyLayers {
            store: store.name(),
            digest: descriptor.digest,
            count: manifest.layers.len(),
        });
    }
    manifest
        .layers
        .into_iter()
        .map(|layer| {
            let bytes = store.read_blob(&layer.digest).map_err(store_error(
                store,
                format!("attestation layer {}", layer.digest),
            ))?;
            Ok(LegacyLayer {
                descriptor: layer,
                bytes,
            })
        })
        .collect()
}

/// The predicate type a `--type` / `--predicate-type` value names (cosign's short names, §5.6);
/// anything else is used verbatim.
pub fn predicate_type_uri(name: &str) -> &str {
    match name {
        "custom" => "https://cosign.sigstore.dev/attestation/v1",
        "slsaprovenance" | "slsaprovenance02" => "https://slsa.dev/provenance/v0.2",
        "slsaprovenance1" => "https://slsa.dev/provenance/v1",
        "spdx" | "spdxjson" => "https://spdx.dev/Document",
        "cyclonedx" => "https://cyclonedx.org/bom",
        "link" => "https://in-toto.io/Link/v1",
        "vuln" => "https://cosign.sigstore.dev/attestation/vuln/v1",
        "openvex" => "https://openvex.dev/ns",
        other => other,
    }
}
