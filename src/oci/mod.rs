//! Shared OCI nouns and the places images live: OCI layout directories and registries.
//!
//! [`Digest`], [`Descriptor`], [`Platform`], [`Manifest`], [`Index`], [`ConfigFile`] and
//! [`Reference`] are the words every other module uses for content: one set of documents, read
//! and written in go-containerregistry's field order, so that written through `codec::json`
//! they give Go's bytes (every hashed JSON byte in the crate comes from them).
//!
//! Images are read from a [`Source`] and written to a [`Sink`] ([`store`]): [`layout`] (OCI
//! image layout directories) and [`registry`] (OCI distribution registries) are both, and a
//! [`Store`] is either behind one handle. Content read from a store moves as the exact bytes
//! that were hashed: nothing here re-serialises a manifest it did not build.
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
pub use store::{Sink, Source, Store};
