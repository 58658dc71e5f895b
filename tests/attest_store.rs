//! Attestation storage: the `.att` manifest and the bundle referrer byte for byte against the
//! documents assembled around cosign's real fixture (test-data.md §8.2), then attaching to a
//! real registry (Debian's distribution 2.8, no referrers API) and to OCI layouts, through the
//! library and through the `cosign-rebuild` binary, with skopeo, securesystemslib and
//! sigstore-js reading what was written.

mod cli;
mod documents;
mod referrers_api;
mod storage;
