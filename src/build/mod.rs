//! Builds image layers the way apko does.
//!
//! `build` will own the root filesystem (packages installed into an in-memory tree), the files
//! apko writes itself, the tar writer and the assembly of configs, manifests and indexes. For
//! now it holds the tar writer, which the installed database needs for `scripts.tar`.
//!
//! Not for: reading repositories or packages (`apk`), compressing layers (`compress`).

pub mod tar;
