//! Trusted signing keys, looked up by file name.
//!
//! A [`Keyring`] maps a key's file name (`alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`) to
//! its RSA public key, as apko's `/etc/apk/keys/` does. Keys come from PEM bytes, files or
//! directories; this module reads local files only.
//!
//! Not for: fetching keys from URLs ([`super::repository`]) or checking signatures
//! ([`super::signed`]). Reproduces apko `pkg/apk/signature/rsa.go` `RSAVerifyDigest` key parsing
//! and `loadSystemKeyring` directory rules (reference/apko-format.md §4.1, §5.5).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs8::DecodePublicKey as _;

use crate::codec::pem;

/// Why a key cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key's text holds no PEM block that Go's `pem.Decode` accepts (a block whose body is
    /// not base64 is passed over, as Go passes it over).
    #[error("key {key}: no PEM block found")]
    NoPem {
        /// The key file's path, or the name it was given.
        key: String,
    },
    /// The PEM block is neither a PKIX `PUBLIC KEY` nor a PKCS#1 `RSA PUBLIC KEY` holding RSA.
    #[error("key {key}: not an RSA public key (PEM label {label:?})")]
    NotRsa {
        /// The key file's path, or the name it was given.
        key: String,
        /// The PEM block's label.
        label: String,
    },
    /// A key name that cannot be a file name (apko rejects names containing `/`).
    #[error("key name {name:?}: not a file name")]
    Name {
        /// The offending name.
        name: String,
    },
    /// A key file or directory cannot be read.
    #[error("key file {path}: cannot read", path = path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
}

/// The file name a key is trusted under, e.g. `wolfi-signing.rsa.pub`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyName(String);

impl KeyName {
    /// Checks that `name` is a bare file name, as apko's `parseRepositoryIndex` demands.
    pub fn new(name: &str) -> Result<Self, Error> {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(Error::Name {
                name: name.to_owned(),
            });
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// Lets the keyring be searched by `&str`; ordering and equality are the same as `String`'s.
impl std::borrow::Borrow<str> for KeyName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// Trusted RSA public keys by file name.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    keys: BTreeMap<KeyName, rsa::PublicKey>,
}

impl Keyring {
    /// An empty keyring: every signed index read against it fails with "no keys".
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts the PEM key `pem` under `name`, replacing any key of that name.
    pub fn insert_pem(&mut self, name: &str, pem: &[u8]) -> Result<(), Error> {
        let name = KeyName::new(name)?;
        let key = parse_pem(name.as_str(), pem)?;
        self.keys.insert(name, key);
        Ok(())
    }

    /// Trusts the key file at `path` under its file name.
    pub fn add_file(&mut self, path: &Path) -> Result<(), Error> {
        let name = file_name(path)?;
        let pem = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        let key = parse_pem(&path.display().to_string(), &pem)?;
        self.keys.insert(name, key);
        Ok(())
    }

    /// Trusts every `*.pub` file in `dir`; other files are skipped, as apko's
    /// `loadSystemKeyring` does (key directories often hold a README).
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), Error> {
        let read_error = |source| Error::Read {
            path: dir.to_owned(),
            source,
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_error)? {
            let path = entry.map_err(read_error)?.path();
            if path.extension().is_some_and(|ext| ext == "pub") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        for path in paths {
            self.add_file(&path)?;
        }
        Ok(())
    }

    /// A keyring from files and directories (each directory as in [`Keyring::add_dir`]).
    pub fn from_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Self, Error> {
        let mut keyring = Self::new();
        for path in paths {
            let path = path.as_ref();
            if path.is_dir() {
                keyring.add_dir(path)?;
            } else {
                keyring.add_file(path)?;
            }
        }
        Ok(keyring)
    }

    /// The key a signature names: `signer` exactly, or `signer` without `.rsa.pub` (keys fetched
    /// from proxies often lose the extension; apko accepts both).
    pub fn find(&self, signer: &str) -> Option<(&KeyName, &rsa::PublicKey)> {
        let exact = self.keys.get_key_value(signer);
        exact.or_else(|| {
            let trimmed = signer.strip_suffix(".rsa.pub")?;
            self.keys.get_key_value(trimmed)
        })
    }

    /// Trusted key names in order.
    pub fn names(&self) -> impl Iterator<Item = &KeyName> {
        self.keys.keys()
    }

    /// Number of trusted keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn file_name(path: &Path) -> Result<KeyName, Error> {
    let name = path.file_name().map(|name| name.to_string_lossy());
    KeyName::new(name.as_deref().unwrap_or_default())
}

/// Parses the first PEM block in `text` with Go's `pem.Decode` ([`crate::codec::pem`]): text
/// before the block is skipped; like apko, the block is read as PKIX whatever its label, and
/// PKCS#1 is accepted for `RSA PUBLIC KEY`.
fn parse_pem(key: &str, text: &[u8]) -> Result<rsa::PublicKey, Error> {
    let no_pem = || Error::NoPem {
        key: key.to_owned(),
    };
    let (block, _) = pem::decode(text).ok_or_else(no_pem)?;
    let label = String::from_utf8_lossy(&block.kind).into_owned();
    let der = block.bytes;
    let not_rsa = || Error::NotRsa {
        key: key.to_owned(),
        label: label.clone(),
    };
    match rsa::PublicKey::from_public_key_der(&der) {
        Ok(public) => Ok(public),
        Err(_) if label == "RSA PUBLIC KEY" => {
            rsa::PublicKey::from_pkcs1_der(&der).map_err(|_| not_rsa())
        }
        Err(_) => Err(not_rsa()),
    }
}
