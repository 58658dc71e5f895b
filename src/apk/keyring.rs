//! Trusted signing keys, looked up by file name.
