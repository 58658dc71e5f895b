//! The image config (`v1.ConfigFile` and its parts) in ggcr's field order, for reading a base
//! image's config and writing the configs whose bytes are hashed (apko images, cosign's `.att`
//! images).
//!
//! Serialised through `codec::json`, a config gives the bytes ggcr's `json.Marshal` gives;
//! decoded, it reads what Go's `json.Unmarshal` reads (see `oci::go_json`). Pure: no I/O.
//!
//! Not for: what apko puts into it (`build::image`); manifests and indexes
//! ([`super::manifest`]). Reproduces ggcr v0.21.9 `pkg/v1/config.go` (reference/apko-format.md
//! §10.2).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::digest::Digest;
pub use super::go_json::Empty;
use super::go_json::{empty, nul};
use crate::codec::time::GoTime;

/// The image config (`v1.ConfigFile`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigFile {
    /// CPU architecture.
    #[serde(deserialize_with = "nul")]
    pub architecture: String,
    /// Author.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub author: String,
    /// Docker's container id.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub container: String,
    /// Creation time; a struct in Go, so `omitempty` never drops it.
    pub created: GoTime,
    /// Docker's version.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub docker_version: String,
    /// One entry per layer (and per empty layer).
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub history: Vec<History>,
    /// Operating system.
    #[serde(deserialize_with = "nul")]
    pub os: String,
    /// Layer diff_ids.
    #[serde(deserialize_with = "nul")]
    pub rootfs: RootFs,
    /// How to run a container.
    #[serde(deserialize_with = "nul")]
    pub config: Config,
    /// OS version.
    #[serde(
        rename = "os.version",
        deserialize_with = "nul",
        skip_serializing_if = "empty"
    )]
    pub os_version: String,
    /// CPU variant (`v7` for arm/v7).
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub variant: String,
    /// OS features.
    #[serde(
        rename = "os.features",
        deserialize_with = "nul",
        skip_serializing_if = "empty"
    )]
    pub os_features: Vec<String>,
}

/// One history entry (`v1.History`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct History {
    /// Author.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub author: String,
    /// Creation time (always written, see [`ConfigFile::created`]).
    pub created: GoTime,
    /// The command that made the layer.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub created_by: String,
    /// Free text.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub comment: String,
    /// Whether the entry has no layer.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub empty_layer: bool,
}

/// `rootfs` (`v1.RootFS`); `diff_ids` is written even when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type", deserialize_with = "nul")]
    pub kind: String,
    /// SHA-256 of each uncompressed layer, bottom first.
    #[serde(deserialize_with = "nul")]
    pub diff_ids: Vec<Digest>,
}

/// `config.Healthcheck` (`v1.HealthConfig`); durations in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct HealthConfig {
    /// The test command.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub test: Vec<String>,
    /// Time between checks.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub interval: i64,
    /// Time before a check counts as hung.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub timeout: i64,
    /// Start-up grace period.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub start_period: i64,
    /// Failures before unhealthy.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub retries: i64,
}

/// `config` (`v1.Config`): the execution parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Config {
    /// Attach standard error.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub attach_stderr: bool,
    /// Attach standard input.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub attach_stdin: bool,
    /// Attach standard output.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub attach_stdout: bool,
    /// Arguments to the entrypoint.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub cmd: Vec<String>,
    /// Health check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    /// Domain name.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub domainname: String,
    /// Entrypoint.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub entrypoint: Vec<String>,
    /// `K=V` environment entries.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub env: Vec<String>,
    /// Host name.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub hostname: String,
    /// Image.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub image: String,
    /// Labels (apko: the manifest annotations).
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub labels: BTreeMap<String, String>,
    /// Docker ONBUILD triggers.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub on_build: Vec<String>,
    /// Keep stdin open.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub open_stdin: bool,
    /// Close stdin after one attach.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub stdin_once: bool,
    /// Allocate a terminal.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub tty: bool,
    /// User to run as.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub user: String,
    /// Volumes.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub volumes: BTreeMap<String, Empty>,
    /// Working directory.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub working_dir: String,
    /// Exposed ports.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub exposed_ports: BTreeMap<String, Empty>,
    /// Arguments already escaped (Windows).
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub args_escaped: bool,
    /// No networking.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub network_disabled: bool,
    /// MAC address.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub mac_address: String,
    /// Stop signal.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub stop_signal: String,
    /// Shell for shell-form commands.
    #[serde(deserialize_with = "nul", skip_serializing_if = "empty")]
    pub shell: Vec<String>,
}
