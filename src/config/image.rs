//! The apko image configuration (`ImageConfiguration` and its parts) with apko's JSON form.
//!
//! Fields are declared in Go struct order and carry Go's `omitempty` rules, so serialising with
//! `codec::json` gives the bytes apko writes to `/etc/apko.json`: struct-typed fields (`contents`,
//! `entrypoint`, `accounts`) are always present, nullable ones (`layering`, `certificates`,
//! `baseimage`, user `gid`, path `uid`/`gid`) only when set, everything else only when non-zero.
//! Unknown keys are rejected, as yaml.v3's strict mode does.
//!
//! Not for: reading files and `include` (`load`), merging and validation (`merge`), the
//! Terraform-provider form (`provider`), the v0.11–v0.13 extras (`predicate`). Reproduces
//! reference/apko-format.md §2.2–§2.4 and §2.8.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::arch::Architecture;
use super::decode::{
    go_bool, go_i64, go_optional_u32, go_u32, is_false, is_zero_i64, is_zero_u32, nullable,
    unique_map,
};
use super::predicate::{BuildOption, OsRelease};

/// An apko image configuration (`pkg/build/types.ImageConfiguration`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageConfiguration {
    /// Packages, repositories and keys.
    #[serde(default, deserialize_with = "nullable")]
    pub contents: Contents,
    /// The container entrypoint.
    #[serde(default, deserialize_with = "nullable")]
    pub entrypoint: Entrypoint,
    /// Arguments to the entrypoint, shell-split at build time.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub cmd: String,
    /// The stop signal.
    #[serde(
        rename = "stop-signal",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub stop_signal: String,
    /// The working directory.
    #[serde(
        rename = "work-dir",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub work_dir: String,
    /// Users, groups and the user to run as.
    #[serde(default, deserialize_with = "nullable")]
    pub accounts: Accounts,
    /// Architectures to build (normalised when read from YAML).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub archs: Vec<Architecture>,
    /// Environment variables.
    #[serde(
        default,
        deserialize_with = "unique_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub environment: BTreeMap<String, String>,
    /// Path mutations applied after installation.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub paths: Vec<PathMutation>,
    /// v0.11–v0.13 only: `/etc/os-release` contents (a struct there, so always written when set).
    #[serde(
        rename = "os-release",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_release: Option<OsRelease>,
    /// Source repository URL, `url@commit` when probed.
    #[serde(
        rename = "vcs-url",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub vcs_url: String,
    /// Manifest and index annotations.
    #[serde(
        default,
        deserialize_with = "unique_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    /// Deprecated: a configuration file merged underneath this one.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub include: String,
    /// v0.11–v0.13 only (deprecated there): named build options.
    #[serde(
        default,
        deserialize_with = "unique_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub options: BTreeMap<String, BuildOption>,
    /// OCI volumes.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub volumes: Vec<String>,
    /// Multi-layer split; `None` builds one layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layering: Option<Layering>,
    /// Layer payload format: `tar` (the default when empty) or `erofs`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub format: String,
    /// Extra CA certificates and certificate-providing packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificates: Option<Certificates>,
}

/// `contents` (`ImageContents`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contents {
    /// Repositories used to resolve, never written into the image.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub build_repositories: Vec<String>,
    /// Repositories written into the image only, never used to resolve.
    #[serde(
        rename = "runtime_repositories",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub runtime_repositories: Vec<String>,
    /// Repositories used to resolve and written into the image.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub repositories: Vec<String>,
    /// Key files or URLs used to verify repositories.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub keyring: Vec<String>,
    /// Keys written to `/etc/apk/keys` after resolution, for runtime use only.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub runtime_keyring: Vec<NamedContent>,
    /// Requested packages (constraints), or `name=version` pins once locked.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub packages: Vec<String>,
    /// Experimental: an OCI layout to build on top of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseimage: Option<BaseImage>,
}

/// `contents.baseimage` (`BaseImageDescriptor`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseImage {
    /// Path to the base image's OCI layout.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub image: String,
    /// Path to the APKINDEX-format description of the base's installed packages.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub apkindex: String,
}

/// A `{name, content}` pair: a runtime keyring entry or an additional certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedContent {
    /// File name to install under.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    /// PEM content.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub content: String,
}

/// `entrypoint` (`ImageEntrypoint`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entrypoint {
    /// Only `service-bundle` has a meaning.
    #[serde(
        rename = "type",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub kind: String,
    /// The command, shell-split at build time.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub command: String,
    /// Run through `/bin/sh -c` instead of `command`.
    #[serde(
        rename = "shell-fragment",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub shell_fragment: String,
    /// Service name → command, for service bundles.
    #[serde(
        default,
        deserialize_with = "unique_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub services: BTreeMap<String, String>,
}

/// `accounts` (`ImageAccounts`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accounts {
    /// User name or uid to run as.
    #[serde(
        rename = "run-as",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub run_as: String,
    /// Users to create.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub users: Vec<User>,
    /// Groups to create.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub groups: Vec<Group>,
}

/// A user account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Login name.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub username: String,
    /// User id (0 is rejected by validation).
    #[serde(
        default,
        deserialize_with = "go_u32",
        skip_serializing_if = "is_zero_u32"
    )]
    pub uid: u32,
    /// Primary group id; nullable (absent means "same as uid").
    #[serde(
        default,
        deserialize_with = "go_optional_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub gid: Option<u32>,
    /// Login shell (empty means `/bin/sh`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub shell: String,
    /// Home directory (validation defaults it to `/home/<username>`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub homedir: String,
}

/// A group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Group name.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub groupname: String,
    /// Group id.
    #[serde(
        default,
        deserialize_with = "go_u32",
        skip_serializing_if = "is_zero_u32"
    )]
    pub gid: u32,
    /// Member user names.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub members: Vec<String>,
}

/// A path mutation (`PathMutation`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathMutation {
    /// Target path.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub path: String,
    /// `directory`, `empty-file`, `hardlink`, `symlink` or `permissions`.
    #[serde(
        rename = "type",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub kind: String,
    /// Owner; nullable (absent leaves ownership alone).
    #[serde(
        default,
        deserialize_with = "go_optional_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub uid: Option<u32>,
    /// Group; nullable.
    #[serde(
        default,
        deserialize_with = "go_optional_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub gid: Option<u32>,
    /// Permission bits.
    #[serde(
        default,
        deserialize_with = "go_u32",
        skip_serializing_if = "is_zero_u32"
    )]
    pub permissions: u32,
    /// Link target or hardlink source.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub source: String,
    /// Apply beneath the path too.
    #[serde(
        default,
        deserialize_with = "go_bool",
        skip_serializing_if = "is_false"
    )]
    pub recursive: bool,
}

/// `layering`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layering {
    /// Only `origin` exists.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub strategy: String,
    /// Maximum number of layers.
    #[serde(
        default,
        deserialize_with = "go_i64",
        skip_serializing_if = "is_zero_i64"
    )]
    pub budget: i64,
}

/// `certificates` (`ImageCertificates`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificates {
    /// Inline PEM certificates to add.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub additional: Vec<NamedContent>,
    /// Virtual package names whose packages supply CA certificates.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub providers: Vec<String>,
}
