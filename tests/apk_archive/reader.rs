//! The reader on real packages: every package of test-data.md §3 verifies, byte ranges equal
//! apko's lock files, per-package signatures verify where the table says so.

use std::collections::HashMap;

use receipts::apk::archive::{
    self, ApkFile, CHECKSUM_RECORD, EntryType, Error, Limits, PackageReader,
};
use sha2::Digest as _;

use crate::support::archive::{index_packages, public_key, read};

const APKO: &str = "chainguard-dev/apko/internal/cli/testdata";
const PMB_KEYS: &str = "postmarketOS-gitlab-mirror/pmbootstrap/pmb/data/keys";
const WOLFI_KEY: &str = "wolfi-dev/os/wolfi-signing.rsa.pub";

/// A real package: its path, whether it has a signature member, and the key that signs it.
struct Case {
    path: &'static str,
    signed: bool,
    key: Option<&'static str>,
}

const fn case(path: &'static str, signed: bool, key: Option<&'static str>) -> Case {
    Case { path, signed, key }
}

const ALPINE_616AE350: &str = "postmarketOS-gitlab-mirror/pmbootstrap/pmb/data/keys/alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub";
const MELANGE: &str = "chainguard-dev/apko/internal/cli/testdata/melange.rsa.pub";
const PRIVATE: &str =
    "chainguard-dev/apko/internal/cli/testdata/private_packages/private_pkg_key.rsa.pub";

/// test-data.md §3, every row that verifies.
const REAL: &[Case] = &[
    case(
        "chainguard-dev/apko/pkg/apk/apk/testdata/alpine-316/alpine-baselayout-3.2.0-r23.apk",
        true,
        Some(ALPINE_616AE350),
    ),
    case(
        "chainguard-dev/apko/pkg/apk/apk/testdata/alpine-317/alpine-baselayout-3.2.0-r23.apk",
        true,
        Some(ALPINE_616AE350),
    ),
    case(
        "chainguard-dev/apko/pkg/apk/apk/testdata/alpine-317/alpine-baselayout-3.4.0-r0.apk",
        true,
        Some(ALPINE_616AE350),
    ),
    case(
        "wolfi-dev/wolfictl/pkg/checks/testdata/hello-wolfi-2.12-r1.apk",
        true,
        Some(WOLFI_KEY),
    ),
    case(
        "wolfi-dev/wolfictl/pkg/tar/testdata/hello-wolfi-2.12-r1.apk",
        true,
        Some(WOLFI_KEY),
    ),
    case(
        "chainguard-dev/melange/pkg/linter/testdata/kubeflow-pipelines-2.1.3-r7.apk",
        true,
        Some(WOLFI_KEY),
    ),
    case(
        "chainguard-dev/melange/pkg/sca/testdata/libcap-2.69-r0.apk",
        true,
        Some(WOLFI_KEY),
    ),
    case(
        "chainguard-dev/melange/pkg/sca/testdata/ruby3.2-base64-0.2.0-r2.apk",
        true,
        Some(WOLFI_KEY),
    ),
    case(
        "chainguard-dev/melange/pkg/sign/testdata/test.apk",
        true,
        Some(WOLFI_KEY),
    ),
    case(
        "chainguard-dev/melange/pkg/sca/testdata/bash-doc-5.2.37-r2.apk",
        false,
        None,
    ),
    case(
        "chainguard-dev/melange/pkg/sca/testdata/perl-json-4.11-r0.apk",
        false,
        None,
    ),
    case(
        "chainguard-dev/apko/internal/cli/testdata/packages/x86_64/pretend-baselayout-1.0.0-r0.apk",
        true,
        Some(MELANGE),
    ),
    case(
        "chainguard-dev/apko/internal/cli/testdata/packages/x86_64/replayout-1.0.0-r0.apk",
        true,
        Some(MELANGE),
    ),
    case(
        "chainguard-dev/apko/internal/cli/testdata/packages/x86_64/custom-ca-certs-1-1.0.0-r0.apk",
        true,
        Some(MELANGE),
    ),
    case(
        "chainguard-dev/apko/internal/cli/testdata/packages/x86_64/custom-ca-certs-2-1.0.0-r0.apk",
        true,
        Some(MELANGE),
    ),
    case(
        "chainguard-dev/apko/internal/cli/testdata/packages/aarch64/pretend-baselayout-1.0.0-r0.apk",
        true,
        Some(MELANGE),
    ),
    case(
        "chainguard-dev/apko/internal/cli/testdata/packages/aarch64/replayout-1.0.0-r0.apk",
        true,
        Some(MELANGE),
    ),
    case(
        "chainguard-dev/apko/internal/cli/testdata/packages/aarch64/custom-ca-certs-1-1.0.0-r0.apk",
        true,
        Some(MELANGE),
    ),
    case(
        "chainguard-dev/apko/internal/cli/testdata/packages/aarch64/custom-ca-certs-2-1.0.0-r0.apk",
        true,
        Some(MELANGE),
    ),
    case(
        "chainguard-dev/apko/internal/cli/testdata/private_packages/packages/x86_64/package-x-1.0.0-r0.apk",
        true,
        Some(PRIVATE),
    ),
    case(
        "chainguard-dev/apko/internal/cli/testdata/private_packages/packages/x86_64/package-y-1.0.0-r0.apk",
        true,
        Some(PRIVATE),
    ),
    case(
        "chainguard-dev/apko/internal/cli/testdata/private_packages/packages/aarch64/package-x-1.0.0-r0.apk",
        true,
        Some(PRIVATE),
    ),
    case(
        "chainguard-dev/apko/internal/cli/testdata/private_packages/packages/aarch64/package-y-1.0.0-r0.apk",
        true,
        Some(PRIVATE),
    ),
    case(
        "chainguard-dev/apko/pkg/apk/apk/testdata/hello-0.1.0-r0.apk",
        false,
        None,
    ),
    case(
        "chainguard-dev/apko/pkg/apk/apk/testdata/replaces/replaces-0.0.1-r0.apk",
        false,
        None,
    ),
];

/// Signed with developer keys that were never published (test-data.md §3, parse-only rows).
const DEVELOPER_KEY: &[&str] = &[
    "chainguard-dev/apko/pkg/apk/apk/testdata/hello-wolfi-2.12.1-r0.apk",
    "chainguard-dev/apko/pkg/apk/fs/testdata/hello-2.12-r0.apk",
    "chainguard-dev/melange/pkg/linter/testdata/hello-wolfi-2.12.1-r1.apk",
];

fn read_ok(path: &str) -> (Vec<u8>, ApkFile) {
    let bytes = read(path);
    let apk = archive::read_package(&bytes, path).unwrap_or_else(|e| panic!("{path}: {e}"));
    (bytes, apk)
}

fn key_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[test]
fn every_listed_real_package_reads_and_verifies() {
    for case in REAL {
        let (bytes, apk) = read_ok(case.path);
        let layout = apk.layout;
        assert_eq!(layout.signature.is_some(), case.signed, "{}", case.path);
        assert_eq!(layout.size(), bytes.len() as u64, "{}", case.path);
        let control_start = layout.signature.map_or(0, |s| s.range.last + 1);
        assert_eq!(layout.control.range.first, control_start, "{}", case.path);
        assert_eq!(
            layout.data.range.first,
            layout.control.range.last + 1,
            "{}",
            case.path
        );
        // datahash: SHA-256 of the raw data member, computed here from the byte range.
        let data = &bytes[layout.data.range.first as usize..];
        let sha256 = hex::encode(sha2::Sha256::digest(data));
        assert_eq!(apk.pkginfo.package.data_hash, sha256, "{}", case.path);
        assert_eq!(layout.data.digest.hex(), sha256, "{}", case.path);
        let control =
            &bytes[layout.control.range.first as usize..=layout.control.range.last as usize];
        assert_eq!(
            layout.control.digest.0.as_slice(),
            sha1::Sha1::digest(control).as_slice()
        );
        if let Some(key_path) = case.key {
            let key = public_key(key_path);
            let name = key_name(key_path);
            let lookup = |wanted: &str| (wanted == name).then_some(&key);
            let signature = apk
                .verify_signature(lookup)
                .unwrap_or_else(|e| panic!("{}: {e}", case.path));
            assert_eq!(signature.key_name, name);
        }
        // Every regular file with a checksum record was checked; count them for the record.
        let checked = apk
            .files
            .iter()
            .filter(|f| {
                f.header.typeflag == EntryType::REGULAR
                    && f.header.pax_records.get(CHECKSUM_RECORD).is_some()
            })
            .count();
        assert!(
            checked > 0,
            "{}: no file carried a checksum record",
            case.path
        );
    }
}

#[test]
fn control_checksum_and_size_match_the_index_beside_each_package() {
    let pairs = [
        (format!("{APKO}/packages/x86_64"), 4),
        (format!("{APKO}/packages/aarch64"), 4),
        (format!("{APKO}/private_packages/packages/x86_64"), 2),
        (format!("{APKO}/private_packages/packages/aarch64"), 2),
    ];
    for (dir, expected_count) in pairs {
        let index = index_packages(&crate::support::data(&format!("{dir}/APKINDEX.tar.gz")));
        assert_eq!(index.len(), expected_count, "{dir}");
        for entry in index {
            let path = format!("{dir}/{}", entry.filename());
            let (bytes, apk) = read_ok(&path);
            apk.verify_control(&entry.checksum)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(entry.size, bytes.len() as u64, "{path}");
            let record = apk.package_record();
            assert_eq!(record.checksum_string(), entry.checksum_string(), "{path}");
            assert_eq!(record.size, entry.size, "{path}");
        }
    }
    // The rsa256-signed index describes the Alpine package stored in alpine-316/.
    let index = index_packages(&crate::support::data(
        "chainguard-dev/apko/pkg/apk/apk/testdata/rsa256-signed/APKINDEX.tar.gz",
    ));
    let entry = index.first().expect("one package");
    let (bytes, apk) = read_ok(
        "chainguard-dev/apko/pkg/apk/apk/testdata/alpine-316/alpine-baselayout-3.2.0-r23.apk",
    );
    apk.verify_control(&entry.checksum).expect("C: matches");
    assert_eq!(entry.size, bytes.len() as u64);
}

#[test]
fn a_wrong_control_checksum_names_both_values() {
    let (_, apk) = read_ok(&format!("{APKO}/packages/x86_64/replayout-1.0.0-r0.apk"));
    // pretend-baselayout's C: from the same index.
    let other = base64_decode("m6wB0UFePGN8Drz82pC8y2uAiu8=");
    match apk.verify_control(&other) {
        Err(Error::ControlChecksum {
            package,
            expected,
            actual,
        }) => {
            assert!(package.ends_with("replayout-1.0.0-r0.apk"));
            assert_eq!(expected, "Q1m6wB0UFePGN8Drz82pC8y2uAiu8=");
            assert_eq!(actual, "Q11/HhSewwwOXgl0r0ffb0O0BRtYc=");
        }
        other => panic!("expected ControlChecksum, got {other:?}"),
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

#[test]
fn ranges_and_checksums_equal_apko_lock_files() {
    let locks = [
        (format!("{APKO}/apko.lock.json"), APKO.to_owned()),
        (
            "derived/apko/goldens/features/apko.lock.json".to_owned(),
            "derived/apko/goldens/features".to_owned(),
        ),
        (
            "derived/apko/goldens/layering/apko.lock.json".to_owned(),
            "derived/apko/goldens/layering".to_owned(),
        ),
        (
            "derived/apko/goldens/cacerts/apko.lock.json".to_owned(),
            "derived/apko/goldens/cacerts".to_owned(),
        ),
    ];
    let mut compared = 0;
    for (lock_path, base) in locks {
        let lock: serde_json::Value = serde_json::from_slice(&read(&lock_path)).expect("lock JSON");
        let packages = lock["contents"]["packages"].as_array().expect("packages");
        assert!(!packages.is_empty(), "{lock_path}");
        for package in packages {
            let url = package["url"].as_str().expect("url");
            let relative = url
                .strip_prefix("./testdata/")
                .or(url.strip_prefix("./"))
                .unwrap_or(url);
            let path = format!("{base}/{relative}");
            let (_, apk) = read_ok(&path);
            let layout = apk.layout;
            let signature = layout.signature.expect("lock packages are signed");
            assert_eq!(
                package["signature"]["range"],
                signature.range.to_string(),
                "{path}"
            );
            assert_eq!(
                package["signature"]["checksum"],
                signature.digest.lock_checksum(),
                "{path}"
            );
            assert_eq!(
                package["control"]["range"],
                layout.control.range.to_string(),
                "{path}"
            );
            assert_eq!(
                package["control"]["checksum"],
                layout.control.digest.lock_checksum(),
                "{path}"
            );
            assert_eq!(
                package["data"]["range"],
                layout.data.range.to_string(),
                "{path}"
            );
            assert_eq!(
                package["data"]["checksum"],
                layout.data.digest.lock_checksum(),
                "{path}"
            );
            assert_eq!(package["checksum"], layout.control.digest.q1(), "{path}");
            assert_eq!(package["name"], apk.pkginfo.package.name.as_str(), "{path}");
            assert_eq!(
                package["version"],
                apk.pkginfo.package.version.as_str(),
                "{path}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 4, "compared {compared} lock entries");
}

#[test]
fn test_package_members_decompress_to_the_documented_sizes() {
    // (file, decompressed sizes, member ranges) from Python's zlib over each member;
    // test-data.md §3 documents 1024 / 3584 / 10240 for the baselayout packages.
    let expected = [
        (
            "x86_64/pretend-baselayout",
            [1024, 3584, 10240],
            [(0, 646), (647, 1628), (1629, 2929)],
        ),
        (
            "x86_64/replayout",
            [1024, 3584, 10240],
            [(0, 646), (647, 1660), (1661, 2960)],
        ),
        (
            "aarch64/pretend-baselayout",
            [1024, 3584, 10240],
            [(0, 647), (648, 1628), (1629, 2929)],
        ),
        (
            "aarch64/replayout",
            [1024, 3584, 10240],
            [(0, 646), (647, 1655), (1656, 2954)],
        ),
        (
            "x86_64/custom-ca-certs-1",
            [1024, 6656, 15872],
            [(0, 645), (646, 3657), (3658, 6997)],
        ),
        (
            "x86_64/custom-ca-certs-2",
            [1024, 5120, 14848],
            [(0, 646), (647, 2401), (2402, 4547)],
        ),
        (
            "aarch64/custom-ca-certs-1",
            [1024, 6656, 15872],
            [(0, 647), (648, 3657), (3658, 7000)],
        ),
        (
            "aarch64/custom-ca-certs-2",
            [1024, 5120, 14848],
            [(0, 645), (646, 2397), (2398, 4548)],
        ),
    ];
    for (name, sizes, ranges) in expected {
        let (_, apk) = read_ok(&format!("{APKO}/packages/{name}-1.0.0-r0.apk"));
        let layout = apk.layout;
        let signature = layout.signature.expect("signed");
        let members = [
            (signature.uncompressed, signature.range),
            (layout.control.uncompressed, layout.control.range),
            (layout.data.uncompressed, layout.data.range),
        ];
        for ((uncompressed, range), (size, (first, last))) in
            members.into_iter().zip(sizes.into_iter().zip(ranges))
        {
            assert_eq!(
                (uncompressed, range.first, range.last),
                (size, first, last),
                "{name}"
            );
        }
    }
}

/// path, kind, mode, uid, gid, uname, gname, size
type HeaderRow = (
    &'static str,
    EntryType,
    i64,
    i64,
    i64,
    &'static str,
    &'static str,
    i64,
);

#[test]
fn data_entries_carry_their_header_fields() {
    let (_, apk) = read_ok(&format!("{APKO}/packages/x86_64/replayout-1.0.0-r0.apk"));
    // Expected values from Python's tarfile on the decompressed data member.
    let expected: &[HeaderRow] = &[
        ("etc", EntryType::DIRECTORY, 0o755, 0, 0, "root", "root", 0),
        (
            "etc/os-release",
            EntryType::REGULAR,
            0o644,
            501,
            20,
            "",
            "dialout",
            102,
        ),
        ("var", EntryType::DIRECTORY, 0o755, 0, 0, "root", "root", 0),
        (
            "var/lib",
            EntryType::DIRECTORY,
            0o755,
            0,
            0,
            "root",
            "root",
            0,
        ),
        (
            "var/lib/db",
            EntryType::DIRECTORY,
            0o755,
            0,
            0,
            "root",
            "root",
            0,
        ),
        (
            "var/lib/db/sbom",
            EntryType::DIRECTORY,
            0o755,
            0,
            0,
            "root",
            "root",
            0,
        ),
        (
            "var/lib/db/sbom/replayout-1.0.0-r0.spdx.json",
            EntryType::REGULAR,
            0o644,
            0,
            0,
            "root",
            "root",
            2679,
        ),
    ];
    assert_eq!(apk.files.len(), expected.len());
    for (file, &(path, kind, mode, uid, gid, uname, gname, size)) in apk.files.iter().zip(expected)
    {
        let header = &file.header;
        assert_eq!(
            (
                header.name.as_slice(),
                header.typeflag,
                header.mode,
                header.uid,
                header.gid
            ),
            (path.as_bytes(), kind, mode, uid, gid)
        );
        assert_eq!(
            (header.uname.as_slice(), header.gname.as_slice()),
            (uname.as_bytes(), gname.as_bytes())
        );
        assert_eq!(
            (header.size, file.content.len() as i64, header.mtime.seconds),
            (size, size, 0)
        );
    }
    let os_release = &apk.files[1];
    assert_eq!(
        os_release.header.pax_records.get(CHECKSUM_RECORD),
        Some(&b"ca5e527bbb8a5cc9c4c2d2b4e29618d8ca3be5f8"[..])
    );
    assert!(
        os_release
            .content
            .starts_with(b"ID=replaces\nNAME=\"Replaces\"\n")
    );
    let control_names: Vec<&[u8]> = apk
        .control_entries
        .iter()
        .map(|e| e.header.name.as_slice())
        .collect();
    assert_eq!(control_names, [&b".PKGINFO"[..], b".melange.yaml"]);
}

#[test]
fn streaming_reader_checks_files_read_in_pieces_and_skipped() {
    let path = crate::support::data(&format!(
        "{APKO}/packages/x86_64/custom-ca-certs-1-1.0.0-r0.apk"
    ));
    let file = std::fs::File::open(&path).expect("open");
    let mut reader =
        PackageReader::open(file, "custom-ca-certs-1", Limits::default()).expect("open");
    assert_eq!(reader.pkginfo().package.name, "custom-ca-certs-1");
    let mut first_bytes = HashMap::new();
    let mut index = 0;
    while let Some(entry) = reader.next_entry().expect("entry") {
        // Read only 7 bytes of every other file, and nothing of the rest.
        if index % 2 == 0 && entry.size > 0 && !entry.typeflag.is_header_only() {
            let mut buffer = [0u8; 7];
            let count = std::io::Read::read(&mut reader, &mut buffer).expect("read");
            first_bytes.insert(entry.name.clone(), buffer[..count].to_vec());
        }
        index += 1;
    }
    let layout = reader.finish().expect("finish");
    assert_eq!(layout.size(), 6998);
    assert!(!first_bytes.is_empty());
    // Same bytes as the whole-package reader gives.
    let (_, apk) = read_ok(&format!(
        "{APKO}/packages/x86_64/custom-ca-certs-1-1.0.0-r0.apk"
    ));
    for (path, head) in first_bytes {
        let file = apk
            .files
            .iter()
            .find(|f| f.header.name == path)
            .expect("same file");
        assert_eq!(&file.content[..head.len()], head.as_slice());
    }
    assert_eq!(apk.layout, layout);
}

#[test]
fn unsigned_packages_are_accepted_and_say_so_when_asked_for_a_signature() {
    for path in [
        "chainguard-dev/melange/pkg/sca/testdata/bash-doc-5.2.37-r2.apk",
        "chainguard-dev/melange/pkg/sca/testdata/perl-json-4.11-r0.apk",
    ] {
        let (_, apk) = read_ok(path);
        assert!(apk.layout.signature.is_none());
        assert_eq!(apk.layout.control.range.first, 0);
        let key = public_key(WOLFI_KEY);
        match apk.verify_signature(|_| Some(&key)) {
            Err(Error::Unsigned { package }) => assert_eq!(package, path),
            other => panic!("{path}: expected Unsigned, got {other:?}"),
        }
    }
}

#[test]
fn melange_altered_packages_fail_datahash_and_signature() {
    // Actual SHA-256 of the data members as computed by Python's hashlib.
    let cases = [
        (
            "chainguard-dev/melange/pkg/sca/testdata/aws-c-s3-0.4.9-r0.apk",
            "854d0f04211d3eb0160111839e64c90bca94ed804a599423b4cfacddc9b2437f",
            "e2816f0b22f08a1a0decac06072bd0e297cb57295975ed09f161d52168826516",
        ),
        (
            "chainguard-dev/melange/pkg/sca/testdata/neon-4604-r0.apk",
            "cb21fa1e6f8af5bff823e30f05dbb6f482c5d61711713cc4bd5235e2be9165a1",
            "7c74535c23efa132c98419618ee588b190d570153f3c987429a8f0317b4d0906",
        ),
    ];
    let key = public_key(WOLFI_KEY);
    for (path, recorded, computed) in cases {
        let bytes = read(path);
        match archive::read_package(&bytes, path) {
            Err(Error::DataHash {
                package,
                expected,
                actual,
            }) => {
                assert_eq!(
                    (package.as_str(), expected.as_str(), actual.as_str()),
                    (path, recorded, computed)
                );
            }
            other => panic!("{path}: expected DataHash, got {other:?}"),
        }
        // The signature check needs only the first two members.
        let reader = PackageReader::open(bytes.as_slice(), path, Limits::default()).expect("open");
        match reader.verify_signature(|name| (name == "wolfi-signing.rsa.pub").then_some(&key)) {
            Err(Error::BadSignature { package, key }) => {
                assert_eq!(
                    (package.as_str(), key.as_str()),
                    (path, "wolfi-signing.rsa.pub")
                );
            }
            other => panic!("{path}: expected BadSignature, got {other:?}"),
        }
    }
}

fn every_published_key() -> Vec<(String, rsa::PublicKey)> {
    let mut paths: Vec<String> = Vec::new();
    for dir in [
        PMB_KEYS,
        "wolfi-dev/os/chainguard-keys",
        "chainguard-dev/apko/pkg/apk/apk/testdata/signing/keys",
    ] {
        for entry in std::fs::read_dir(crate::support::data(dir)).expect("key dir") {
            let name = entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("name");
            if name.ends_with(".rsa.pub") {
                paths.push(format!("{dir}/{name}"));
            }
        }
    }
    paths.extend(
        [
            WOLFI_KEY,
            "wolfi-dev/os/local-melange.rsa.pub",
            "wolfi-dev/os/chainguard-extras.rsa.pub",
            MELANGE,
            PRIVATE,
            "chainguard-dev/apko/pkg/apk/apk/testdata/rsa256-signed/test-rsa256.rsa.pub",
        ]
        .map(str::to_owned),
    );
    paths
        .into_iter()
        .map(|p| (p.clone(), public_key(&p)))
        .collect()
}

#[test]
fn developer_key_packages_parse_but_no_published_key_verifies_them() {
    let keys = every_published_key();
    assert!(keys.len() >= 25, "{} keys", keys.len());
    for path in DEVELOPER_KEY {
        let (_, apk) = read_ok(path);
        assert!(apk.layout.signature.is_some());
        for (key_path, key) in &keys {
            match apk.verify_signature(|_| Some(key)) {
                Err(Error::BadSignature { .. }) => {}
                other => panic!("{path} with {key_path}: expected BadSignature, got {other:?}"),
            }
        }
        match apk.verify_signature(|_| None) {
            Err(Error::UnknownSigningKey { keys, .. }) => assert_eq!(keys.len(), 1),
            other => panic!("{path}: expected UnknownSigningKey, got {other:?}"),
        }
    }
}

#[test]
fn single_stream_tarballs_are_missing_their_data_member() {
    for path in [
        "wolfi-dev/wolfictl/pkg/checks/testdata/diff/test_orig.apk",
        "wolfi-dev/wolfictl/pkg/checks/testdata/diff/aarch64/test-1.2.3-r0.apk",
    ] {
        match archive::read_package(&read(path), path) {
            Err(Error::MissingMember { member, .. }) => assert_eq!(member, 2, "{path}"),
            other => panic!("{path}: expected MissingMember, got {other:?}"),
        }
    }
}

#[test]
fn signatures_check_against_a_keyring_directory() {
    // The call site the image builder uses: a keyring of trusted key files, looked up by the
    // name in the signature entry (with or without `.rsa.pub`, as apko allows).
    let keyring = receipts::apk::keyring::Keyring::from_paths(&[
        crate::support::data(PMB_KEYS),
        crate::support::data(WOLFI_KEY),
    ])
    .expect("keyring");
    let lookup = |name: &str| keyring.find(name).map(|(_, key)| key);
    for path in [
        "chainguard-dev/apko/pkg/apk/apk/testdata/alpine-316/alpine-baselayout-3.2.0-r23.apk",
        "chainguard-dev/melange/pkg/sca/testdata/libcap-2.69-r0.apk",
    ] {
        let (_, apk) = read_ok(path);
        let signature = apk.verify_signature(lookup).expect("verifies");
        assert!(keyring.find(&signature.key_name).is_some());
    }
    let (_, apk) = read_ok(&format!("{APKO}/packages/x86_64/replayout-1.0.0-r0.apk"));
    match apk.verify_signature(lookup) {
        Err(Error::UnknownSigningKey { keys, .. }) => assert_eq!(keys, ["melange.rsa.pub"]),
        other => panic!("expected UnknownSigningKey, got {other:?}"),
    }
}
