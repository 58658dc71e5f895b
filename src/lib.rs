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
//! | [`build`] | the in-memory root filesystem and its assembly in apko's order, the layer walk, the Go-compatible tar writer and reader, layers (tar → diff_id → pgzip → blob), apko's layering, image config, manifest, index and OCI layout output |
//! | [`compress`] | the pgzip-compatible layer compressor and a strict gzip reader |
//! | [`attest`] | in-toto statements, DSSE envelopes, cosign key formats, Sigstore bundles; finding and verifying attestations |
//! | [`oci`] | shared OCI nouns (digest, descriptor, reference), OCI layout, registry client, Go-compatible JSON |
//! | [`rebuild`] | the audit: compare (identical, equivalent, different), diff, report |
//! | [`scratch`] | temporary files and directories: locked, removed on drop and on SIGINT/SIGTERM, swept by a later run after a kill |
//! | [`progress`] | a facade for byte counts of long work (downloads, installs, compression, pushes, pulls, comparisons): library code starts tasks, the CLI installs the reporter that shows them |
//! | [`parallel`] | an ordered parallel map for batches of I/O-bound jobs (package fetches and reads), and a byte budget for what jobs running at once hold in memory |
//! | [`cli`] | argument definitions and the glue each binary runs; nothing else uses it |
#![warn(missing_docs)]

pub mod apk;
pub mod attest;
pub mod build;
pub mod cli;
pub mod codec;
pub mod compress;
pub mod config;
pub mod lock;
pub mod oci;
pub mod parallel;
pub mod progress;
pub mod rebuild;
pub mod scratch;
