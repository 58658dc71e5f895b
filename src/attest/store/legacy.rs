//! The legacy `.att` manifest: one OCI image manifest per image digest, tagged
//! `sha256-<hex>.att`, holding every attestation as one DSSE-envelope layer.
//!
//! [`AttManifest`] is the parsed form (its layers, in order) that the writer appends to and the
//! reader walks; [`AttManifest::to_bytes`] renders the config blob and the manifest exactly as
//! cosign's go-containerregistry calls do (`empty.Image` in OCI media types, `mutate.Append`,
//! Go JSON). Pure: no I/O.
//!
//! Not for: fetching or pushing ([`super`]), verifying layers (`attest::verify`). Reproduces
//! reference/cosign-attestations.md §2.2–§2.4 and the bytes of
//! `derived/cosign/legacy-att.{config,manifest}.json` (§15).

use std::collections::BTreeMap;

use crate::attest::names::{
    DSSE_LAYER_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION, SIGNATURE_ANNOTATION,
};
use crate::codec::json;
use crate::codec::time::GoTime;
use crate::oci::config::{ConfigFile, History, RootFs};
use crate::oci::manifest::{self, Manifest, media_type};
use crate::oci::{Descriptor, Digest};

/// The most layers cosign puts in one `.att` manifest.
pub const MAX_LAYERS: usize = 1000;

/// Why a `.att` manifest cannot be read or extended.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The document is not an image manifest.
    #[error("attestation manifest is not a valid image manifest")]
    Manifest {
        /// The parser's complaint.
        #[source]
        source: manifest::Error,
    },
    /// Appending would exceed cosign's limit.
    #[error("attestation manifest would hold {count} layers; cosign allows at most {MAX_LAYERS}")]
    TooManyLayers {
        /// How many layers it would hold.
        count: usize,
    },
    /// JSON encoding failed (cannot happen for these types; kept for honesty).
    #[error("cannot encode the attestation manifest")]
    Encode {
        /// The encoder's complaint.
        #[source]
        source: json::Error,
    },
}

/// The layers of a `.att` manifest, in order. Only the layers matter: the config is derived
/// from them, and cosign writes no manifest annotations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttManifest {
    /// One descriptor per attestation, with its annotations.
    pub layers: Vec<Descriptor>,
}

/// The two documents of a `.att` manifest, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttBytes {
    /// The config blob (233 bytes for one layer).
    pub config: Vec<u8>,
    /// The manifest, which points at `config` and the layers.
    pub manifest: Vec<u8>,
}

/// What `--replace` did with one existing layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// The layer's digest.
    pub digest: Digest,
    /// The predicate type its statement declares.
    pub predicate_type: String,
    /// Whether it was dropped (same predicate type as the new attestation).
    pub replaced: bool,
}

/// The layer descriptor cosign gives an attestation: media type DSSE, digest and size of the
/// envelope bytes, annotations `dev.cosignproject.cosign/signature: ""` and `predicateType`,
/// plus `extra` (certificate, chain, Rekor bundle, timestamp) when the signer has them.
pub fn layer(
    envelope: &[u8],
    predicate_type: &str,
    extra: &BTreeMap<String, String>,
) -> Descriptor {
    let mut descriptor = Descriptor::of(DSSE_LAYER_MEDIA_TYPE, envelope);
    descriptor.annotations = extra.clone();
    descriptor
        .annotations
        .insert(SIGNATURE_ANNOTATION.to_owned(), String::new());
    descriptor.annotations.insert(
        PREDICATE_TYPE_ANNOTATION.to_owned(),
        predicate_type.to_owned(),
    );
    descriptor
}

impl AttManifest {
    /// Reads an existing `.att` manifest. Every layer is kept, whatever its media type: cosign
    /// keeps what it does not understand when it appends.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let manifest = Manifest::parse(bytes).map_err(|source| Error::Manifest { source })?;
        Ok(Self {
            layers: manifest.layers,
        })
    }

    /// The predicate type a layer's annotation declares (not checked against its envelope).
    pub fn annotated_predicate_type(layer: &Descriptor) -> Option<&str> {
        layer
            .annotations
            .get(PREDICATE_TYPE_ANNOTATION)
            .map(String::as_str)
    }

    /// Whether some layer has this digest.
    pub fn contains(&self, digest: &Digest) -> bool {
        self.layers.iter().any(|l| l.digest == *digest)
    }

    /// Appends a layer, as `cosign attest` does without `--replace` (no de-duplication).
    pub fn append(&mut self, layer: Descriptor) -> Result<(), Error> {
        self.check_room(self.layers.len() + 1)?;
        self.layers.push(layer);
        Ok(())
    }

    /// `cosign attest --replace`: the new layer first, then every existing layer whose
    /// statement's predicate type differs from `predicate_type`. `existing_types` holds, per
    /// existing layer in order, the predicate type its envelope's statement declares (the
    /// caller reads the envelopes; cosign aborts when one cannot be read).
    pub fn replace(
        &mut self,
        layer: Descriptor,
        predicate_type: &str,
        existing_types: &[String],
    ) -> Result<Vec<Replacement>, Error> {
        let mut kept = vec![layer];
        let mut report = Vec::new();
        for (existing, found) in self.layers.iter().zip(existing_types) {
            let replaced = found == predicate_type;
            report.push(Replacement {
                digest: existing.digest,
                predicate_type: found.clone(),
                replaced,
            });
            if !replaced {
                kept.push(existing.clone());
            }
        }
        // A layer without a known type is kept, never silently dropped.
        kept.extend(self.layers.iter().skip(existing_types.len()).cloned());
        self.check_room(kept.len())?;
        self.layers = kept;
        Ok(report)
    }

    fn check_room(&self, count: usize) -> Result<(), Error> {
        if count > MAX_LAYERS {
            return Err(Error::TooManyLayers { count });
        }
        Ok(())
    }

    /// The config blob and the manifest, byte for byte as cosign writes them: ggcr's empty
    /// image with one zero-time history entry and one diff ID per layer (the layers are
    /// uncompressed, so diff ID = digest), OCI media types, Go JSON.
    pub fn to_bytes(&self) -> Result<AttBytes, Error> {
        // ggcr's `empty.Image` and `mutate.Append` leave every time at Go's zero time.
        let config = ConfigFile {
            created: GoTime::ZERO,
            history: self
                .layers
                .iter()
                .map(|_| History {
                    created: GoTime::ZERO,
                    ..History::default()
                })
                .collect(),
            rootfs: RootFs {
                kind: "layers".to_owned(),
                diff_ids: self.layers.iter().map(|l| l.digest).collect(),
            },
            ..ConfigFile::default()
        };
        let config = encode(&config)?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(media_type::OCI_MANIFEST.to_owned()),
            config: Descriptor::of(media_type::OCI_CONFIG, &config),
            layers: self.layers.clone(),
            annotations: BTreeMap::new(),
            subject: None,
            artifact_type: None,
        };
        let manifest = encode(&manifest)?;
        Ok(AttBytes { config, manifest })
    }
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    json::to_vec_go(value).map_err(|source| Error::Encode { source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_layer_config_is_233_bytes() {
        let mut att = AttManifest::default();
        att.append(layer(b"{}", "https://example.com/p", &BTreeMap::new()))
            .unwrap();
        let bytes = att.to_bytes().unwrap();
        assert_eq!(bytes.config.len(), 233);
        assert!(bytes.manifest.starts_with(
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"#
        ));
    }

    #[test]
    fn replace_puts_the_new_layer_first_and_drops_the_same_type() {
        let a = layer(b"a", "A", &BTreeMap::new());
        let b = layer(b"b", "B", &BTreeMap::new());
        let c = layer(b"c", "A", &BTreeMap::new());
        let mut att = AttManifest {
            layers: vec![a.clone(), b.clone()],
        };
        let types: Vec<String> = att
            .layers
            .iter()
            .map(|l| AttManifest::annotated_predicate_type(l).unwrap().to_owned())
            .collect();
        let report = att.replace(c.clone(), "A", &types).unwrap();
        assert_eq!(att.layers, vec![c, b]);
        assert_eq!(
            report.iter().map(|r| r.replaced).collect::<Vec<_>>(),
            [true, false]
        );
    }

    #[test]
    fn refuses_the_thousand_and_first_layer() {
        let one = layer(b"x", "A", &BTreeMap::new());
        let mut att = AttManifest {
            layers: vec![one.clone(); MAX_LAYERS],
        };
        assert!(matches!(
            att.append(one),
            Err(Error::TooManyLayers { count: 1001 })
        ));
    }
}
