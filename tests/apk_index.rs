//! Tests for the apk_index flow.
