//! cosign attestations: in-toto statements, DSSE envelopes, cosign key formats and Sigstore
//! bundles, written so that a real cosign verifies them and read the way cosign reads them;
//! [`store`] attaches them to images in registries and OCI layouts (legacy `.att` manifests
//! and bundle referrers).
//!
//! Not for: the registry and layout primitives (`oci`), certificates, transparency logs (later
//! modules). Reproduces reference/cosign-attestations.md §2, §3, §4, §5, §11 and §12 A.

pub mod bundle;
pub mod dsse;
pub mod key;
pub mod names;
pub mod statement;
pub mod store;
