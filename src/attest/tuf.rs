//! Sigstore trust over TUF, as cosign obtains it: the public-good root embedded, the mirror
//! `https://tuf-repo-cdn.sigstore.dev` (or the one `initialize` recorded, or `TUF_MIRROR`), the
//! targets `trusted_root.json` for verification and `signing_config.v0.2.json` for signing,
//! cached where cosign and sigstore-go cache them ([`cache`]).
//!
//! The TUF client is `sigstore_tuf` (sigstore-rust): root rotation, thresholds, expiry,
//! rollback, length and hash pins all happen there; this module chooses the mirror and the
//! bootstrap root, caps and confines every fetch ([`mirror`]), and falls back to the verified
//! cache when the mirror cannot be reached (the cache must still be unexpired).
//!
//! Not for: parsing or using the trusted root (`attest::verify::trust`), signing (the signing
//! config is handed over as bytes).

pub mod cache;
pub mod mirror;

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use sha2::{Digest as _, Sha256, Sha512};
use sigstore_tuf::{FileStore, StoreRepository, Updater, UpdaterConfig};

use crate::attest::verify::trust::{self, TrustedRoot};
pub use cache::{Cache, ENV_TUF_ROOT};
pub use mirror::Mirror;

/// The public-good instance's TUF repository.
pub const DEFAULT_MIRROR: &str = "https://tuf-repo-cdn.sigstore.dev";
/// The staging instance's TUF repository.
pub const STAGING_MIRROR: &str = "https://tuf-repo-cdn.sigstage.dev";
/// The target holding the Sigstore trusted root.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";
/// The target holding the signing configuration (service URLs for signing).
pub const SIGNING_CONFIG_TARGET: &str = "signing_config.v0.2.json";
/// A mirror to use instead of `remote.json`'s or the default (cosign's `TUF_MIRROR`).
pub const ENV_TUF_MIRROR: &str = "TUF_MIRROR";
/// The bootstrap `root.json` for a mirror other than the default (cosign's `TUF_ROOT_JSON`).
pub const ENV_TUF_ROOT_JSON: &str = "TUF_ROOT_JSON";

/// Version 15 of the public-good root, from sigstore/root-signing (as sigstore-python ships it).
pub const PUBLIC_GOOD_ROOT: &[u8] = include_bytes!("tuf/public-good-root.json");
/// Version 14 of the staging root.
pub const STAGING_ROOT: &[u8] = include_bytes!("tuf/staging-root.json");

/// Why trusted material could not be had over TUF.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The mirror URL is unusable.
    #[error("TUF mirror")]
    Mirror(#[from] mirror::Error),
    /// The bootstrap root does not verify (by its own keys) or does not parse.
    #[error("the initial root.json for {mirror} is not a valid, self-signed TUF root")]
    Bootstrap {
        /// The mirror.
        mirror: String,
        /// Why.
        #[source]
        source: Box<sigstore_tuf::Error>,
    },
    /// Updating the metadata from the mirror failed.
    #[error("TUF repository {mirror}: refresh failed")]
    Refresh {
        /// The mirror.
        mirror: String,
        /// The TUF client's reason, naming the role.
        #[source]
        source: Box<sigstore_tuf::Error>,
    },
    /// The mirror could not be reached and the cache cannot stand in for it.
    #[error(
        "TUF repository {mirror} is unreachable ({network}), and the cache in {cache} is not usable"
    )]
    Offline {
        /// The mirror.
        mirror: String,
        /// Why the mirror could not be reached.
        network: String,
        /// The cache directory.
        cache: PathBuf,
        /// Why the cache cannot be used (expired metadata, names the role).
        #[source]
        source: Box<sigstore_tuf::Error>,
    },
    /// A target could not be had or did not match the targets metadata.
    #[error("TUF repository {mirror}: target {target}")]
    Target {
        /// The mirror.
        mirror: String,
        /// The target name.
        target: String,
        /// Why.
        #[source]
        source: Box<sigstore_tuf::Error>,
    },
    /// The trusted root target is not a usable trusted root.
    #[error("TUF repository {mirror}: target {TRUSTED_ROOT_TARGET}")]
    TrustedRoot {
        /// The mirror.
        mirror: String,
        /// The parse error.
        #[source]
        source: Box<trust::Error>,
    },
    /// A custom mirror needs a root of its own.
    #[error(
        "no root.json for the TUF mirror {mirror}: run `cosign-rebuild initialize --mirror \
         {mirror} --root FILE`, or set {ENV_TUF_ROOT_JSON}"
    )]
    NoRoot {
        /// The mirror.
        mirror: String,
    },
    /// The initial root could not be fetched.
    #[error("cannot fetch the initial root {url}")]
    FetchRoot {
        /// Where from.
        url: String,
        /// Why.
        #[source]
        source: mirror::Error,
    },
    /// The initial root's checksum is not the one given.
    #[error("initial root {origin}: {algorithm} is {actual}, expected {expected}")]
    Checksum {
        /// The file or URL.
        origin: String,
        /// `sha256` or `sha512`.
        algorithm: &'static str,
        /// The digest of what was read.
        actual: String,
        /// The digest given.
        expected: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `remote.json` is malformed.
    #[error("{path}: not a cosign remote.json ({{\"mirror\": URL}})")]
    Remote {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The TUF client's runtime could not start.
    #[error("cannot start the TUF client")]
    Runtime(#[source] std::io::Error),
}

/// A TUF repository to read Sigstore targets from.
#[derive(Debug, Clone)]
pub struct Client {
    mirror: String,
    root: Vec<u8>,
    cache: Cache,
}

impl Client {
    /// `mirror`, trusting `root` (a `root.json` of that repository) at first use, caching in
    /// `cache`.
    pub fn new(mirror: &str, root: Vec<u8>, cache: Cache) -> Result<Self, Error> {
        Mirror::parse(mirror)?;
        Ok(Client {
            mirror: mirror.trim_end_matches('/').to_owned(),
            root,
            cache,
        })
    }

    /// The repository cosign would use (`pkg/cosign/tuf.go`): cache in `$TUF_ROOT` or
    /// `~/.sigstore/root`; mirror from `TUF_MIRROR`, else `remote.json`, else the default;
    /// the embedded root for the default mirror, otherwise `TUF_ROOT_JSON` or the cached
    /// `root.json` of that mirror.
    pub fn from_env() -> Result<Self, Error> {
        let cache = Cache::new(cache::default_dir());
        let mirror = match std::env::var(ENV_TUF_MIRROR).ok().filter(|m| !m.is_empty()) {
            Some(mirror) => mirror,
            None => cache.remote()?.unwrap_or_else(|| DEFAULT_MIRROR.to_owned()),
        };
        let root = if mirror == DEFAULT_MIRROR {
            PUBLIC_GOOD_ROOT.to_vec()
        } else if let Some(path) = std::env::var_os(ENV_TUF_ROOT_JSON).filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            std::fs::read(&path).map_err(|source| Error::Read { path, source })?
        } else {
            cache.root(&mirror)?.ok_or_else(|| Error::NoRoot {
                mirror: mirror.clone(),
            })?
        };
        Client::new(&mirror, root, cache)
    }

    /// The mirror [`Client::from_env`] would use, for naming it when it cannot be used
    /// (an unreadable `remote.json` counts as absent).
    pub fn mirror_from_env() -> String {
        std::env::var(ENV_TUF_MIRROR)
            .ok()
            .filter(|m| !m.is_empty())
            .or_else(|| Cache::new(cache::default_dir()).remote().ok().flatten())
            .unwrap_or_else(|| DEFAULT_MIRROR.to_owned())
    }

    /// The mirror's URL.
    pub fn mirror(&self) -> &str {
        &self.mirror
    }

    /// Refreshes the metadata and returns the named targets' verified bytes, in order.
    pub fn targets(&self, names: &[&str]) -> Result<Vec<Vec<u8>>, Error> {
        self.targets_at(names, jiff::Timestamp::now())
    }

    /// As [`Client::targets`], with expiry judged at `now`.
    pub fn targets_at(&self, names: &[&str], now: jiff::Timestamp) -> Result<Vec<Vec<u8>>, Error> {
        block_on(self.fetch(names, now))?
    }

    /// The verified `trusted_root.json`, parsed.
    pub fn trusted_root(&self) -> Result<TrustedRoot, Error> {
        let [bytes] = self
            .targets(&[TRUSTED_ROOT_TARGET])?
            .try_into()
            .expect("one target");
        let origin = format!("{}/targets/{TRUSTED_ROOT_TARGET}", self.mirror);
        TrustedRoot::from_json(&bytes, &origin).map_err(|source| Error::TrustedRoot {
            mirror: self.mirror.clone(),
            source: Box::new(source),
        })
    }

    /// The verified `signing_config.v0.2.json` bytes.
    pub fn signing_config(&self) -> Result<Vec<u8>, Error> {
        let [bytes] = self
            .targets(&[SIGNING_CONFIG_TARGET])?
            .try_into()
            .expect("one target");
        Ok(bytes)
    }

    fn limits() -> UpdaterConfig {
        let mut limits = UpdaterConfig::default();
        // Sigstore's targets are a few KiB; python-tuf's 50 MB default is for software.
        limits.target_max_length = 4 << 20;
        limits
    }

    async fn fetch(&self, names: &[&str], now: jiff::Timestamp) -> Result<Vec<Vec<u8>>, Error> {
        let bootstrap = |source| Error::Bootstrap {
            mirror: self.mirror.clone(),
            source: Box::new(source),
        };
        mirror::check_duplicate_keys(&self.root)
            .map_err(|e| bootstrap(sigstore_tuf::Error::Malformed(format!("root.json: {e}"))))?;
        let directory = self.cache.repository(&self.mirror);
        let fetcher = mirror::Fetcher::new(Mirror::parse(&self.mirror)?)?;
        let unreachable = fetcher.unreachable();
        let mut updater = Updater::new(fetcher, &self.root)
            .map_err(bootstrap)?
            .with_config(Self::limits())
            .with_store(FileStore::new(&directory));
        match updater.refresh(now).await {
            Ok(()) => self.cache.refreshed(&self.mirror, now),
            Err(network) if unreachable.load(Ordering::SeqCst) => {
                let cached = mirror::Cached(StoreRepository::new(FileStore::new(&directory)));
                updater = Updater::new(cached, &self.root)
                    .map_err(bootstrap)?
                    .with_config(Self::limits())
                    .with_store(FileStore::new(&directory));
                updater
                    .refresh(now)
                    .await
                    .map_err(|source| Error::Offline {
                        mirror: self.mirror.clone(),
                        network: chain(&network),
                        cache: directory.clone(),
                        source: Box::new(source),
                    })?;
            }
            Err(source) => {
                return Err(Error::Refresh {
                    mirror: self.mirror.clone(),
                    source: Box::new(source),
                });
            }
        }
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let bytes = updater
                .get_target(name, now)
                .await
                .map_err(|source| Error::Target {
                    mirror: self.mirror.clone(),
                    target: (*name).to_owned(),
                    source: Box::new(source),
                })?;
            out.push(bytes);
        }
        Ok(out)
    }
}

/// An error and its causes on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl trust::Fetch for Client {
    fn trusted_root(&self) -> Result<TrustedRoot, trust::Error> {
        Client::trusted_root(self).map_err(|e| trust::Error::Fetch(Box::new(e)))
    }
}

/// The default trust source of every verifying command: the repository [`Client::from_env`]
/// picks, resolved only when a trusted root is actually needed.
#[derive(Debug, Clone, Copy, Default)]
pub struct FromEnv;

impl trust::Fetch for FromEnv {
    fn trusted_root(&self) -> Result<TrustedRoot, trust::Error> {
        Client::from_env()
            .and_then(|client| client.trusted_root())
            .map_err(|e| trust::Error::Fetch(Box::new(e)))
    }
}

/// The signing configuration (`signing_config.v0.2.json`, verified over TUF) of the repository
/// cosign would use: for signing, as cosign v3 reads its service URLs.
pub fn signing_config() -> Result<Vec<u8>, Error> {
    Client::from_env()?.signing_config()
}

/// What `initialize` is told (cosign's `initialize` flags).
#[derive(Debug, Clone, Default)]
pub struct Initialize {
    /// The mirror; `None` for the default.
    pub mirror: Option<String>,
    /// The initial root: a file, or an `http(s)://` URL; `None` for the embedded root.
    pub root: Option<String>,
    /// `sha256` (hex, optionally `sha256:`-prefixed) or `sha512:HEX` of the initial root.
    pub root_checksum: Option<String>,
    /// Use the staging instance (its mirror and embedded root).
    pub staging: bool,
}

/// What `initialize` fetched.
#[derive(Debug)]
pub struct Initialized {
    /// The mirror now recorded in `remote.json`.
    pub mirror: String,
    /// The cache directory.
    pub cache: PathBuf,
    /// Why the signing configuration could not be fetched (cosign only warns).
    pub signing_config: Option<Error>,
}

/// `cosign initialize`: empties the cache, records the mirror in `remote.json`, then fetches
/// and caches the signing configuration (a warning when absent) and the trusted root (an
/// error when absent: there is no legacy per-target fallback here).
pub fn initialize(options: &Initialize) -> Result<Initialized, Error> {
    let (mirror, embedded) = if options.staging {
        (STAGING_MIRROR.to_owned(), STAGING_ROOT)
    } else {
        let mirror = options
            .mirror
            .clone()
            .unwrap_or_else(|| DEFAULT_MIRROR.to_owned());
        let embedded = if mirror == STAGING_MIRROR {
            STAGING_ROOT
        } else {
            PUBLIC_GOOD_ROOT
        };
        (mirror, embedded)
    };
    let root = match &options.root {
        Some(origin) => initial_root(origin, options.root_checksum.as_deref())?,
        None => embedded.to_vec(),
    };
    let cache = Cache::new(cache::default_dir());
    let client = Client::new(&mirror, root, cache.clone())?;
    cache.reset(&client.mirror)?;
    let signing_config = client.signing_config().err();
    client.trusted_root()?;
    Ok(Initialized {
        mirror: client.mirror,
        cache: cache.dir().to_owned(),
        signing_config,
    })
}

/// Reads the initial root from a file or an `http(s)://` URL (cosign's `LoadFileOrURL`),
/// checking its digest when one is given.
fn initial_root(origin: &str, checksum: Option<&str>) -> Result<Vec<u8>, Error> {
    let bytes = if origin.starts_with("http://") || origin.starts_with("https://") {
        fetch_url(origin)?
    } else {
        let path = PathBuf::from(origin);
        std::fs::read(&path).map_err(|source| Error::Read { path, source })?
    };
    if let Some(checksum) = checksum {
        let (algorithm, expected, actual) = match checksum.split_once(':') {
            Some(("sha512", hex)) => ("sha512", hex, hex::encode(Sha512::digest(&bytes))),
            Some(("sha256", hex)) => ("sha256", hex, hex::encode(Sha256::digest(&bytes))),
            _ => ("sha256", checksum, hex::encode(Sha256::digest(&bytes))),
        };
        if !actual.eq_ignore_ascii_case(expected) {
            return Err(Error::Checksum {
                origin: origin.to_owned(),
                algorithm,
                actual,
                expected: expected.to_owned(),
            });
        }
    }
    Ok(bytes)
}

/// GETs one `root.json`, capped at the TUF client's root limit.
fn fetch_url(url: &str) -> Result<Vec<u8>, Error> {
    let failed = |source| Error::FetchRoot {
        url: url.to_owned(),
        source,
    };
    let (base, name) = url.rsplit_once('/').unwrap_or((url, ""));
    let fetcher = mirror::Fetcher::new(Mirror::parse(base).map_err(failed)?).map_err(failed)?;
    let limit = UpdaterConfig::default().root_max_length;
    block_on(fetcher.get(name, limit))?
        .map_err(failed)?
        .ok_or_else(|| {
            failed(mirror::Error::NotFound {
                url: url.to_owned(),
            })
        })
}

/// Runs `future` to completion on a runtime of its own, on a thread of its own: the caller may
/// already be inside a tokio runtime, where blocking on another is refused.
fn block_on<F: std::future::Future + Send>(future: F) -> Result<F::Output, Error>
where
    F::Output: Send,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    Ok(std::thread::scope(|scope| {
        scope
            .spawn(|| runtime.block_on(future))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }))
}
