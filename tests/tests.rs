//! The integration test binary: one module per flow, a shared `support` harness.

mod compress;
mod support;
