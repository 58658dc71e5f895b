//! Image references: `HOST/REPO[:TAG][@DIGEST]` in a registry, `oci:DIR[:TAG|@DIGEST]` in an
//! OCI layout directory.
//!
//! Parsing and normalisation follow ggcr's `pkg/name` (weak validation, as cosign and apko use
//! it): the first path component is the registry only when it contains `.` or `:` or is
//! `localhost`; otherwise the registry is Docker Hub, spelled `index.docker.io`, and a
//! one-component repository gains `library/`; `docker.io` is rewritten to `index.docker.io`; a
//! missing tag means `latest`; when both a tag and a digest are given, the digest decides and
//! the canonical form drops the tag. Pure: no I/O.
//!
//! Not for: deciding plain HTTP or TLS per host ([`super::registry`]); resolving a layout
//! reference to content ([`super::layout`]). Reproduces ggcr `pkg/name/{registry,repository,
//! tag,digest,ref}.go` and its test tables (reference/cosign-attestations.md §5.2 for
//! `Repository.String()`); the `oci:` form is skopeo's (reference/registry-and-plugins.md §8.1).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::digest::{self, Digest};

/// Docker Hub's registry name after normalisation.
pub const DOCKER_HUB: &str = "index.docker.io";

/// The tag a reference without tag or digest means.
pub const DEFAULT_TAG: &str = "latest";

const REPOSITORY_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789_-./";

/// Why a string is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A URL was given where a reference belongs.
    #[error("reference {text:?}: must not contain a URL scheme (http:// or https://)")]
    Scheme {
        /// The text as given.
        text: String,
    },
    /// The repository part is empty, too long or has characters outside `[a-z0-9_./-]`.
    #[error("reference {text:?}: repository {repository:?} {problem}")]
    Repository {
        /// The text as given.
        text: String,
        /// The repository part.
        repository: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The registry part is not a host name with an optional numeric port.
    #[error("reference {text:?}: registry {registry:?} is not a valid host[:port]")]
    Registry {
        /// The text as given.
        text: String,
        /// The registry part.
        registry: String,
    },
    /// The tag is empty, longer than 127 characters or has characters outside `[A-Za-z0-9_.-]`.
    #[error("reference {text:?}: tag {tag:?} is not valid")]
    Tag {
        /// The text as given.
        text: String,
        /// The tag part.
        tag: String,
    },
    /// The part after `@` is not a digest, or there are several `@`.
    #[error("reference {text:?}: bad digest")]
    Digest {
        /// The text as given.
        text: String,
        /// The digest parser's complaint.
        #[source]
        source: digest::Error,
    },
    /// `oci:` with no directory.
    #[error("reference {text:?}: no layout directory after \"oci:\"")]
    LayoutDirectory {
        /// The text as given.
        text: String,
    },
}

/// An image in a registry or in a local OCI layout.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    /// `HOST/REPO[:TAG][@DIGEST]`.
    Remote(Remote),
    /// `oci:DIR[:TAG|@DIGEST]`.
    Local(Local),
}

impl Reference {
    /// Parses either form: text starting with `oci:` names a layout, anything else a registry.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.starts_with("oci:") {
            Local::parse(text).map(Self::Local)
        } else {
            Remote::parse(text).map(Self::Remote)
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Remote(remote) => remote.fmt(f),
            Self::Local(local) => local.fmt(f),
        }
    }
}

impl FromStr for Reference {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self, Error> {
        Self::parse(text)
    }
}

/// A repository in a registry. `Display` is ggcr's `Repository.String()`:
/// `index.docker.io/library/alpine`, `127.0.0.1:5000/repo`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Repository {
    registry: String,
    path: String,
}

impl Repository {
    /// Parses `[HOST/]REPO` (no tag, no digest).
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_within(text, text)
    }

    fn parse_within(base: &str, text: &str) -> Result<Self, Error> {
        let (registry, path) = match base.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first, rest)
            }
            _ => ("", base),
        };
        let problem = if path.is_empty() {
            Some("is empty")
        } else if path.chars().count() > 255 {
            Some("is longer than 255 characters")
        } else if !path.chars().all(|c| REPOSITORY_CHARS.contains(c)) {
            Some("may only contain a-z, 0-9, '_', '-', '.' and '/'")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(Error::Repository {
                text: text.into(),
                repository: path.into(),
                problem,
            });
        }
        let registry = match registry {
            "" | "docker.io" => DOCKER_HUB.to_owned(),
            other if valid_registry(other) => other.to_owned(),
            other => {
                return Err(Error::Registry {
                    text: text.into(),
                    registry: other.into(),
                });
            }
        };
        let path = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        };
        Ok(Self { registry, path })
    }

    /// The registry host, with its port if any (`index.docker.io`, `127.0.0.1:5000`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path inside the registry (`library/alpine`): ggcr's `RepositoryStr()`.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.path)
    }
}

/// An image in a registry: repository plus tag and/or digest.
///
/// `Display` is the canonical name (ggcr's `Name()`): `repo@digest` when a digest is given,
/// else `repo:tag`, with `latest` filled in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Remote {
    repository: Repository,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Remote {
    /// Parses `[HOST/]REPO[:TAG][@DIGEST]`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.starts_with("http://") || text.starts_with("https://") {
            return Err(Error::Scheme { text: text.into() });
        }
        let (name, digest) = match text.split_once('@') {
            Some((name, digest_text)) => {
                let digest = Digest::parse(digest_text).map_err(|source| Error::Digest {
                    text: text.into(),
                    source,
                })?;
                (name, Some(digest))
            }
            None => (text, None),
        };
        // A colon starts a tag only when no '/' follows it; otherwise it is a registry port.
        let (base, tag) = match name.rsplit_once(':') {
            Some((base, tag)) if !tag.contains('/') => (base, Some(tag)),
            _ => (name, None),
        };
        if let Some(tag) = tag
            && !valid_tag(tag)
        {
            return Err(Error::Tag {
                text: text.into(),
                tag: tag.into(),
            });
        }
        Ok(Self {
            repository: Repository::parse_within(base, text)?,
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// This repository at a tag.
    pub fn at_tag(repository: Repository, tag: &str) -> Result<Self, Error> {
        if !valid_tag(tag) {
            return Err(Error::Tag {
                text: format!("{repository}:{tag}"),
                tag: tag.into(),
            });
        }
        Ok(Self {
            repository,
            tag: Some(tag.into()),
            digest: None,
        })
    }

    /// This repository at a digest.
    pub fn at_digest(repository: Repository, digest: Digest) -> Self {
        Self {
            repository,
            tag: None,
            digest: Some(digest),
        }
    }

    /// The repository.
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// ggcr's `Repository.String()` of this reference: registry and repository, no tag, no
    /// digest. The in-toto subject name cosign writes.
    pub fn repository_name(&self) -> String {
        self.repository.to_string()
    }

    /// The tag as written, if any (it may accompany a digest).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if any.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What to put after `/manifests/` in a registry URL: the digest if any, else the tag, else
    /// `latest` (ggcr's `Identifier()`).
    pub fn identifier(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => digest.to_string(),
            (None, Some(tag)) => tag.clone(),
            (None, None) => DEFAULT_TAG.into(),
        }
    }

    /// The same repository at `digest`, dropping any tag.
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self::at_digest(self.repository.clone(), digest)
    }
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.digest {
            Some(digest) => write!(f, "{}@{digest}", self.repository),
            None => write!(f, "{}:{}", self.repository, self.identifier()),
        }
    }
}

impl FromStr for Remote {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self, Error> {
        Self::parse(text)
    }
}

/// Which image inside an OCI layout.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Selector {
    /// No tag or digest: the layout's only image (see [`super::layout`]).
    Default,
    /// The manifest or index whose `org.opencontainers.image.ref.name` is this tag.
    Tag(String),
    /// The manifest or index with this digest.
    Digest(Digest),
}

/// An image in an OCI layout directory: `oci:DIR`, `oci:DIR:TAG` or `oci:DIR@DIGEST`.
///
/// As in skopeo, the directory ends at the first `:`, so it cannot contain one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Local {
    dir: PathBuf,
    selector: Selector,
}

impl Local {
    /// Parses `oci:DIR[:TAG|@DIGEST]`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let rest = text.strip_prefix("oci:").unwrap_or(text);
        let (dir, selector) = if let Some((dir, digest_text)) = rest.split_once('@') {
            let digest = Digest::parse(digest_text).map_err(|source| Error::Digest {
                text: text.into(),
                source,
            })?;
            (dir, Selector::Digest(digest))
        } else if let Some((dir, tag)) = rest.split_once(':') {
            if !valid_tag(tag) {
                return Err(Error::Tag {
                    text: text.into(),
                    tag: tag.into(),
                });
            }
            (dir, Selector::Tag(tag.into()))
        } else {
            (rest, Selector::Default)
        };
        if dir.is_empty() {
            return Err(Error::LayoutDirectory { text: text.into() });
        }
        Ok(Self {
            dir: PathBuf::from(dir),
            selector,
        })
    }

    /// A layout reference from its parts.
    pub fn new(dir: impl Into<PathBuf>, selector: Selector) -> Self {
        Self {
            dir: dir.into(),
            selector,
        }
    }

    /// The layout directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Which image inside it.
    pub fn selector(&self) -> &Selector {
        &self.selector
    }
}

impl fmt::Display for Local {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oci:{}", self.dir.display())?;
        match &self.selector {
            Selector::Default => Ok(()),
            Selector::Tag(tag) => write!(f, ":{tag}"),
            Selector::Digest(digest) => write!(f, "@{digest}"),
        }
    }
}

/// The tag under which a registry without the referrers API, or an OCI layout, keeps the index
/// of `subject`'s referrers: `sha256-<hex>` (distribution-spec "Referrers Tag Schema").
pub fn referrers_tag(subject: &Digest) -> String {
    format!("{}-{}", subject.algorithm(), subject.hex())
}

/// ggcr's tag rule: 1 to 127 characters from `[A-Za-z0-9_.-]`.
pub fn valid_tag(tag: &str) -> bool {
    (1..=127).contains(&tag.len())
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

/// A host name or address with an optional numeric port, as Go's `url.Parse("//" + name)`
/// accepts it back unchanged (ggcr `checkRegistry`).
fn valid_registry(registry: &str) -> bool {
    let (host, port) = match registry.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((address, "")) => (address, None),
            Some((address, after)) => match after.strip_prefix(':') {
                Some(port) => (address, Some(port)),
                None => return false,
            },
            None => return false,
        },
        None => match registry.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        },
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b));
    let port_ok = port.is_none_or(|p| p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_hosts() {
        for good in [
            "gcr.io",
            "gcr.io:9001",
            "localhost:9090",
            "[::1]:5000",
            "127.0.0.1",
        ] {
            assert!(valid_registry(good), "{good}");
        }
        for bad in [
            "white space",
            "gcr?com",
            "host:port",
            "[::1",
            "[::1]x",
            "a/b",
            "",
        ] {
            assert!(!valid_registry(bad), "{bad}");
        }
    }
}
