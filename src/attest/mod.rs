//! cosign attestations: in-toto statements, DSSE envelopes, cosign key formats and Sigstore
//! bundles, written so that a real cosign verifies them and read the way cosign reads them.
//!
//! Not for: registries and OCI storage of attestations, certificates, transparency logs (later
//! modules). Reproduces reference/cosign-attestations.md §3.5, §4, §5, §11 and §12 A.

pub mod bundle;
pub mod dsse;
pub mod fetch;
pub mod key;
pub mod names;
pub mod statement;
pub mod verify;
