//! Why a world cannot be resolved, and why each candidate lost.
//!
//! Not for: the decisions themselves ([`super::walk`]). apko reports these as nested strings
//! (`ConstraintError`, `DepError`, `DisqualifiedError` in `pkg/apk/apk/repo.go`); here they are
//! typed values, and every error names the chain of packages that led to it.

use std::fmt;

use crate::apk::version;

/// The packages that led to a requirement, innermost first, ending at the world:
/// shown as `curl-7.1-r0 <- git-2.3-r0 <- world`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chain(pub Vec<String>);

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for package in &self.0 {
            write!(f, "{package} <- ")?;
        }
        f.write_str("world")
    }
}

/// Why a package was disqualified or filtered out (apko keeps these as strings in its `dq` map).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The same name and version is missing from another architecture's indexes (`ByArch`).
    NotForArch {
        /// The architecture that lacks it.
        arch: String,
    },
    /// A `!name` constraint excludes it.
    Excluded {
        /// The conflict as written, with its `!`.
        constraint: String,
    },
    /// apko cannot parse the package's version.
    InvalidVersion {
        /// The version as written.
        version: String,
    },
    /// Its version does not satisfy a constraint on its name.
    VersionMismatch {
        /// The constraint.
        constraint: String,
    },
    /// It provides the constrained name at a version that does not satisfy the constraint.
    ProvideMismatch {
        /// The provide, as written.
        provide: String,
        /// The constraint.
        constraint: String,
    },
    /// An already chosen package provides a name this one also has or provides.
    Conflicts {
        /// The chosen package, as `name-version.apk`.
        package: String,
        /// The contested name.
        name: String,
    },
    /// It comes from a repository pinned with a tag that was not requested.
    Pinned {
        /// The repository's tag.
        pin: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotForArch { arch } => write!(f, "not available for arch {arch:?}"),
            Reason::Excluded { constraint } => write!(f, "excluded by {constraint}"),
            Reason::InvalidVersion { version } => write!(f, "version {version:?} is not valid"),
            Reason::VersionMismatch { constraint } => {
                write!(f, "version does not satisfy {constraint:?}")
            }
            Reason::ProvideMismatch {
                provide,
                constraint,
            } => write!(
                f,
                "provides {provide:?} which does not satisfy {constraint:?}"
            ),
            Reason::Conflicts { package, name } => {
                write!(f, "{package} already provides {name:?}")
            }
            Reason::Pinned { pin } => write!(f, "repository is pinned to @{pin}"),
        }
    }
}

/// One candidate that could have satisfied a constraint, and why it did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// `name-version.apk`
    pub package: String,
    /// The repository URL it came from.
    pub repository: String,
    /// Why it lost.
    pub reason: Reason,
}

/// The rejected candidates of a constraint, printed one per line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rejections(pub Vec<Rejected>);

impl fmt::Display for Rejections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for rejected in &self.0 {
            write!(
                f,
                "\n  {} ({}): {}",
                rejected.package, rejected.repository, rejected.reason
            )?;
        }
        Ok(())
    }
}

/// Why a world cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No package has or provides the name.
    #[error("nothing provides {name:?} required by {chain}")]
    NothingProvides {
        /// The missing name.
        name: String,
        /// The constraint it came from, as written.
        constraint: String,
        /// Who needed it.
        chain: Chain,
    },
    /// Packages have or provide the name, but each was disqualified or filtered out.
    #[error("no package satisfies {constraint:?} required by {chain}:{rejected}")]
    Unsatisfiable {
        /// The constraint, as written.
        constraint: String,
        /// Who needed it.
        chain: Chain,
        /// Every candidate and why it lost.
        rejected: Rejections,
    },
    /// A constraint carries a version apko cannot parse.
    #[error("constraint {constraint:?} required by {chain} has an invalid version")]
    InvalidConstraint {
        /// The constraint, as written.
        constraint: String,
        /// Who needed it.
        chain: Chain,
        /// The parse failure.
        #[source]
        source: version::Error,
    },
    /// A constraint meets a package chosen earlier that does not satisfy it.
    #[error("{constraint:?} required by {chain} conflicts with already selected {selected}")]
    SelectedMismatch {
        /// The constraint, as written.
        constraint: String,
        /// The chosen package, `name-version`.
        selected: String,
        /// Who needed it.
        chain: Chain,
    },
    /// A chosen package's version (or versioned provide) is unparsable where apko must compare
    /// it.
    #[error(
        "package {package} needed for {constraint:?} required by {chain} has an invalid version"
    )]
    InvalidSelectedVersion {
        /// The chosen package, `name-version`.
        package: String,
        /// The constraint being checked.
        constraint: String,
        /// Who needed it.
        chain: Chain,
        /// The parse failure.
        #[source]
        source: version::Error,
    },
    /// Choosing a package would give a name a second owner.
    #[error("selecting package {package} conflicts with {selected} on {name:?} (chain: {chain})")]
    Conflict {
        /// The package being chosen, `name-version.apk`.
        package: String,
        /// The package that already owns the name, `name-version.apk`.
        selected: String,
        /// The contested name.
        name: String,
        /// Where the package was being chosen.
        chain: Chain,
    },
    /// A world entry is a conflict (`!name`); apko accepts those only among dependencies.
    #[error(
        "world entry {entry:?}: apko resolves `!name` only as a dependency, nothing provides it"
    )]
    WorldConflict {
        /// The entry as written.
        entry: String,
    },
}
