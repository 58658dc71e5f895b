//! The TUF cache on disk, laid out as cosign and sigstore-go lay it out, so either tool can
//! read what the other wrote:
//!
//! ```text
//! $TUF_ROOT (or ~/.sigstore/root)/
//!   remote.json                      {"mirror": URL}, written by `initialize`
//!   <mirror as a path>.json          {"lastTimestamp": …}, the last successful refresh
//!   <mirror as a path>/              root.json, timestamp.json, snapshot.json, targets.json
//!     targets/trusted_root.json      verified targets, by name
//! ```
//!
//! (`sigstore_tuf` also keeps `root_history/N.root.json` and versioned snapshot and targets
//! copies beside them; sigstore-go ignores those.)
//!
//! Not for: fetching (`tuf::mirror`) or verification (`sigstore_tuf`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Error;

/// The variable naming the cache directory (cosign's `TUF_ROOT`).
pub const ENV_TUF_ROOT: &str = "TUF_ROOT";

/// The cache directory: `$TUF_ROOT`, else `~/.sigstore/root` (sigstore-go's `DefaultOptions`,
/// which falls back to the temporary directory without a home).
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(ENV_TUF_ROOT).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::home_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join(".sigstore")
        .join("root")
}

/// sigstore-go's `URLToPath`: the scheme dropped, `/` and `:` made `-`, lower case.
pub fn url_to_path(url: &str) -> String {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    rest.replace(['/', ':'], "-").to_lowercase()
}

/// One cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Remote {
    mirror: String,
}

#[derive(Serialize)]
struct LastRefresh {
    #[serde(rename = "lastTimestamp")]
    last_timestamp: String,
}

impl Cache {
    /// The cache rooted at `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Cache { dir: dir.into() }
    }

    /// The cache directory itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where `mirror`'s metadata lives.
    pub fn repository(&self, mirror: &str) -> PathBuf {
        self.dir.join(url_to_path(mirror))
    }

    /// The mirror `initialize` recorded in `remote.json`, if it ran.
    pub fn remote(&self) -> Result<Option<String>, Error> {
        let path = self.dir.join("remote.json");
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::Read { path, source }),
        };
        let remote: Remote =
            serde_json::from_slice(&bytes).map_err(|source| Error::Remote { path, source })?;
        Ok(Some(remote.mirror))
    }

    /// The cached (verified at the time) `root.json` of `mirror`, if any.
    pub fn root(&self, mirror: &str) -> Result<Option<Vec<u8>>, Error> {
        let path = self.repository(mirror).join("root.json");
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Read { path, source }),
        }
    }

    /// Empties the cache and records `mirror` as the one to use, as `cosign initialize` does.
    pub fn reset(&self, mirror: &str) -> Result<(), Error> {
        let write = |path: &Path, source| Error::Write {
            path: path.to_owned(),
            source,
        };
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(write(&self.dir, source)),
        }
        create_private_dir(&self.dir).map_err(|source| write(&self.dir, source))?;
        let remote = serde_json::to_vec(&Remote {
            mirror: mirror.to_owned(),
        })
        .expect("a string map serializes");
        let path = self.dir.join("remote.json");
        write_atomic(&path, &remote).map_err(|source| write(&path, source))
    }

    /// Records a successful refresh of `mirror` (sigstore-go's cache-validity file).
    pub fn refreshed(&self, mirror: &str, now: jiff::Timestamp) {
        let record = LastRefresh {
            last_timestamp: now.to_string(),
        };
        let bytes = serde_json::to_vec(&record).expect("a string field serializes");
        let path = self.dir.join(format!("{}.json", url_to_path(mirror)));
        // As sigstore-go: the record only saves a refresh later, so failing to write it is
        // not an error.
        let _ = write_atomic(&path, &bytes);
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_paths_match_sigstore_go() {
        // The example in sigstore-go's URLToPath and its client tests.
        assert_eq!(
            url_to_path("https://github.github.com/prod-tuf-root"),
            "github.github.com-prod-tuf-root"
        );
        assert_eq!(
            url_to_path("https://tuf-repo-cdn.sigstore.dev"),
            "tuf-repo-cdn.sigstore.dev"
        );
        assert_eq!(url_to_path("http://127.0.0.1:8080/A"), "127.0.0.1-8080-a");
        assert_eq!(url_to_path("file:///srv/tuf"), "file----srv-tuf");
    }
}
