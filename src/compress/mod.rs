//! Layer compression that reproduces apko's gzip bytes (pgzip over klauspost flate level 5).
