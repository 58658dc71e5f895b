//! OCI objects as apko and go-containerregistry write them.
//!
//! This module will own image references, the registry client, the OCI image layout and the
//! Go-compatible JSON encoding every hashed JSON byte goes through. For now it holds only that
//! encoding ([`json`]).
//!
//! Not for: the apko image configuration model (`config`), which uses [`json`] to serialise.
//! Reproduces reference/apko-format.md §10.

pub mod json;
