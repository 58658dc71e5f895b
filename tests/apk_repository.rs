//! Tests for the apk_repository flow.
