//! Fields only apko v0.11.1–v0.13.x had, kept so configurations attested in that era still load:
//! `os-release` and the deprecated `options`.
//!
//! `options` entries had no JSON tags in Go, so their JSON keys are the Go field names
//! (`Contents`, `Packages`, `Add`, …), never omitted, with `null` for absent lists and maps; their
//! YAML keys are lower-case. Both spellings are accepted and the Go one is written.
//!
//! Not for: current fields (`image`). Reproduces reference/apko-format.md §2.10.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::decode::nullable;
use super::image::Entrypoint;

/// `os-release` (v0.13 `OSRelease`): what `/etc/os-release` was generated from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsRelease {
    /// `NAME`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    /// `ID`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub id: String,
    /// `VERSION_ID`.
    #[serde(
        rename = "version-id",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub version_id: String,
    /// `PRETTY_NAME`.
    #[serde(
        rename = "pretty-name",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub pretty_name: String,
    /// `HOME_URL`.
    #[serde(
        rename = "home-url",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub home_url: String,
    /// `BUG_REPORT_URL`.
    #[serde(
        rename = "bug-report-url",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub bug_report_url: String,
}

/// One named entry of `options` (v0.13 `BuildOption`): a patch applied on request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildOption {
    /// Package additions and removals.
    #[serde(
        rename = "Contents",
        alias = "contents",
        default,
        deserialize_with = "nullable"
    )]
    pub contents: ContentsOption,
    /// A different `run-as`.
    #[serde(
        rename = "Accounts",
        alias = "accounts",
        default,
        deserialize_with = "nullable"
    )]
    pub accounts: AccountsOption,
    /// Environment additions.
    #[serde(rename = "Environment", alias = "environment", default)]
    pub environment: Option<BTreeMap<String, String>>,
    /// A replacement entrypoint.
    #[serde(
        rename = "Entrypoint",
        alias = "entrypoint",
        default,
        deserialize_with = "nullable"
    )]
    pub entrypoint: Entrypoint,
}

/// `options.<name>.contents`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentsOption {
    /// Package list changes.
    #[serde(
        rename = "Packages",
        alias = "packages",
        default,
        deserialize_with = "nullable"
    )]
    pub packages: ListOption,
}

/// `options.<name>.contents.packages`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListOption {
    /// Entries to append.
    #[serde(rename = "Add", alias = "add", default)]
    pub add: Option<Vec<String>>,
    /// Entries to remove.
    #[serde(rename = "Remove", alias = "remove", default)]
    pub remove: Option<Vec<String>>,
}

/// `options.<name>.accounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsOption {
    /// The user to run as.
    #[serde(
        rename = "RunAs",
        alias = "run-as",
        default,
        deserialize_with = "nullable"
    )]
    pub run_as: String,
}
