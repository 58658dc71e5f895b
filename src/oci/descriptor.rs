//! Descriptors: the (media type, size, digest) triple by which manifests, indexes and layouts
//! point at content, with optional data, URLs, annotations, platform and artifact type; and the
//! platform of an image (`v1.Descriptor`, `v1.Platform`).
//!
//! One type for reading and writing: field order, `omitempty` and `null` handling are ggcr's
//! (`oci::go_json`), so a descriptor read from a registry, a layout or a base image and
//! written back through `codec::json` gives Go's bytes. Unknown fields are ignored on reading.
//! Pure: no I/O.
//!
//! Not for: the digest itself ([`super::digest`]); manifests and indexes ([`super::manifest`]).
//! Reproduces ggcr v0.21.9 `pkg/v1/manifest.go` `Descriptor` and `pkg/v1/platform.go`
//! (reference/apko-format.md §10.4).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::go_json::{base64_bytes, empty, nul, optional};

/// The annotation that names a tag inside an OCI layout's `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// A pointer to content: what it is, how big, and its digest (`v1.Descriptor`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type of the content pointed at.
    #[serde(default, deserialize_with = "nul")]
    pub media_type: String,
    /// Its size in bytes.
    #[serde(default, deserialize_with = "nul")]
    pub size: u64,
    /// Its digest.
    pub digest: Digest,
    /// The content itself, when embedded (base64 in JSON).
    #[serde(default, with = "base64_bytes", skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<u8>,
    /// Other places the content may be fetched from.
    #[serde(default, deserialize_with = "nul", skip_serializing_if = "empty")]
    pub urls: Vec<String>,
    /// Free-form metadata; sorted by key, as Go writes maps.
    #[serde(default, deserialize_with = "nul", skip_serializing_if = "empty")]
    pub annotations: BTreeMap<String, String>,
    /// The platform an image manifest is for, in an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The artifact type of the manifest pointed at (OCI 1.1; an image's config media type in
    /// apko's indexes).
    #[serde(default, with = "optional", skip_serializing_if = "optional::absent")]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// A descriptor with only the three required fields.
    pub fn new(media_type: impl Into<String>, size: u64, digest: Digest) -> Self {
        Self {
            media_type: media_type.into(),
            size,
            digest,
            data: Vec::new(),
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        }
    }

    /// The descriptor of `bytes` with this media type.
    pub fn of(media_type: impl Into<String>, bytes: &[u8]) -> Self {
        Self::new(media_type, bytes.len() as u64, Digest::of(bytes))
    }

    /// The same media type, size and digest, without anything else (what a HEAD request
    /// describes, and what cosign puts in a referrer's `subject`).
    pub fn bare(&self) -> Self {
        Self::new(self.media_type.clone(), self.size, self.digest)
    }

    /// The tag an OCI layout gives this descriptor (`org.opencontainers.image.ref.name`).
    pub fn ref_name(&self) -> Option<&str> {
        self.annotations.get(REF_NAME).map(String::as_str)
    }
}

/// The platform of an image (`v1.Platform`): in an index entry, or derived from an
/// architecture (`config::arch`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture in Go's spelling (`amd64`, `arm64`, …).
    #[serde(default, deserialize_with = "nul")]
    pub architecture: String,
    /// Operating system in Go's spelling (`linux`).
    #[serde(default, deserialize_with = "nul")]
    pub os: String,
    /// Operating system version.
    #[serde(
        rename = "os.version",
        default,
        with = "optional",
        skip_serializing_if = "optional::absent"
    )]
    pub os_version: Option<String>,
    /// Required operating system features.
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "nul",
        skip_serializing_if = "empty"
    )]
    pub os_features: Vec<String>,
    /// CPU variant (`v7` for arm/v7).
    #[serde(default, with = "optional", skip_serializing_if = "optional::absent")]
    pub variant: Option<String>,
    /// Required CPU features.
    #[serde(default, deserialize_with = "nul", skip_serializing_if = "empty")]
    pub features: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_apko_index_entry_and_writes_it_in_ggcr_order() {
        // The amd64 entry of apko's golden index.json (internal/cli/testdata/golden).
        let text = r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":560,"digest":"sha256:69f0237c7f8cf0b8a329d1bf1d6870c870c4ec323e39d3a6da59596632d0f2f4","platform":{"architecture":"amd64","os":"linux"},"artifactType":"application/vnd.oci.image.config.v1+json"}"#;
        let descriptor: Descriptor = serde_json::from_str(text).unwrap();
        assert_eq!(descriptor.size, 560);
        assert_eq!(
            descriptor
                .platform
                .as_ref()
                .map(|p| p.architecture.as_str()),
            Some("amd64")
        );
        assert_eq!(serde_json::to_string(&descriptor).unwrap(), text);
    }

    #[test]
    fn unknown_fields_are_ignored_and_bad_digests_refused() {
        let text = r#"{"mediaType":"x","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","future":1,"annotations":{"org.opencontainers.image.ref.name":"v1"}}"#;
        let descriptor: Descriptor = serde_json::from_str(text).unwrap();
        assert_eq!(descriptor.ref_name(), Some("v1"));
        assert_eq!(descriptor.digest, Digest::of(b"{}"));
        let bad = r#"{"mediaType":"x","size":2,"digest":"md5:00"}"#;
        assert!(serde_json::from_str::<Descriptor>(bad).is_err());
        let negative = r#"{"mediaType":"x","size":-1,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}"#;
        assert!(serde_json::from_str::<Descriptor>(negative).is_err());
    }
}
