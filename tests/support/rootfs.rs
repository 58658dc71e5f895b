//! Helpers for the root-filesystem tests: a golden build case (configuration, lock file,
//! environment, local packages) turned into a `rootfs::Plan`, the packages to install and the
//! `/etc/apko.json` bytes, and a readable entry-by-entry comparison of two layer tars.

use super::installed as help;
use receipts::apk::archive::Limits;
use receipts::build::fs::Spool;
use receipts::build::rootfs::{BuildDate, KeyFile, PackageSource, Plan};
use receipts::codec::tar::Timestamp;
use receipts::config::{Architecture, ImageConfiguration, Loader, Lock};
use serde_json::Value;
use sha2::Digest as _;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One golden build: where apko ran, the configuration, the lock, the environment.
pub struct Case {
    /// Directory apko ran in (relative paths in the configuration and lock start here).
    pub base: PathBuf,
    /// The configuration as loaded, with command-line annotations merged in.
    pub config: ImageConfiguration,
    /// The lock file.
    pub lock: Lock,
    /// `SOURCE_DATE_EPOCH`, when the build environment set it.
    pub source_date_epoch: Option<i64>,
    /// The expected OCI layout.
    pub layout: PathBuf,
}

fn json_file(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("JSON")
}

fn load(base: &Path, config: &str) -> ImageConfiguration {
    let mut configuration = Loader::new()
        .working_dir(base)
        .load(config)
        .expect("configuration")
        .configuration;
    configuration.trim_repositories();
    configuration
}

/// apko's own golden build (`internal/cli/testdata/apko.yaml`, run from `internal/cli` with
/// the annotations `TestBuild` passes on the command line).
pub fn upstream_case() -> Case {
    let testdata = super::data("chainguard-dev/apko/internal/cli/testdata");
    let base = testdata.parent().expect("internal/cli").to_path_buf();
    let mut config = load(&base, "testdata/apko.yaml");
    for (key, value) in [
        ("org.opencontainers.image.vendor", "Vendor"),
        ("org.opencontainers.image.title", "Title"),
    ] {
        config.annotations.insert(key.to_owned(), value.to_owned());
    }
    Case {
        config,
        lock: Lock::read(testdata.join("apko.lock.json")).expect("lock"),
        source_date_epoch: None,
        layout: testdata.join("golden"),
        base,
    }
}

/// One of the derived golden builds (`derived/apko/goldens/<name>`).
pub fn derived_case(name: &str) -> Case {
    let dir = super::data(&format!("derived/apko/goldens/{name}"));
    let env = json_file(&dir.join("env.json"));
    Case {
        config: load(&dir, "apko.yaml"),
        lock: Lock::read(dir.join("apko.lock.json")).expect("lock"),
        source_date_epoch: env["SOURCE_DATE_EPOCH"]
            .as_str()
            .map(|s| s.parse().expect("SOURCE_DATE_EPOCH")),
        layout: dir.join("expected"),
        base: dir,
    }
}

impl Case {
    /// The locked, validated configuration apko builds for `arch` (an APK name). The goldens
    /// were built without `--lockfile`, so the pins are sorted as plain strings
    /// (apko-format.md §3.6) rather than in lock order; the packages themselves are the lock's.
    pub fn locked(&self, arch: &str) -> ImageConfiguration {
        let arch = Architecture::parse(arch);
        let mut pins = self
            .lock
            .locked_packages(std::slice::from_ref(&arch))
            .remove(&arch)
            .unwrap_or_default();
        pins.sort();
        let mut locked = self.config.locked_for(Some(&arch), pins);
        locked.validate().expect("valid configuration");
        locked
    }

    /// The plan for one APK architecture.
    pub fn plan(&self, arch: &str) -> Plan {
        let locked = self.locked(arch);
        let keyring = locked
            .contents
            .keyring
            .iter()
            .map(|path| KeyFile {
                name: Path::new(path)
                    .file_name()
                    .expect("key name")
                    .to_string_lossy()
                    .into_owned(),
                content: std::fs::read(self.base.join(path)).expect("key file"),
            })
            .collect();
        let mut plan = Plan::from_configuration(&locked, &Architecture::parse(arch), keyring);
        plan.source_date_epoch = Timestamp::from_seconds(self.source_date_epoch.unwrap_or(0));
        plan.build_date = if self.source_date_epoch.is_some() {
            BuildDate::SourceDateEpoch
        } else {
            BuildDate::LatestPackage
        };
        plan
    }

    /// `/etc/apko.json` for `arch`, with the run-as value the accounts step resolved.
    pub fn apko_json(&self, arch: &str, run_as: &str) -> Vec<u8> {
        let mut locked = self.locked(arch);
        locked.accounts.run_as = run_as.to_owned();
        locked.to_apko_json_file().expect("apko.json")
    }

    /// The locked packages of one architecture, in lock order, read and checked with
    /// `PackageSource::read_apk` (the control checksum against the lock's).
    pub fn packages(&self, spool: &Spool, arch: &str) -> Vec<PackageSource> {
        self.lock
            .installable(&Architecture::parse(arch))
            .expect("installable packages")
            .into_iter()
            .map(|p| {
                let file = std::fs::File::open(self.base.join(&p.url)).expect("package file");
                let (source, layout) =
                    PackageSource::read_apk(spool, file, &p.name, Limits::default(), |_| {})
                        .expect("package");
                assert_eq!(layout.control.digest.q1(), p.checksum, "{}", p.name);
                source
            })
            .collect()
    }

    /// The same packages read by the test harness's own reader (flate2 and the `tar` crate)
    /// and spooled as whole data tars with `Spool::add_data_tar`.
    pub fn packages_via_data_tar(&self, spool: &Spool, arch: &str) -> Vec<PackageSource> {
        self.lock
            .installable(&Architecture::parse(arch))
            .expect("installable packages")
            .into_iter()
            .map(|p| {
                let apk = help::read_apk(&self.base.join(&p.url));
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

/// Synthetic packages for rule tests: data tars written with our tar writer, each regular file
/// and symlink carrying the `APK-TOOLS.checksum.SHA1` record apko requires.
pub mod synthetic {
    use receipts::apk::Package;
    use receipts::build::fs::Spool;
    use receipts::build::rootfs::{PackageSource, Plan};
    use receipts::codec::tar::{EntryType, Header, PaxRecords, Timestamp, Writer};
    use sha1::Digest as _;

    /// One data-tar entry and its content.
    pub struct Entry {
        /// The header.
        pub header: Header,
        /// The content.
        pub content: Vec<u8>,
    }

    fn header(typeflag: EntryType, name: &str, mode: i64, mtime: i64) -> Header {
        Header {
            typeflag,
            name: name.as_bytes().to_vec(),
            mode,
            mtime: Timestamp::from_seconds(mtime),
            ..Header::default()
        }
    }

    fn checksum(bytes: &[u8]) -> PaxRecords {
        [(
            "APK-TOOLS.checksum.SHA1",
            hex::encode(sha1::Sha1::digest(bytes)),
        )]
        .into_iter()
        .collect()
    }

    /// A directory.
    pub fn dir(name: &str, mode: i64, mtime: i64) -> Entry {
        Entry {
            header: header(EntryType::DIRECTORY, name, mode, mtime),
            content: Vec::new(),
        }
    }

    /// A regular file.
    pub fn file(name: &str, mode: i64, mtime: i64, content: &[u8]) -> Entry {
        let mut h = header(EntryType::REGULAR, name, mode, mtime);
        h.size = content.len() as i64;
        h.pax_records = checksum(content);
        Entry {
            header: h,
            content: content.to_vec(),
        }
    }

    /// A symbolic link (checksum over the target, as melange writes it).
    pub fn symlink(name: &str, target: &str, mtime: i64) -> Entry {
        let mut h = header(EntryType::SYMLINK, name, 0o777, mtime);
        h.linkname = target.as_bytes().to_vec();
        h.pax_records = checksum(target.as_bytes());
        Entry {
            header: h,
            content: Vec::new(),
        }
    }

    /// A hard link to `target`.
    pub fn hardlink(name: &str, target: &str) -> Entry {
        let mut h = header(EntryType::HARDLINK, name, 0o644, 0);
        h.linkname = target.as_bytes().to_vec();
        Entry {
            header: h,
            content: Vec::new(),
        }
    }

    /// The same entry owned by `uid:gid` (which the layer must not show).
    pub fn owned(mut entry: Entry, uid: i64, gid: i64) -> Entry {
        entry.header.uid = uid;
        entry.header.gid = gid;
        entry
    }

    /// The same entry with an extended attribute.
    pub fn xattr(mut entry: Entry, name: &str, value: &[u8]) -> Entry {
        entry
            .header
            .pax_records
            .insert(format!("SCHILY.xattr.{name}"), value.to_vec());
        entry
    }

    /// A package: record fields, no scripts, the given data entries.
    pub struct Spec<'a> {
        /// `pkgname`.
        pub name: &'a str,
        /// `origin`.
        pub origin: &'a str,
        /// `replaces`.
        pub replaces: &'a [&'a str],
        /// `provides`.
        pub provides: &'a [&'a str],
        /// Data entries in archive order.
        pub entries: Vec<Entry>,
    }

    impl Spec<'_> {
        /// The package, its data tar spooled into `spool`.
        pub fn source(self, spool: &Spool) -> PackageSource {
            let mut writer = Writer::new(Vec::new());
            for entry in &self.entries {
                writer
                    .append(&entry.header, &entry.content[..])
                    .expect("data entry");
            }
            let tar = writer.finish().expect("data tar");
            let data = spool.add_data_tar(self.name, &tar[..]).expect("spool");
            PackageSource {
                package: Package {
                    name: self.name.into(),
                    version: "1.0-r0".into(),
                    arch: "x86_64".into(),
                    origin: self.origin.into(),
                    checksum: sha1::Sha1::digest(self.name.as_bytes()).to_vec(),
                    replaces: self.replaces.iter().map(|r| (*r).to_owned()).collect(),
                    provides: self.provides.iter().map(|&r| r.into()).collect(),
                    ..Package::default()
                },
                triggers: Vec::new(),
                control_tar: vec![0; 1024],
                data,
            }
        }
    }

    /// A plan with one repository and nothing else configured.
    pub fn plan() -> Plan {
        Plan {
            arch: "x86_64".to_owned(),
            build_repositories: vec!["https://example.invalid/os".to_owned()],
            runtime_repositories: vec!["https://example.invalid/os".to_owned()],
            ..Plan::default()
        }
    }
}

/// A minimal little-endian ELF64 shared object (`ET_DYN`) for `machine` whose dynamic section
/// lists `sonames` as `DT_SONAME` entries: what `ld.so.cache` generation reads.
pub fn shared_object(machine: u16, sonames: &[&str]) -> Vec<u8> {
    let mut dynstr = vec![0u8];
    let mut dynamic = Vec::new();
    for soname in sonames {
        dynamic.extend_from_slice(&14u64.to_le_bytes());
        dynamic.extend_from_slice(&(dynstr.len() as u64).to_le_bytes());
        dynstr.extend_from_slice(soname.as_bytes());
        dynstr.push(0);
    }
    dynamic.extend_from_slice(&[0u8; 16]);
    let shstrtab = b"\0.dynstr\0.dynamic\0.shstrtab\0".to_vec();
    let dynstr_off = 64u64;
    let dynamic_off = dynstr_off + dynstr.len() as u64;
    let shstrtab_off = dynamic_off + dynamic.len() as u64;
    let shoff = shstrtab_off + shstrtab.len() as u64;
    let mut out = vec![0u8; 64];
    out[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
    out[16..18].copy_from_slice(&3u16.to_le_bytes());
    out[18..20].copy_from_slice(&machine.to_le_bytes());
    out[20..24].copy_from_slice(&1u32.to_le_bytes());
    out[40..48].copy_from_slice(&shoff.to_le_bytes());
    out[52..54].copy_from_slice(&64u16.to_le_bytes());
    out[58..60].copy_from_slice(&64u16.to_le_bytes());
    out[60..62].copy_from_slice(&4u16.to_le_bytes());
    out[62..64].copy_from_slice(&3u16.to_le_bytes());
    out.extend_from_slice(&dynstr);
    out.extend_from_slice(&dynamic);
    out.extend_from_slice(&shstrtab);
    let sections = [
        (0u32, 0u32, 0u64, 0u64, 0u32),
        (1, 3, dynstr_off, dynstr.len() as u64, 0),
        (9, 6, dynamic_off, dynamic.len() as u64, 1),
        (18, 3, shstrtab_off, shstrtab.len() as u64, 0),
    ];
    for (name, kind, offset, size, link) in sections {
        let mut h = vec![0u8; 64];
        h[0..4].copy_from_slice(&name.to_le_bytes());
        h[4..8].copy_from_slice(&kind.to_le_bytes());
        h[24..32].copy_from_slice(&offset.to_le_bytes());
        h[32..40].copy_from_slice(&size.to_le_bytes());
        h[40..44].copy_from_slice(&link.to_le_bytes());
        out.extend_from_slice(&h);
    }
    out
}

/// The entries of an `ld.so.cache` in the new format: (flags, path), in file order.
pub fn cache_entries(cache: &[u8]) -> Vec<(u32, String)> {
    let u32_at = |at: usize| u32::from_le_bytes(cache[at..at + 4].try_into().expect("u32"));
    assert_eq!(&cache[..20], b"glibc-ld.so.cache1.1");
    (0..u32_at(20) as usize)
        .map(|i| {
            let at = 48 + i * 24;
            let value = u32_at(at + 8) as usize;
            let end = value + cache[value..].iter().position(|&b| b == 0).expect("NUL");
            (
                u32_at(at),
                String::from_utf8(cache[value..end].to_vec()).expect("UTF-8"),
            )
        })
        .collect()
}
