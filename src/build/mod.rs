//! Builds image layers and images the way apko does.
//!
//! [`fs`] is the in-memory root filesystem with apko's install rules, [`rootfs`] assembles an
//! image's filesystem in apko's order (InitDB, packages, installed database, accounts,
//! `/etc/apko.json`, path mutations, certificates, busybox links, `ld.so.cache`, …), [`walk`]
//! writes the tree as a layer tar (or feeds [`layering`]'s splitter for multi-layer images),
//! [`tar`] is the Go `archive/tar`-compatible writer, [`layer`] streams a layer's tar through
//! the diff_id hash and the compressor into a blob, [`layering`] groups packages into layers
//! and splits a walk among them, [`image`] assembles configs, manifests and indexes as
//! go-containerregistry encodes them and writes OCI layouts. [`pipeline`] runs all of it, from
//! a configuration (and optionally a lock file) to an image index: the entry point for
//! commands.
//!
//! Not for: reading repositories or packages (`apk`), compressing layers (`compress`).

pub mod fs;
pub mod image;
pub mod layer;
pub mod layering;
pub mod pipeline;
pub mod predicate;
pub mod rootfs;
pub mod walk;
