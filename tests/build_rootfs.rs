//! Root filesystem assembly and the layer walk against layers apko built: the packages of a
//! golden build installed in lock order, apko's own files added, the tree walked into a tar,
//! compared byte for byte with the golden layer.

use crate::support::installed as help;
use crate::support::rootfs::{self as case, Case};
use receipts::build::fs::Spool;
use receipts::build::{layering, rootfs, walk};
use std::io::Read;

/// Builds one architecture's single layer; returns our tar, its diff_id and the golden layer.
fn rebuild(case: &Case, arch: &str, platform: &str) -> (Vec<u8>, String, help::Layer) {
    let spool = Spool::new().expect("spool");
    let plan = case.plan(arch);
    let packages = case.packages(&spool, arch);
    let mut golden = case::golden_layers(case, platform);
    assert_eq!(golden.len(), 1, "{platform}: one layer");
    let golden = golden.remove(0);
    let built =
        rootfs::build(&plan, packages, |run_as| Ok(case.apko_json(arch, run_as))).expect("rootfs");
    let (tar, hashed) = walk::write_layer(built.tree(), Vec::new()).expect("layer");
    assert_eq!(hashed.size, tar.len() as u64);
    (tar, hex::encode(hashed.sha256), golden)
}

#[test]
fn upstream_golden_layers_are_rebuilt_byte_for_byte() {
    let case = case::upstream_case();
    for (arch, platform, diff_id) in [
        (
            "x86_64",
            "amd64",
            "20f698463c2755b6dc42b7d07e959ed7455a06e7367d507e829a315898f21a01",
        ),
        (
            "aarch64",
            "arm64",
            "ca5e16c7c944d764863cb1a4286e668e72d6d87ef9ddd82337b19d87715bae7e",
        ),
    ] {
        let (tar, ours, golden) = rebuild(&case, arch, platform);
        case::assert_same_tar(&golden.label, &tar, &golden.tar);
        assert_eq!(golden.diff_id, diff_id);
        assert_eq!(ours, diff_id, "{platform}");
        assert_eq!(tar.len(), 32768);
    }
}

#[test]
fn features_layers_are_rebuilt_byte_for_byte() {
    let case = case::derived_case("features");
    for (arch, platform) in [("x86_64", "amd64"), ("aarch64", "arm64")] {
        let (tar, ours, golden) = rebuild(&case, arch, platform);
        case::assert_same_tar(&golden.label, &tar, &golden.tar);
        assert_eq!(ours, golden.diff_id, "{platform}");
    }
}

#[test]
fn whole_data_tars_spool_to_the_same_layer() {
    let case = case::derived_case("features");
    let spool = Spool::new().expect("spool");
    let plan = case.plan("aarch64");
    let packages = case.packages_via_data_tar(&spool, "aarch64");
    let built = rootfs::build(&plan, packages, |run_as| {
        Ok(case.apko_json("aarch64", run_as))
    })
    .expect("rootfs");
    let (tar, hashed) = walk::write_layer(built.tree(), Vec::new()).expect("layer");
    let golden = case::golden_layers(&case, "arm64").remove(0);
    case::assert_same_tar(&golden.label, &tar, &golden.tar);
    assert_eq!(hex::encode(hashed.sha256), golden.diff_id);
}

#[test]
fn cacerts_layer_is_rebuilt_byte_for_byte() {
    let case = case::derived_case("cacerts");
    let (tar, ours, golden) = rebuild(&case, "x86_64", "amd64");
    case::assert_same_tar(&golden.label, &tar, &golden.tar);
    assert_eq!(ours, golden.diff_id);
}

use crate::support::rootfs::synthetic::{self, Spec, dir, file, hardlink, owned, symlink, xattr};
use receipts::build::fs;
use receipts::build::rootfs::{Plan, Rootfs};

/// Every step in apko's order, with `{}` as `/etc/apko.json`.
fn assemble(plan: &Plan, packages: Vec<rootfs::PackageSource>) -> Result<Rootfs, rootfs::Error> {
    rootfs::build(plan, packages, |_| Ok(b"{}\n".to_vec()))
}

fn layer_entries(built: &Rootfs) -> Vec<case::EntrySummary> {
    let (tar, _) = walk::write_layer(built.tree(), Vec::new()).expect("layer");
    case::summarise(&tar)
}

fn entry<'a>(entries: &'a [case::EntrySummary], name: &str) -> &'a case::EntrySummary {
    entries
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{name} not in the layer"))
}

fn record_text(built: &Rootfs, package: &str) -> String {
    let installed = built
        .installed()
        .iter()
        .find(|p| p.package.name == package)
        .expect("installed package");
    String::from_utf8(installed.record.clone()).expect("UTF-8 record")
}

fn pkg<'a>(
    name: &'a str,
    origin: &'a str,
    replaces: &'a [&'a str],
    entries: Vec<synthetic::Entry>,
) -> Spec<'a> {
    Spec {
        name,
        origin,
        replaces,
        provides: &[],
        entries,
    }
}

#[test]
fn a_file_conflict_names_the_path_and_both_packages() {
    let spool = Spool::new().expect("spool");
    let packages = vec![
        pkg(
            "alpha",
            "alpha",
            &[],
            vec![dir("etc", 0o755, 1), file("etc/motd", 0o644, 1, b"one\n")],
        )
        .source(&spool),
        pkg(
            "beta",
            "beta",
            &[],
            vec![dir("etc", 0o755, 1), file("etc/motd", 0o644, 1, b"two\n")],
        )
        .source(&spool),
    ];
    let err = assemble(&synthetic::plan(), packages).expect_err("conflict");
    let rootfs::Error::Install { package, source } = err else {
        panic!("not an install error: {err}");
    };
    assert_eq!(package, "beta");
    match *source {
        fs::Error::FileConflict {
            path,
            existing,
            existing_origin,
            new,
            new_origin,
        } => {
            assert_eq!(
                (path.as_str(), existing.as_str(), existing_origin.as_str()),
                ("etc/motd", "alpha", "alpha")
            );
            assert_eq!((new.as_str(), new_origin.as_str()), ("beta", "beta"));
        }
        other => panic!("not a file conflict: {other}"),
    }
}

#[test]
fn replaces_origins_and_identical_content_settle_conflicts() {
    // (first, second, content the image keeps, which package's record keeps etc/motd). The
    // packages list `etc` too: file lines without their directory's line are dropped.
    let cases: [(Spec, Spec, &[u8], &str); 4] = [
        (
            pkg(
                "alpha",
                "alpha",
                &[],
                vec![dir("etc", 0o755, 1), file("etc/motd", 0o644, 1, b"one\n")],
            ),
            pkg(
                "beta",
                "beta",
                &["alpha"],
                vec![dir("etc", 0o755, 1), file("etc/motd", 0o644, 2, b"two\n")],
            ),
            b"two\n",
            "beta",
        ),
        (
            pkg(
                "alpha",
                "alpha",
                &["beta"],
                vec![dir("etc", 0o755, 1), file("etc/motd", 0o644, 1, b"one\n")],
            ),
            pkg(
                "beta",
                "beta",
                &[],
                vec![dir("etc", 0o755, 1), file("etc/motd", 0o644, 2, b"two\n")],
            ),
            b"one\n",
            "alpha",
        ),
        (
            pkg(
                "alpha",
                "shared",
                &[],
                vec![dir("etc", 0o755, 1), file("etc/motd", 0o644, 1, b"one\n")],
            ),
            pkg(
                "beta",
                "shared",
                &[],
                vec![dir("etc", 0o755, 1), file("etc/motd", 0o644, 2, b"two\n")],
            ),
            b"two\n",
            "beta",
        ),
        (
            pkg(
                "alpha",
                "alpha",
                &[],
                vec![dir("etc", 0o755, 1), file("etc/motd", 0o644, 1, b"same\n")],
            ),
            pkg(
                "beta",
                "beta",
                &[],
                vec![dir("etc", 0o755, 1), file("etc/motd", 0o644, 2, b"same\n")],
            ),
            b"same\n",
            "alpha",
        ),
    ];
    for (first, second, kept, owner) in cases {
        let spool = Spool::new().expect("spool");
        let built = assemble(
            &synthetic::plan(),
            vec![first.source(&spool), second.source(&spool)],
        )
        .expect("rootfs");
        assert_eq!(built.tree().read_file("etc/motd").expect("motd"), kept);
        for package in ["alpha", "beta"] {
            let record = record_text(&built, package);
            assert_eq!(
                record.contains("R:motd\n"),
                package == owner,
                "{package}'s record:\n{record}"
            );
        }
    }
}

#[test]
fn directories_lose_special_bits_owners_vanish_and_the_last_mtime_wins() {
    let spool = Spool::new().expect("spool");
    let packages = vec![
        pkg(
            "alpha",
            "alpha",
            &[],
            vec![
                dir("opt", 0o700, 50),
                owned(dir("opt/app", 0o6755, 100), 501, 20),
                owned(file("opt/app/tool", 0o4755, 100, b"#!/bin/sh\n"), 501, 20),
            ],
        )
        .source(&spool),
        pkg(
            "beta",
            "beta",
            &[],
            vec![
                dir("opt/app", 0o700, 200),
                file("opt/app/b", 0o644, 7, b"b"),
            ],
        )
        .source(&spool),
    ];
    let built = assemble(&synthetic::plan(), packages).expect("rootfs");
    let entries = layer_entries(&built);
    // InitDB made /opt 0755: the package's 0700 is ignored, its mtime applied.
    assert!(
        entry(&entries, "opt")
            .header
            .starts_with("type=Directory mode=755 uid=0 gid=0")
    );
    assert!(entry(&entries, "opt").header.contains("mtime=50 "));
    let app = &entry(&entries, "opt/app").header;
    assert!(
        app.starts_with("type=Directory mode=755 uid=0 gid=0"),
        "{app}"
    );
    assert!(app.contains("mtime=200 "), "{app}");
    let tool = &entry(&entries, "opt/app/tool").header;
    assert!(
        tool.starts_with("type=Regular mode=4755 uid=0 gid=0"),
        "{tool}"
    );
    assert!(tool.contains("mtime=100 "), "{tool}");
    // The database keeps the package's own owner and modes.
    let record = record_text(&built, "alpha");
    assert!(
        record.contains("F:opt/app\nM:501:20:6755\nR:tool\na:501:20:4755\n"),
        "{record}"
    );
}

#[test]
fn hard_links_are_written_as_links_even_before_their_target() {
    let spool = Spool::new().expect("spool");
    let packages = vec![
        pkg(
            "tools",
            "tools",
            &[],
            vec![
                dir("usr", 0o755, 5),
                dir("usr/bin", 0o755, 5),
                file("usr/bin/tool", 0o755, 5, b"binary"),
                hardlink("usr/bin/alias", "usr/bin/tool"),
                hardlink("usr/bin/0first", "usr/bin/tool"),
            ],
        )
        .source(&spool),
    ];
    let built = assemble(&synthetic::plan(), packages).expect("rootfs");
    let entries = layer_entries(&built);
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e.name.as_str())
        .filter(|n| n.starts_with("usr/bin/"))
        .collect();
    assert_eq!(names, ["usr/bin/0first", "usr/bin/alias", "usr/bin/tool"]);
    for link in ["usr/bin/0first", "usr/bin/alias"] {
        let header = &entry(&entries, link).header;
        assert!(header.starts_with("type=Link mode=755"), "{header}");
        assert!(header.contains("size=0 "), "{header}");
        assert!(header.contains("link=Some(\"usr/bin/tool\")"), "{header}");
    }
    let tool = entry(&entries, "usr/bin/tool");
    assert!(tool.header.starts_with("type=Regular mode=755"));
    assert!(tool.header.contains("size=6 "));
}

#[test]
fn extended_attributes_become_pax_records_of_files_and_directories() {
    let spool = Spool::new().expect("spool");
    let packages = vec![
        pkg(
            "caps",
            "caps",
            &[],
            vec![
                xattr(dir("srv", 0o755, 1), "user.role", b"data"),
                xattr(
                    file("srv/ping", 0o755, 1, b"ping"),
                    "security.capability",
                    b"\x01\x02",
                ),
                symlink("srv/link", "ping", 1),
            ],
        )
        .source(&spool),
    ];
    let built = assemble(&synthetic::plan(), packages).expect("rootfs");
    let entries = layer_entries(&built);
    assert!(
        entry(&entries, "srv")
            .header
            .contains("pax=[\"SCHILY.xattr.user.role=data\"]")
    );
    assert!(
        entry(&entries, "srv/ping")
            .header
            .contains("SCHILY.xattr.security.capability=\\u{1}\\u{2}")
    );
    assert!(entry(&entries, "srv/link").header.contains("pax=[]"));
}

fn user(username: &str, uid: u32) -> receipts::config::User {
    receipts::config::User {
        username: username.to_owned(),
        uid,
        ..Default::default()
    }
}

#[test]
fn accounts_extend_the_packaged_files_and_name_owners_in_the_layer() {
    let spool = Spool::new().expect("spool");
    let packages = vec![
        pkg(
            "baselayout",
            "baselayout",
            &[],
            vec![
                dir("etc", 0o755, 3),
                file("etc/passwd", 0o644, 3, b"root:x:0:0:root:/root:/bin/sh\n"),
                file("etc/group", 0o644, 3, b"root:x:0:root\n"),
                file("etc/shadow", 0o600, 3, b"root:*:19000:0:99999:7:::\n"),
            ],
        )
        .source(&spool),
    ];
    let mut plan = synthetic::plan();
    plan.accounts.users = vec![user("app", 1000), {
        let mut u = user("svc", 1001);
        u.gid = Some(1000);
        u.homedir = "/dev/null".to_owned();
        u.shell = "/sbin/nologin".to_owned();
        u
    }];
    plan.accounts.groups = vec![receipts::config::Group {
        groupname: "app".to_owned(),
        gid: 1000,
        members: vec!["app".to_owned(), "svc".to_owned()],
    }];
    plan.accounts.run_as = "svc".to_owned();
    let mut built = Rootfs::init(&plan).expect("init");
    built.install(packages).expect("install");
    let run_as = built.mutate_accounts(&plan.accounts).expect("accounts");
    assert_eq!(run_as, "1001");
    built.write_apko_json(b"{}\n").expect("apko.json");
    built.finish(&plan).expect("finish");
    let read =
        |path: &str| String::from_utf8(built.tree().read_file(path).expect(path)).expect("text");
    assert_eq!(
        read("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\n\
         app:x:1000:1000:Account created by apko:/home/app:/bin/sh\n\
         svc:x:1001:1000:Account created by apko:/dev/null:/sbin/nologin\n"
    );
    assert_eq!(read("etc/group"), "root:x:0:root\napp:x:1000:app,svc\n");
    // The shadow parser drops the last-change field of existing entries.
    assert_eq!(
        read("etc/shadow"),
        "root:*::0:99999:7:::\napp:!:::::::\nsvc:!:::::::\n"
    );
    let entries = layer_entries(&built);
    // Existing files keep the package's mode and mtime.
    let shadow = &entry(&entries, "etc/shadow").header;
    assert!(
        shadow.starts_with("type=Regular mode=600 uid=0 gid=0 uname=\"root\" gname=\"root\""),
        "{shadow}"
    );
    assert!(shadow.contains("mtime=3 "), "{shadow}");
    // Home directories for every passwd entry, the packaged root included.
    let root_home = &entry(&entries, "root").header;
    assert!(
        root_home.starts_with("type=Directory mode=700 uid=0 gid=0 uname=\"root\""),
        "{root_home}"
    );
    let app_home = &entry(&entries, "home/app").header;
    assert!(
        app_home
            .starts_with("type=Directory mode=700 uid=1000 gid=1000 uname=\"app\" gname=\"app\""),
        "{app_home}"
    );
    assert!(
        entry(&entries, "home")
            .header
            .starts_with("type=Directory mode=755")
    );
}

#[test]
fn a_malformed_passwd_line_fails_the_accounts_step() {
    let spool = Spool::new().expect("spool");
    let packages = vec![
        pkg(
            "baselayout",
            "baselayout",
            &[],
            vec![
                dir("etc", 0o755, 3),
                file("etc/passwd", 0o644, 3, b"root:x:0:0:root:/root\n"),
            ],
        )
        .source(&spool),
    ];
    let err = assemble(&synthetic::plan(), packages).expect_err("bad passwd");
    assert!(
        matches!(
            err,
            rootfs::Error::AccountFile {
                file: "etc/passwd",
                source: rootfs::passwd::Error::Fields {
                    line: 1,
                    parts: 6,
                    expected: 7
                }
            }
        ),
        "{err:?}"
    );
}

fn mutation(path: &str, kind: &str) -> receipts::config::PathMutation {
    receipts::config::PathMutation {
        path: path.to_owned(),
        kind: kind.to_owned(),
        ..Default::default()
    }
}

#[test]
fn path_mutations_follow_apko() {
    let mut plan = synthetic::plan();
    plan.paths = vec![
        {
            let mut m = mutation("/srv/data/deep", "directory");
            m.permissions = 0o2750;
            m
        },
        {
            let mut m = mutation("/srv/data/deep/file", "empty-file");
            m.permissions = 0o640;
            m
        },
        {
            let mut m = mutation("/srv", "permissions");
            m.permissions = 0o755;
            m.uid = Some(7);
            m.recursive = true;
            m
        },
        {
            let mut m = mutation("/etc/arch-copy", "hardlink");
            m.source = "/etc/apk/arch".to_owned();
            m.permissions = 0o600;
            m
        },
    ];
    let built = assemble(&plan, Vec::new()).expect("rootfs");
    let entries = layer_entries(&built);
    // Recursive permissions reach the whole subtree; uid without gid gives gid 0.
    for path in ["srv", "srv/data", "srv/data/deep", "srv/data/deep/file"] {
        let header = &entry(&entries, path).header;
        assert!(header.contains("mode=755 uid=7 gid=0 "), "{path}: {header}");
    }
    // A hard-link mutation is a second name without a hard-link entry: two full files, and
    // the permissions step changed the one node both names share.
    for path in ["etc/apk/arch", "etc/arch-copy"] {
        let e = entry(&entries, path);
        assert!(
            e.header.starts_with("type=Regular mode=600"),
            "{path}: {}",
            e.header
        );
        assert!(e.header.contains("size=7 "), "{path}");
    }
    assert_eq!(
        entry(&entries, "etc/apk/arch").content,
        entry(&entries, "etc/arch-copy").content
    );
    // Creating over an existing name is a path conflict.
    let mut plan = synthetic::plan();
    plan.paths = vec![mutation("/etc/apk/world", "symlink")];
    let err = assemble(&plan, Vec::new()).expect_err("conflict");
    assert!(
        matches!(&err, rootfs::Error::PathConflict { path } if path == "/etc/apk/world"),
        "{err:?}"
    );
}

#[test]
fn busybox_links_come_from_its_paths_file() {
    let spool = Spool::new().expect("spool");
    let busybox = |paths: bool| {
        let mut entries = vec![
            dir("bin", 0o755, 10),
            file("bin/busybox", 0o755, 1234, b"\x7fELF"),
            dir("etc", 0o755, 10),
        ];
        if paths {
            entries.push(dir("etc/busybox-paths.d", 0o755, 10));
            entries.push(file(
                "etc/busybox-paths.d/busybox",
                0o644,
                10,
                b"/bin/busybox\n/bin/sh\n/usr/bin/env\n/bin/sh\n\n",
            ));
        }
        pkg("busybox", "busybox", &[], entries).source(&spool)
    };
    let built = assemble(&synthetic::plan(), vec![busybox(true)]).expect("rootfs");
    let entries = layer_entries(&built);
    for link in ["bin/sh", "usr/bin/env"] {
        let header = &entry(&entries, link).header;
        assert!(
            header.starts_with("type=Symlink mode=777"),
            "{link}: {header}"
        );
        assert!(header.contains("mtime=1234 "), "{link}: {header}");
        assert!(
            header.contains("link=Some(\"/bin/busybox\")"),
            "{link}: {header}"
        );
    }
    // Link directories take busybox's mtime, existing ones included.
    assert!(entry(&entries, "bin").header.contains("mtime=1234 "));
    assert!(entry(&entries, "usr/bin").header.contains("mtime=1234 "));
    // Without the list apko falls back to its built-in table, keyed by an x.y.z version.
    let err = assemble(&synthetic::plan(), vec![busybox(false)]).expect_err("no list");
    assert!(
        matches!(&err, rootfs::Error::Busybox { reason } if reason == "invalid busybox version: 1.0-r0"),
        "{err}"
    );
}

#[test]
fn services_get_an_s6_supervision_tree() {
    let mut plan = synthetic::plan();
    plan.services
        .insert("nginx".to_owned(), "nginx -g 'daemon off;'".to_owned());
    let built = assemble(&plan, Vec::new()).expect("rootfs");
    let entries = layer_entries(&built);
    assert!(
        entry(&entries, "sv")
            .header
            .starts_with("type=Directory mode=777")
    );
    assert!(
        entry(&entries, "sv/nginx")
            .header
            .starts_with("type=Directory mode=777")
    );
    assert!(
        entry(&entries, "sv/nginx/run")
            .header
            .starts_with("type=Regular mode=755")
    );
    assert_eq!(
        built.tree().read_file("sv/nginx/run").expect("run"),
        b"#!/bin/execlineb\nnginx -g 'daemon off;'\n"
    );
}

fn example(name: &str) -> receipts::config::ImageConfiguration {
    let dir = crate::support::data("chainguard-dev/apko/examples");
    Loader::new()
        .working_dir(&dir)
        .load(name)
        .expect("example configuration")
        .configuration
}

use receipts::codec::tar::Timestamp;
use receipts::config::Loader;

#[test]
fn runtime_keys_are_written_as_go_encodes_them_with_the_build_date() {
    let keys = example("runtime-keyring.yaml").contents.runtime_keyring;
    let mut plan = synthetic::plan();
    plan.runtime_keyring = keys.clone();
    plan.source_date_epoch = Timestamp::from_seconds(1_700_000_000);
    plan.build_date = rootfs::BuildDate::SourceDateEpoch;
    let built = assemble(&plan, Vec::new()).expect("rootfs");
    let path = "etc/apk/keys/example-mirror.rsa.pub";
    // The example's key is Go-encoded already (64 columns), so re-encoding keeps its bytes.
    assert_eq!(
        built.tree().read_file(path).expect("key"),
        keys[0].content.as_bytes()
    );
    let entries = layer_entries(&built);
    let header = &entry(&entries, path).header;
    assert!(header.starts_with("type=Regular mode=644"), "{header}");
    assert!(header.contains("mtime=1700000000 "), "{header}");
    // A runtime key may not replace a key that is already there.
    let mut plan = synthetic::plan();
    plan.keyring = vec![rootfs::KeyFile {
        name: "example-mirror.rsa.pub".to_owned(),
        content: b"build key".to_vec(),
    }];
    plan.runtime_keyring = keys;
    let err = assemble(&plan, Vec::new()).expect_err("collision");
    assert!(
        matches!(&err, rootfs::Error::RuntimeKey { name, reason }
            if name == "example-mirror.rsa.pub" && reason.contains("collides")),
        "{err}"
    );
}

#[test]
fn additional_certificates_get_their_fingerprint_in_the_name_and_join_the_bundles() {
    let certificates = example("certificates.yaml")
        .certificates
        .expect("certificates");
    let spool = Spool::new().expect("spool");
    let bundle_package = pkg(
        "ca-bundle",
        "ca-bundle",
        &[],
        vec![
            dir("etc", 0o755, 9),
            dir("etc/ssl", 0o755, 9),
            dir("etc/ssl/certs", 0o755, 9),
            file("etc/ssl/certs/ca-certificates.crt", 0o644, 9, b"existing\n"),
        ],
    )
    .source(&spool);
    let mut plan = synthetic::plan();
    plan.certificates = Some(certificates.clone());
    plan.source_date_epoch = Timestamp::from_seconds(1_600_000_000);
    plan.build_date = rootfs::BuildDate::SourceDateEpoch;
    let built = assemble(&plan, vec![bundle_package]).expect("rootfs");
    let pem = certificates.additional[0].content.as_bytes();
    // Fingerprint from apko's certificates_test.go (`testCertPEMFingerprint`).
    let cert_file = "usr/local/share/ca-certificates/pretend-pear-x1-e70570a989f8565aabdf7cae27abd1621872d6a3f811e3fef27e3dba02912198.crt";
    assert_eq!(built.tree().read_file(cert_file).expect("cert file"), pem);
    let bundle = built
        .tree()
        .read_file("etc/ssl/certs/ca-certificates.crt")
        .expect("bundle");
    // Each additional certificate, as re-encoded, then a newline.
    let mut expected = "existing\n".to_owned();
    for additional in &certificates.additional {
        expected.push_str(&additional.content);
        expected.push('\n');
    }
    assert_eq!(String::from_utf8_lossy(&bundle), expected);
    let sidecar = built
        .tree()
        .read_file("etc/ssl/certs/.ca-certificates.crt.sha256")
        .expect("sidecar");
    assert_eq!(
        sidecar,
        format!(
            "{}  ca-certificates.crt\n",
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bundle))
        )
        .into_bytes()
    );
    let entries = layer_entries(&built);
    for path in [cert_file, "etc/ssl/certs/ca-certificates.crt"] {
        assert!(
            entry(&entries, path).header.contains("mtime=1600000000 "),
            "{path}"
        );
    }
    let sidecar = &entry(&entries, "etc/ssl/certs/.ca-certificates.crt.sha256").header;
    assert!(sidecar.starts_with("type=Regular mode=444"), "{sidecar}");
}

#[test]
fn certificate_providers_append_packaged_certificates() {
    // apko's TestBuildImageWithCertPackages: apko-certs.yaml over an empty bundle gives a bundle
    // of 4 certificates, the packages' certificate files, and a sidecar of the final bundle.
    let testdata = crate::support::data("chainguard-dev/apko/internal/cli/testdata");
    let configuration = Loader::new()
        .working_dir(testdata.parent().expect("internal/cli"))
        .load("testdata/apko-certs.yaml")
        .expect("configuration")
        .configuration;
    let spool = Spool::new().expect("spool");
    let packages = [
        "pretend-baselayout",
        "custom-ca-certs-1",
        "custom-ca-certs-2",
    ]
    .into_iter()
    .map(|name| {
        let path = testdata.join(format!("packages/x86_64/{name}-1.0.0-r0.apk"));
        let file = std::fs::File::open(path).expect("package");
        rootfs::PackageSource::read_apk(&spool, file, name, Default::default(), |_| {})
            .expect("read package")
            .0
    })
    .collect();
    let mut plan = synthetic::plan();
    plan.certificates = configuration.certificates;
    let mut built = Rootfs::init(&plan).expect("init");
    let tree = built.tree_mut();
    tree.mkdir_all("etc/ssl/certs", fs::FileMode(0o755))
        .expect("mkdir");
    tree.write_file(
        "etc/ssl/certs/ca-certificates.crt",
        b"",
        fs::FileMode(0o644),
    )
    .expect("bundle");
    built.install(packages).expect("install");
    built.mutate_accounts(&plan.accounts).expect("accounts");
    built.write_apko_json(b"{}\n").expect("apko.json");
    built.finish(&plan).expect("finish");
    let bundle = built
        .tree()
        .read_file("etc/ssl/certs/ca-certificates.crt")
        .expect("bundle");
    let text = String::from_utf8(bundle.clone()).expect("PEM text");
    assert_eq!(text.matches("-----BEGIN CERTIFICATE-----").count(), 4);
    for name in ["cert-a", "cert-b", "cert-c", "cert-d"] {
        let path = format!("usr/local/share/ca-certificates/{name}.crt");
        assert!(built.tree().stat(&path).is_ok(), "{path}");
    }
    assert_eq!(
        built
            .tree()
            .read_file("etc/ssl/certs/.ca-certificates.crt.sha256")
            .expect("sidecar"),
        format!(
            "{}  ca-certificates.crt\n",
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bundle))
        )
        .into_bytes()
    );
}

#[test]
fn adding_certificates_to_a_java_truststore_is_refused_by_name() {
    let certificates = example("certificates.yaml")
        .certificates
        .expect("certificates");
    let spool = Spool::new().expect("spool");
    let java = pkg(
        "java-cacerts",
        "java-cacerts",
        &[],
        vec![
            dir("etc", 0o755, 9),
            dir("etc/ssl", 0o755, 9),
            dir("etc/ssl/certs", 0o755, 9),
            dir("etc/ssl/certs/java", 0o755, 9),
            file("etc/ssl/certs/java/cacerts", 0o644, 9, b"\xfe\xed\xfe\xed"),
        ],
    )
    .source(&spool);
    let mut plan = synthetic::plan();
    plan.certificates = Some(certificates);
    let err = assemble(&plan, vec![java]).expect_err("truststore");
    assert!(
        matches!(&err, rootfs::Error::JavaTruststore { path } if path == "etc/ssl/certs/java/cacerts"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("Java truststore etc/ssl/certs/java/cacerts")
    );
}

#[test]
fn ld_so_cache_orders_libraries_as_glibc_ldconfig_does() {
    // The entries of glibc 2.36's own cache (apko's fixture), rebuilt from libraries with those
    // names: same order (descending _dl_cache_libcmp), paths and flags; apko's layout without
    // glibc's extension section.
    let fixture = std::fs::read(crate::support::data(
        "chainguard-dev/apko/internal/ldso-cache/testdata/ld.so.cache",
    ))
    .expect("fixture");
    let expected = case::cache_entries(&fixture);
    assert_eq!(expected.len(), 65);
    let mut plan = synthetic::plan();
    plan.arch = "aarch64".to_owned();
    let mut built = Rootfs::init(&plan).expect("init");
    built.install(Vec::new()).expect("install");
    let tree = built.tree_mut();
    tree.write_file(
        "etc/ld.so.conf",
        b"# search path\n/usr/lib\n",
        fs::FileMode(0o644),
    )
    .expect("ld.so.conf");
    // Files are added in reverse so that the tree, not the insertion order, sorts them.
    for (_, path) in expected.iter().rev() {
        let name = path.rsplit('/').next().expect("name");
        let so = case::shared_object(183, &[name]);
        tree.write_file(path, &so, fs::FileMode(0o755))
            .expect("library");
    }
    built.mutate_accounts(&plan.accounts).expect("accounts");
    built.write_apko_json(b"{}\n").expect("apko.json");
    built.finish(&plan).expect("finish");
    let cache = built.tree().read_file("etc/ld.so.cache").expect("cache");
    assert_eq!(case::cache_entries(&cache), expected);
    // apko's header: flags byte 0, no extension offset; padding to the next 16 bytes.
    assert_eq!(cache[28], 0);
    assert_eq!(&cache[32..36], &[0, 0, 0, 0]);
    assert_eq!(cache.len() % 16, 0);
    let entries = layer_entries(&built);
    let header = &entry(&entries, "etc/ld.so.cache").header;
    assert!(header.starts_with("type=Regular mode=644"), "{header}");
    assert!(header.contains("mtime=0 "), "{header}");
}

#[test]
fn ld_so_conf_includes_and_symlinked_directories_as_in_apkos_test() {
    // apko's libroot fixture (Test_GenerateCacheFile), with its symlinks restored from
    // PROVENANCE.md and its YAML stand-ins for libraries turned into real ELF files. The shared
    // data may hold the links as real symlinks (as upstream's git does) or as small stand-in
    // files naming their targets: the test runs on the data as stored and on a copy in the
    // other form.
    let root = crate::support::data("chainguard-dev/apko/internal/ldso-cache/testdata/libroot");
    ld_so_conf_over(&root);
    let other = tempfile::tempdir().expect("temp");
    let stored_as_symlinks = std::fs::symlink_metadata(root.join("lib"))
        .expect("lib")
        .file_type()
        .is_symlink();
    copy_libroot(&root, other.path(), !stored_as_symlinks);
    ld_so_conf_over(other.path());
}

const LIBROOT_LINKS: [(&str, &str); 6] = [
    ("lib", "usr/lib"),
    ("usr/local/lib", "lib64"),
    ("usr/local/sdk-v1/lib/libsdk.so", "libsdk.so.1"),
    ("usr/local/sdk-v1/lib/libsdk.so.1", "libsdk.so.1.2.3"),
    ("usr/local/sdk-v2/lib/libsdk.so", "libsdk.so.1"),
    ("usr/local/sdk-v2/lib/libsdk.so.1", "libsdk.so.1.3.1"),
];

/// Every file of `root` that is not one of the links (symlinks are never followed), by path
/// relative to `root`.
fn libroot_files(root: &std::path::Path) -> Vec<(String, std::path::PathBuf)> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for item in std::fs::read_dir(&dir).expect("libroot") {
            let item = item.expect("entry");
            let path = item.path();
            let relative = path
                .strip_prefix(root)
                .expect("under libroot")
                .to_string_lossy()
                .into_owned();
            if LIBROOT_LINKS.iter().any(|(link, _)| *link == relative) {
                continue;
            }
            if item.file_type().expect("file type").is_dir() {
                pending.push(path);
            } else {
                files.push((relative, path));
            }
        }
    }
    files
}

/// A copy of the libroot fixture with its links as real symlinks or as stand-in files.
fn copy_libroot(from: &std::path::Path, to: &std::path::Path, symlinks: bool) {
    for (relative, path) in libroot_files(from) {
        let target = to.join(&relative);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("dirs");
        std::fs::copy(&path, &target).expect("copy");
    }
    for (link, target) in LIBROOT_LINKS {
        let at = to.join(link);
        std::fs::create_dir_all(at.parent().expect("parent")).expect("dirs");
        if symlinks {
            std::os::unix::fs::symlink(target, &at).expect("symlink");
        } else {
            std::fs::write(&at, target).expect("stand-in");
        }
    }
}

fn ld_so_conf_over(root: &std::path::Path) {
    let mut tree = fs::Tree::new();
    let links = LIBROOT_LINKS;
    for (relative, path) in libroot_files(root) {
        let text = std::fs::read_to_string(&path).expect("text");
        let content = if let Some(rest) = text.strip_prefix("machine: 0x3e\nsonames:") {
            let sonames: Vec<&str> = rest
                .lines()
                .filter_map(|l| l.trim().strip_prefix("- "))
                .collect();
            case::shared_object(62, &sonames)
        } else {
            text.into_bytes()
        };
        tree.mkdir_all(
            &receipts::build::fs::path::dir(&relative),
            fs::FileMode(0o755),
        )
        .expect("dirs");
        tree.write_file(&relative, &content, fs::FileMode(0o644))
            .expect("file");
    }
    for (link, target) in links {
        tree.mkdir_all(&receipts::build::fs::path::dir(link), fs::FileMode(0o755))
            .expect("dirs");
        tree.symlink(target, link).expect("symlink");
    }
    let dirs = rootfs::library_dirs(&tree, "etc/ld.so.conf").expect("ld.so.conf");
    assert_eq!(
        dirs,
        [
            "/usr/local/lib",
            "/usr/local/lib64",
            "/lib",
            "/lib64",
            "/usr/lib",
            "/usr/lib64",
            "/usr/local/sdk-v1/lib",
            "/usr/local/sdk-v2/lib"
        ]
    );
    let entries = rootfs::cache_entries(&tree, &dirs).expect("entries");
    // apko's test expects 8 libraries: libfoo.so.1 and libnosoname.so through /lib and
    // /usr/lib, and libsdk.so{,.1} from each SDK (libsdk.so.1.x.y matches no soname).
    let mut names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names.len(), 8);
    for pair in entries.windows(2) {
        let base = |n: &str| n.rsplit('/').next().unwrap_or(n).to_owned();
        assert_ne!(
            rootfs::dl_cache_libcmp(&base(&pair[0].name), &base(&pair[1].name)),
            std::cmp::Ordering::Less
        );
    }
    names.sort();
    assert_eq!(
        names,
        [
            "/lib/libfoo.so.1",
            "/lib/libnosoname.so",
            "/usr/lib/libfoo.so.1",
            "/usr/lib/libnosoname.so",
            "/usr/local/sdk-v1/lib/libsdk.so",
            "/usr/local/sdk-v1/lib/libsdk.so.1",
            "/usr/local/sdk-v2/lib/libsdk.so",
            "/usr/local/sdk-v2/lib/libsdk.so.1"
        ]
    );
    assert!(entries.iter().all(|e| e.flags == 0x0303));
}

#[test]
fn layering_splits_the_tree_into_apkos_layers() {
    let case = case::derived_case("layering");
    let budget = layering::budget(&case.config)
        .expect("layering configuration")
        .expect("layering configured");
    let spool = Spool::new().expect("spool");
    let plan = case.plan("x86_64");
    let packages = case.packages(&spool, "x86_64");
    let built = rootfs::build(&plan, packages, |run_as| {
        Ok(case.apko_json("x86_64", run_as))
    })
    .expect("rootfs");
    let groups = layering::group_by_origin(&built.packages(), budget).expect("groups");
    let temp = tempfile::tempdir().expect("temp dir");
    let mut splitter = layering::Splitter::create_in(
        temp.path(),
        receipts::compress::Options::apko(),
        built.group_records(&groups),
    )
    .expect("splitter");
    walk::split_layers(built.tree(), &groups, &mut splitter).expect("split");
    let layers = splitter.finish().expect("layers");
    let golden = case::golden_layers(&case, "amd64");
    assert_eq!(layers.len(), golden.len());
    for (layer, golden) in layers.iter().zip(&golden) {
        let mut tar = Vec::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(layer.path()).expect("blob"))
            .read_to_end(&mut tar)
            .expect("gzip");
        case::assert_same_tar(&golden.label, &tar, &golden.tar);
        assert_eq!(
            layer.diff_id().to_string(),
            format!("sha256:{}", golden.diff_id)
        );
        // The compressed blob too: the label carries the first 12 hex digits of its digest.
        let short = golden.label.rsplit('/').next().expect("short digest");
        assert!(
            layer
                .digest()
                .to_string()
                .starts_with(&format!("sha256:{short}"))
        );
    }
}

/// Packages to index through `build::pipeline`: the case's configuration resolved against its
/// local repository (offline, empty cache), every image built, the index over them.
fn index_digest(case: &Case) -> String {
    build_value(case, case.config.clone()).digest().to_string()
}

/// `configuration` (a value, as an audit holds a predicate) built in `case`'s directory.
fn build_value(
    case: &Case,
    configuration: receipts::config::ImageConfiguration,
) -> receipts::build::pipeline::Built {
    build_with(case, configuration, None, None)
}

/// `configuration` built in `case`'s directory (offline, empty cache) with `readers` package
/// readers within `budget` bytes (defaults when `None`).
fn build_with(
    case: &Case,
    configuration: receipts::config::ImageConfiguration,
    budget: Option<u64>,
    readers: Option<usize>,
) -> receipts::build::pipeline::Built {
    use receipts::build::image::SourceDate;
    use receipts::build::pipeline::{self, Packages, Request};
    let cache = tempfile::tempdir().expect("cache dir");
    let mut request = Request::new("apko.yaml", configuration);
    request.packages = Packages::Resolve;
    request.readers = readers;
    request.read_budget = budget;
    let environment = case.source_date_epoch.map(|s| s.to_string());
    request.source_date = SourceDate::resolve(environment.as_deref(), None).expect("source date");
    request.settings.working_dir = case.base.clone();
    request.settings.fetch = receipts::apk::repository::Settings {
        cache_dir: Some(cache.path().to_path_buf()),
        network: receipts::apk::repository::Network::Offline,
    };
    pipeline::build(&request, &|_| {}).expect("build")
}

#[test]
fn the_locked_configuration_of_a_build_rebuilds_the_same_index() {
    for case in [case::upstream_case(), case::derived_case("features")] {
        let first = build_value(&case, case.config.clone());
        assert!(
            first
                .locked
                .contents
                .packages
                .iter()
                .all(|pin| pin.contains('='))
        );
        let again = build_value(&case, first.locked.clone());
        assert_eq!(again.digest(), first.digest(), "{}", case.layout.display());
        assert_eq!(again.locked, first.locked);
    }
}

#[test]
fn goldens_are_rebuilt_from_packages_to_the_index_digest() {
    for (case, digest) in [
        (
            case::upstream_case(),
            "sha256:b5f05e6fc882c97d61c1daee566954ae6fc09924f8e152293e2b97a06092069f",
        ),
        (
            case::derived_case("features"),
            "sha256:4c249d74f7e9355ad5ffb16619e1c4202961e092f11f6acef7382628a73c5b1a",
        ),
        (
            case::derived_case("layering"),
            "sha256:dc2ca77df8126c0b275353addd589df1f87956cc95815c14cfbfe290b4218ffa",
        ),
        (
            case::derived_case("cacerts"),
            "sha256:fc9d33807e8286beac00afad81237f19fa9bb6c50e55890f4ecbdb4f043fa84e",
        ),
    ] {
        assert_eq!(index_digest(&case), digest, "{}", case.layout.display());
    }
}

/// The package readers' memory is bounded in bytes, whatever their number: with eight readers
/// and the default budget the bytes charged at once stay within it, and with a budget smaller
/// than one reader's opening charge (window and four control limits) the readers take turns,
/// so the peak is exactly one such charge. Every case still builds to its golden digest.
#[test]
fn package_readers_stay_within_their_byte_budget() {
    use receipts::apk::archive::Limits;
    use receipts::build::pipeline::{READ_BUDGET, READER_WINDOW};
    let opening = READER_WINDOW + 4 * Limits::default().control;
    for case in [
        case::upstream_case(),
        case::derived_case("features"),
        case::derived_case("layering"),
        case::derived_case("cacerts"),
    ] {
        let golden = index_digest(&case);
        for (budget, readers) in [(None, 8), (Some(1), 8), (Some(opening + READER_WINDOW), 2)] {
            let built = build_with(&case, case.config.clone(), budget, Some(readers));
            let at = format!("{} budget {budget:?}", case.layout.display());
            assert_eq!(built.digest().to_string(), golden, "{at}");
            assert!(built.read_peak >= opening, "{at}: no reader was charged");
            match budget {
                Some(1) => assert_eq!(built.read_peak, opening, "{at}: readers overlapped"),
                Some(limit) => assert!(built.read_peak <= limit, "{at}: {}", built.read_peak),
                None => assert!(built.read_peak <= READ_BUDGET, "{at}: {}", built.read_peak),
            }
        }
    }
}
