//! Shared OCI nouns and the two places images live: OCI layout directories and registries.
//!
//! [`Digest`], [`Descriptor`], [`Reference`] and the manifest and index types are the words every
//! other module uses for content; [`layout`] reads and writes OCI image layout directories;
//! [`registry`] talks to OCI distribution registries; [`store`] is one interface over both. Content always moves as the exact bytes
//! that were hashed: nothing here re-serialises a manifest.
//!
//! [`json`] is the Go `encoding/json`-compatible encoder: every hashed JSON byte in the crate
//! comes from it.
//!
//! Not for: building images (`build`); attestations (`attest`).

pub mod descriptor;
pub mod digest;
pub mod image_set;
pub mod layout;
pub mod manifest;
pub mod reference;
pub mod registry;
pub mod store;

pub use descriptor::{Descriptor, Platform};
pub use digest::Digest;
pub use image_set::ImageSet;
pub use manifest::{Index, Manifest, media_type};
pub use reference::{Local, Reference, Remote, Repository, Selector};
pub use store::Store;
