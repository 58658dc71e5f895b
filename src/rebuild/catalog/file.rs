//! The catalogue file: YAML with `defaults:` (the policy and the registry and build options all
//! entries share) and `images:` (one entry per image, by tag or digest, optionally with its own
//! signer and platforms). Keys are spelled as the audit's flags are (`key`,
//! `certificate-identity`, `insecure-ignore-tlog`, `allow-http-registry`, …).
//!
//! Strict: an unknown key, an entry without `image`, an image that does not parse, a signer
//! that is half given, or the same image twice is an error naming the entry. Relative paths
//! (keys, trusted roots, the cache, registry configs) are read from the catalogue's directory,
//! so a catalogue and its keys travel together (a Kubernetes ConfigMap, a repository).
//!
//! Not for: choosing this process's share ([`super::shard`]) or auditing ([`super::run`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::oci::{Digest, Reference};

/// Who must have signed an image's image-configuration attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// A public key file (`key:`).
    Key(PathBuf),
    /// A keyless signer: certificate identity and OIDC issuer, each exact or a regexp.
    Certificate {
        /// `certificate-identity:`.
        identity: Option<String>,
        /// `certificate-identity-regexp:`.
        identity_regexp: Option<String>,
        /// `certificate-oidc-issuer:`.
        oidc_issuer: Option<String>,
        /// `certificate-oidc-issuer-regexp:`.
        oidc_issuer_regexp: Option<String>,
    },
}

/// What an entry's audit must check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The signer.
    pub signer: Signer,
    /// `trusted-root:`: a Sigstore trusted_root.json.
    pub trusted_root: Option<PathBuf>,
    /// `insecure-ignore-tlog:`.
    pub insecure_ignore_tlog: bool,
    /// `insecure-ignore-sct:`.
    pub insecure_ignore_sct: bool,
}

/// One image of the catalogue, with the defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The image as written (`HOST/REPO[:TAG][@DIGEST]` or `oci:DIR[:TAG|@DIGEST]`); also the
    /// key that shards it.
    pub image: String,
    /// Its position in `images:` (0-based).
    pub index: usize,
    /// The policy it must meet.
    pub policy: Policy,
    /// `platforms:` to rebuild (`os/arch[/variant]`); empty: every platform of the image.
    pub platforms: Vec<String>,
}

/// Registry options shared by every entry (`defaults:`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    /// `allow-http-registry:`.
    pub allow_http_registry: bool,
    /// `allow-insecure-registry:`.
    pub allow_insecure_registry: bool,
    /// `registry-config:` files (a list).
    pub registry_config: Vec<PathBuf>,
}

/// Build options shared by every entry (`defaults:`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Build {
    /// `offline:`: packages only from the download cache.
    pub offline: bool,
    /// `cache-dir:`: the package download cache (shared by all audits; safe to share).
    pub cache_dir: Option<PathBuf>,
}

/// A parsed catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    /// The file it was read from.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes: the policy a verification summary names.
    pub digest: Digest,
    /// The images, in file order.
    pub entries: Vec<Entry>,
    /// Registry options.
    pub registry: Registry,
    /// Build options.
    pub build: Build,
}

/// Why a catalogue is refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read.
    #[error("cannot read the catalogue {path}", path = path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a catalogue (not YAML, an unknown top-level or `defaults:` key, …).
    #[error("{path}: not a valid catalogue", path = path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_yaml_ng::Error,
    },
    /// An entry has an unknown key, a value of the wrong type or no `image:`.
    #[error("{path}: {entry}", path = path.display())]
    Entry {
        /// The file.
        path: PathBuf,
        /// `images[N] (IMAGE)`.
        entry: String,
        /// Why.
        #[source]
        source: serde_yaml_ng::Error,
    },
    /// An entry has no `image:`.
    #[error("{path}: {entry}: no `image:`", path = path.display())]
    NoImage {
        /// The file.
        path: PathBuf,
        /// `images[N]`.
        entry: String,
    },
    /// An entry's image is not a reference.
    #[error("{path}: {entry}: invalid image reference", path = path.display())]
    Reference {
        /// The file.
        path: PathBuf,
        /// `images[N] (IMAGE)`.
        entry: String,
        /// Why.
        #[source]
        source: crate::oci::reference::Error,
    },
    /// The same image is listed twice.
    #[error(
        "{path}: images[{second}] ({image}) duplicates images[{first}]: list each image once",
        path = path.display()
    )]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// The image.
        image: String,
        /// The first entry's index.
        first: usize,
        /// The repeated entry's index.
        second: usize,
    },
    /// The signer is missing or half given.
    #[error("{path}: {entry}: {what}", path = path.display())]
    Signer {
        /// The file.
        path: PathBuf,
        /// `images[N] (IMAGE)` or `defaults`.
        entry: String,
        /// What is wrong.
        what: &'static str,
    },
    /// A platform is not `os/arch[/variant]`.
    #[error("{path}: {entry}: platform {platform:?}: expected OS/ARCH[/VARIANT]", path = path.display())]
    Platform {
        /// The file.
        path: PathBuf,
        /// `images[N] (IMAGE)` or `defaults`.
        entry: String,
        /// The value.
        platform: String,
    },
}

/// Keys an entry and `defaults:` both take.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawEntry {
    image: Option<String>,
    key: Option<PathBuf>,
    certificate_identity: Option<String>,
    certificate_identity_regexp: Option<String>,
    certificate_oidc_issuer: Option<String>,
    certificate_oidc_issuer_regexp: Option<String>,
    trusted_root: Option<PathBuf>,
    insecure_ignore_tlog: Option<bool>,
    insecure_ignore_sct: Option<bool>,
    platforms: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDefaults {
    key: Option<PathBuf>,
    certificate_identity: Option<String>,
    certificate_identity_regexp: Option<String>,
    certificate_oidc_issuer: Option<String>,
    certificate_oidc_issuer_regexp: Option<String>,
    trusted_root: Option<PathBuf>,
    insecure_ignore_tlog: Option<bool>,
    insecure_ignore_sct: Option<bool>,
    platforms: Option<Vec<String>>,
    offline: Option<bool>,
    cache_dir: Option<PathBuf>,
    allow_http_registry: Option<bool>,
    allow_insecure_registry: Option<bool>,
    registry_config: Option<Vec<PathBuf>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    defaults: RawDefaults,
    images: Vec<serde_yaml_ng::Value>,
}

/// The signer fields of an entry or of the defaults.
struct SignerFields<'a> {
    key: &'a Option<PathBuf>,
    identity: &'a Option<String>,
    identity_regexp: &'a Option<String>,
    issuer: &'a Option<String>,
    issuer_regexp: &'a Option<String>,
}

impl Catalogue {
    /// Reads and checks the catalogue at `path`.
    pub fn load(path: &Path) -> Result<Catalogue, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Catalogue::parse(path, &bytes)
    }

    /// Parses catalogue `bytes` read from `path` (relative paths inside are read from its
    /// directory).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Catalogue, Error> {
        let raw: RawFile = serde_yaml_ng::from_slice(bytes).map_err(|source| Error::Yaml {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("")).to_owned();
        let at = |relative: &PathBuf| base.join(relative);
        let d = &raw.defaults;
        let default_signer = signer(
            path,
            "defaults",
            &SignerFields {
                key: &d.key,
                identity: &d.certificate_identity,
                identity_regexp: &d.certificate_identity_regexp,
                issuer: &d.certificate_oidc_issuer,
                issuer_regexp: &d.certificate_oidc_issuer_regexp,
            },
        )?
        .map(|s| relative_key(s, &base));
        let default_platforms = d.platforms.clone().unwrap_or_default();
        check_platforms(path, "defaults", &default_platforms)?;
        let defaults = Defaults {
            base: base.clone(),
            signer: default_signer,
            platforms: default_platforms,
            trusted_root: d.trusted_root.as_ref().map(at),
            insecure_ignore_tlog: d.insecure_ignore_tlog.unwrap_or(false),
            insecure_ignore_sct: d.insecure_ignore_sct.unwrap_or(false),
        };

        let mut entries = Vec::with_capacity(raw.images.len());
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (index, value) in raw.images.into_iter().enumerate() {
            let label = label(index, &value);
            let entry: RawEntry =
                serde_yaml_ng::from_value(value).map_err(|source| Error::Entry {
                    path: path.to_owned(),
                    entry: label.clone(),
                    source,
                })?;
            let Some(image) = entry.image.clone() else {
                return Err(Error::NoImage {
                    path: path.to_owned(),
                    entry: label,
                });
            };
            let reference = Reference::parse(&image).map_err(|source| Error::Reference {
                path: path.to_owned(),
                entry: label.clone(),
                source,
            })?;
            if let Some(&first) = seen.get(&reference.to_string()) {
                return Err(Error::Duplicate {
                    path: path.to_owned(),
                    image,
                    first,
                    second: index,
                });
            }
            seen.insert(reference.to_string(), index);
            entries.push(defaults.entry(path, index, label, image, entry)?);
        }
        Ok(Catalogue {
            path: path.to_owned(),
            digest: Digest::of(bytes),
            entries,
            registry: Registry {
                allow_http_registry: d.allow_http_registry.unwrap_or(false),
                allow_insecure_registry: d.allow_insecure_registry.unwrap_or(false),
                registry_config: d.registry_config.iter().flatten().map(at).collect(),
            },
            build: Build {
                offline: d.offline.unwrap_or(false),
                cache_dir: d.cache_dir.as_ref().map(at),
            },
        })
    }
}

/// `defaults:` as every entry inherits it.
struct Defaults {
    base: PathBuf,
    signer: Option<Signer>,
    platforms: Vec<String>,
    trusted_root: Option<PathBuf>,
    insecure_ignore_tlog: bool,
    insecure_ignore_sct: bool,
}

impl Defaults {
    /// Entry `index` (`label`, its `image`) with these defaults under what it sets itself.
    fn entry(
        &self,
        path: &Path,
        index: usize,
        label: String,
        image: String,
        entry: RawEntry,
    ) -> Result<Entry, Error> {
        let own = signer(
            path,
            &label,
            &SignerFields {
                key: &entry.key,
                identity: &entry.certificate_identity,
                identity_regexp: &entry.certificate_identity_regexp,
                issuer: &entry.certificate_oidc_issuer,
                issuer_regexp: &entry.certificate_oidc_issuer_regexp,
            },
        )?
        .map(|s| relative_key(s, &self.base));
        let Some(signer) = own.or_else(|| self.signer.clone()) else {
            return Err(Error::Signer {
                path: path.to_owned(),
                entry: label,
                what: "no signer: give `key:` or `certificate-identity:` and \
                       `certificate-oidc-issuer:` here or under `defaults:`",
            });
        };
        let platforms = entry.platforms.unwrap_or_else(|| self.platforms.clone());
        check_platforms(path, &label, &platforms)?;
        Ok(Entry {
            image,
            index,
            policy: Policy {
                signer,
                trusted_root: entry
                    .trusted_root
                    .map(|p| self.base.join(p))
                    .or_else(|| self.trusted_root.clone()),
                insecure_ignore_tlog: entry
                    .insecure_ignore_tlog
                    .unwrap_or(self.insecure_ignore_tlog),
                insecure_ignore_sct: entry
                    .insecure_ignore_sct
                    .unwrap_or(self.insecure_ignore_sct),
            },
            platforms,
        })
    }
}

/// `images[N] (IMAGE)`, or `images[N]` when the entry has no readable `image:`.
fn label(index: usize, value: &serde_yaml_ng::Value) -> String {
    match value.get("image").and_then(serde_yaml_ng::Value::as_str) {
        Some(image) => format!("images[{index}] ({image})"),
        None => format!("images[{index}]"),
    }
}

fn relative_key(signer: Signer, base: &Path) -> Signer {
    match signer {
        Signer::Key(key) => Signer::Key(base.join(key)),
        other => other,
    }
}

/// The signer the fields give, `None` when they give none; half a keyless signer or a key
/// beside an identity is an error.
fn signer(path: &Path, entry: &str, f: &SignerFields<'_>) -> Result<Option<Signer>, Error> {
    let refuse = |what| Error::Signer {
        path: path.to_owned(),
        entry: entry.to_owned(),
        what,
    };
    let identity = f.identity.is_some() || f.identity_regexp.is_some();
    let issuer = f.issuer.is_some() || f.issuer_regexp.is_some();
    match (f.key, identity, issuer) {
        (Some(_), true, _) | (Some(_), _, true) => Err(refuse(
            "`key:` and `certificate-*:` both given: a signer is a key or a keyless identity",
        )),
        (Some(key), false, false) => Ok(Some(Signer::Key(key.clone()))),
        (None, true, true) => Ok(Some(Signer::Certificate {
            identity: f.identity.clone(),
            identity_regexp: f.identity_regexp.clone(),
            oidc_issuer: f.issuer.clone(),
            oidc_issuer_regexp: f.issuer_regexp.clone(),
        })),
        (None, true, false) => Err(refuse(
            "`certificate-identity:` needs `certificate-oidc-issuer:` (or its `-regexp`)",
        )),
        (None, false, true) => Err(refuse(
            "`certificate-oidc-issuer:` needs `certificate-identity:` (or its `-regexp`)",
        )),
        (None, false, false) => Ok(None),
    }
}

fn check_platforms(path: &Path, entry: &str, platforms: &[String]) -> Result<(), Error> {
    for platform in platforms {
        let parts: Vec<&str> = platform.split('/').collect();
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
            return Err(Error::Platform {
                path: path.to_owned(),
                entry: entry.to_owned(),
                platform: platform.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Catalogue, Error> {
        Catalogue::parse(Path::new("/etc/catalogue/catalog.yaml"), text.as_bytes())
    }

    #[test]
    fn defaults_apply_and_entries_override_them() {
        let catalogue = parse(
            "defaults:\n  key: keys/release.pub\n  insecure-ignore-tlog: true\n  platforms: [linux/amd64]\n  cache-dir: /cache\n  allow-http-registry: true\n\
             images:\n  - image: registry.example/app:1\n  - image: registry.example/base@sha256:0000000000000000000000000000000000000000000000000000000000000000\n    certificate-identity: me@example.com\n    certificate-oidc-issuer: https://issuer.example\n    platforms: [linux/arm64, linux/arm/v7]\n",
        )
        .unwrap();
        let [app, base] = &catalogue.entries[..] else {
            panic!("two entries expected: {catalogue:?}");
        };
        assert_eq!(
            app.policy.signer,
            Signer::Key(PathBuf::from("/etc/catalogue/keys/release.pub"))
        );
        assert!(app.policy.insecure_ignore_tlog);
        assert_eq!(app.platforms, ["linux/amd64"]);
        assert!(matches!(
            &base.policy.signer,
            Signer::Certificate { identity: Some(id), .. } if id == "me@example.com"
        ));
        assert_eq!(base.platforms, ["linux/arm64", "linux/arm/v7"]);
        assert_eq!(catalogue.build.cache_dir, Some(PathBuf::from("/cache")));
        assert!(catalogue.registry.allow_http_registry);
    }

    #[test]
    fn bad_catalogues_are_refused_naming_the_entry() {
        let cases = [
            (
                "images:\n  - image: a.example/x:1\n    key: k.pub\n  - image: a.example/y:1\n    keyy: k.pub\n",
                "images[1] (a.example/y:1)",
            ),
            (
                "images:\n  - image: a.example/x:1\n    key: k.pub\n  - image: a.example/x:1\n    key: k.pub\n",
                "images[1] (a.example/x:1) duplicates images[0]",
            ),
            (
                "images:\n  - image: a.example/x:1\n",
                "images[0] (a.example/x:1): no signer",
            ),
            (
                "images:\n  - image: a.example/x:1\n    certificate-identity: me\n",
                "needs `certificate-oidc-issuer:`",
            ),
            (
                "images:\n  - image: a.example/x:1\n    key: k\n    certificate-identity: me\n",
                "both given",
            ),
            (
                "images:\n  - image: 'UPPER/x:1'\n    key: k\n",
                "images[0] (UPPER/x:1): invalid image reference",
            ),
            (
                "images:\n  - image: a.example/x:1\n    key: k\n    platforms: [amd64]\n",
                "platform \"amd64\"",
            ),
            ("images:\n  - key: k\n", "images[0]: no `image:`"),
            (
                "defaults:\n  jobs: 3\nimages: []\n",
                "not a valid catalogue",
            ),
        ];
        for (text, expected) in cases {
            let error = parse(text).expect_err(text);
            let message = error.to_string();
            assert!(message.contains(expected), "{text}\n→ {message}");
        }
        // The unknown key itself is named in the cause.
        let error = parse("images:\n  - image: a.example/y:1\n    keyy: k.pub\n").unwrap_err();
        let cause = std::error::Error::source(&error).unwrap().to_string();
        assert!(cause.contains("keyy"), "{cause}");
    }
}
