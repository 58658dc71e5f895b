//! receipts: reproducible apko images, checkable by anyone.
//!
//! The library behind two thin binaries: `oras-lock` pins a floating apko configuration at
//! release time, and `cosign-rebuild` builds, attests and audits images from a locked one.
//!
//! Module map (data flows top to bottom):
//!
//! | module | owns |
//! |---|---|
//! | [`config`] | apko's image configuration (YAML/JSON, `include`, checksum, merge, validation) and `apko.lock.json` |
//! | [`apk`] | versions and constraints, APKINDEX, .apk v2 packages, keyrings, repositories, the solver, the installed database |
//! | [`lock`] | locking at release time: resolve every arch, unify, the locked configuration and apko.lock.json, show-packages, drift check |
//! | [`build`] | the Go-compatible tar writer and reader (later: the root filesystem, apko's own files, image assembly) |
//! | [`compress`] | the pgzip-compatible layer compressor and a strict gzip reader |
//! | [`attest`] | in-toto statements, DSSE envelopes, cosign key formats, Sigstore bundles; later storage and verification |
//! | [`oci`] | OCI objects: references, registry, layout (to come) and Go-compatible JSON encoding |
//! | [`cli`] | argument definitions and the glue each binary runs; nothing else uses it |
#![warn(missing_docs)]

pub mod apk;
pub mod attest;
pub mod build;
pub mod cli;
pub mod compress;
pub mod config;
pub mod lock;
pub mod oci;
