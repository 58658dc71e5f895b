//! Reads Alpine and Wolfi package repositories exactly as apko does.
//!
//! [`source`] gathers an apko configuration's package sources (keyring, verified indexes, the
//! base image's package list, package fetching through the cache) once, for both the locker and
//! the builder, and resolves and unifies over them.
//!
//! Not for: the image configuration model (`config`, which this module reads) or installing files
//! into a root filesystem (`build`). Reproduces reference/apko-format.md §4 and §5.

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
pub mod source;
pub mod unify;
pub mod version;
pub mod writer;

pub use constraint::{Constraint, Operator};
pub use index::Index;
pub use keyring::{KeyName, Keyring};
pub use package::Package;
pub use repository::{Fetcher, Repository, RepositoryIndex};
pub use version::Version;
