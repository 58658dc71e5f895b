//! Reads Alpine and Wolfi package repositories exactly as apko does.
//!
//! Not for: the image configuration (`config`) or installing files into a root filesystem
//! (`build`). Reproduces reference/apko-format.md §4 and §5.

pub mod constraint;
pub mod index;
pub mod package;
pub mod version;

pub use constraint::{Constraint, Operator};
pub use index::Index;
pub use package::Package;
pub use version::Version;
