//! Catalogue audits (`cosign-rebuild catalog audit` / `catalog report`): bad catalogues, a
//! small catalogue end to end (verdicts, errors, resumption, verification summaries checked by
//! our verifier and securesystemslib, the merged report in JSON, JUnit XML and HTML loaded in
//! headless Chromium), the shared package cache hammered by several processes, the examples
//! against the real Kubernetes and GitHub workflow schemas, and a scale simulation (sharded,
//! one shard killed and restarted).

mod audit;
mod cache;
mod examples;
mod fixture;
mod scale;
mod tools;
