//! Tests for the apk_solver flow.
