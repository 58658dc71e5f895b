//! Shared OCI nouns and the two places images live: OCI layout directories and registries.
//!
//! [`Digest`], [`Descriptor`], [`Platform`], [`Manifest`], [`Index`], [`ConfigFile`] and
//! [`Reference`] are the words every other module uses for content: one set of documents, read
//! and written in go-containerregistry's field order; [`layout`] reads and writes OCI image layout directories;
//! [`registry`] talks to OCI distribution registries; [`store`] is one interface over both. Content always moves as the exact bytes
//! that were hashed: nothing here re-serialises a manifest.
//!
//! Every hashed JSON byte is written by `codec::json` from these types.
//!
//! Not for: building images (`build`); attestations (`attest`).

pub mod config;
pub mod descriptor;
pub mod digest;
mod go_json;
pub mod image_set;
pub mod layout;
pub mod manifest;
pub mod reference;
pub mod registry;
pub mod store;

pub use config::ConfigFile;
pub use descriptor::{Descriptor, Platform};
pub use digest::Digest;
pub use image_set::ImageSet;
pub use manifest::{Index, Manifest, media_type};
pub use reference::{Local, Reference, Remote, Repository, Selector};
pub use store::Store;
