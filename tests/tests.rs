//! The integration test binary: one module per flow, a shared `support` harness.

mod config;
mod support;
