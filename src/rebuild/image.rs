//! One side of a comparison: an image (index or single manifest) read from a [`Store`], with
//! each platform's manifest and config bytes checked against their digests.
//!
//! Layers are not read here: [`super::compare`] streams them when it needs them.
//!
//! Not for: choosing which images to compare (the caller), comparing them ([`super::compare`]).

use serde_json::Value;

use super::Error;
use crate::oci::manifest::{self, media_type};
use crate::oci::{Descriptor, Digest, Index, Manifest, Platform, Store};

/// An image to compare: where it is, which root, and whether its layers need checking.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// Where its manifests and blobs are.
    pub store: &'a Store,
    /// The digest of its image index or manifest.
    pub root: Digest,
    /// Whether its layers can be taken as described by its config (an image this process
    /// just built). An untrusted side's layers are streamed, digest-checked and decompressed
    /// strictly; a trusted side's are only read for a file-tree diff.
    pub trusted: bool,
}

/// The root and every platform of one side.
#[derive(Debug)]
pub(super) struct Image {
    /// The root's descriptor (digest, media type, size of the exact bytes).
    pub root: Descriptor,
    /// The root as JSON, for the index-level diff.
    pub root_json: Value,
    /// Whether the root is an index.
    pub is_index: bool,
    /// The platforms, in the index's order.
    pub platforms: Vec<PlatformImage>,
}

/// One platform's manifest and config.
#[derive(Debug)]
pub(super) struct PlatformImage {
    /// `os/architecture[/variant]`.
    pub key: String,
    /// The manifest's descriptor.
    pub descriptor: Descriptor,
    /// The manifest as JSON.
    pub manifest_json: Value,
    /// The parsed manifest.
    pub manifest: Manifest,
    /// The config as JSON.
    pub config_json: Value,
    /// The config's `rootfs.diff_ids`.
    pub diff_ids: Vec<Digest>,
}

/// `os/architecture[/variant]`, the key platforms are matched by.
pub fn platform_key(platform: &Platform) -> String {
    match &platform.variant {
        Some(variant) if !variant.is_empty() => {
            format!("{}/{}/{variant}", platform.os, platform.architecture)
        }
        _ => format!("{}/{}", platform.os, platform.architecture),
    }
}

impl Image {
    /// Reads the root and every platform's manifest and config from `store`.
    pub fn read(store: &Store, root: &Digest) -> Result<Image, Error> {
        let raw = store.manifest(root).map_err(|source| Error::Store {
            store: store.name(),
            digest: *root,
            source: Box::new(source),
        })?;
        let root_json = parse_json(store, root, "manifest", &raw.bytes)?;
        let kind = manifest::media_type_of(&raw.bytes).unwrap_or(raw.descriptor.media_type.clone());
        let descriptor = Descriptor::new(kind.clone(), raw.bytes.len() as u64, *root);
        if media_type::is_index(&kind) {
            let index = Index::parse(&raw.bytes).map_err(|source| Error::Manifest {
                store: store.name(),
                digest: *root,
                source,
            })?;
            let mut platforms = Vec::new();
            for child in &index.manifests {
                if !media_type::is_manifest(&child.media_type) {
                    return Err(Error::NestedIndex {
                        store: store.name(),
                        digest: child.digest,
                    });
                }
                platforms.push(PlatformImage::read(store, child)?);
            }
            Ok(Image {
                root: descriptor,
                root_json,
                is_index: true,
                platforms,
            })
        } else {
            let platform = PlatformImage::read(store, &descriptor)?;
            Ok(Image {
                root: descriptor,
                root_json,
                is_index: false,
                platforms: vec![platform],
            })
        }
    }

    /// The platform keys, in order.
    pub fn keys(&self) -> Vec<String> {
        self.platforms.iter().map(|p| p.key.clone()).collect()
    }

    /// The platform with this key.
    pub fn platform(&self, key: &str) -> Option<&PlatformImage> {
        self.platforms.iter().find(|p| p.key == key)
    }
}

impl PlatformImage {
    fn read(store: &Store, descriptor: &Descriptor) -> Result<PlatformImage, Error> {
        let digest = descriptor.digest;
        let raw = store.manifest(&digest).map_err(|source| Error::Store {
            store: store.name(),
            digest,
            source: Box::new(source),
        })?;
        let manifest = Manifest::parse(&raw.bytes).map_err(|source| Error::Manifest {
            store: store.name(),
            digest,
            source,
        })?;
        let manifest_json = parse_json(store, &digest, "manifest", &raw.bytes)?;
        let config_digest = manifest.config.digest;
        let config = store
            .read_blob(&config_digest)
            .map_err(|source| Error::Store {
                store: store.name(),
                digest: config_digest,
                source: Box::new(source),
            })?;
        let config_json = parse_json(store, &config_digest, "config", &config)?;
        let diff_ids = diff_ids(&config_json).ok_or_else(|| Error::Config {
            store: store.name(),
            digest: config_digest,
            what: "rootfs.diff_ids is missing or holds something other than digests",
        })?;
        let key = match &descriptor.platform {
            Some(platform) => platform_key(platform),
            None => config_platform(&config_json),
        };
        Ok(PlatformImage {
            key,
            descriptor: Descriptor::new(
                descriptor.media_type.clone(),
                raw.bytes.len() as u64,
                digest,
            ),
            manifest_json,
            manifest,
            config_json,
            diff_ids,
        })
    }
}

fn parse_json(
    store: &Store,
    digest: &Digest,
    what: &'static str,
    bytes: &[u8],
) -> Result<Value, Error> {
    serde_json::from_slice(bytes).map_err(|source| Error::Json {
        store: store.name(),
        digest: *digest,
        what,
        source,
    })
}

fn diff_ids(config: &Value) -> Option<Vec<Digest>> {
    config
        .get("rootfs")?
        .get("diff_ids")?
        .as_array()?
        .iter()
        .map(|id| Digest::parse(id.as_str()?).ok())
        .collect()
}

/// The platform a single-manifest image's config names.
fn config_platform(config: &Value) -> String {
    let field = |name: &str| {
        config
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("unknown")
    };
    let mut key = format!("{}/{}", field("os"), field("architecture"));
    if let Some(variant) = config
        .get("variant")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
    {
        key.push('/');
        key.push_str(variant);
    }
    key
}
