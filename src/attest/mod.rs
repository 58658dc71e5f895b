//! cosign attestations: in-toto statements, DSSE envelopes, cosign key formats and Sigstore
//! bundles, written so that a real cosign verifies them and read the way cosign reads them;
//! [`sign`] gets a signature certified (Fulcio), logged (Rekor) and timestamped (RFC 3161)
//! before [`store`] attaches it to images in registries and OCI layouts (legacy `.att` manifests
//! and bundle referrers), [`fetch`] discovers them again with cosign v3's precedence, and
//! [`verify`] checks them offline (keys, certificates and identities, Rekor and CT evidence,
//! trusted roots); [`tuf`] obtains the trusted root from Sigstore's TUF repository.
//!
//! Not for: the registry and layout primitives (`oci`).

pub mod bundle;
pub mod dsse;
pub mod fetch;
pub mod key;
pub mod names;
pub mod sign;
pub mod statement;
pub mod store;
pub mod tuf;
pub mod verify;
