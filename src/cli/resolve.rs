//! Package resolution options shared by `oras-lock` and `cosign-rebuild build`: architectures,
//! offline use, the download cache and include paths, and their translation into
//! [`crate::apk::source::Settings`].
//!
//! Not for: resolving ([`crate::apk::source`]) or fetching ([`crate::apk::repository`]).

use std::path::PathBuf;

use crate::apk::repository::{self, Network};
use crate::apk::source;

/// Options of every command that resolves packages.
#[derive(Debug, Clone, clap::Args)]
pub struct ResolveArgs {
    /// Architectures to resolve (repeatable or comma-separated; `all`, `host`, or names such as
    /// x86_64, aarch64, amd64, arm64). They are de-duplicated and sorted. Default: the
    /// configuration's `archs`, else all architectures.
    #[arg(long = "arch", value_name = "ARCH", value_delimiter = ',')]
    pub archs: Vec<String>,
    /// Use no network: indexes, keys and packages must be in the download cache.
    #[arg(long)]
    pub offline: bool,
    /// Download cache directory (default: the user cache directory's `receipts/apk`).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Directories searched for the configuration file (and the base image) when it is not in
    /// the working directory (repeatable or comma-separated).
    #[arg(long = "include-paths", value_name = "DIR", value_delimiter = ',')]
    pub include_paths: Vec<PathBuf>,
}

/// The scratch area of a build or an audit: `tmp` in the download cache directory (`dir`, else
/// the default one, else the system's temporary directory), created, with what killed runs left
/// there swept first (`crate::scratch`: only files whose owner is gone).
pub fn scratch_area(cache_dir: Option<&std::path::Path>) -> PathBuf {
    let dir = cache_dir
        .map(std::path::Path::to_path_buf)
        .or_else(repository::default_cache_dir)
        .map_or_else(std::env::temp_dir, |cache| cache.join("tmp"));
    crate::scratch::sweep(&dir, SCRATCH_PREFIXES);
    dir
}

/// Every kind of scratch path a build or an audit puts in its scratch area.
pub const SCRATCH_PREFIXES: &[&str] = &[crate::build::layer::SCRATCH_PREFIX, AUDIT_PREFIX];

/// How an audit's rebuilt layout is named in the scratch area (`audit-<pid>-<random>`).
pub const AUDIT_PREFIX: &str = crate::rebuild::audit::SCRATCH_PREFIX;

impl ResolveArgs {
    /// The settings these options describe, relative paths read from the process's working
    /// directory.
    pub fn settings(&self) -> source::Settings {
        source::Settings {
            working_dir: PathBuf::new(),
            include_paths: self.include_paths.clone(),
            archs: self.archs.clone(),
            fetch: repository::Settings {
                cache_dir: self.cache_dir.clone(),
                network: if self.offline {
                    Network::Offline
                } else {
                    Network::Online
                },
            },
        }
    }
}
