//! Tests for the apk_archive flow.
