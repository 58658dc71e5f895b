//! The download cache's layout: `<root>/<sha1(repo URL)[..8 hex]>/<arch>/<file>` (the repository
//! directory named like apk's cache entries; below it apko's layout), with
//! indexes kept as `…/<arch>/APKINDEX/<base32(ETag)>.tar.gz` and keys as
//! `…/<file>.rsa.pub/<base32(ETag)>.etag`. Writes are atomic (temp file, synced, then renamed),
//! so many processes (pods sharing one volume) may fill one cache: a reader sees a whole entry
//! or none, and readers check every entry anyway. A package download takes an advisory lock on
//! `<entry>.lock` ([`EntryLock`]) so that processes wanting the same package wait for the first
//! one's copy instead of downloading it again.
//!
//! Not for: deciding what to fetch or trust (the parent module). Reproduces apko
//! `pkg/apk/apk/cache.go` `cachePathFromURL` (below the repository directory), `cacheFileFromEtag`, `etagFromResponse`,
//! `cacheDirFromFile` and `fetchOffline`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use reqwest::Url;

use super::Error;

/// Which of apko's ETag layouts a URL's cached copies use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// `…/<arch>/APKINDEX/<etag>.tar.gz`
    Index,
    /// `…/<dir>/<name>.rsa.pub/<etag>.etag`
    Key,
}

/// The directory holding one URL's cached copies, one per ETag.
#[derive(Debug)]
pub(super) struct Slot {
    dir: PathBuf,
    extension: &'static str,
}

impl Slot {
    /// `None` when the URL path names no file.
    pub(super) fn new(root: &Path, url: &Url, layout: Layout) -> Option<Self> {
        let file = path_for_url(root, url)?;
        let slot = match layout {
            Layout::Index => Self {
                dir: file.parent()?.join("APKINDEX"),
                extension: ".tar.gz",
            },
            Layout::Key => Self {
                dir: file,
                extension: ".etag",
            },
        };
        Some(slot)
    }

    /// The copy stored under `etag` (already base32, so a safe file name).
    pub(super) fn file(&self, etag: &str) -> PathBuf {
        self.dir.join(format!("{etag}{}", self.extension))
    }

    /// The most recently written copy, as apko's offline mode picks it.
    pub(super) fn newest(&self) -> Option<PathBuf> {
        let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
        for entry in std::fs::read_dir(&self.dir).ok()?.flatten() {
            let path = entry.path();
            let named = path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.ends_with(self.extension));
            let Ok(metadata) = entry.metadata() else {
                continue;
            };
            if !named || !metadata.is_file() {
                continue;
            }
            let modified = metadata.modified().unwrap_or(std::time::UNIX_EPOCH);
            if newest.as_ref().is_none_or(|(time, _)| modified > *time) {
                newest = Some((modified, path));
            }
        }
        newest.map(|(_, path)| path)
    }
}

/// The cache path of a URL: the last two path elements (arch and file) stay, everything before
/// them (scheme, host, repository path) is the repository, whose directory is named like apk's
/// cache entries: the first 8 hex digits of the SHA-1 of the repository URL. Within it the layout
/// is apko's `cachePathFromURL`. Credentials and queries never reach the name, so a cache can be
/// shared and listed without leaking them.
pub(super) fn path_for_url(root: &Path, url: &Url) -> Option<PathBuf> {
    // Go's filepath.Dir/Base clean the path: empty and `.` elements vanish, `..` pops.
    let mut elements: Vec<&str> = Vec::new();
    for element in url.path().split('/') {
        match element {
            "" | "." => {}
            ".." => {
                elements.pop();
            }
            element => elements.push(element),
        }
    }
    let file = elements.pop()?;
    // A file at the top (`https://host/key.rsa.pub`) has no directory: Go's Base("/") is "/",
    // which filepath.Join drops.
    let dir = elements.pop();
    let mut repository = url.clone();
    repository.set_query(None);
    repository.set_fragment(None);
    repository.set_path(&format!("/{}", elements.join("/")));
    repository.set_username("").ok()?;
    repository.set_password(None).ok()?;
    let mut path = root.join(repository_dir(repository.as_str()));
    path.extend(dir);
    path.push(file);
    Some(path)
}

/// `sha1(url)[..4]` in hex: apk's naming of per-repository cache entries.
pub(super) fn repository_dir(url: &str) -> String {
    use sha1::Digest as _;
    let digest = sha1::Sha1::digest(url.trim_end_matches('/').as_bytes());
    hex::encode(&digest[..4])
}

/// apko's `etagFromResponse`: the ETag without quotes, base32 (RFC 4648, padded) so it is a safe
/// file name on case-insensitive file systems.
pub(super) fn etag(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let value = headers.get(reqwest::header::ETAG)?.as_bytes();
    let start = value.iter().position(|&b| b != b'"')?;
    let end = value.iter().rposition(|&b| b != b'"')?;
    let trimmed = value.get(start..=end)?;
    Some(base32(trimmed))
}

fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut block = [0u8; 5];
        for (slot, byte) in block.iter_mut().zip(chunk) {
            *slot = *byte;
        }
        let bits = block
            .iter()
            .fold(0u64, |bits, &byte| (bits << 8) | u64::from(byte));
        let symbols = (chunk.len() * 8).div_ceil(5);
        for index in 0..8 {
            if index < symbols {
                let value = (bits >> (35 - 5 * index)) & 0x1f;
                out.push(char::from(ALPHABET[value as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The URL as Go's `url.Redacted` prints it: any password replaced by `xxxxx`.
pub(super) fn redact(url: &Url) -> String {
    if url.password().is_none() {
        return url.to_string();
    }
    let mut redacted = url.clone();
    // Only fails for URLs that cannot have credentials, which have no password to hide.
    let _ = redacted.set_password(Some("xxxxx"));
    redacted.to_string()
}

/// Writes `bytes` to `path` through a scratch file in the same directory and a rename, so a
/// reader never sees a partial file. The scratch file (`.tmp-<pid>-<random>`) is removed on
/// SIGINT/SIGTERM, and what a killed run left in the directory is swept first
/// (`crate::scratch`).
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    const SCRATCH_PREFIX: &str = ".tmp-";
    let dir = path.parent().unwrap_or(Path::new("."));
    let failed = |source| Error::CacheWrite {
        path: path.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    // On disk before it is visible under its name: a crash (or a pod killed on another machine
    // sharing the volume) cannot leave a named entry whose bytes never arrived.
    crate::scratch::sweep(dir, &[SCRATCH_PREFIX]);
    let mut temporary = crate::scratch::File::create_in(dir, SCRATCH_PREFIX, "").map_err(failed)?;
    temporary.as_file_mut().write_all(bytes).map_err(failed)?;
    temporary.as_file_mut().flush().map_err(failed)?;
    temporary.as_file_mut().sync_all().map_err(failed)?;
    temporary.persist(path).map_err(failed)?;
    Ok(())
}

/// An exclusive advisory lock (`flock`) on one cache entry, released when dropped (or when the
/// process dies: the kernel drops it with the descriptor, so a killed holder never wedges the
/// others).
#[derive(Debug)]
pub(super) struct EntryLock {
    _file: std::fs::File,
}

/// Waits for and takes the lock of the entry at `path` (`<path>.lock`). `None` when the lock
/// cannot be had (a read-only cache, a file system without locks): the cache is still correct
/// without it, since writes are atomic; the lock only saves duplicate downloads.
pub(super) fn lock_entry(path: &Path) -> Option<EntryLock> {
    let mut name = path.file_name()?.to_owned();
    name.push(".lock");
    let lock_path = path.with_file_name(name);
    std::fs::create_dir_all(lock_path.parent()?).ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .ok()?;
    crate::scratch::lock(&file).ok()?;
    Some(EntryLock { _file: file })
}
