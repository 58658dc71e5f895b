//! Verifying an image's attestations: discovery with cosign v3's precedence, every candidate
//! verified, then the exact predicate-type filter.
//!
//! Not for: single-candidate checks ([`super::verify_bundle`], [`super::verify_legacy`]).
