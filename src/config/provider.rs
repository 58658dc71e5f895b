//! The Terraform-provider form of locked configurations, as in Chainguard's `locked_config.json`.
//!
//! terraform-provider-apko reflects apko's configuration into a Terraform object (keys = YAML
//! names) and Terraform's `jsonencode` writes it: keys sorted bytewise, every field present
//! (`""`, `[]`, `{}`, `false`, `0`), nil pointers as `null`, Go escaping. Each entry of
//! `imageLocks.<image>.configs.<amd64|arm64|index>` is that object wrapped as
//! `{"config": <object>}` (with one space after the colon).
//!
//! The field set written is the provider's schema seen in the data (no `format`, `certificates`,
//! `contents.runtime_keyring`, `contents.baseimage`, `options`, `os-release`); those are written
//! only when set, in sorted position, so nothing read is ever dropped.
//!
//! Not for: apko's own JSON form (`image`), which is what apko hashes and writes into images.
//! Reproduces reference/test-data.md §6 (`locked_config.json`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Error;
use super::arch::Architecture;
use super::image::{
    Accounts, BaseImage, Certificates, Contents, Entrypoint, ImageConfiguration, Layering,
    NamedContent, PathMutation,
};
use super::load::json_error;
use super::predicate::{BuildOption, OsRelease};
use crate::codec::json;

type Map<'a> = &'a BTreeMap<String, String>;

#[derive(Serialize)]
struct ConfigView<'a> {
    accounts: AccountsView<'a>,
    annotations: Map<'a>,
    archs: &'a [Architecture],
    #[serde(skip_serializing_if = "Option::is_none")]
    certificates: Option<CertificatesView<'a>>,
    cmd: &'a str,
    contents: ContentsView<'a>,
    entrypoint: EntrypointView<'a>,
    environment: Map<'a>,
    #[serde(skip_serializing_if = "str::is_empty")]
    format: &'a str,
    include: &'a str,
    layering: Option<LayeringView<'a>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    options: BTreeMap<&'a str, BuildOptionView<'a>>,
    #[serde(rename = "os-release", skip_serializing_if = "Option::is_none")]
    os_release: Option<OsReleaseView<'a>>,
    paths: Vec<PathView<'a>>,
    #[serde(rename = "stop-signal")]
    stop_signal: &'a str,
    #[serde(rename = "vcs-url")]
    vcs_url: &'a str,
    volumes: &'a [String],
    #[serde(rename = "work-dir")]
    work_dir: &'a str,
}

#[derive(Serialize)]
struct AccountsView<'a> {
    groups: Vec<GroupView<'a>>,
    #[serde(rename = "run-as")]
    run_as: &'a str,
    users: Vec<UserView<'a>>,
}

#[derive(Serialize)]
struct GroupView<'a> {
    gid: u32,
    groupname: &'a str,
    members: &'a [String],
}

#[derive(Serialize)]
struct UserView<'a> {
    gid: Option<u32>,
    homedir: &'a str,
    shell: &'a str,
    uid: u32,
    username: &'a str,
}

#[derive(Serialize)]
struct ContentsView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    baseimage: Option<BaseImageView<'a>>,
    build_repositories: &'a [String],
    keyring: &'a [String],
    packages: &'a [String],
    repositories: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    runtime_keyring: Vec<NamedContentView<'a>>,
    runtime_repositories: &'a [String],
}

#[derive(Serialize)]
struct BaseImageView<'a> {
    apkindex: &'a str,
    image: &'a str,
}

#[derive(Serialize)]
struct NamedContentView<'a> {
    content: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct EntrypointView<'a> {
    command: &'a str,
    services: Map<'a>,
    #[serde(rename = "shell-fragment")]
    shell_fragment: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
struct LayeringView<'a> {
    budget: i64,
    strategy: &'a str,
}

#[derive(Serialize)]
struct PathView<'a> {
    gid: Option<u32>,
    path: &'a str,
    permissions: u32,
    recursive: bool,
    source: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    uid: Option<u32>,
}

#[derive(Serialize)]
struct CertificatesView<'a> {
    additional: Vec<NamedContentView<'a>>,
    providers: &'a [String],
}

#[derive(Serialize)]
struct OsReleaseView<'a> {
    #[serde(rename = "bug-report-url")]
    bug_report_url: &'a str,
    #[serde(rename = "home-url")]
    home_url: &'a str,
    id: &'a str,
    name: &'a str,
    #[serde(rename = "pretty-name")]
    pretty_name: &'a str,
    #[serde(rename = "version-id")]
    version_id: &'a str,
}

#[derive(Serialize)]
struct BuildOptionView<'a> {
    accounts: RunAsView<'a>,
    contents: PackagesOptionView<'a>,
    entrypoint: EntrypointView<'a>,
    environment: Option<Map<'a>>,
}

#[derive(Serialize)]
struct RunAsView<'a> {
    #[serde(rename = "run-as")]
    run_as: &'a str,
}

#[derive(Serialize)]
struct PackagesOptionView<'a> {
    packages: ListOptionView<'a>,
}

#[derive(Serialize)]
struct ListOptionView<'a> {
    add: &'a [String],
    remove: &'a [String],
}

fn named(entries: &[NamedContent]) -> Vec<NamedContentView<'_>> {
    entries
        .iter()
        .map(|e| NamedContentView {
            content: &e.content,
            name: &e.name,
        })
        .collect()
}

fn entrypoint(e: &Entrypoint) -> EntrypointView<'_> {
    EntrypointView {
        command: &e.command,
        services: &e.services,
        shell_fragment: &e.shell_fragment,
        kind: &e.kind,
    }
}

fn accounts(a: &Accounts) -> AccountsView<'_> {
    AccountsView {
        groups: a
            .groups
            .iter()
            .map(|g| GroupView {
                gid: g.gid,
                groupname: &g.groupname,
                members: &g.members,
            })
            .collect(),
        run_as: &a.run_as,
        users: a
            .users
            .iter()
            .map(|u| UserView {
                gid: u.gid,
                homedir: &u.homedir,
                shell: &u.shell,
                uid: u.uid,
                username: &u.username,
            })
            .collect(),
    }
}

fn contents(c: &Contents) -> ContentsView<'_> {
    ContentsView {
        baseimage: c.baseimage.as_ref().map(|b: &BaseImage| BaseImageView {
            apkindex: &b.apkindex,
            image: &b.image,
        }),
        build_repositories: &c.build_repositories,
        keyring: &c.keyring,
        packages: &c.packages,
        repositories: &c.repositories,
        runtime_keyring: named(&c.runtime_keyring),
        runtime_repositories: &c.runtime_repositories,
    }
}

fn path(p: &PathMutation) -> PathView<'_> {
    PathView {
        gid: p.gid,
        path: &p.path,
        permissions: p.permissions,
        recursive: p.recursive,
        source: &p.source,
        kind: &p.kind,
        uid: p.uid,
    }
}

fn build_option(o: &BuildOption) -> BuildOptionView<'_> {
    let list = &o.contents.packages;
    BuildOptionView {
        accounts: RunAsView {
            run_as: &o.accounts.run_as,
        },
        contents: PackagesOptionView {
            packages: ListOptionView {
                add: list.add.as_deref().unwrap_or_default(),
                remove: list.remove.as_deref().unwrap_or_default(),
            },
        },
        entrypoint: entrypoint(&o.entrypoint),
        environment: o.environment.as_ref(),
    }
}

fn view(ic: &ImageConfiguration) -> ConfigView<'_> {
    ConfigView {
        accounts: accounts(&ic.accounts),
        annotations: &ic.annotations,
        archs: &ic.archs,
        certificates: ic
            .certificates
            .as_ref()
            .map(|c: &Certificates| CertificatesView {
                additional: named(&c.additional),
                providers: &c.providers,
            }),
        cmd: &ic.cmd,
        contents: contents(&ic.contents),
        entrypoint: entrypoint(&ic.entrypoint),
        environment: &ic.environment,
        format: &ic.format,
        include: &ic.include,
        layering: ic.layering.as_ref().map(|l: &Layering| LayeringView {
            budget: l.budget,
            strategy: &l.strategy,
        }),
        options: ic
            .options
            .iter()
            .map(|(name, o)| (name.as_str(), build_option(o)))
            .collect(),
        os_release: ic.os_release.as_ref().map(|r: &OsRelease| OsReleaseView {
            bug_report_url: &r.bug_report_url,
            home_url: &r.home_url,
            id: &r.id,
            name: &r.name,
            pretty_name: &r.pretty_name,
            version_id: &r.version_id,
        }),
        paths: ic.paths.iter().map(path).collect(),
        stop_signal: &ic.stop_signal,
        vcs_url: &ic.vcs_url,
        volumes: &ic.volumes,
        work_dir: &ic.work_dir,
    }
}

/// The provider form of a configuration: sorted keys, nothing omitted, compact, Go-escaped.
pub fn to_vec_provider(configuration: &ImageConfiguration) -> Result<Vec<u8>, Error> {
    json::to_vec_go(&view(configuration)).map_err(Error::Encode)
}

/// One `configs` entry: `{"config": ` + the provider form + `}`.
pub fn to_entry(configuration: &ImageConfiguration) -> Result<String, Error> {
    let inner = to_vec_provider(configuration)?;
    let mut entry = String::from("{\"config\": ");
    entry.push_str(&String::from_utf8_lossy(&inner));
    entry.push('}');
    Ok(entry)
}

/// Reads one `configs` entry (`{"config": {…}}`) strictly; architectures are kept as written.
pub fn from_entry(entry: &str) -> Result<ImageConfiguration, Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        config: ImageConfiguration,
    }
    let mut deserializer = serde_json::Deserializer::from_str(entry);
    let parsed: Entry = serde_path_to_error::deserialize(&mut deserializer).map_err(json_error)?;
    deserializer.end().map_err(|cause| Error::Json { cause })?;
    Ok(parsed.config)
}

/// A `locked_config.json` file: per image, its locked configuration entries. Other fields
/// (tags, tests, …) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct LockedConfigs {
    /// Image name → its locks.
    #[serde(rename = "imageLocks", default)]
    pub image_locks: BTreeMap<String, ImageLock>,
}

/// One image's locks in `locked_config.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ImageLock {
    /// `amd64`, `arm64`, `index` → entry text (`{"config": {…}}`), see [`from_entry`].
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
}

impl LockedConfigs {
    /// Parses a `locked_config.json` file (entries stay text; decode each with [`from_entry`]).
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(bytes).map_err(|cause| Error::Json { cause })
    }
}
