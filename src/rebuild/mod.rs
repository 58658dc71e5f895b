//! The audit: compare a rebuilt image with a published one (identical, equivalent or
//! different), diff manifests, configs and layer file trees, and report.
//!
//! Not for: building ([`crate::build`]) or verifying attestations ([`crate::attest`]).
