//! Tests for the apk_installed flow.
//! The installed database apko writes: usr/lib/apk/db/installed, scripts.tar, triggers.

use crate::support::{self, installed as help};
use receipts::apk::installed::{self, EntryKind, FileEntry, Record};
use receipts::apk::{Package, index};
use receipts::codec::tar::{self, Format, Timestamp};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const APK_TESTDATA: &str = "chainguard-dev/apko/pkg/apk/apk/testdata";

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse_file(relative: &str) -> (Vec<u8>, Vec<Record>) {
    let bytes = read(&support::data(&format!("{APK_TESTDATA}/{relative}")));
    let records = installed::parse(&bytes).expect("parse");
    (bytes, records)
}

fn names(records: &[Record]) -> Vec<&str> {
    records.iter().map(|r| r.package.name.as_str()).collect()
}

fn rewrite(record: &Record) -> String {
    installed::record(&record.package, &record.files, |_| false).expect("record")
}

#[test]
fn apko_written_database_round_trips_byte_for_byte() {
    // wolfi-base was written by apko: every record re-written from its parsed form must give
    // the same bytes (pathCompare order, `i:[]`, empty `U:`, four-digit `a:` modes, symlinks'
    // `a:0:0:0777`, `Z:` on symlinks).
    let (bytes, records) = parse_file("installed/wolfi-base");
    assert_eq!(
        names(&records),
        [
            "wolfi-baselayout",
            "ca-certificates-bundle",
            "glibc-locale-posix",
            "libgcc",
            "glibc",
            "ld-linux",
            "libcrypto3",
            "libssl3",
            "zlib",
            "apk-tools",
            "libxcrypt",
            "libcrypt1",
            "busybox",
            "wolfi-keys",
            "wolfi-base",
        ]
    );
    let ours: String = records.iter().map(rewrite).collect();
    assert_eq!(ours.as_bytes(), &bytes[..]);
    let ld = records
        .iter()
        .find(|r| r.package.name == "ld-linux")
        .expect("ld-linux");
    // apko's TestParseInstalledFiles row for ld-linux.
    let paths: Vec<&str> = ld.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "etc",
            "etc/ld.so.conf",
            "etc/ld.so.conf.d",
            "etc/ld.so.conf.d/libc.conf",
            "usr",
            "usr/lib",
            "usr/lib/ld-linux-x86-64.so.2",
            "var",
            "var/lib",
            "var/lib/db",
            "var/lib/db/sbom",
            "var/lib/db/sbom/ld-linux-2.41-r55.spdx.json",
        ]
    );
}

/// Records apk-tools wrote (package lines in its order, `C:` first, modes like `a:0:0:777`):
/// our writer emits apko's layout, so the check is that nothing is lost on the way.
fn assert_semantic_round_trip(records: &[Record]) {
    for record in records {
        let text = rewrite(record);
        let again = installed::parse(text.as_bytes()).expect("reparse");
        assert_eq!(again.len(), 1, "{}", record.package.name);
        assert_eq!(&again[0], record, "{}", record.package.name);
        assert!(text.contains("\ni:[]\n") || !record.package.install_if.is_empty());
    }
}

#[test]
fn apk_tools_databases_keep_every_field_through_our_writer() {
    let (_, alpine) = parse_file("root/usr/lib/apk/db/installed");
    // apko's testInstalledPackages (installed_test.go), in file order.
    assert_eq!(
        names(&alpine),
        [
            "alpine-baselayout-data",
            "musl",
            "busybox",
            "alpine-baselayout",
            "alpine-keys",
            "ca-certificates-bundle",
            "libcrypto1.1",
            "libssl1.1",
            "ssl_client",
            "zlib",
            "apk-tools",
            "scanelf",
            "musl-utils",
            "libc-utils",
        ]
    );
    assert_semantic_round_trip(&alpine);
    let data = &alpine[0];
    assert_eq!(
        data.package.checksum_string(),
        "Q11lVAM7vn9XHtyClU/ZflmqTH8EU="
    );
    assert_eq!(data.package.replaces, ["alpine-baselayout"]);
    assert_eq!(data.files.len(), 15);
    let shadow = data
        .files
        .iter()
        .find(|f| f.path == "etc/shadow")
        .expect("etc/shadow");
    assert_eq!((shadow.uid, shadow.gid, shadow.mode), (0, 42, 0o640));
    let text = rewrite(data);
    assert!(text.contains("\nr:alpine-baselayout\nc:cb70ca5c6d6db0399d2dd09189c5d57827bce5cd\n"));
    assert!(text.contains("\nR:mtab\na:0:0:0777\nZ:Q1kiljhXXH1LlQroHsEJIkPZg2eiw=\n"));
    assert!(text.contains("\nR:shadow\na:0:42:0640\n"));

    let (_, redis) = parse_file("installed/redis-operator-compat");
    assert_eq!(redis.len(), 16);
    assert_semantic_round_trip(&redis);
    // A top-level file: the bare `F:` marker comes back before it.
    let compat = redis
        .iter()
        .find(|r| r.package.name == "redis-operator-compat")
        .expect("redis-operator-compat");
    assert_eq!(compat.files[0].path, "operator");
    assert_eq!(compat.files[0].mode, 0o777);
    assert!(
        rewrite(compat)
            .contains("\nk:0\nC:Q1R4MwduR1pAnDMb+3kQscmyNxJPY=\nF:\nR:operator\na:0:0:0777\n")
    );
}

#[test]
fn ownership_of_the_top_level_directory_is_refused() {
    let bytes = read(&support::data(&format!(
        "{APK_TESTDATA}/installed/bad-top-level-perms"
    )));
    let err = installed::parse(&bytes).expect_err("M: after a bare F:");
    assert!(
        matches!(err, installed::Error::Line { line: 16, .. }),
        "{err}"
    );

    let package = Package {
        name: "x".into(),
        ..Default::default()
    };
    let root = FileEntry {
        path: "/".into(),
        kind: EntryKind::Directory,
        mode: 0o711,
        uid: 0,
        gid: 0,
        checksum: None,
    };
    let err = installed::record(&package, &[root], |_| false).expect_err("top-level M:");
    assert!(matches!(err, installed::Error::TopLevelOwnership { .. }));
    let nameless = installed::record(&Package::default(), &[], |_| false);
    assert!(matches!(nameless, Err(installed::Error::NamelessPackage)));
}

#[test]
fn records_follow_apko_rules_for_files_and_directories() {
    // Rows of apko's TestAddInstalledPackageAdded and TestCleanTarHeaders.
    let package = Package {
        name: "testpkg".into(),
        version: "1.0.0".into(),
        arch: "x86_64".into(),
        ..Default::default()
    };
    let entry = |path: &str, kind, mode| FileEntry {
        path: path.into(),
        kind,
        mode,
        uid: 0,
        gid: 0,
        checksum: None,
    };
    use EntryKind::{Directory as D, File as F};
    let files_of = |files: &[FileEntry]| {
        let text = installed::record(&package, files, |_| false).expect("record");
        let start = text.find("\nk:0\n").expect("k:") + 5;
        text[start..].trim_end().to_owned()
    };
    assert_eq!(
        files_of(&[entry("README", F, 0o444)]),
        "F:\nR:README\na:0:0:0444"
    );
    assert_eq!(
        files_of(&[
            entry("my.d", D, 0o755),
            entry("my.d/zfile", F, 0o644),
            entry("my.d/xfile", F, 0o644),
            entry("my.d/adir", D, 0o755),
        ]),
        "F:my.d\nR:xfile\nR:zfile\nF:my.d/adir"
    );
    assert_eq!(
        files_of(&[entry("adir", D, 0o2600), entry("adir/xxfile", F, 0o4755)]),
        "F:adir\nM:0:0:2600\nR:xxfile\na:0:0:4755"
    );
    assert_eq!(
        files_of(&[
            entry("usr/", D, 0o755),
            entry("usr/bin/", D, 0o755),
            entry("etc", D, 0o755),
            entry("etc/logrotate.d/file", F, 0o644),
            entry("usr/bin/cmd", F, 0o644),
        ]),
        "F:etc\nF:usr\nF:usr/bin\nR:cmd"
    );
    let mut with_sum = entry("usr", D, 0o755);
    with_sum.uid = 1001;
    let mut file = entry("usr/withchecksum", F, 0o600);
    file.checksum = Some("91abf197227d2fe71d016f4ccb68b16c9c9b2768".into());
    assert_eq!(
        files_of(&[with_sum, file]),
        "F:usr\nM:1001:0:0755\nR:withchecksum\na:0:0:0600\nZ:Q1kavxlyJ9L+cdAW9My2ixbJybJ2g="
    );
}

fn alpine_baselayout() -> help::Apk {
    help::read_apk(&support::data(&format!(
        "{APK_TESTDATA}/alpine-316/alpine-baselayout-3.2.0-r23.apk"
    )))
}

#[test]
fn a_real_alpine_package_gives_the_record_its_index_and_database_describe() {
    let apk = alpine_baselayout();
    let (package, triggers) = help::package_from_apk(&apk);
    assert!(triggers.is_empty());
    let files = help::data_entries(&apk);
    let text = installed::record(&package, &files, |_| false).expect("record");
    let ours = installed::parse(text.as_bytes()).expect("reparse");
    let ours = &ours[0];

    // Package lines: the repository index that lists this very file.
    let index_gz = read(&support::data(&format!(
        "{APK_TESTDATA}/rsa256-signed/APKINDEX.tar.gz"
    )));
    let members = help::gzip_members(&index_gz);
    let index_text = help::tar_file(&members[1].data, "APKINDEX").expect("APKINDEX");
    let listed = index::parse_text(&index_text).expect("index");
    let listed = listed
        .iter()
        .find(|p| p.name == "alpine-baselayout")
        .expect("listed");
    let mut expected = listed.clone();
    expected.data_hash = String::new();
    expected.replaces = Vec::new();
    assert_eq!(ours.package, expected);
    assert!(text.starts_with(
        "P:alpine-baselayout\nV:3.2.0-r23\nA:aarch64\nL:GPL-2.0-only\n\
         T:Alpine base dir structure and init scripts\no:alpine-baselayout\n\
         m:Natanael Copa <ncopa@alpinelinux.org>\n\
         U:https://git.alpinelinux.org/cgit/aports/tree/main/alpine-baselayout\n\
         D:alpine-baselayout-data=3.2.0-r23 /bin/sh so:libc.musl-aarch64.so.1\n\
         p:cmd:mkmntdirs=3.2.0-r23\nc:348653a9ba0701e8e968b3344e72313a9ef334e4\ni:[]\n\
         t:1662926906\nS:11012\nI:339968\nk:0\nC:Q1LLq2qDNrS/qRnhxQ3hsY/sHbQnc=\nF:dev\n"
    ));

    // File lines: the database of an Alpine system with release r22, whose files are the
    // same (apk-tools wrote it; modes compare as numbers).
    let (_, alpine) = parse_file("root/usr/lib/apk/db/installed");
    let r22 = alpine
        .iter()
        .find(|r| r.package.name == "alpine-baselayout")
        .expect("r22");
    assert_eq!(r22.package.version, "3.2.0-r22");
    assert_eq!(ours.files.len(), 83);
    assert_eq!(ours.files, r22.files);
    assert!(text.ends_with("F:var/tmp\nM:0:0:1777\n\n"));
}

#[test]
fn scripts_and_triggers_match_an_alpine_system() {
    let apk = alpine_baselayout();
    let (package, _) = help::package_from_apk(&apk);
    let mut scripts = vec![0u8; 1024];
    installed::append_scripts(
        &mut scripts,
        &package,
        &apk.control.data[..],
        Some(Timestamp::from_seconds(0)),
    )
    .expect("scripts");

    // The r22 scripts on the Alpine system have the same content under r22's name.
    let system = read(&support::data(&format!(
        "{APK_TESTDATA}/root/usr/lib/apk/db/scripts.tar"
    )));
    let r22: HashMap<String, Vec<u8>> = tar_entries(&system)
        .into_iter()
        .filter_map(|(h, data)| {
            let name = String::from_utf8(h.name).expect("UTF-8");
            name.strip_prefix("alpine-baselayout-3.2.0-r22.Q1PGxwzLd7SQ/SZjUGrncnpjjtpKY=")
                .map(|s| (s.to_owned(), data))
        })
        .collect();
    assert_eq!(r22.len(), 4);

    let ours = tar_entries(&scripts);
    let prefix = "alpine-baselayout-3.2.0-r23.Q1LLq2qDNrS/qRnhxQ3hsY/sHbQnc=";
    let suffixes: Vec<String> = ours
        .iter()
        .map(|(h, _)| {
            let name = String::from_utf8(h.name.clone()).expect("UTF-8");
            name.strip_prefix(prefix).expect("renamed").to_owned()
        })
        .collect();
    // Control-tar order; `.PKGINFO` (0644) is left out.
    assert_eq!(
        suffixes,
        [
            ".pre-install",
            ".pre-upgrade",
            ".post-upgrade",
            ".post-install"
        ]
    );
    for ((header, data), suffix) in ours.iter().zip(&suffixes) {
        assert_eq!(Some(data), r22.get(suffix), "{suffix}");
        assert_eq!(header.mtime, Timestamp::from_seconds(0));
        assert_eq!((header.mode, &header.uname[..]), (0o755, &b"root"[..]));
        // abuild's control tar is PAX (atime/ctime records); once apko clears both times
        // nothing is left for an extended header, so each entry is a single header block.
        assert_eq!(header.format, Format::Ustar);
        assert!(header.pax_records.is_empty());
    }
    // 4 headers, 1 + 2 + 2 + 2 data blocks, end marker.
    assert_eq!(scripts.len(), 512 * (4 + 7) + 1024);
    assert!(scripts.ends_with(&[0u8; 1024]));

    // A package without executable control files leaves scripts.tar as it was (the golden
    // layer's scripts.tar is the 1024 zero bytes InitDB writes).
    let melange = help::read_apk(&support::data(
        "chainguard-dev/apko/internal/cli/testdata/packages/x86_64/replayout-1.0.0-r0.apk",
    ));
    let (replayout, _) = help::package_from_apk(&melange);
    let before = scripts.clone();
    installed::append_scripts(&mut scripts, &replayout, &melange.control.data[..], None)
        .expect("no scripts");
    assert_eq!(scripts, before);

    // triggers: busybox's line on the Alpine system, from its installed record's C:.
    let (_, alpine) = parse_file("root/usr/lib/apk/db/installed");
    let busybox = &alpine
        .iter()
        .find(|r| r.package.name == "busybox")
        .expect("busybox")
        .package;
    let triggers = read(&support::data(&format!(
        "{APK_TESTDATA}/root/usr/lib/apk/db/triggers"
    )));
    let line = installed::trigger_lines(
        busybox,
        &["/bin /usr/bin /sbin /usr/sbin /lib/modules/*".to_owned()],
    );
    assert_eq!(line.as_bytes(), &triggers[..]);
}

fn tar_entries(bytes: &[u8]) -> Vec<(tar::Header, Vec<u8>)> {
    use std::io::Read;
    let mut reader = tar::Reader::new(bytes);
    let mut out = Vec::new();
    while let Some(header) = reader.next_header().expect("header") {
        let mut data = Vec::new();
        reader.read_to_end(&mut data).expect("data");
        out.push((header, data));
    }
    out
}

#[test]
fn the_alpine_scripts_tar_rewritten_keeps_its_gnu_headers() {
    // apk-tools wrote this GNU-format scripts.tar. Read back, its headers ask for GNU, which
    // our writer keeps (magic, names, modes, owner names); only number encodings differ:
    // GNU tar fills size and mtime with 12 digits and leaves the device fields empty, Go
    // writes 11 digits plus NUL and zero device numbers (apko-format.md §7.5).
    let system = read(&support::data(&format!(
        "{APK_TESTDATA}/root/usr/lib/apk/db/scripts.tar"
    )));
    let entries = tar_entries(&system);
    assert_eq!(entries.len(), 7);
    let mut writer = tar::Writer::new(Vec::new());
    for (header, data) in &entries {
        assert_eq!(header.format, Format::Gnu);
        writer.append(header, &data[..]).expect("append");
    }
    let ours = writer.finish().expect("finish");
    assert_eq!(ours.len(), system.len());
    let mut headers = 0;
    for (a, b) in ours.chunks(512).zip(system.chunks(512)) {
        if a == b {
            continue;
        }
        headers += 1;
        assert_eq!(a[..124], b[..124]);
        assert_eq!(a[156..329], b[156..329]);
        assert_eq!(a[345..], b[345..]);
        assert_eq!(&a[257..273], b"ustar  \0root\0\0\0\0");
        assert_eq!(&a[329..345], b"0000000\x000000000\0");
        assert_eq!(&b[329..345], &[0u8; 16][..]);
        for field in [124..136, 136..148] {
            assert_eq!(a[field.clone()].last(), Some(&0));
            assert_eq!(b[field.clone()].first(), Some(&b'0'));
            assert_eq!(a[field.start..field.end - 1], b[field.start + 1..field.end]);
        }
    }
    assert_eq!(headers, 7);
}

/// Where the golden builds' packages live, by layout.
fn golden_repositories() -> Vec<(PathBuf, PathBuf)> {
    let mut pairs = vec![(
        support::data("chainguard-dev/apko/internal/cli/testdata/golden"),
        support::data("chainguard-dev/apko/internal/cli/testdata/packages"),
    )];
    for case in ["features", "layering", "cacerts"] {
        pairs.push((
            support::data(&format!("derived/apko/goldens/{case}/expected")),
            support::data(&format!("derived/apko/goldens/{case}/repo")),
        ));
    }
    pairs
}

/// apko's owner map after installing `packages` in order: the last package to write each
/// regular file, except that identical content keeps the first owner and a package replacing
/// the newcomer keeps its file (apko-format.md §4.8).
fn owners(packages: &[(Package, Vec<FileEntry>)]) -> HashMap<String, (String, Option<String>)> {
    let mut owners: HashMap<String, (String, Option<String>)> = HashMap::new();
    for (package, files) in packages {
        for file in files.iter().filter(|f| f.kind == EntryKind::File) {
            if let Some((owner, checksum)) = owners.get(&file.path) {
                let replaced_by_owner = packages.iter().any(|(p, _)| {
                    p.name == *owner && p.replaces.iter().any(|r| *r == package.name)
                });
                if *checksum == file.checksum || replaced_by_owner {
                    continue;
                }
            }
            owners.insert(
                file.path.clone(),
                (package.name.to_string(), file.checksum.clone()),
            );
        }
    }
    owners
}

#[test]
fn golden_layers_hold_the_records_we_write() {
    let mut databases = 0;
    let mut records = 0;
    for (layout, repository) in golden_repositories() {
        for layer in help::golden_layers(&layout) {
            let Some(golden) = help::tar_file(&layer.tar, "usr/lib/apk/db/installed") else {
                continue;
            };
            let listed = installed::parse(&golden).expect("golden database");
            let packages: Vec<(Package, Vec<FileEntry>)> = listed
                .iter()
                .map(|r| {
                    let p = &r.package;
                    let apk = help::read_apk(&repository.join(p.arch.as_str()).join(p.filename()));
                    let (package, _) = help::package_from_apk(&apk);
                    (package, help::data_entries(&apk))
                })
                .collect();
            let owners = owners(&packages);
            let ours: String = packages
                .iter()
                .map(|(package, files)| {
                    installed::record(package, files, |path| {
                        owners.get(path).is_some_and(|(o, _)| *o != package.name)
                    })
                    .expect("record")
                })
                .collect();
            assert_eq!(ours, String::from_utf8_lossy(&golden), "{}", layer.label);
            databases += 1;
            records += listed.len();
        }
    }
    // golden: 2 images; features: 2; layering: 4 layers with a database; cacerts: 1.
    assert_eq!(databases, 9);
    assert_eq!(records, 4 + 4 + (1 + 1 + 3 + 5) + 1);
}

#[test]
fn the_owner_map_drops_a_file_another_package_overwrote() {
    // replayout replaces pretend-baselayout and overwrites its etc/os-release; the golden
    // database (apko-format.md §13.6) lists the file under replayout only.
    let packages = help::support_dir_apks(
        "chainguard-dev/apko/internal/cli/testdata/packages/x86_64",
        &["pretend-baselayout-1.0.0-r0.apk", "replayout-1.0.0-r0.apk"],
    );
    let owners = owners(&packages);
    let (pretend, pretend_files) = &packages[0];
    let unfiltered = installed::record(pretend, pretend_files, |_| false).expect("record");
    assert!(unfiltered.contains("\nF:etc\nR:os-release\n"));
    let filtered = installed::record(pretend, pretend_files, |path| {
        owners.get(path).is_some_and(|(o, _)| *o != pretend.name)
    })
    .expect("record");
    assert!(!filtered.contains("os-release"));
    assert!(filtered.contains("\nC:Q1m6wB0UFePGN8Drz82pC8y2uAiu8=\nF:etc\nF:var\n"));
    let (replayout, replayout_files) = &packages[1];
    let theirs = installed::record(replayout, replayout_files, |path| {
        owners.get(path).is_some_and(|(o, _)| *o != replayout.name)
    })
    .expect("record");
    assert!(theirs.contains("\nr:pretend-baselayout\n"));
    assert!(
        theirs.contains("\nF:etc\nR:os-release\na:501:20:0644\nZ:Q1yl5Se7uKXMnEwtK04pYY2Mo75fg=\n")
    );
    assert_eq!(filtered.len() + theirs.len(), 756);
}
