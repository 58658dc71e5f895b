//! Our package and index writer: checked by openssl, GNU tar and our reader; the signer
//! reproduces committed upstream signatures byte for byte; the committed example repository is
//! reproducible.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use receipts::apk::Package;
use receipts::apk::archive::{
    self, ApkFile, CHECKSUM_RECORD, EntryType, Error as ReadError, FileEntry, SignatureAlgorithm,
};
use receipts::apk::writer::{
    self, ChecksumRecord, Error, FileSpec, PackageSigning, PackageSpec, SigningKey,
};

use crate::support::archive::{gunzip_all, read, tar_files};

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn test_key() -> SigningKey {
    let pem = std::fs::read_to_string(repo_path("tests/keys/receipts-test.rsa")).expect("key");
    SigningKey::from_pem("receipts-test.rsa.pub", &pem).expect("test key")
}

fn upstream_key(relative: &str, name: &str) -> SigningKey {
    let pem = String::from_utf8(read(relative)).expect("pem");
    SigningKey::from_pem(name, &pem).expect("upstream test key")
}

/// Splits the first gzip member off `bytes` with flate2 (independent of our reader).
fn first_member_len(bytes: &[u8]) -> usize {
    let mut rest = bytes;
    let mut decoder = flate2::bufread::GzDecoder::new(&mut rest);
    let mut sink = Vec::new();
    decoder.read_to_end(&mut sink).expect("gzip");
    bytes.len() - rest.len()
}

/// SHA-256 hex, so that a mismatch prints two short lines.
fn digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn name(entry: &FileEntry) -> &str {
    std::str::from_utf8(&entry.header.name).expect("utf-8 name")
}

fn find<'a>(apk: &'a ApkFile, path: &str) -> &'a FileEntry {
    apk.files
        .iter()
        .find(|f| name(f) == path)
        .unwrap_or_else(|| panic!("{path} missing"))
}

fn sample_spec() -> PackageSpec {
    let mut spec = PackageSpec::new("sample", "1.2.3-r4", "x86_64");
    spec.package.description = "a sample package".into();
    spec.package.license = "MIT".into();
    spec.package.url = "https://example.com/sample".into();
    spec.package.commit = "0123456789abcdef0123456789abcdef01234567".into();
    spec.package.maintainer = "Someone <someone@example.com>".into();
    spec.package.build_time = 1_650_000_000;
    spec.package.provider_priority = 10;
    spec.package.dependencies = vec!["so:libc.musl-x86_64.so.1".into(), "busybox>=1.36".into()];
    spec.package.provides = vec!["cmd:sample=1.2.3-r4".into(), "so:libsample.so.1=1".into()];
    spec.package.install_if = vec!["sample-base".into(), "docs".into()];
    spec.package.replaces = vec!["old-sample".into()];
    spec.triggers = vec!["/usr/share/sample/* /etc/sample".into()];
    spec.scripts = vec![
        (".trigger".into(), b"#!/bin/sh\n".to_vec()),
        (".post-install".into(), b"#!/bin/sh\necho hi\n".to_vec()),
    ];
    let mut owned = FileSpec::file("etc/sample.conf", b"owned by 501:20\n");
    (owned.uid, owned.gid) = (501, 20);
    let long = format!("usr/share/sample/{}", "very-long-name-".repeat(10));
    spec.files = vec![
        FileSpec::executable("usr/bin/sample", b"#!/bin/sh\necho sample\n"),
        FileSpec::directory("usr"),
        FileSpec::directory("usr/bin"),
        FileSpec::directory("etc"),
        owned,
        FileSpec::symlink("usr/bin/sample-link", "sample"),
        FileSpec::hardlink("usr/bin/sample-hard", "usr/bin/sample"),
        FileSpec::file("usr/share/empty", b""),
        FileSpec::file(&long, b"a path longer than 100 bytes\n"),
    ];
    spec
}

#[test]
fn our_packages_read_back_with_every_check_passing() {
    let key = test_key();
    let spec = sample_spec();
    let built = writer::build_package(&spec, Some(&key)).expect("builds");
    let apk = archive::read_package(&built.bytes, "sample").expect("reads");
    apk.verify_control(&built.package.checksum)
        .expect("C: matches");
    let public = key.public_key();
    let signature =
        apk.verify_signature(|name| (name == "receipts-test.rsa.pub").then_some(&public));
    assert_eq!(
        signature.expect("verifies").algorithm,
        SignatureAlgorithm::RsaSha256
    );
    assert_eq!(apk.package_record(), built.package);
    assert_eq!(built.package.size, built.bytes.len() as u64);
    // .PKGINFO reads back as the spec, plus what the writer computes.
    let expected = Package {
        checksum: Vec::new(),
        size: 0,
        installed_size: 22 + 16 + 29,
        data_hash: built.package.data_hash.clone(),
        ..spec.package.clone()
    };
    assert_eq!(apk.pkginfo.package, expected);
    assert_eq!(apk.pkginfo.triggers, spec.triggers);
    // Entries come out sorted by path, with their content and owners.
    let paths: Vec<&str> = apk.files.iter().map(name).collect();
    let mut sorted: Vec<String> = spec.files.iter().map(|f| f.path.clone()).collect();
    sorted.sort();
    assert_eq!(paths, sorted);
    let owned = &find(&apk, "etc/sample.conf").header;
    assert_eq!((owned.uid, owned.gid, owned.mode), (501, 20, 0o644));
    let link = &find(&apk, "usr/bin/sample-link").header;
    assert_eq!(
        (link.typeflag, link.linkname.as_slice()),
        (EntryType::SYMLINK, &b"sample"[..])
    );
    let hard = &find(&apk, "usr/bin/sample-hard").header;
    assert_eq!(hard.typeflag, EntryType::HARDLINK);
    assert!(
        apk.files
            .iter()
            .any(|f| name(f).len() > 100 && f.content == b"a path longer than 100 bytes\n")
    );
    let scripts: Vec<&str> = apk.control_entries.iter().map(name).collect();
    assert_eq!(scripts, [".PKGINFO", ".post-install", ".trigger"]);
    // Signature and control tars are truncated; the data tar ends with two zero blocks.
    let layout = apk.layout;
    assert_eq!(layout.signature.map(|s| s.uncompressed), Some(1024));
    assert_eq!(layout.control.uncompressed % 512, 0);
    let data = gunzip_all(&built.bytes[layout.data.range.first as usize..]);
    assert!(data[data.len() - 1024..].iter().all(|&b| b == 0));
    assert_eq!(
        writer::build_package(&spec, Some(&key)).expect("builds"),
        built,
        "deterministic"
    );
}

fn openssl_verify(public_key: &Path, signature: &[u8], signed: &[u8], digest: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let signature_path = dir.path().join("signature");
    let signed_path = dir.path().join("signed");
    std::fs::write(&signature_path, signature).expect("write");
    std::fs::write(&signed_path, signed).expect("write");
    let output = Command::new("openssl")
        .arg("dgst")
        .arg(digest)
        .arg("-verify")
        .arg(public_key)
        .arg("-signature")
        .arg(&signature_path)
        .arg(&signed_path)
        .output()
        .expect("openssl runs");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn openssl_verifies_our_package_and_index_signatures() {
    let key = test_key();
    let public = repo_path("tests/keys/receipts-test.rsa.pub");
    let built = writer::build_package(&sample_spec(), Some(&key)).expect("builds");
    let apk = archive::read_package(&built.bytes, "sample").expect("reads");
    let signature = &apk.signatures[0];
    assert_eq!(signature.key_name, "receipts-test.rsa.pub");
    assert_eq!(
        openssl_verify(&public, &signature.value, &apk.control_raw, "-sha256"),
        "Verified OK"
    );
    // Tampered control: openssl refuses.
    let mut tampered = apk.control_raw.clone();
    tampered[20] ^= 1;
    assert_eq!(
        openssl_verify(&public, &signature.value, &tampered, "-sha256"),
        "Verification failure"
    );

    let index = writer::build_index(
        std::slice::from_ref(&built.package),
        "sample repository",
        &key,
    )
    .expect("index");
    let split = first_member_len(&index);
    let signature_tar = gunzip_all(&index[..split]);
    assert_eq!(
        signature_tar.len(),
        1024,
        "one entry, no end-of-archive blocks"
    );
    let files = tar_files(&signature_tar);
    assert_eq!(files[0].0, ".SIGN.RSA256.receipts-test.rsa.pub");
    assert_eq!(
        openssl_verify(&public, &files[0].1, &index[split..], "-sha256"),
        "Verified OK"
    );
}

#[test]
fn index_lists_control_checksums_sizes_and_metadata() {
    let key = test_key();
    let specs = writer::example_packages("aarch64");
    let repository = writer::build_repository(&specs, "described", &key, PackageSigning::Unsigned)
        .expect("builds");
    let tar = gunzip_all(&repository.index);
    let files = tar_files(&tar);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            ".SIGN.RSA256.receipts-test.rsa.pub",
            "APKINDEX",
            "DESCRIPTION"
        ]
    );
    assert_eq!(files[2].1, b"described");
    let records = receipts::apk::index::parse_text(&files[1].1).expect("index parses");
    assert_eq!(records.len(), specs.len());
    for (record, built) in records.iter().zip(&repository.packages) {
        let apk = archive::read_package(&built.bytes, &record.filename()).expect("reads");
        assert!(apk.layout.signature.is_none(), "unsigned as asked");
        apk.verify_control(&record.checksum)
            .expect("C: is the control checksum");
        assert_eq!(record.size, built.bytes.len() as u64);
        // Everything the index carries equals the package's own .PKGINFO.
        let from_package = Package {
            replaces: Vec::new(),
            data_hash: String::new(),
            ..apk.package_record()
        };
        assert_eq!(record, &from_package);
    }
    let cli_doc = records
        .iter()
        .find(|r| r.name == "example-cli-doc")
        .expect("doc package");
    assert_eq!(cli_doc.install_if, ["example-cli=2.1.0-r1", "docs"]);
}

#[test]
fn signer_reproduces_committed_upstream_signatures_byte_for_byte() {
    let apko = "chainguard-dev/apko/internal/cli/testdata";
    let cases = [
        (
            format!("{apko}/packages/x86_64/replayout-1.0.0-r0.apk"),
            format!("{apko}/packages/x86_64/APKINDEX.tar.gz"),
            upstream_key(&format!("{apko}/melange.rsa"), "melange.rsa.pub"),
            SignatureAlgorithm::RsaSha256,
        ),
        (
            format!("{apko}/private_packages/packages/x86_64/package-x-1.0.0-r0.apk"),
            format!("{apko}/private_packages/packages/x86_64/APKINDEX.tar.gz"),
            upstream_key(
                &format!("{apko}/private_packages/private_pkg_key.rsa"),
                "private_pkg_key.rsa.pub",
            ),
            SignatureAlgorithm::RsaSha1,
        ),
    ];
    for (package, index, key, algorithm) in cases {
        let apk = archive::read_package(&read(&package), &package).expect("reads");
        let committed = &apk.signatures[0];
        assert_eq!(committed.algorithm, algorithm);
        let ours = key.sign(algorithm, &apk.control_raw).expect("signs");
        assert_eq!(ours, committed.value, "{package}");

        let bytes = read(&index);
        let split = first_member_len(&bytes);
        let (_, committed) = tar_files(&gunzip_all(&bytes[..split])).remove(0);
        assert_eq!(
            key.sign(algorithm, &bytes[split..]).expect("signs"),
            committed,
            "{index}"
        );
    }
}

#[test]
fn gnu_tar_lists_our_package_as_one_stream() {
    let built = writer::build_package(&sample_spec(), Some(&test_key())).expect("builds");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sample.apk");
    std::fs::write(&path, &built.bytes).expect("write");
    let output = Command::new("tar")
        .arg("-tzf")
        .arg(&path)
        .output()
        .expect("tar runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listing = String::from_utf8(output.stdout).expect("utf-8");
    let names: Vec<&str> = listing.lines().collect();
    assert_eq!(
        names[..4],
        [
            ".SIGN.RSA256.receipts-test.rsa.pub",
            ".PKGINFO",
            ".post-install",
            ".trigger"
        ]
    );
    assert!(names.contains(&"usr/bin/sample-link"));
    assert_eq!(names.len(), 4 + sample_spec().files.len());
}

fn read_error(spec: &PackageSpec) -> ReadError {
    let built = writer::build_package(spec, None).expect("builds");
    match archive::read_package(&built.bytes, "sample") {
        Ok(_) => panic!("read succeeded"),
        Err(error) => error,
    }
}

#[test]
fn checksum_record_forms_are_read_as_apko_reads_them() {
    let mut spec = PackageSpec::new("sums", "1-r0", "x86_64");
    spec.files = vec![
        FileSpec::file("q1", b"base64 form\n"),
        FileSpec::file("absent", b"none\n"),
    ];
    spec.files[0].checksum = ChecksumRecord::Q1;
    spec.files[1].checksum = ChecksumRecord::Absent;
    let built = writer::build_package(&spec, None).expect("builds");
    let apk =
        archive::read_package(&built.bytes, "sums").expect("Q1 and absent records are accepted");
    let record = |file: &FileEntry| {
        file.header
            .pax_records
            .get(CHECKSUM_RECORD)
            .map(<[u8]>::to_vec)
    };
    assert_eq!(record(&apk.files[0]), None, "absent");
    assert!(record(&apk.files[1]).is_some_and(|r| r.starts_with(b"Q1")));

    spec.files[1].checksum = ChecksumRecord::Literal("not hex".into());
    match read_error(&spec) {
        ReadError::FileChecksumFormat { path, value, .. } => {
            assert_eq!((path.as_str(), value.as_str()), ("absent", "not hex"));
        }
        other => panic!("expected FileChecksumFormat, got {other:?}"),
    }
    spec.files[1].checksum =
        ChecksumRecord::Literal("da39a3ee5e6b4b0d3255bfef95601890afd80709".into());
    match read_error(&spec) {
        ReadError::FileChecksum {
            path,
            expected,
            actual,
            ..
        } => {
            assert_eq!(path, "absent");
            assert_eq!(expected, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
            // SHA-1 of "none\n" (coreutils sha1sum).
            assert_eq!(actual, "02135ff9133db03a40aaff586bb173e6a7a6998f");
        }
        other => panic!("expected FileChecksum, got {other:?}"),
    }
}

/// A change to a spec.
type Edit = dyn Fn(&mut PackageSpec);

#[test]
fn metadata_that_would_not_read_back_is_refused() {
    let refused = |edit: &Edit| {
        let mut spec = PackageSpec::new("odd", "1-r0", "x86_64");
        edit(&mut spec);
        match writer::build_package(&spec, None) {
            Err(error) => error,
            Ok(_) => panic!("built"),
        }
    };
    let cases: [(&Edit, &str, &str); 5] = [
        (
            &|s| s.package.description = "has # comment".into(),
            "pkgdesc",
            "has # comment",
        ),
        (&|s| s.package.url = " padded".into(), "url", " padded"),
        (
            &|s| s.package.dependencies = vec!["a b".into()],
            "depend",
            "a b",
        ),
        (
            &|s| s.package.provides = vec!["a,b".into()],
            "provides",
            "a,b",
        ),
        (
            &|s| s.triggers = vec!["/x".into(), "/x".into()],
            "triggers",
            "/x",
        ),
    ];
    for (edit, field, value) in cases {
        match refused(edit) {
            Error::Unrepresentable {
                field: f, value: v, ..
            } => assert_eq!((f, v.as_str()), (field, value)),
            other => panic!("expected Unrepresentable, got {other:?}"),
        }
    }
    match refused(&|s| s.files = vec![FileSpec::file("../escape", b"")]) {
        Error::FilePath { path, .. } => assert_eq!(path, "../escape"),
        other => panic!("expected FilePath, got {other:?}"),
    }
}

#[test]
fn packages_can_be_built_from_a_directory_tree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("usr/bin")).expect("mkdir");
    std::fs::write(root.join("usr/bin/tool"), b"#!/bin/sh\n").expect("write");
    std::fs::write(root.join("README"), b"read me\n").expect("write");
    std::os::unix::fs::symlink("tool", root.join("usr/bin/alias")).expect("symlink");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(
        root.join("usr/bin/tool"),
        std::fs::Permissions::from_mode(0o750),
    )
    .expect("chmod");
    let files = writer::files_from_dir(root).expect("walks");
    let summary: Vec<(&str, u32)> = files.iter().map(|f| (f.path.as_str(), f.mode)).collect();
    assert_eq!(
        summary,
        [
            ("README", 0o644),
            ("usr", 0o755),
            ("usr/bin", 0o755),
            ("usr/bin/alias", 0o777),
            ("usr/bin/tool", 0o750)
        ]
    );
    let mut spec = PackageSpec::new("tree", "1-r0", "x86_64");
    spec.files = files;
    let built = writer::build_package(&spec, Some(&test_key())).expect("builds");
    let apk = archive::read_package(&built.bytes, "tree").expect("reads");
    assert_eq!(find(&apk, "usr/bin/alias").header.linkname, b"tool");
    let tool = find(&apk, "usr/bin/tool");
    assert_eq!(
        (tool.content.as_slice(), tool.header.mode),
        (&b"#!/bin/sh\n"[..], 0o750)
    );
}

#[test]
fn example_repository_is_reproducible_and_verifies() {
    let pem =
        std::fs::read_to_string(repo_path("examples/repo/keys/receipts-example.rsa")).expect("key");
    let key = SigningKey::from_pem("receipts-example.rsa.pub", &pem).expect("example key");
    let public = repo_path("examples/repo/keys/receipts-example.rsa.pub");
    for arch in ["x86_64", "aarch64"] {
        let repository = writer::example_repository(arch, &key).expect("builds");
        let dir = repo_path(&format!("examples/repo/{arch}"));
        let committed = std::fs::read(dir.join("APKINDEX.tar.gz")).expect("committed index");
        assert_eq!(
            digest(&committed),
            digest(&repository.index),
            "{arch} index: run `cargo run --example make-repo`"
        );
        for package in &repository.packages {
            let path = dir.join(package.package.filename());
            assert_eq!(
                digest(&std::fs::read(&path).expect("committed package")),
                digest(&package.bytes),
                "{}: run `cargo run --example make-repo`",
                path.display()
            );
            let apk =
                archive::read_package(&package.bytes, &package.package.filename()).expect("reads");
            let signature = &apk.signatures[0];
            assert_eq!(
                openssl_verify(&public, &signature.value, &apk.control_raw, "-sha256"),
                "Verified OK"
            );
        }
        let split = first_member_len(&committed);
        let (_, signature) = tar_files(&gunzip_all(&committed[..split])).remove(0);
        assert_eq!(
            openssl_verify(&public, &signature, &committed[split..], "-sha256"),
            "Verified OK"
        );
        let total: usize = repository
            .packages
            .iter()
            .map(|p| p.bytes.len())
            .sum::<usize>()
            + committed.len();
        assert!(total < 8 * 1024, "{arch}: {total} bytes");
    }
}

#[test]
fn synthetic_repositories_are_deterministic_and_index_every_package() {
    let specs = writer::synthetic_packages(400, 7, "x86_64");
    assert_eq!(specs, writer::synthetic_packages(400, 7, "x86_64"));
    assert_ne!(specs, writer::synthetic_packages(400, 8, "x86_64"));
    let repository =
        writer::build_repository(&specs, "synthetic", &test_key(), PackageSigning::Unsigned)
            .expect("builds");
    let tar = gunzip_all(&repository.index);
    let (_, text) = tar_files(&tar)
        .into_iter()
        .find(|(n, _)| n == "APKINDEX")
        .expect("APKINDEX");
    let records = receipts::apk::index::parse_text(&text).expect("parses");
    assert_eq!(records.len(), 400);
    // Some names have two versions, some packages provide so: and cmd: names, some use install_if.
    let names: std::collections::HashSet<&str> = records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), 400 - 400 / 20);
    assert!(
        records
            .iter()
            .any(|r| r.provides.iter().any(|p| p.starts_with("so:")))
    );
    assert!(records.iter().any(|r| !r.install_if.is_empty()));
    assert!(
        records
            .iter()
            .any(|r| r.dependencies.iter().any(|d| d.contains(">=")))
    );
    for (record, built) in records.iter().zip(&repository.packages) {
        assert_eq!(record.checksum, built.package.checksum);
    }
}

#[test]
fn extra_pax_records_and_xattrs_survive_the_round_trip() {
    let mut spec = PackageSpec::new("pax", "1-r0", "x86_64");
    let mut file = FileSpec::file("noted", b"content\n");
    file.pax = vec![
        ("SCHILY.xattr.user.note".into(), "hello".into()),
        ("SCHILY.xattr.security.empty".into(), String::new()),
        ("receipts.comment".into(), "kept as written".into()),
    ];
    (file.uid, file.gid) = (1234, 99);
    spec.files = vec![file];
    let built = writer::build_package(&spec, None).expect("builds");
    let apk = archive::read_package(&built.bytes, "pax").expect("reads");
    let header = &apk.files[0].header;
    assert_eq!((header.uid, header.gid), (1234, 99));
    let records = &header.pax_records;
    assert_eq!(records.get("SCHILY.xattr.user.note"), Some(&b"hello"[..]));
    assert_eq!(records.get("SCHILY.xattr.security.empty"), Some(&b""[..]));
    assert_eq!(
        records.get("receipts.comment"),
        Some(&b"kept as written"[..])
    );
    assert_eq!(
        records.get(CHECKSUM_RECORD),
        Some(&b"7fe70820e08a1aac0ef224d9c66ab66831cc4ab1"[..])
    );
    assert_eq!(apk.files[0].content, b"content\n");
}
