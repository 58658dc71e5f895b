//! Root filesystem assembly and the layer walk against layers apko built: the packages of a
//! golden build installed in lock order, apko's own files added, the tree walked into a tar,
//! compared byte for byte with the golden layer.

use crate::support::installed as help;
use crate::support::rootfs::{self as case, Case};
use receipts::build::fs::Spool;
use receipts::build::{rootfs, walk};

/// Builds one architecture's single layer; returns our tar, its diff_id and the golden layer.
fn rebuild(case: &Case, arch: &str, platform: &str) -> (Vec<u8>, String, help::Layer) {
    let spool = Spool::new().expect("spool");
    let plan = case.plan(arch);
    let packages = case.packages(&spool, arch);
    let mut golden = case::golden_layers(case, platform);
    assert_eq!(golden.len(), 1, "{platform}: one layer");
    let golden = golden.remove(0);
    let built =
        rootfs::build(&plan, packages, |run_as| case.apko_json(arch, run_as)).expect("rootfs");
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
    let built =
        rootfs::build(&plan, packages, |run_as| case.apko_json("aarch64", run_as)).expect("rootfs");
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
    rootfs::build(plan, packages, |_| b"{}\n".to_vec())
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
