//! Tests for the apk_installed flow.
