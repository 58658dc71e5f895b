//! The integration test binary: one module per flow, a shared `support` harness.

mod apk_version;
mod support;
