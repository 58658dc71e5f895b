//! Package repositories: local, file:// and http(s):// sources and the download cache.
//!
//! Parses repository lines as apko configurations write them (`https://…`, `file://…`, local
//! paths relative to a base directory, `@tag URL` pins), fetches signed indexes, packages and keys
//! through a [`Fetcher`], and keeps downloads in a cache laid out as apko's. Everything taken
//! from the cache is checked again before use: an index must verify, a package must match its
//! index checksum, a key must parse; anything else is fetched again, never trusted.
//!
//! Not for: checking index signatures ([`super::signed`]), reading `.apk` contents
//! ([`super::archive`]) or choosing packages ([`super::solver`]). Reproduces apko
//! `pkg/apk/apk/index.go` (`GetRepositoryIndexes`, `IndexURL`), `repository.go` and `cache.go`
//! (`cachePathFromURL`, `cacheFileFromEtag`, `fetchOffline`) (reference/apko-format.md §4.1, §4.7).

mod cache;
mod checksum;
mod open;

use std::path::{Path, PathBuf};

use reqwest::Url;

use super::index::Index;
use super::keyring::{self, Keyring};
use super::package::Package;
use super::signed::{self, Verified};

pub use checksum::control_checksum;
pub use open::PackageFile;

/// Why a repository, index, package or key cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A repository line that apko would not accept either.
    #[error("repository {line:?}: {problem}")]
    Parse {
        /// The line as written.
        line: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The HTTP client cannot be set up.
    #[error("cannot set up the HTTP client")]
    Client(#[source] reqwest::Error),
    /// A request failed before a status arrived, or the body could not be read.
    #[error("{url}: request failed")]
    Request {
        /// The URL, without its password.
        url: String,
        /// The transport failure.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a status other than 200.
    #[error("{url}: HTTP status {status}")]
    Status {
        /// The URL, without its password.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A local file cannot be read.
    #[error("{path}: cannot read", path = path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// A package body broke off while it was being downloaded, or could not be stored.
    #[error("{url}: download failed")]
    Download {
        /// The URL, without its password.
        url: String,
        /// The transport or disk failure.
        #[source]
        source: std::io::Error,
    },
    /// A download cannot be stored in the cache.
    #[error("{path}: cannot write to the download cache", path = path.display())]
    CacheWrite {
        /// The cache file or directory.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// Offline, and the cache holds no usable copy.
    #[error("{url}: not in the download cache and the network is off")]
    Offline {
        /// The URL, without its password.
        url: String,
    },
    /// Offline with no cache directory configured or known.
    #[error("offline mode needs a cache directory, and none is configured or known")]
    NoCacheDir,
    /// An index does not verify or parse.
    #[error(transparent)]
    Index(#[from] signed::Error),
    /// A package's control member does not hash to the index's `C:` checksum.
    #[error("{url}: control checksum {actual} does not match the index's {expected}")]
    Checksum {
        /// The package URL or path.
        url: String,
        /// `Q1…` from the index.
        expected: String,
        /// `Q1…` of what was fetched.
        actual: String,
    },
    /// A package's gzip members cannot be found.
    #[error("{url}: not an APK package")]
    Package {
        /// The package URL or path.
        url: String,
        /// The gzip decoder's complaint.
        #[source]
        source: std::io::Error,
    },
    /// A fetched key does not load.
    #[error("key {key}: cannot load")]
    Key {
        /// The key's URL or path.
        key: String,
        /// Why.
        #[source]
        source: keyring::Error,
    },
}

/// Where a repository lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A directory on this machine (from a path or a `file://` URL).
    Local(PathBuf),
    /// An `http://` or `https://` URL, kept as written so URLs match apko's byte for byte.
    Remote(String),
}

/// One repository line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// Where its `<arch>/APKINDEX.tar.gz` and packages are.
    pub location: Location,
    /// The `@tag` of a pinned repository: its packages are only chosen when asked for as
    /// `name@tag` (reference/apko-format.md §4.7).
    pub pin: Option<String>,
}

impl Repository {
    /// Parses a line as apko's `GetRepositoryIndexes` does: `@tag URL` is pinned (further fields
    /// are ignored, as there); local paths are resolved against `base_dir`.
    pub fn parse(line: &str, base_dir: &Path) -> Result<Self, Error> {
        let line = line.trim();
        let problem = |problem| Error::Parse {
            line: line.to_owned(),
            problem,
        };
        // apko splits a pinned line with strings.Fields: "@tag URL [ignored…]".
        let (pin, target) = if line.starts_with('@') {
            let mut fields = line.split_whitespace();
            let tag = fields
                .next()
                .and_then(|tag| tag.get(1..))
                .unwrap_or_default();
            let target = fields
                .next()
                .ok_or_else(|| problem("a pinned repository needs `@tag URL`"))?;
            ((!tag.is_empty()).then(|| tag.to_owned()), target)
        } else {
            (None, line)
        };
        if target.is_empty() {
            return Err(problem("empty repository"));
        }
        let location = if target.starts_with("https://") || target.starts_with("http://") {
            Url::parse(target).map_err(|_| problem("not a valid URL"))?;
            Location::Remote(target.to_owned())
        } else if target.starts_with("file://") {
            let url = Url::parse(target).map_err(|_| problem("not a valid file URL"))?;
            let path = url
                .to_file_path()
                .map_err(|()| problem("not a local file URL"))?;
            Location::Local(path)
        } else if target.contains("://") {
            return Err(problem("only http, https and file URLs are supported"));
        } else {
            Location::Local(base_dir.join(target))
        };
        Ok(Self { location, pin })
    }

    /// The repository as apko writes it in URLs: the URL as given, or the local path.
    pub fn base(&self) -> String {
        match &self.location {
            Location::Local(path) => path.display().to_string(),
            Location::Remote(url) => url.clone(),
        }
    }

    /// `<repo>/<arch>/APKINDEX.tar.gz`
    pub fn index_url(&self, arch: &str) -> String {
        format!("{}/{arch}/APKINDEX.tar.gz", self.base())
    }

    /// `<repo>/<arch>/<name>-<version>.apk`
    pub fn package_url(&self, arch: &str, package: &Package) -> String {
        format!("{}/{arch}/{}", self.base(), package.filename())
    }
}

/// A repository's verified index for one architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryIndex {
    /// The repository it came from (with its pin).
    pub repository: Repository,
    /// The architecture directory it was read from.
    pub arch: String,
    /// The packages.
    pub index: Index,
    /// The signature that made it trusted.
    pub verified: Verified,
}

/// The indexes of several repositories, as apko's `GetRepositoryIndexes` returns them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Indexes {
    /// Indexes in repository order.
    pub indexes: Vec<RepositoryIndex>,
    /// Local repositories without an index for the architecture: apko only warns about them,
    /// so they are skipped and listed here for the caller to report.
    pub missing: Vec<PathBuf>,
}

/// Whether the network may be used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Fetch what the cache does not hold (indexes are revalidated by ETag).
    #[default]
    Online,
    /// Serve only from the cache; fail, naming the URL, for anything not cached.
    Offline,
}

/// How a [`Fetcher`] behaves.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    /// Download cache root; by default `<user cache dir>/receipts/apk`.
    pub cache_dir: Option<PathBuf>,
    /// Online or offline.
    pub network: Network,
}

/// The download cache used when none is given: the user cache directory's `receipts/apk`.
pub fn default_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|dir| dir.join("receipts").join("apk"))
}

/// Fetches indexes, packages and keys from repositories, through the download cache.
#[derive(Debug, Clone)]
pub struct Fetcher {
    /// Made on first use: setting up the client (TLS roots, the blocking runtime's thread)
    /// costs more than reading a local index, which never needs it.
    client: std::sync::OnceLock<reqwest::blocking::Client>,
    cache: Option<PathBuf>,
    network: Network,
}

impl Fetcher {
    /// A fetcher with its own HTTP client (set up on the first remote request).
    pub fn new(settings: &Settings) -> Result<Self, Error> {
        let cache = settings.cache_dir.clone().or_else(default_cache_dir);
        if settings.network == Network::Offline && cache.is_none() {
            return Err(Error::NoCacheDir);
        }
        Ok(Self {
            client: std::sync::OnceLock::new(),
            cache,
            network: settings.network,
        })
    }

    fn client(&self) -> Result<&reqwest::blocking::Client, Error> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        // No overall timeout: packages can be large and links slow; a dead peer is caught by the
        // connect timeout and the transport's keepalive.
        let client = reqwest::blocking::Client::builder()
            .user_agent(concat!("receipts/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(30))
            .timeout(None)
            .build()
            .map_err(Error::Client)?;
        // A racing thread may have set one first; either client will do.
        Ok(self.client.get_or_init(|| client))
    }

    /// The verified index of `repository` for `arch`.
    pub fn fetch_index(
        &self,
        repository: &Repository,
        arch: &str,
        keyring: &Keyring,
    ) -> Result<RepositoryIndex, Error> {
        let location = repository.index_url(arch);
        let signed = match &repository.location {
            Location::Local(_) => {
                let bytes = read_local(Path::new(&location))?;
                signed::read(&bytes, keyring, &location)?
            }
            Location::Remote(_) => {
                let url = parse_url(&location)?;
                let label = cache::redact(&url);
                self.fetch_through_cache(&url, cache::Layout::Index, &|bytes| {
                    signed::read(bytes, keyring, &label).map_err(Error::from)
                })?
            }
        };
        Ok(RepositoryIndex {
            repository: repository.clone(),
            arch: arch.to_owned(),
            index: signed.index,
            verified: signed.verified,
        })
    }

    /// The indexes of `repositories` in order. A local repository without an index for `arch`
    /// is skipped (listed in [`Indexes::missing`]), as apko does; every other failure is an error.
    pub fn fetch_indexes(
        &self,
        repositories: &[Repository],
        arch: &str,
        keyring: &Keyring,
    ) -> Result<Indexes, Error> {
        let mut indexes = Indexes::default();
        for repository in repositories {
            match self.fetch_index(repository, arch, keyring) {
                Ok(index) => indexes.indexes.push(index),
                Err(Error::Read { path, source })
                    if source.kind() == std::io::ErrorKind::NotFound
                        && matches!(repository.location, Location::Local(_)) =>
                {
                    indexes.missing.push(path);
                }
                Err(error) => return Err(error),
            }
        }
        Ok(indexes)
    }

    /// The bytes of `package` from `repository`. When the index gave a `C:` checksum, the control
    /// member must match it, whether fetched or cached; only matching packages are cached.
    /// [`Fetcher::open_package`] gives the same file without reading it into memory.
    pub fn fetch_package(
        &self,
        repository: &Repository,
        arch: &str,
        package: &Package,
    ) -> Result<Vec<u8>, Error> {
        let location = repository.package_url(arch, package);
        read_whole(self.open_package(repository, arch, package)?, &location)
    }

    /// The bytes of the `.apk` a lock file names: `url` is an `http(s)://` URL (through the
    /// download cache, as [`Fetcher::fetch_package`]), a `file://` URL or a path relative to
    /// `base_dir`. When `package` carries a `C:` checksum, the control member must match it.
    /// [`Fetcher::open_package_url`] gives the same file without reading it into memory.
    pub fn fetch_package_url(
        &self,
        url: &str,
        base_dir: &Path,
        package: &Package,
    ) -> Result<Vec<u8>, Error> {
        read_whole(self.open_package_url(url, base_dir, package)?, url)
    }

    /// A keyring from key paths (relative to `base_dir`), `file://` URLs and `http(s)://` URLs,
    /// each trusted under its file name as apko's `InitKeyring` writes it.
    pub fn fetch_keyring<S: AsRef<str>>(
        &self,
        entries: &[S],
        base_dir: &Path,
    ) -> Result<Keyring, Error> {
        let mut keyring = Keyring::new();
        for entry in entries {
            let key = self.fetch_key(entry.as_ref(), base_dir)?;
            keyring
                .insert_pem(&key.name, &key.pem)
                .map_err(|source| Error::Key {
                    key: key.location.clone(),
                    source,
                })?;
        }
        Ok(keyring)
    }

    /// One keyring entry's bytes (what apko's lock file embeds as `content`) with the file name
    /// it is trusted under; the bytes are checked to hold an RSA public key.
    pub fn fetch_key(&self, entry: &str, base_dir: &Path) -> Result<FetchedKey, Error> {
        if entry.starts_with("https://") || entry.starts_with("http://") {
            let url = parse_url(entry)?;
            let label = cache::redact(&url);
            let name = url
                .path_segments()
                .and_then(|mut segments| segments.next_back())
                .unwrap_or_default()
                .to_owned();
            let key_error = |source| Error::Key {
                key: label.clone(),
                source,
            };
            let pem = self.fetch_through_cache(&url, cache::Layout::Key, &|bytes| {
                Keyring::new().insert_pem(&name, bytes).map_err(key_error)?;
                Ok(bytes.to_vec())
            })?;
            return Ok(FetchedKey {
                name,
                location: label,
                pem,
            });
        }
        let path = match entry.strip_prefix("file://") {
            Some(_) => parse_url(entry)?
                .to_file_path()
                .map_err(|()| Error::Parse {
                    line: entry.to_owned(),
                    problem: "not a local file URL",
                })?,
            None => base_dir.join(entry),
        };
        let location = path.display().to_string();
        let key_error = |source| Error::Key {
            key: location.clone(),
            source,
        };
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or_else(|| {
                key_error(keyring::Error::Name {
                    name: location.clone(),
                })
            })?
            .to_owned();
        let pem = std::fs::read(&path).map_err(|source| {
            key_error(keyring::Error::Read {
                path: path.clone(),
                source,
            })
        })?;
        Keyring::new().insert_pem(&name, &pem).map_err(key_error)?;
        Ok(FetchedKey {
            name,
            location,
            pem,
        })
    }

    /// apko's ETag cache: HEAD for the ETag, use `<etag>` from the cache if it passes `check`,
    /// otherwise GET, check and store. Offline, the newest cached copy is used.
    fn fetch_through_cache<T>(
        &self,
        url: &Url,
        layout: cache::Layout,
        check: &dyn Fn(&[u8]) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let label = cache::redact(url);
        let slot = match &self.cache {
            Some(root) => {
                Some(
                    cache::Slot::new(root, url, layout).ok_or_else(|| Error::Parse {
                        line: label.clone(),
                        problem: "the URL names no file",
                    })?,
                )
            }
            None => None,
        };
        if self.network == Network::Offline {
            let newest = slot.as_ref().and_then(cache::Slot::newest);
            let path = newest.ok_or_else(|| Error::Offline { url: label })?;
            return check(&read_local(&path)?);
        }
        let Some(slot) = slot else {
            return check(&self.get(url)?.bytes);
        };
        let head = self.send(self.client()?.head(url.clone()), url)?;
        // A cached copy that fails its check is fetched again, never trusted.
        if let Some(etag) = cache::etag(head.headers())
            && let Ok(bytes) = std::fs::read(slot.file(&etag))
            && let Ok(value) = check(&bytes)
        {
            return Ok(value);
        }
        let fetched = self.get(url)?;
        let value = check(&fetched.bytes)?;
        // As apko: without an ETag there is no name to store it under, so it is not cached.
        let etag = fetched.etag.or_else(|| cache::etag(head.headers()));
        if let Some(etag) = etag {
            cache::write_atomically(&slot.file(&etag), &fetched.bytes)?;
        }
        Ok(value)
    }

    fn send(
        &self,
        request: reqwest::blocking::RequestBuilder,
        url: &Url,
    ) -> Result<reqwest::blocking::Response, Error> {
        let response = request.send().map_err(|source| Error::Request {
            url: cache::redact(url),
            source,
        })?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(Error::Status {
                url: cache::redact(url),
                status: response.status().as_u16(),
            });
        }
        Ok(response)
    }

    fn get(&self, url: &Url) -> Result<Fetched, Error> {
        let response = self.send(self.client()?.get(url.clone()), url)?;
        let etag = cache::etag(response.headers());
        let task = crate::progress::task(
            crate::progress::Kind::Download,
            cache::redact(url),
            response.content_length(),
        );
        let bytes = response.bytes().map_err(|source| Error::Request {
            url: cache::redact(url),
            source,
        })?;
        task.advance(bytes.len() as u64);
        Ok(Fetched {
            bytes: bytes.to_vec(),
            etag,
        })
    }
}

struct Fetched {
    bytes: Vec<u8>,
    etag: Option<String>,
}

/// A key's bytes as fetched or read, with the name it is trusted under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedKey {
    /// The file name (`melange.rsa.pub`), as apko writes it to `/etc/apk/keys/`.
    pub name: String,
    /// Where it came from (path, or URL without its password), for messages.
    pub location: String,
    /// The bytes, unchanged.
    pub pem: Vec<u8>,
}

fn parse_url(url: &str) -> Result<Url, Error> {
    Url::parse(url).map_err(|_| Error::Parse {
        line: url.to_owned(),
        problem: "not a valid URL",
    })
}

fn read_whole(mut file: PackageFile, location: &str) -> Result<Vec<u8>, Error> {
    use std::io::Read as _;
    let mut bytes = Vec::with_capacity(usize::try_from(file.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)
        .map_err(|source| Error::Package {
            url: location.to_owned(),
            source,
        })?;
    Ok(bytes)
}

fn read_local(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })
}
