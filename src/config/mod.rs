//! apko's image configuration and lock file, byte-exact: the model, YAML and JSON reading with
//! `include`, the configuration checksum, merge and validation, apko's JSON form (what
//! `/etc/apko.json` holds), the Terraform-provider form of locked configurations, and
//! `apko.lock.json` v1.
//!
//! | file | owns |
//! |---|---|
//! | [`image`] | the configuration types, their Go struct order and omitempty rules |
//! | [`predicate`] | fields only v0.11–v0.13 had (`os-release`, `options`) |
//! | [`arch`] | architecture names, APK/OCI mappings, `--arch` parsing |
//! | [`load`] | files, `include`, the checksum, YAML/JSON entry points |
//! | [`merge`] | `MergeInto`, `Validate`, locked copies, the world |
//! | [`repository`] | `@tag URL` repository lines |
//! | [`provider`] | the alphabetical, no-omitempty form of Chainguard's `locked_config.json` |
//! | [`lock`] | `apko.lock.json` v1 |
//!
//! Not for: resolving packages (`apk`) or encoding rules (`codec::json`). Reproduces
//! reference/apko-format.md §2 and §3.

pub mod arch;
mod decode;
pub mod image;
pub mod load;
pub mod lock;
pub mod merge;
pub mod predicate;
pub mod provider;
pub mod repository;

use std::path::PathBuf;

pub use arch::{Architecture, parse_architectures};
pub use image::{
    Accounts, BaseImage, Certificates, Contents, Entrypoint, Group, ImageConfiguration, Layering,
    NamedContent, PathMutation, User,
};
pub use load::{ConfigChecksum, LoadedConfiguration, Loader};
pub use lock::Lock;
pub use repository::Repository;

/// Errors reading, checking or encoding a configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file is in neither the working directory nor an include path.
    #[error("configuration file {name} not found in the working directory or include paths")]
    NotFound {
        /// The name as given.
        name: PathBuf,
    },
    /// An `include` names a file that cannot be found.
    #[error("include `{include}` of {from} not found")]
    IncludeNotFound {
        /// The `include` value.
        include: String,
        /// The including file.
        from: PathBuf,
    },
    /// A file includes itself, directly or through others.
    #[error("include cycle: {path} is already being read")]
    IncludeCycle {
        /// The file met twice.
        path: PathBuf,
    },
    /// A file could not be read.
    #[error("cannot read configuration file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The input is not UTF-8.
    #[error("configuration {source_name} is not utf-8")]
    Utf8 {
        /// The input's name.
        source_name: String,
        /// Where decoding failed.
        #[source]
        cause: std::str::Utf8Error,
    },
    /// The input is larger than any configuration needs to be; it was not parsed.
    #[error("configuration {source_name} is larger than the {limit}-byte limit")]
    TooLarge {
        /// The input's name.
        source_name: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// Collections nested deeper than any configuration needs; refused before parsing.
    #[error(
        "configuration {source_name} nests collections deeper than {limit} levels (line {line})"
    )]
    TooDeep {
        /// The input's name.
        source_name: String,
        /// The 1-based line where the limit was passed.
        line: usize,
        /// The deepest nesting allowed.
        limit: usize,
    },
    /// The YAML input holds no document (only comments or nothing).
    #[error("configuration {source_name} holds no yaml document")]
    NoDocument {
        /// The input's name.
        source_name: String,
    },
    /// A key apko does not know (apko decodes strictly).
    #[error("unknown key `{key}` at line {line} column {column} of {source_name}")]
    UnknownKey {
        /// The input's name.
        source_name: String,
        /// The key's path, e.g. `contents.packagez` or `paths[0].mode`.
        key: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// Invalid YAML or a value of the wrong type.
    #[error("invalid configuration {source_name}")]
    Yaml {
        /// The input's name.
        source_name: String,
        /// The parser's report (with path and position).
        #[source]
        cause: serde_yaml_ng::Error,
    },
    /// Invalid JSON or a value of the wrong type.
    #[error("invalid json configuration")]
    Json {
        /// The parser's report (with position).
        #[source]
        cause: serde_json::Error,
    },
    /// `contents.baseimage` next to settings apko refuses with it.
    #[error(
        "{path}: with a base image only contents, archs and include may be set (apko refuses the rest)"
    )]
    BaseImageSettings {
        /// The file.
        path: PathBuf,
    },
    /// A `@tag` repository line without a URL.
    #[error("repository line `{line}` is not `url` or `@tag url`")]
    RepositoryLine {
        /// The line.
        line: String,
    },
    /// A user without a name.
    #[error("accounts.users[{index}] has no username")]
    UserWithoutName {
        /// Position in `accounts.users`.
        index: usize,
    },
    /// A user with uid 0.
    #[error("user `{username}` has uid 0 (to run as root, use `run-as: 0`)")]
    RootUser {
        /// The user.
        username: String,
    },
    /// A group without a name.
    #[error("accounts.groups[{index}] has no groupname")]
    GroupWithoutName {
        /// Position in `accounts.groups`.
        index: usize,
    },
    /// `format` other than `tar` or `erofs`.
    #[error("invalid layer format `{format}` (must be `tar` or `erofs`)")]
    LayerFormat {
        /// The value.
        format: String,
    },
    /// `format: erofs` with `layering`.
    #[error("layering is not supported with format `erofs`")]
    ErofsLayering,
    /// A certificate name that is not a safe file name.
    #[error(
        "additional certificate name `{name}` is invalid (must match ^[a-zA-Z0-9_-]+[a-zA-Z0-9_.-]*$)"
    )]
    CertificateName {
        /// The name.
        name: String,
    },
    /// A runtime key name that is empty or not a safe file name.
    #[error(
        "runtime_keyring name `{name}` is invalid (must match ^[a-zA-Z0-9_-]+[a-zA-Z0-9_.-]*$)"
    )]
    RuntimeKeyName {
        /// The name.
        name: String,
    },
    /// A runtime key without content.
    #[error("runtime_keyring entry `{name}` has no content")]
    RuntimeKeyContent {
        /// The name.
        name: String,
    },
    /// Two runtime keys with one name.
    #[error("runtime_keyring entry `{name}` is a duplicate")]
    RuntimeKeyDuplicate {
        /// The name.
        name: String,
    },
    /// Serialisation failed.
    #[error("cannot encode the configuration")]
    Encode(#[source] crate::codec::json::Error),
}
