//! What the audit needs of the published image before it rebuilds: the platforms asked for
//! (checked against the image, turned into apko architectures), and the root's creation time
//! and platform manifests, read once.
//!
//! Not for: comparing the images ([`crate::rebuild::compare`]), checking the published layers
//! ([`super::overlap`]).

use super::Error;
use crate::build::image::GoTime;
use crate::oci::{Digest, Store};

/// The index annotation apko records the creation time in.
const CREATED: &str = "org.opencontainers.image.created";

/// What the rebuild needs of the published root.
pub(super) struct Published {
    /// Its `created` annotation, when it has one that parses.
    pub created: Option<GoTime>,
    /// The digests of its platform manifests (the root itself when it is one manifest): a
    /// rebuild whose every image is among them reproduces what was published.
    pub manifests: Vec<Digest>,
}

impl Published {
    /// Reads the root; what cannot be read is simply not known (the comparison reports it).
    pub fn read(store: &Store, root: &Digest) -> Published {
        let Ok(raw) = store.manifest(root) else {
            return Published {
                created: None,
                manifests: Vec::new(),
            };
        };
        let created = serde_json::from_slice::<serde_json::Value>(&raw.bytes)
            .ok()
            .and_then(|json| {
                let created = json.get("annotations")?.get(CREATED)?.as_str()?;
                GoTime::parse_rfc3339(created).ok()
            });
        let manifests = match crate::oci::manifest::Index::parse(&raw.bytes) {
            Ok(index) if !index.manifests.is_empty() => index
                .manifests
                .iter()
                .map(|descriptor| descriptor.digest)
                .collect(),
            _ => vec![*root],
        };
        Published { created, manifests }
    }
}

/// `linux/amd64` → `amd64`, `linux/arm/v7` → `arm/v7` (apko's canonical architecture names are
/// the OCI platform without the OS).
pub(super) fn archs(platforms: &[String]) -> Result<Vec<String>, Error> {
    platforms
        .iter()
        .map(|platform| match platform.split_once('/') {
            Some((os, arch)) if !os.is_empty() && !arch.is_empty() => Ok(arch.to_owned()),
            _ => Err(Error::Platform {
                platform: platform.clone(),
            }),
        })
        .collect()
}

/// Fails unless every one of `platforms` is in the image `root`.
pub(super) fn check_platforms(
    store: &Store,
    image: &str,
    root: &Digest,
    platforms: &[String],
) -> Result<(), Error> {
    if platforms.is_empty() {
        return Ok(());
    }
    let found = crate::rebuild::platforms(store, root).map_err(|source| Error::Compare {
        image: image.to_owned(),
        source: Box::new(source),
    })?;
    match platforms.iter().find(|p| !found.contains(p)) {
        Some(missing) => Err(Error::PlatformMissing {
            platform: missing.clone(),
            image: image.to_owned(),
            found: found.join(", "),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_become_apko_architectures() {
        let platforms = ["linux/amd64", "linux/arm/v7"].map(String::from);
        assert_eq!(archs(&platforms).unwrap(), ["amd64", "arm/v7"]);
        assert!(archs(&["amd64".to_owned()]).is_err());
        assert!(archs(&["linux/".to_owned()]).is_err());
    }
}
