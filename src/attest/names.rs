//! The names cosign stores attestations under: tag suffixes, media types and annotation keys,
//! shared by the writer (`attest` storage) and the reader (discovery, `download`, `verify`).
//!
//! Not for: in-toto or DSSE names ([`super::statement`], [`super::dsse`]) or the bundle media
//! type ([`super::bundle::BUNDLE_V03_MEDIA_TYPE`]).

/// Legacy storage: the tag suffix after `sha256-<hex>`.
pub const ATTESTATION_TAG_SUFFIX: &str = "att";
/// Legacy storage: the media type of each attestation layer (a DSSE envelope).
pub const DSSE_LAYER_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Legacy layer annotation: the signature (empty for attestations).
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Legacy layer annotation: the statement's predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// Legacy layer annotation: the PEM leaf certificate (keyless).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Legacy layer annotation: the PEM chain above the leaf.
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Legacy layer annotation: the Rekor bundle (SET) JSON.
pub const REKOR_BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// Legacy layer annotation: an RFC 3161 timestamp.
pub const RFC3161_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";
/// Bundle storage: the empty config blob's media type.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// Bundle storage: the empty config blob, `{}`.
pub const EMPTY_BLOB: &[u8] = b"{}";
/// Bundle manifest annotation: what the bundle carries (`dsse-envelope`).
pub const BUNDLE_CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
/// Bundle manifest annotation: the predicate type.
pub const BUNDLE_PREDICATE_TYPE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
/// Bundle manifest annotation: when the attestation was made (RFC 3339).
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// The legacy attestation tag of an image digest: `sha256-<hex>.att`.
pub fn attestation_tag(subject: &crate::oci::Digest) -> String {
    format!(
        "{}.{ATTESTATION_TAG_SUFFIX}",
        crate::oci::reference::referrers_tag(subject)
    )
}
