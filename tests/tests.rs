//! The integration test binary: one module per flow, a shared `support` harness.

mod apk_archive;
mod apk_index;
mod apk_installed;
mod apk_repository;
mod apk_solver;
mod apk_version;
mod attest;
mod attest_store;
mod attest_verify;
mod build_command;
mod build_image;
mod build_rootfs;
mod build_tar;
mod compress;
mod config;
mod depcheck;
mod errors;
mod leftovers;
mod lock;
mod oci;
mod plugins;
mod rebuild;
mod registry_auth;
mod support;
