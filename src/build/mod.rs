//! Builds image layers and images the way apko does.
//!
//! [`tar`] is the Go `archive/tar`-compatible writer, [`layer`] streams a layer's tar through
//! the diff_id hash and the compressor into a blob, [`layering`] groups packages into layers
//! and splits a walk among them, [`image`] assembles configs, manifests and indexes as
//! go-containerregistry encodes them and writes OCI layouts. The root filesystem is still to
//! come.
//!
//! Not for: reading repositories or packages (`apk`), compressing layers (`compress`).

pub mod image;
pub mod layer;
pub mod layering;
pub mod tar;
