//! Bundle storage documents: the OCI 1.1 referrer manifest cosign v3 writes around one Sigstore
//! bundle, and the `sha256-<hex>` fallback index registries without the referrers API need.
//!
//! Both are rendered as go-containerregistry renders them (Go JSON, its struct order, the
//! `artifactType` quirk inside the config descriptor); the fallback index is extended the way
//! ggcr's `commitSubjectReferrers` does (append unless present, sort by digest, keep everything
//! else). Pure: no I/O, no clock (the caller passes the creation time).
//!
//! Not for: pushing ([`super`]), listing or reading referrers (`oci::Store::referrers`,
//! `attest::fetch`). Reproduces reference/cosign-attestations.md §3.2–§3.3 and the bytes of
//! `derived/cosign/referrer.manifest.json` and `referrers-fallback-tag.index.json` (§15).

use std::collections::BTreeMap;

use crate::attest::bundle::BUNDLE_V03_MEDIA_TYPE;
use crate::attest::names::{
    BUNDLE_CONTENT_ANNOTATION, BUNDLE_PREDICATE_TYPE_ANNOTATION, CREATED_ANNOTATION, EMPTY_BLOB,
    EMPTY_MEDIA_TYPE,
};
use crate::codec::json;
use crate::oci::Descriptor;
use crate::oci::manifest::{self, Index, Manifest, media_type};

/// What `dev.sigstore.bundle.content` says for an attestation.
pub const DSSE_ENVELOPE_CONTENT: &str = "dsse-envelope";

/// Why a referrer document cannot be built or extended.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The existing fallback index does not parse.
    #[error("referrers fallback index is not a valid image index")]
    Index {
        /// The parser's complaint.
        #[source]
        source: manifest::Error,
    },
    /// The existing fallback tag names something other than an OCI index (ggcr refuses it too).
    #[error("referrers fallback tag holds {media_type:?}, not an OCI image index")]
    NotAnIndex {
        /// The media type found.
        media_type: Option<String>,
    },
    /// JSON encoding failed.
    #[error("cannot encode the referrer document")]
    Encode {
        /// The encoder's complaint.
        #[source]
        source: json::Error,
    },
}

/// The descriptor of the empty config blob `{}`.
pub fn empty_config() -> Descriptor {
    Descriptor::of(EMPTY_MEDIA_TYPE, EMPTY_BLOB)
}

/// The descriptor of a bundle layer: v0.3 media type, no annotations.
pub fn bundle_layer(bundle: &[u8]) -> Descriptor {
    Descriptor::of(BUNDLE_V03_MEDIA_TYPE, bundle)
}

/// The referrer manifest cosign `WriteAttestationNewBundleFormat` writes: empty config (with
/// `artifactType`), the bundle as the only layer, annotations content / predicate type /
/// creation time (RFC 3339 UTC), `subject` = the image as a HEAD request describes it.
pub fn manifest(
    bundle_layer: &Descriptor,
    subject: &Descriptor,
    predicate_type: &str,
    created: &str,
) -> Result<Vec<u8>, Error> {
    let mut config = empty_config();
    config.artifact_type = Some(BUNDLE_V03_MEDIA_TYPE.to_owned());
    let annotations = BTreeMap::from([
        (
            BUNDLE_CONTENT_ANNOTATION.to_owned(),
            DSSE_ENVELOPE_CONTENT.to_owned(),
        ),
        (
            BUNDLE_PREDICATE_TYPE_ANNOTATION.to_owned(),
            predicate_type.to_owned(),
        ),
        (CREATED_ANNOTATION.to_owned(), created.to_owned()),
    ]);
    // cosign's `referrerManifest` is ggcr's `v1.Manifest` followed by `artifactType`.
    let document = Manifest {
        schema_version: 2,
        media_type: Some(media_type::OCI_MANIFEST.to_owned()),
        config,
        layers: vec![bundle_layer.clone()],
        annotations,
        subject: Some(subject.bare()),
        artifact_type: Some(BUNDLE_V03_MEDIA_TYPE.to_owned()),
    };
    json::to_vec_go(&document).map_err(|source| Error::Encode { source })
}

/// The entry ggcr adds to a fallback index for a referrer manifest: media type, size, digest
/// and artifact type, no annotations.
pub fn fallback_entry(manifest: &[u8]) -> Descriptor {
    let mut entry = Descriptor::of(media_type::OCI_MANIFEST, manifest);
    entry.artifact_type = Some(BUNDLE_V03_MEDIA_TYPE.to_owned());
    entry
}

/// The fallback index with `entry` added, or `None` when it lists that digest already. Absent
/// (`existing` = `None`), a new index is started. Other entries, annotations and subject are
/// kept; entries are sorted by digest string, as ggcr does.
pub fn add_to_fallback_index(
    existing: Option<&[u8]>,
    entry: Descriptor,
) -> Result<Option<Vec<u8>>, Error> {
    let mut index = match existing {
        None => Index {
            schema_version: 2,
            media_type: Some(media_type::OCI_INDEX.to_owned()),
            manifests: Vec::new(),
            annotations: BTreeMap::new(),
            subject: None,
            artifact_type: None,
        },
        Some(bytes) => {
            let index = Index::parse(bytes).map_err(|source| Error::Index { source })?;
            if index.media_type.as_deref() != Some(media_type::OCI_INDEX) {
                return Err(Error::NotAnIndex {
                    media_type: index.media_type,
                });
            }
            index
        }
    };
    if index.manifests.iter().any(|m| m.digest == entry.digest) {
        return Ok(None);
    }
    index.manifests.push(entry);
    index.manifests.sort_by_key(|m| m.digest.to_string());
    // Written as this writer always wrote it: schema 2 and the OCI media type (both checked
    // above), manifests, annotations and subject; an index-level `artifactType` is not kept.
    index.schema_version = 2;
    index.artifact_type = None;
    json::to_vec_go(&index)
        .map(Some)
        .map_err(|source| Error::Encode { source })
}

/// Seconds since the Unix epoch as Go's `time.RFC3339` in UTC: `2025-02-28T19:18:12Z`.
pub fn rfc3339_utc(seconds: u64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_as_go_rfc3339() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_740_770_292), "2025-02-28T19:18:12Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn fallback_index_sorts_and_skips_duplicates() {
        let a = fallback_entry(b"a");
        let b = fallback_entry(b"b");
        let first = add_to_fallback_index(None, a.clone()).unwrap().unwrap();
        let second = add_to_fallback_index(Some(&first), b.clone())
            .unwrap()
            .unwrap();
        let index = Index::parse(&second).unwrap();
        let mut want = vec![a.digest, b.digest];
        want.sort_by_key(|d| d.to_string());
        assert_eq!(
            index.manifests.iter().map(|m| m.digest).collect::<Vec<_>>(),
            want
        );
        assert!(add_to_fallback_index(Some(&second), a).unwrap().is_none());
    }

    #[test]
    fn fallback_tag_must_hold_an_oci_index() {
        let docker = br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]}"#;
        assert!(matches!(
            add_to_fallback_index(Some(docker), fallback_entry(b"a")),
            Err(Error::NotAnIndex { .. })
        ));
    }
}
