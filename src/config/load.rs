//! Reading configurations: YAML files with `include`, JSON documents, and the configuration
//! checksum apko records in lock files.
//!
//! A file is found as apko finds it — relative to the working directory, then under each include
//! path — and, where apko would give up, relative to the directory of the file that includes it.
//! Each included file is merged underneath its includer once parsed, and every file's bytes feed
//! the checksum in the order they are read.
//!
//! Not for: what the fields mean (`image`) or merge rules (`merge`). Reproduces
//! reference/apko-format.md §2.1, §2.7 (`include`) and §2.9.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use super::Error;
use super::decode;
use super::image::ImageConfiguration;
use super::repository::trim_repository;
use crate::codec::json;

/// apko's configuration checksum: `sha256-` + standard base64 of the SHA-256 of the main file's
/// bytes followed by each included file's bytes in parse order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConfigChecksum(String);

impl ConfigChecksum {
    /// The checksum of these file contents, in order.
    pub fn of_contents<'a, I: IntoIterator<Item = &'a [u8]>>(contents: I) -> Self {
        let mut hasher = Sha256::new();
        for bytes in contents {
            hasher.update(bytes);
        }
        Self(format!("sha256-{}", STANDARD.encode(hasher.finalize())))
    }

    /// The `sha256-…` text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConfigChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A configuration read from a file, with everything apko derives from the reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedConfiguration {
    /// The merged configuration (includes applied, repositories trimmed).
    pub configuration: ImageConfiguration,
    /// The checksum over all files read.
    pub checksum: ConfigChecksum,
    /// The files read, main file first, in parse order.
    pub files: Vec<PathBuf>,
}

/// Reads configuration files the way `apko build`/`apko lock` do (`--include-paths`).
#[derive(Debug, Clone, Default)]
pub struct Loader {
    working_dir: PathBuf,
    include_paths: Vec<PathBuf>,
}

impl Loader {
    /// A loader resolving relative paths against the process's working directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Resolves relative paths (files and include paths) against `dir` instead.
    pub fn working_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.working_dir = dir.into();
        self
    }

    /// Directories searched, in order, when a file is not found relative to the working
    /// directory (apko's `--include-paths`).
    pub fn include_paths<P: Into<PathBuf>, I: IntoIterator<Item = P>>(mut self, paths: I) -> Self {
        self.include_paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Loads `path` and everything it includes.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<LoadedConfiguration, Error> {
        let name = path.as_ref();
        let resolved = self.find(name).ok_or_else(|| Error::NotFound {
            name: name.to_path_buf(),
        })?;
        let mut files = Vec::new();
        let mut contents = Vec::new();
        let configuration = self.parse_file(resolved, &mut files, &mut contents)?;
        let checksum = ConfigChecksum::of_contents(contents.iter().map(Vec::as_slice));
        Ok(LoadedConfiguration {
            configuration,
            checksum,
            files,
        })
    }

    /// `name` in the working directory, else under the first include path that has it (apko's
    /// `paths.ResolvePath`): how configuration files and the base image are found.
    pub fn find(&self, name: &Path) -> Option<PathBuf> {
        self.resolve(name, None)
    }

    fn candidates(&self, name: &Path, including_dir: Option<&Path>) -> Vec<PathBuf> {
        let mut candidates = vec![self.working_dir.join(name)];
        candidates.extend(
            self.include_paths
                .iter()
                .map(|prefix| self.working_dir.join(prefix).join(name)),
        );
        candidates.extend(including_dir.map(|dir| dir.join(name)));
        candidates
    }

    fn resolve(&self, name: &Path, including_dir: Option<&Path>) -> Option<PathBuf> {
        self.candidates(name, including_dir)
            .into_iter()
            .find(|candidate| candidate.exists())
    }

    fn parse_file(
        &self,
        path: PathBuf,
        files: &mut Vec<PathBuf>,
        contents: &mut Vec<Vec<u8>>,
    ) -> Result<ImageConfiguration, Error> {
        // apko's includes form a chain (one `include` per file), so a file met twice is a cycle.
        let identity = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        let seen = files
            .iter()
            .any(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone()) == identity);
        if seen {
            return Err(Error::IncludeCycle { path });
        }
        let bytes = read_bounded(&path)?;
        let mut configuration = ImageConfiguration::from_yaml(&bytes, &path.display().to_string())?;
        files.push(path.clone());
        contents.push(bytes);

        if !configuration.include.is_empty() {
            let name = PathBuf::from(&configuration.include);
            let including_dir = path.parent();
            let included_path =
                self.resolve(&name, including_dir)
                    .ok_or_else(|| Error::IncludeNotFound {
                        include: configuration.include.clone(),
                        from: path.clone(),
                    })?;
            let included = self.parse_file(included_path, files, contents)?;
            included.merge_into(&mut configuration);
        }
        configuration.trim_repositories();
        if configuration.contents.baseimage.is_some() && configuration.has_image_settings() {
            return Err(Error::BaseImageSettings { path });
        }
        Ok(configuration)
    }
}

/// A configuration file's bytes, refusing one over [`decode::MAX_DOCUMENT`] unread.
fn read_bounded(path: &Path) -> Result<Vec<u8>, Error> {
    use std::io::Read as _;
    let read_error = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(read_error)?
        .take(decode::MAX_DOCUMENT + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > decode::MAX_DOCUMENT {
        return Err(Error::TooLarge {
            source_name: path.display().to_string(),
            limit: decode::MAX_DOCUMENT,
        });
    }
    Ok(bytes)
}

/// True when the YAML text holds no document (only blank and comment lines): yaml.v3 reports
/// end of input there, where serde would return an all-default value.
fn holds_no_document(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim_start();
        line.is_empty() || line.starts_with('#')
    })
}

fn is_unknown_field(message: &str) -> bool {
    message.contains("unknown field `")
}

/// Maps a JSON decoding failure to [`Error::UnknownKey`] (with the key's path) or [`Error::Json`].
pub(crate) fn json_error(err: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let key = err.path().to_string();
    let cause = err.into_inner();
    if is_unknown_field(&cause.to_string()) {
        Error::UnknownKey {
            source_name: "json".to_owned(),
            key,
            line: cause.line(),
            column: cause.column(),
        }
    } else {
        Error::Json { cause }
    }
}

impl ImageConfiguration {
    /// Parses one YAML document strictly (unknown keys are errors), normalising architectures;
    /// `include` is kept, not followed. `source` names the input in errors.
    pub fn from_yaml(bytes: &[u8], source: &str) -> Result<Self, Error> {
        let text = std::str::from_utf8(bytes).map_err(|cause| Error::Utf8 {
            source_name: source.to_owned(),
            cause,
        })?;
        decode::check_bounds(text, source)?;
        if holds_no_document(text) {
            return Err(Error::NoDocument {
                source_name: source.to_owned(),
            });
        }
        // yaml.v3 decodes the first document only; later ones are never looked at.
        let Some(document) = serde_yaml_ng::Deserializer::from_str(text).next() else {
            return Err(Error::NoDocument {
                source_name: source.to_owned(),
            });
        };
        let mut configuration: Self =
            serde_path_to_error::deserialize(document).map_err(|err| {
                let key = err.path().to_string();
                let cause = err.into_inner();
                match cause.location() {
                    Some(at) if is_unknown_field(&cause.to_string()) => Error::UnknownKey {
                        source_name: source.to_owned(),
                        key,
                        line: at.line(),
                        column: at.column(),
                    },
                    _ => Error::Yaml {
                        source_name: source.to_owned(),
                        cause,
                    },
                }
            })?;
        for arch in &mut configuration.archs {
            *arch = arch.normalised();
        }
        Ok(configuration)
    }

    /// Parses apko's JSON form (as in `/etc/apko.json` or an attested configuration) strictly.
    /// Architectures are kept as written, as Go's JSON decoder does.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        // Bytes that are not UTF-8 fail in the parser, with its position.
        if let Ok(text) = std::str::from_utf8(bytes) {
            decode::check_bounds(text, "json")?;
        } else if bytes.len() as u64 > decode::MAX_DOCUMENT {
            return Err(Error::TooLarge {
                source_name: "json".to_owned(),
                limit: decode::MAX_DOCUMENT,
            });
        }
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let configuration: Self =
            serde_path_to_error::deserialize(&mut deserializer).map_err(json_error)?;
        deserializer.end().map_err(|cause| Error::Json { cause })?;
        Ok(configuration)
    }

    /// apko's JSON form (`json.Marshal`): struct order, omitempty, Go escaping, no newline.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        json::to_vec_go(self).map_err(Error::Encode)
    }

    /// The bytes of `/etc/apko.json` for this (locked, validated) configuration: the JSON form
    /// followed by a newline, as Go's `json.Encoder` writes it.
    pub fn to_apko_json_file(&self) -> Result<Vec<u8>, Error> {
        let mut bytes = self.to_json()?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Removes trailing `/` from every repository list, as apko does after parsing.
    pub fn trim_repositories(&mut self) {
        let contents = &mut self.contents;
        for list in [
            &mut contents.build_repositories,
            &mut contents.runtime_repositories,
            &mut contents.repositories,
        ] {
            for repository in list.iter_mut() {
                *repository = trim_repository(repository).to_owned();
            }
        }
    }

    /// Settings apko refuses next to `contents.baseimage`: anything but contents, archs and
    /// include.
    fn has_image_settings(&self) -> bool {
        self.entrypoint != Default::default()
            || !self.cmd.is_empty()
            || !self.stop_signal.is_empty()
            || !self.work_dir.is_empty()
            || self.accounts != Default::default()
            || !self.environment.is_empty()
            || !self.paths.is_empty()
            || !self.annotations.is_empty()
    }
}
