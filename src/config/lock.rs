//! `apko.lock.json` v1: the model, apko's reader (lenient: unknown keys ignored, `null` = zero)
//! and writer (`MarshalIndent` with two spaces plus a newline), and what the builder asks of a
//! lock: per-architecture pins, installable packages, and the configuration checksum check.
//!
//! Not for: resolving or fetching packages to fill a lock (the locker in `apk`/`build`).
//! Reproduces reference/apko-format.md §3.2–§3.5.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::arch::Architecture;
use super::decode::nullable;
use super::load::ConfigChecksum;
use crate::codec::json;

/// Errors reading, writing or using a lock file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read lock file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("cannot write lock file {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// Not JSON, or a value of the wrong type.
    #[error("invalid lock file")]
    Json {
        /// The parser's report.
        #[source]
        cause: serde_json::Error,
    },
    /// Serialisation failed.
    #[error("cannot encode the lock file")]
    Encode(#[source] json::Error),
    /// A package locked before apko 0.13, without its control checksum.
    #[error(
        "locked package `{package}` has no checksum (please regenerate the lock file with apko 0.13 or later)"
    )]
    MissingChecksum {
        /// The package name.
        package: String,
    },
    /// The lock was made from a different configuration.
    #[error(
        "lock file was made from configuration checksum {locked}, the configuration has {actual} (maybe regenerate the lock file)"
    )]
    ChecksumMismatch {
        /// `config.checksum` of the lock.
        locked: String,
        /// The configuration's checksum.
        actual: String,
    },
    /// A repository starting with `@` but without a URL after the label.
    #[error("repository `{repository}` does not follow the format `@label url`")]
    RepositoryLabel {
        /// The repository line.
        repository: String,
    },
}

/// An `apko.lock.json` file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    /// Always `v1` when apko writes it.
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    /// The configuration the lock was made from; absent in old locks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<LockConfig>,
    /// Keys, repositories and packages.
    #[serde(default, deserialize_with = "nullable")]
    pub contents: LockContents,
}

/// `config`: which configuration the lock belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockConfig {
    /// The configuration file name as given to apko.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    /// The configuration checksum (`sha256-…`, covering included files).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub checksum: String,
}

/// `contents`. The lists are never omitted: apko writes `[]` for an empty one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockContents {
    /// Keys, sorted by name.
    #[serde(default, deserialize_with = "nullable")]
    pub keyring: Vec<LockKeyring>,
    /// Build-only repositories, per architecture.
    #[serde(default, deserialize_with = "nullable")]
    pub build_repositories: Vec<LockRepository>,
    /// Runtime-only repositories, per architecture.
    #[serde(default, deserialize_with = "nullable")]
    pub runtime_repositories: Vec<LockRepository>,
    /// Repositories, per architecture (outer loop architectures, inner loop repositories).
    #[serde(default, deserialize_with = "nullable")]
    pub repositories: Vec<LockRepository>,
    /// Packages: each architecture's install order, architectures one after another.
    #[serde(default, deserialize_with = "nullable")]
    pub packages: Vec<LockPackage>,
}

/// A keyring entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockKeyring {
    /// The URL or path without `https://`/`http://`.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The entry as configured.
    #[serde(default, deserialize_with = "nullable")]
    pub url: String,
    /// The key's bytes (PEM), omitted when empty.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub content: String,
}

/// A repository for one architecture.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRepository {
    /// `<repo>/<apk arch>`, scheme and `@label` removed.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// `<repo>/<apk arch>/APKINDEX.tar.gz` without `@label`.
    #[serde(default, deserialize_with = "nullable")]
    pub url: String,
    /// APK architecture name.
    #[serde(default, deserialize_with = "nullable")]
    pub architecture: String,
}

/// A locked package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockPackage {
    /// Package name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Where the `.apk` is fetched from.
    #[serde(default, deserialize_with = "nullable")]
    pub url: String,
    /// Package version.
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    /// APK architecture name.
    #[serde(default, deserialize_with = "nullable")]
    pub architecture: String,
    /// The signature gzip member (empty range and checksum when unsigned).
    #[serde(default, deserialize_with = "nullable")]
    pub signature: RangeAndChecksum,
    /// The control gzip member.
    #[serde(default, deserialize_with = "nullable")]
    pub control: RangeAndChecksum,
    /// The data gzip member.
    #[serde(default, deserialize_with = "nullable")]
    pub data: RangeAndChecksum,
    /// The APKINDEX `C:` value (`Q1…`); empty in locks made before apko 0.13.
    #[serde(default, deserialize_with = "nullable")]
    pub checksum: String,
}

/// Byte range and checksum of one gzip member of an `.apk`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeAndChecksum {
    /// `bytes=<first>-<last>`, inclusive.
    #[serde(default, deserialize_with = "nullable")]
    pub range: String,
    /// `sha1-…` or `sha256-…`, base64.
    #[serde(default, deserialize_with = "nullable")]
    pub checksum: String,
}

/// How a lock relates to the configuration being built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigCheck {
    /// The lock records this configuration's checksum.
    Matches,
    /// The lock records no configuration (apko warns and builds anyway).
    NotRecorded,
}

fn strip_url_scheme(url: &str) -> &str {
    let url = url.strip_prefix("https://").unwrap_or(url);
    url.strip_prefix("http://").unwrap_or(url)
}

/// apko's `RemoveLabel`: drops leading `@label ` prefixes.
fn remove_label(text: &str) -> Result<&str, Error> {
    let mut rest = text;
    while rest.starts_with('@') {
        rest = rest
            .split_once(' ')
            .map(|(_, url)| url)
            .ok_or_else(|| Error::RepositoryLabel {
                repository: text.to_owned(),
            })?;
    }
    Ok(rest)
}

impl Lock {
    /// An empty v1 lock for the configuration `name` with `checksum`, lists empty (`[]`).
    pub fn new(name: &str, checksum: &ConfigChecksum) -> Self {
        Self {
            version: "v1".to_owned(),
            config: Some(LockConfig {
                name: name.to_owned(),
                checksum: checksum.as_str().to_owned(),
            }),
            contents: LockContents::default(),
        }
    }

    /// Parses lock bytes as apko does (unknown keys ignored).
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(bytes).map_err(|cause| Error::Json { cause })
    }

    /// Reads and parses a lock file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&bytes)
    }

    /// The bytes apko writes: two-space `MarshalIndent`, Go escaping, a final newline.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        let mut bytes = json::to_vec_go_pretty(self).map_err(Error::Encode)?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Writes the lock file; like apko's `os.ModePerm`, the file is created with mode 0777 less
    /// the umask.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        use std::io::Write;
        #[cfg(unix)]
        use std::os::unix::fs::OpenOptionsExt;

        let path = path.as_ref();
        let bytes = self.to_json()?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        options.mode(0o777);
        let write_error = |source| Error::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut file = options.open(path).map_err(write_error)?;
        file.write_all(&bytes).map_err(write_error)
    }

    /// apko's `Arch2LockedPackages`: for each of `archs`, its packages as `name=version` in lock
    /// order (package architectures are normalised before matching).
    pub fn locked_packages(&self, archs: &[Architecture]) -> BTreeMap<Architecture, Vec<String>> {
        let mut pins: BTreeMap<Architecture, Vec<String>> = BTreeMap::new();
        for package in &self.contents.packages {
            let arch = Architecture::parse(&package.architecture);
            if archs.contains(&arch) {
                pins.entry(arch)
                    .or_default()
                    .push(format!("{}={}", package.name, package.version));
            }
        }
        pins
    }

    /// apko's `installablePackagesForArch`: the packages whose architecture is exactly `arch`'s
    /// APK name, in lock order; a package without checksum (pre-0.13 lock) is an error.
    pub fn installable(&self, arch: &Architecture) -> Result<Vec<&LockPackage>, Error> {
        let apk_arch = arch.to_apk();
        let mut packages = Vec::new();
        for package in &self.contents.packages {
            if package.architecture != apk_arch {
                continue;
            }
            if package.checksum.is_empty() {
                return Err(Error::MissingChecksum {
                    package: package.name.clone(),
                });
            }
            packages.push(package);
        }
        Ok(packages)
    }

    /// apko's `VerifyLockfileConsistency`: a lock without `config` is accepted (apko warns);
    /// otherwise its checksum must equal the configuration's.
    pub fn check_config(&self, checksum: &ConfigChecksum) -> Result<ConfigCheck, Error> {
        match &self.config {
            None => Ok(ConfigCheck::NotRecorded),
            Some(config) if config.checksum == checksum.as_str() => Ok(ConfigCheck::Matches),
            Some(config) => Err(Error::ChecksumMismatch {
                locked: config.checksum.clone(),
                actual: checksum.as_str().to_owned(),
            }),
        }
    }
}

impl LockContents {
    /// Sorts the keyring by name, as apko does before writing (stable here; Go's sort is not,
    /// which only matters for two keys with one name).
    pub fn sort_keyring(&mut self) {
        self.keyring.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

impl LockKeyring {
    /// The entry for a configured key `url` whose bytes are `content`.
    pub fn new(url: &str, content: String) -> Self {
        Self {
            name: strip_url_scheme(url).to_owned(),
            url: url.to_owned(),
            content,
        }
    }
}

impl LockRepository {
    /// apko's `repoLock`: the entry for configured `repository` on `arch`. The scheme is
    /// stripped before the label, so a labelled repository keeps its scheme in `name`, as in
    /// apko.
    pub fn new(repository: &str, arch: &Architecture) -> Result<Self, Error> {
        let apk_arch = arch.to_apk();
        let uri = format!("{repository}/{apk_arch}");
        let index = format!("{uri}/APKINDEX.tar.gz");
        Ok(Self {
            name: remove_label(strip_url_scheme(&uri))?.to_owned(),
            url: remove_label(&index)?.to_owned(),
            architecture: apk_arch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_entries_follow_repo_lock() -> Result<(), Error> {
        let arm = Architecture::parse("arm64");
        let plain = LockRepository::new("https://packages.example/os", &arm)?;
        assert_eq!(plain.name, "packages.example/os/aarch64");
        assert_eq!(
            plain.url,
            "https://packages.example/os/aarch64/APKINDEX.tar.gz"
        );
        assert_eq!(plain.architecture, "aarch64");
        let pinned = LockRepository::new("@extras https://packages.example/extras", &arm)?;
        assert_eq!(pinned.name, "https://packages.example/extras/aarch64");
        assert_eq!(
            pinned.url,
            "https://packages.example/extras/aarch64/APKINDEX.tar.gz"
        );
        assert!(LockRepository::new("@broken", &arm).is_err());
        Ok(())
    }
}
