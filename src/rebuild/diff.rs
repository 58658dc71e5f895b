//! What differs between two images: JSON documents (manifests, configs, indexes) as paths with
//! both values ([`json`]), and layers as file trees ([`tree`]).
//!
//! Not for: deciding whether two images are reproductions of each other ([`super::compare`]),
//! or rendering ([`super::report`]).

pub mod json;
pub mod tree;

pub use json::Difference;
pub use tree::{Entry, FieldChange, FileChange, FileDiff, Tree};
