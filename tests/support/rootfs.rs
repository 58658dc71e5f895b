//! Helpers for the root-filesystem tests: a golden build case (configuration, lock file,
//! environment, local packages) turned into a `rootfs::Plan` and the packages to install, and
//! a readable entry-by-entry comparison of two layer tars.
//!
//! The configuration is read here with serde from the YAML only as far as these cases need it,
//! until the `config` module lands (TODO(lead): build the plan from `config::ImageConfiguration`).

use super::installed as help;
use receipts::build::fs::Spool;
use receipts::build::rootfs::{
    Accounts, BuildDate, Group, KeyFile, PackageSource, PathMutation, Plan, User,
};
use receipts::build::tar::Timestamp;
use serde_json::Value;
use sha2::Digest as _;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One golden build: where relative paths start, the configuration, the lock, the environment.
pub struct Case {
    /// Directory apko ran in (relative paths in the configuration and lock start here).
    pub base: PathBuf,
    /// The configuration as JSON.
    pub config: Value,
    /// The lock file.
    pub lock: Value,
    /// `SOURCE_DATE_EPOCH`, when the build environment set it.
    pub source_date_epoch: Option<i64>,
    /// The expected OCI layout.
    pub layout: PathBuf,
}

fn json_file(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("JSON")
}

fn yaml_file(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::from_slice(&bytes).expect("YAML")
}

/// apko's own golden build (`internal/cli/testdata/apko.yaml`, run from `internal/cli`).
pub fn upstream_case() -> Case {
    let testdata = super::data("chainguard-dev/apko/internal/cli/testdata");
    Case {
        base: testdata.parent().expect("internal/cli").to_path_buf(),
        config: yaml_file(&testdata.join("apko.yaml")),
        lock: json_file(&testdata.join("apko.lock.json")),
        source_date_epoch: None,
        layout: testdata.join("golden"),
    }
}

/// One of the derived golden builds (`derived/apko/goldens/<name>`).
pub fn derived_case(name: &str) -> Case {
    let dir = super::data(&format!("derived/apko/goldens/{name}"));
    let env = json_file(&dir.join("env.json"));
    Case {
        config: yaml_file(&dir.join("apko.yaml")),
        lock: json_file(&dir.join("apko.lock.json")),
        source_date_epoch: env["SOURCE_DATE_EPOCH"]
            .as_str()
            .map(|s| s.parse().expect("SOURCE_DATE_EPOCH")),
        layout: dir.join("expected"),
        base: dir,
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().expect("string").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn number(value: &Value) -> Option<u32> {
    value.as_u64().map(|n| u32::try_from(n).expect("u32"))
}

impl Case {
    fn locked(&self, arch: &str) -> Vec<&Value> {
        self.lock["contents"]["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .filter(|p| p["architecture"] == arch)
            .collect()
    }

    /// The plan for one APK architecture, as apko derives it from the configuration and lock.
    pub fn plan(&self, arch: &str) -> Plan {
        let contents = &self.config["contents"];
        let keyring = strings(&contents["keyring"])
            .into_iter()
            .map(|path| KeyFile {
                name: Path::new(&path)
                    .file_name()
                    .expect("key name")
                    .to_string_lossy()
                    .into_owned(),
                content: std::fs::read(self.base.join(&path)).expect("key file"),
            })
            .collect();
        let repositories = strings(&contents["repositories"]);
        let mut build_repositories = strings(&contents["build_repositories"]);
        build_repositories.extend(repositories.iter().cloned());
        let mut runtime_repositories = strings(&contents["runtime_repositories"]);
        runtime_repositories.extend(repositories.iter().cloned());
        let world = self
            .locked(arch)
            .iter()
            .map(|p| {
                format!(
                    "{}={}",
                    p["name"].as_str().expect("name"),
                    p["version"].as_str().expect("version")
                )
            })
            .collect();
        let accounts = &self.config["accounts"];
        Plan {
            arch: arch.to_owned(),
            keyring,
            build_repositories,
            runtime_repositories,
            world,
            accounts: Accounts {
                run_as: accounts["run-as"].as_str().unwrap_or("").to_owned(),
                users: accounts["users"]
                    .as_array()
                    .map(|users| {
                        users
                            .iter()
                            .map(|u| User {
                                username: u["username"].as_str().expect("username").to_owned(),
                                uid: number(&u["uid"]).expect("uid"),
                                gid: number(&u["gid"]),
                                shell: u["shell"].as_str().unwrap_or("").to_owned(),
                                homedir: u["homedir"].as_str().unwrap_or("").to_owned(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                groups: accounts["groups"]
                    .as_array()
                    .map(|groups| {
                        groups
                            .iter()
                            .map(|g| Group {
                                groupname: g["groupname"].as_str().expect("name").to_owned(),
                                gid: number(&g["gid"]).expect("gid"),
                                members: strings(&g["members"]),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            paths: self.config["paths"]
                .as_array()
                .map(|paths| {
                    paths
                        .iter()
                        .map(|p| PathMutation {
                            path: p["path"].as_str().expect("path").to_owned(),
                            kind: p["type"].as_str().expect("type").to_owned(),
                            uid: number(&p["uid"]),
                            gid: number(&p["gid"]),
                            permissions: number(&p["permissions"]).unwrap_or(0),
                            source: p["source"].as_str().unwrap_or("").to_owned(),
                            recursive: p["recursive"].as_bool().unwrap_or(false),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            source_date_epoch: Timestamp::from_seconds(self.source_date_epoch.unwrap_or(0)),
            build_date: if self.source_date_epoch.is_some() {
                BuildDate::SourceDateEpoch
            } else {
                BuildDate::LatestPackage
            },
            ..Plan::default()
        }
    }

    /// The locked packages of one architecture, in lock order, read from the local files.
    pub fn packages(&self, spool: &Spool, arch: &str) -> Vec<PackageSource> {
        self.locked(arch)
            .iter()
            .map(|p| {
                let url = p["url"].as_str().expect("url");
                let apk = help::read_apk(&self.base.join(url));
                let (package, triggers) = help::package_from_apk(&apk);
                let data = spool
                    .add_data_tar(&package.name, &apk.data.data[..])
                    .expect("spool data tar");
                PackageSource {
                    package,
                    triggers,
                    control_tar: apk.control.data.clone(),
                    data,
                }
            })
            .collect()
    }
}

/// The golden layer tar of the image for `platform` (`amd64`, `arm64`): every layer, in order.
pub fn golden_layers(case: &Case, platform: &str) -> Vec<help::Layer> {
    help::golden_layers(&case.layout)
        .into_iter()
        .filter(|l| l.label.contains(&format!("/{platform}/")))
        .collect()
}

/// One entry as `tar` (an independent reader) sees it, for readable comparisons.
#[derive(Debug, PartialEq, Eq)]
pub struct EntrySummary {
    /// Path.
    pub name: String,
    /// Type, mode, uid/gid, uname/gname, size, mtime, link, devices.
    pub header: String,
    /// SHA-256 of the data, first 12 hex digits.
    pub content: String,
}

/// The entries of a tar, summarised.
pub fn summarise(tar: &[u8]) -> Vec<EntrySummary> {
    let mut archive = ::tar::Archive::new(tar);
    let mut out = Vec::new();
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let h = entry.header().clone();
        let mut pax = Vec::new();
        if let Ok(Some(extensions)) = entry.pax_extensions() {
            for e in extensions.flatten() {
                pax.push(format!(
                    "{}={}",
                    String::from_utf8_lossy(e.key_bytes()),
                    String::from_utf8_lossy(e.value_bytes())
                ));
            }
        }
        let header = format!(
            "type={:?} mode={:o} uid={} gid={} uname={:?} gname={:?} size={} mtime={} link={:?} dev={:?},{:?} pax={:?}",
            h.entry_type(),
            h.mode().unwrap_or(0),
            h.uid().unwrap_or(0),
            h.gid().unwrap_or(0),
            String::from_utf8_lossy(h.username_bytes().unwrap_or_default()),
            String::from_utf8_lossy(h.groupname_bytes().unwrap_or_default()),
            h.size().unwrap_or(0),
            h.mtime().unwrap_or(0),
            h.link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned()),
            h.device_major().ok().flatten(),
            h.device_minor().ok().flatten(),
            pax,
        );
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("entry data");
        out.push(EntrySummary {
            name: String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
            header,
            content: hex::encode(sha2::Sha256::digest(&data))
                .get(..12)
                .unwrap_or("")
                .to_owned(),
        });
    }
    out
}

/// Panics with the entries that differ, when `ours` is not byte-identical to `golden`.
pub fn assert_same_tar(label: &str, ours: &[u8], golden: &[u8]) {
    if ours == golden {
        return;
    }
    let (a, b) = (summarise(ours), summarise(golden));
    let mut report = Vec::new();
    let names: std::collections::BTreeSet<&str> =
        a.iter().chain(&b).map(|e| e.name.as_str()).collect();
    for name in names {
        let x = a.iter().find(|e| e.name == name);
        let y = b.iter().find(|e| e.name == name);
        if x != y {
            report.push(format!("{name}:\n  ours:   {x:?}\n  golden: {y:?}"));
        }
    }
    let order_a: Vec<&str> = a.iter().map(|e| e.name.as_str()).collect();
    let order_b: Vec<&str> = b.iter().map(|e| e.name.as_str()).collect();
    if order_a != order_b {
        report.push(format!(
            "order:\n  ours:   {order_a:?}\n  golden: {order_b:?}"
        ));
    }
    let at = ours.iter().zip(golden).position(|(x, y)| x != y);
    panic!(
        "{label}: layer differs ({} vs {} bytes, first difference at {at:?})\n{}",
        ours.len(),
        golden.len(),
        report.join("\n")
    );
}
