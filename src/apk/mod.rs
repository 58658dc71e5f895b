//! Reads Alpine and Wolfi package repositories exactly as apko does.
//!
//! Not for: the image configuration (`config`) or installing files into a root filesystem
//! (`build`). Reproduces reference/apko-format.md §4 and §5.

pub mod archive;
pub mod constraint;
pub mod index;
pub mod installed;
pub mod keyring;
pub mod package;
pub mod pkginfo;
pub mod repository;
pub mod signed;
pub mod solver;
pub mod version;
pub mod writer;

pub use constraint::{Constraint, Operator};
pub use index::Index;
pub use keyring::{KeyName, Keyring};
pub use package::Package;
pub use repository::{Fetcher, Repository, RepositoryIndex};
pub use version::Version;
