//! Image manifests and image indexes (`v1.Manifest`, `v1.IndexManifest`) for reading and
//! writing, and the media types that name them.
//!
//! Parse with [`Manifest::parse`] / [`Index::parse`]; unknown fields are ignored. Written
//! through `codec::json`, they give ggcr's bytes (field order, `omitempty`, `oci::go_json`):
//! the image builder writes apko's manifests and indexes with them, `attest::store` cosign's
//! `.att` manifests, referrer manifests and fallback indexes. Content read from a store is still
//! kept and pushed as the exact bytes that were hashed, never re-serialised.
//! [`media_type_of`] tells what a manifest-shaped document is when no `Content-Type` says so.
//! Pure: no I/O.
//!
//! Not for: descriptors and platforms ([`super::descriptor`]), the config ([`super::config`]).
//! Reproduces ggcr v0.21.9 `pkg/v1/manifest.go` (reference/apko-format.md §10.3–§10.5); field
//! names follow the OCI image-spec `manifest.md` and `image-index.md` (v1.1: `subject`,
//! `artifactType`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::descriptor::Descriptor;
use super::go_json::{empty, nul, optional};

/// Media types this crate names.
pub mod media_type {
    /// OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// OCI image index.
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// OCI image config.
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// gzip-compressed OCI layer.
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// The empty JSON object `{}`, config of artifacts (OCI 1.1).
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
    /// Docker schema 2 manifest.
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker manifest list.
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";

    /// Every manifest type this crate reads, as sent in `Accept`.
    pub const MANIFESTS: [&str; 4] = [
        OCI_MANIFEST,
        OCI_INDEX,
        DOCKER_MANIFEST,
        DOCKER_MANIFEST_LIST,
    ];

    /// Whether this media type is an index or manifest list (its children are manifests).
    pub fn is_index(media_type: &str) -> bool {
        media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
    }

    /// Whether this media type is an image manifest (its children are blobs).
    pub fn is_manifest(media_type: &str) -> bool {
        media_type == OCI_MANIFEST || media_type == DOCKER_MANIFEST
    }
}

/// Why a document is not the manifest or index it should be.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not JSON of the expected shape.
    #[error("not a valid {kind}")]
    Json {
        /// `image manifest` or `image index`.
        kind: &'static str,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// `schemaVersion` is not 2.
    #[error("{kind} has schemaVersion {version}, expected 2")]
    SchemaVersion {
        /// `image manifest` or `image index`.
        kind: &'static str,
        /// The version found.
        version: i64,
    },
}

/// An image manifest: one config and its layers, or an artifact (`v1.Manifest`, then the OCI
/// 1.1 `artifactType` last, where cosign's referrer manifest puts it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    #[serde(default, deserialize_with = "nul")]
    pub schema_version: i64,
    /// The manifest's own media type, when it states it.
    #[serde(default, with = "optional", skip_serializing_if = "optional::absent")]
    pub media_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layer blobs, base first (written even when empty).
    #[serde(default, deserialize_with = "nul")]
    pub layers: Vec<Descriptor>,
    /// Free-form metadata.
    #[serde(default, deserialize_with = "nul", skip_serializing_if = "empty")]
    pub annotations: BTreeMap<String, String>,
    /// The manifest this one refers to (a signature, attestation or SBOM of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// The artifact type, for artifacts.
    #[serde(default, with = "optional", skip_serializing_if = "optional::absent")]
    pub artifact_type: Option<String>,
}

impl Manifest {
    /// Parses a manifest and checks its schema version.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        parse_versioned(bytes, "image manifest", |m: &Self| m.schema_version)
    }

    /// The artifact type a referrers list gives this manifest: `artifactType`, else the config's
    /// media type (OCI distribution-spec, "Listing Referrers").
    pub fn effective_artifact_type(&self) -> &str {
        self.artifact_type
            .as_deref()
            .unwrap_or(&self.config.media_type)
    }
}

/// An image index: manifests for several platforms, or a list of referrers
/// (`v1.IndexManifest`, then `artifactType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// Always 2.
    #[serde(default, deserialize_with = "nul")]
    pub schema_version: i64,
    /// The index's own media type, when it states it.
    #[serde(default, with = "optional", skip_serializing_if = "optional::absent")]
    pub media_type: Option<String>,
    /// The manifests (or indexes) it lists (written even when empty).
    #[serde(default, deserialize_with = "nul")]
    pub manifests: Vec<Descriptor>,
    /// Free-form metadata.
    #[serde(default, deserialize_with = "nul", skip_serializing_if = "empty")]
    pub annotations: BTreeMap<String, String>,
    /// The manifest this index refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// The artifact type, for artifacts.
    #[serde(default, with = "optional", skip_serializing_if = "optional::absent")]
    pub artifact_type: Option<String>,
}

impl Index {
    /// Parses an index and checks its schema version.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        parse_versioned(bytes, "image index", |i: &Self| i.schema_version)
    }
}

/// Parses a manifest-shaped document of `kind` and checks that its schema version is 2.
fn parse_versioned<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    kind: &'static str,
    version: impl Fn(&T) -> i64,
) -> Result<T, Error> {
    let document: T =
        serde_json::from_slice(bytes).map_err(|source| Error::Json { kind, source })?;
    match version(&document) {
        2 => Ok(document),
        version => Err(Error::SchemaVersion { kind, version }),
    }
}

/// What a manifest-shaped JSON document is: its `mediaType` field, or, when it has none, an OCI
/// index if it lists `manifests` and an OCI manifest if it has a `config`. `None` for anything
/// else (a config, a layer, not JSON).
pub fn media_type_of(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Shape {
        schema_version: Option<u32>,
        media_type: Option<String>,
        manifests: Option<serde::de::IgnoredAny>,
        config: Option<serde::de::IgnoredAny>,
    }
    let shape: Shape = serde_json::from_slice(bytes).ok()?;
    shape.schema_version?;
    match (shape.media_type, shape.manifests, shape.config) {
        (Some(media_type), _, _) => Some(media_type),
        (None, Some(_), None) => Some(media_type::OCI_INDEX.into()),
        (None, None, Some(_)) => Some(media_type::OCI_MANIFEST.into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // apko's golden amd64 manifest (internal/cli/testdata/golden, 560 bytes).
    const GOLDEN_MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":658,"digest":"sha256:6c815259150f37d000417f9a93f41bddf74dff905c745986069d4b03e954ac1d"},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":3072,"digest":"sha256:c7557730da0e2d7fb242d8d1ac6dcf7e3a2439732aa5981270b4f3a02454b738"}],"annotations":{"org.opencontainers.image.created":"1970-01-01T00:00:00Z","org.opencontainers.image.title":"Title","org.opencontainers.image.vendor":"Vendor"}}"#;

    #[test]
    fn reads_apkos_golden_manifest() {
        assert_eq!(GOLDEN_MANIFEST.len(), 560);
        let manifest = Manifest::parse(GOLDEN_MANIFEST.as_bytes()).unwrap();
        assert_eq!(manifest.config.size, 658);
        assert_eq!(manifest.layers.len(), 1);
        assert_eq!(manifest.layers[0].media_type, media_type::OCI_LAYER_GZIP);
        assert_eq!(manifest.effective_artifact_type(), media_type::OCI_CONFIG);
        assert_eq!(
            manifest
                .annotations
                .get("org.opencontainers.image.title")
                .map(String::as_str),
            Some("Title")
        );
        assert_eq!(
            media_type_of(GOLDEN_MANIFEST.as_bytes()).as_deref(),
            Some(media_type::OCI_MANIFEST)
        );
    }

    #[test]
    fn reads_a_cosign_bundle_referrer() {
        // Shape from reference/cosign-attestations.md §3.2, artifactType inside config included.
        let text = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"},"layers":[],"annotations":{"dev.sigstore.bundle.content":"dsse-envelope"},"subject":{"mediaType":"application/vnd.oci.image.index.v1+json","size":765,"digest":"sha256:b5f05e6fc882c97d61c1daee566954ae6fc09924f8e152293e2b97a06092069f"},"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#;
        let manifest = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(
            manifest.effective_artifact_type(),
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
        assert_eq!(manifest.subject.map(|s| s.size), Some(765));
    }

    #[test]
    fn media_type_is_inferred_when_absent() {
        assert_eq!(
            media_type_of(br#"{"schemaVersion":2,"manifests":[]}"#).as_deref(),
            Some(media_type::OCI_INDEX)
        );
        assert_eq!(media_type_of(br#"{"architecture":"amd64"}"#), None);
        assert_eq!(media_type_of(b"\x1f\x8b"), None);
        assert!(Index::parse(br#"{"schemaVersion":1,"manifests":[]}"#).is_err());
        assert!(Manifest::parse(br#"{"schemaVersion":2}"#).is_err());
    }
}
