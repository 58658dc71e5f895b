//! cosign attestations: in-toto statements, DSSE envelopes, cosign key formats and Sigstore
//! bundles, written so that a real cosign verifies them and read the way cosign reads them.
//!
//! Finding attestations ([`fetch`]) and verifying them offline ([`verify`]: certificates,
//! transparency log, SCTs, identity policy) live here too.
//!
//! Not for: registry and layout access ([`crate::oci`]). Reproduces
//! reference/cosign-attestations.md §3–§8, §11 and §12.

pub mod bundle;
pub mod dsse;
pub mod fetch;
pub mod key;
pub mod names;
pub mod statement;
pub mod verify;
