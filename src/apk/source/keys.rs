//! `contents.keyring`: every entry fetched once (through the download cache for URLs), kept in
//! configuration order for the lock file, and handed out as the keyring indexes are verified
//! with and as the files `/etc/apk/keys` receives.
//!
//! Not for: fetching one key ([`crate::apk::repository::Fetcher::fetch_key`]) or parsing it
//! ([`crate::apk::keyring`]). Reproduces apko `pkg/build/apk.go` `initializeApk` (keyring =
//! sorted union of the entries) and `internal/cli/lock.go` (the lock file keeps every entry as
//! configured), reference/apko-format.md §3.2, §4.1.

use std::path::Path;

use super::{Error, sorted_unique};
use crate::apk::keyring::Keyring;
use crate::apk::repository::{self, FetchedKey, Fetcher};

/// The keys of `contents.keyring`, each entry with what it fetched to.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    entries: Vec<(String, FetchedKey)>,
}

impl Keys {
    /// Fetches every entry of `keyring` (paths relative to `working_dir`, `file://` and
    /// `http(s)://` URLs) in order; duplicates are fetched and kept, as apko's lock file keeps
    /// them.
    pub fn read(fetcher: &Fetcher, keyring: &[String], working_dir: &Path) -> Result<Keys, Error> {
        let mut entries = Vec::new();
        for entry in keyring {
            let key = fetcher
                .fetch_key(entry, working_dir)
                .map_err(|source| Error::Key {
                    key: entry.clone(),
                    source: Box::new(source),
                })?;
            entries.push((entry.clone(), key));
        }
        Ok(Keys { entries })
    }

    /// Every entry as configured, with its key, in configuration order.
    pub fn entries(&self) -> &[(String, FetchedKey)] {
        &self.entries
    }

    /// The keys of the sorted, de-duplicated entries (apko's `sets.List` of the keyring): the
    /// keyring an image is built with, each as `/etc/apk/keys/<name>` receives it.
    pub fn installed(&self) -> impl Iterator<Item = (&str, &FetchedKey)> {
        let configured: Vec<String> = self.entries.iter().map(|(e, _)| e.clone()).collect();
        sorted_unique(&configured).into_iter().filter_map(|entry| {
            self.entries
                .iter()
                .find(|(configured, _)| *configured == entry)
                .map(|(configured, key)| (configured.as_str(), key))
        })
    }

    /// The keyring indexes are verified with: the sorted, de-duplicated entries' keys.
    pub fn keyring(&self) -> Result<Keyring, Error> {
        let mut keyring = Keyring::new();
        for (entry, key) in self.installed() {
            keyring
                .insert_pem(&key.name, &key.pem)
                .map_err(|source| Error::Key {
                    key: entry.to_owned(),
                    source: Box::new(repository::Error::Key {
                        key: key.location.clone(),
                        source,
                    }),
                })?;
        }
        Ok(keyring)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> FetchedKey {
        FetchedKey {
            name: name.to_owned(),
            location: format!("keys/{name}"),
            pem: name.as_bytes().to_vec(),
        }
    }

    #[test]
    fn the_lock_keeps_every_entry_and_the_image_gets_each_once_sorted() {
        let configured = ["keys/b.pub", "https://example.test/a.pub", "keys/b.pub"];
        let keys = Keys {
            entries: configured
                .iter()
                .map(|entry| {
                    (
                        entry.to_string(),
                        key(entry.rsplit('/').next().unwrap_or(entry)),
                    )
                })
                .collect(),
        };
        let entries: Vec<&str> = keys.entries().iter().map(|(e, _)| e.as_str()).collect();
        assert_eq!(entries, configured);
        let installed: Vec<(&str, &str)> = keys
            .installed()
            .map(|(entry, key)| (entry, key.name.as_str()))
            .collect();
        assert_eq!(
            installed,
            [
                ("https://example.test/a.pub", "a.pub"),
                ("keys/b.pub", "b.pub")
            ]
        );
    }
}
