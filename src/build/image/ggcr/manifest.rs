//! Descriptors, platforms, manifests and indexes (`v1.Descriptor`, `v1.Platform`,
//! `v1.Manifest`, `v1.IndexManifest`) in ggcr's field order.
//!
//! Not for: the config (`config`). Reproduces ggcr v0.21.9 `pkg/v1/manifest.go`,
//! `pkg/v1/platform.go`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{base64_bytes, empty, nul};
use crate::oci::Digest;

/// A content descriptor (`v1.Descriptor`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the content.
    #[serde(default, deserialize_with = "nul")]
    pub media_type: String,
    /// Size in bytes.
    #[serde(default, deserialize_with = "nul")]
    pub size: u64,
    /// SHA-256 of the content.
    pub digest: Digest,
    /// Embedded content.
    #[serde(default, with = "base64_bytes", skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<u8>,
    /// Alternative locations.
    #[serde(default, deserialize_with = "nul", skip_serializing_if = "empty")]
    pub urls: Vec<String>,
    /// Annotations.
    #[serde(default, deserialize_with = "nul", skip_serializing_if = "empty")]
    pub annotations: BTreeMap<String, String>,
    /// Platform of a manifest in an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Artifact type (an image's config media type, in apko's indexes).
    #[serde(default, deserialize_with = "nul", skip_serializing_if = "empty")]
    pub artifact_type: String,
}

impl Descriptor {
    /// A descriptor with only media type, size and digest.
    pub fn new(media_type: &str, size: u64, digest: Digest) -> Descriptor {
        Descriptor {
            media_type: media_type.to_owned(),
            size,
            digest,
            data: Vec::new(),
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: String::new(),
        }
    }
}

/// A platform (`v1.Platform`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Platform {
    /// CPU architecture.
    #[serde(deserialize_with = "nul")]
    pub architecture: String,
    /// Operating system.
    #[serde(deserialize_with = "nul")]
    pub os: String,
    /// OS version.
    #[serde(
        rename = "os.version",
        deserialize_with = "nul",
        skip_serializing_if = "empty"
    )]
    pub os_version: String,
    /// OS features.
    #[serde(
        rename = "os.features",
        deserialize_with = "nul",
        skip_serializing_if = "empty"
    )]
    pub os_features: Vec<String>,
    /// CPU variant.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub variant: String,
    /// CPU features.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub features: Vec<String>,
}

/// An image manifest (`v1.Manifest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    #[serde(default, deserialize_with = "nul")]
    pub schema_version: i64,
    /// The manifest's media type.
    #[serde(default, deserialize_with = "nul", skip_serializing_if = "empty")]
    pub media_type: String,
    /// The config blob.
    pub config: Descriptor,
    /// The layer blobs, bottom first (written even when empty).
    #[serde(default, deserialize_with = "nul")]
    pub layers: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, deserialize_with = "nul", skip_serializing_if = "empty")]
    pub annotations: BTreeMap<String, String>,
    /// The manifest this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Box<Descriptor>>,
    /// Artifact type.
    #[serde(default, deserialize_with = "nul", skip_serializing_if = "empty")]
    pub artifact_type: String,
}

/// An image index (`v1.IndexManifest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexManifest {
    /// Always 2.
    #[serde(default, deserialize_with = "nul")]
    pub schema_version: i64,
    /// The index's media type.
    #[serde(default, deserialize_with = "nul", skip_serializing_if = "empty")]
    pub media_type: String,
    /// The manifests (written even when empty).
    #[serde(default, deserialize_with = "nul")]
    pub manifests: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, deserialize_with = "nul", skip_serializing_if = "empty")]
    pub annotations: BTreeMap<String, String>,
    /// The index this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Box<Descriptor>>,
    /// Artifact type.
    #[serde(default, deserialize_with = "nul", skip_serializing_if = "empty")]
    pub artifact_type: String,
}
