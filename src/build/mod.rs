//! Builds image layers the way apko does.
//!
//! [`fs`] is the in-memory root filesystem with apko's install rules, [`rootfs`] assembles an
//! image's filesystem in apko's order (InitDB, packages, installed database, accounts,
//! `/etc/apko.json`, path mutations, certificates, busybox links, `ld.so.cache`, …), [`walk`]
//! writes the tree as a layer tar with [`tar`], the Go `archive/tar`-compatible writer.
//!
//! Not for: reading repositories or packages (`apk`), compressing layers (`compress`).

pub mod fs;
pub mod rootfs;
pub mod tar;
pub mod walk;
