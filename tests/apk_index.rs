//! Signed APKINDEX.tar.gz archives: real indexes verified with their real keys, upstream parse
//! counts (reference/test-data.md §2), and corrupted archives that must fail with a specific error.

use receipts::apk::keyring::Keyring;
use receipts::apk::signed::{self, Algorithm, Error};
use receipts::apk::{Index, index};

use crate::support;
use crate::support::signed::{self as corpus, Signature};

const ALPINE_KEYS: &str = "postmarketOS-gitlab-mirror/pmbootstrap/pmb/data/keys";
const APKO: &str = "chainguard-dev/apko/pkg/apk/apk/testdata";
const CLI_PACKAGES: &str = "chainguard-dev/apko/internal/cli/testdata/packages";
const PRIVATE: &str = "chainguard-dev/apko/internal/cli/testdata/private_packages";
const WOLFICTL_INDEX: &str = "wolfi-dev/wolfictl/pkg/dag/testdata/packages/x86_64/APKINDEX.tar.gz";

fn bytes(relative: &str) -> Vec<u8> {
    std::fs::read(support::data(relative)).expect("test data is readable")
}

fn keyring(relative: &[&str]) -> Keyring {
    let paths: Vec<_> = relative.iter().map(|path| support::data(path)).collect();
    Keyring::from_paths(&paths).expect("test keys load")
}

fn read(index: &str, keys: &[&str]) -> signed::SignedIndex {
    signed::read(&bytes(index), &keyring(keys), index).expect("index verifies and parses")
}

struct Counts {
    packages: usize,
    dependencies: usize,
    provides: usize,
    install_if_lines: usize,
}

fn counts(index: &Index) -> Counts {
    let packages = &index.packages;
    Counts {
        packages: packages.len(),
        dependencies: packages.iter().map(|p| p.dependencies.len()).sum(),
        provides: packages.iter().map(|p| p.provides.len()).sum(),
        install_if_lines: packages.iter().filter(|p| !p.install_if.is_empty()).count(),
    }
}

#[test]
fn alpine_316_verifies_with_its_4096_bit_key_and_has_the_published_counts() {
    let key = "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub";
    let signed = read(
        &format!("{APKO}/alpine-316/APKINDEX.tar.gz"),
        &[&format!("{ALPINE_KEYS}/{key}")],
    );
    assert_eq!(signed.verified.key.as_str(), key);
    assert_eq!(signed.verified.algorithm, Algorithm::RsaSha1);
    assert_eq!(signed.index.description, "v3.16.3-13-g4d933a1fa3");
    let counts = counts(&signed.index);
    assert_eq!(counts.packages, 4_929);
    assert_eq!(counts.dependencies, 11_246);
    assert_eq!(counts.provides, 7_178);
    assert_eq!(counts.install_if_lines, 1_538);
}

#[test]
fn alpine_317_verifies_with_the_whole_alpine_key_directory() {
    // The directory also holds a README, which key loading skips as apko does.
    let signed = read(
        &format!("{APKO}/alpine-317/APKINDEX.tar.gz"),
        &[ALPINE_KEYS],
    );
    assert_eq!(
        signed.verified.key.as_str(),
        "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub"
    );
    assert_eq!(signed.index.description, "v3.17.3-216-g54a39ace82a");
    assert_eq!(signed.index.packages.len(), 5_004);
    let baselayout = signed
        .index
        .packages
        .iter()
        .find(|p| p.name == "alpine-baselayout")
        .expect("alpine-baselayout is listed");
    assert_eq!(baselayout.version, "3.4.0-r0");
    assert_eq!(baselayout.arch, "aarch64");
}

#[test]
fn alpine_317_is_refused_under_the_x86_64_key() {
    let index = format!("{APKO}/alpine-317/APKINDEX.tar.gz");
    let keys = keyring(&[&format!(
        "{ALPINE_KEYS}/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"
    )]);
    match signed::verify(&bytes(&index), &keys, &index) {
        Err(Error::UnknownKey { signatures, .. }) => assert_eq!(
            signatures,
            [".SIGN.RSA.alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub"]
        ),
        other => panic!("expected UnknownKey, got {other:?}"),
    }
}

#[test]
fn multi_signature_index_verifies_with_each_of_its_three_keys_alone() {
    let index = format!("{APKO}/signing/APKINDEX.tar.gz");
    let dir = support::data(&format!("{APKO}/signing/keys"));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("keys dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("utf-8")
        })
        .collect();
    names.sort();
    assert_eq!(names.len(), 3);
    for name in &names {
        let signed = read(&index, &[&format!("{APKO}/signing/keys/{name}")]);
        assert_eq!(signed.verified.key.as_str(), name);
        assert_eq!(signed.verified.algorithm, Algorithm::RsaSha256);
        assert_eq!(signed.index.packages.len(), 16);
        assert!(signed.index.packages.iter().all(|p| p.arch == "aarch64"));
    }
}

#[test]
fn a_key_stored_without_its_rsa_pub_extension_is_found() {
    // apko's "artifactoryKeys" case: proxies serve keys without the extension.
    let index = format!("{APKO}/signing/APKINDEX.tar.gz");
    let name = "chainguard-0106f58bac88057c2ff5c2829850df492717a876ed700443550353c7ab23f5a0";
    let pem = bytes(&format!("{APKO}/signing/keys/{name}.rsa.pub"));
    let mut keys = Keyring::new();
    keys.insert_pem(name, &pem).expect("key loads");
    let verified = signed::verify(&bytes(&index), &keys, &index).expect("verifies");
    assert_eq!(verified.key.as_str(), name);
}

#[test]
fn rsa256_index_verifies_with_its_test_key() {
    let signed = read(
        &format!("{APKO}/rsa256-signed/APKINDEX.tar.gz"),
        &[&format!("{APKO}/rsa256-signed/test-rsa256.rsa.pub")],
    );
    assert_eq!(signed.verified.algorithm, Algorithm::RsaSha256);
    let names: Vec<_> = signed.index.packages.iter().map(|p| p.filename()).collect();
    assert_eq!(names, ["alpine-baselayout-3.2.0-r23.apk"]);
}

#[test]
fn wolfi_index_has_47_entries_for_46_names() {
    let signed = read(WOLFICTL_INDEX, &["wolfi-dev/os/wolfi-signing.rsa.pub"]);
    assert_eq!(signed.verified.key.as_str(), "wolfi-signing.rsa.pub");
    assert_eq!(signed.verified.algorithm, Algorithm::RsaSha1);
    let mut names: Vec<_> = signed.index.packages.iter().map(|p| &p.name).collect();
    assert_eq!(names.len(), 47);
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 46);
}

#[test]
fn apko_cli_fixture_indexes_verify_with_melange_rsa256_key() {
    for arch in ["x86_64", "aarch64"] {
        let signed = read(
            &format!("{CLI_PACKAGES}/{arch}/APKINDEX.tar.gz"),
            &[&format!("{CLI_PACKAGES}/melange.rsa.pub")],
        );
        assert_eq!(signed.verified.key.as_str(), "melange.rsa.pub");
        assert_eq!(signed.verified.algorithm, Algorithm::RsaSha256);
        let mut names: Vec<_> = signed.index.packages.iter().map(|p| p.filename()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "custom-ca-certs-1-1.0.0-r0.apk",
                "custom-ca-certs-2-1.0.0-r0.apk",
                "pretend-baselayout-1.0.0-r0.apk",
                "replayout-1.0.0-r0.apk",
            ]
        );
        assert!(signed.index.packages.iter().all(|p| p.arch == arch));
    }
}

#[test]
fn private_packages_match_melange_apkindex_json() {
    use base64::Engine as _;
    for arch in ["x86_64", "aarch64"] {
        let signed = read(
            &format!("{PRIVATE}/packages/{arch}/APKINDEX.tar.gz"),
            &[&format!("{PRIVATE}/private_pkg_key.rsa.pub")],
        );
        assert_eq!(signed.verified.algorithm, Algorithm::RsaSha1);
        let json: serde_json::Value =
            serde_json::from_slice(&bytes(&format!("{PRIVATE}/packages/{arch}/APKINDEX.json")))
                .expect("APKINDEX.json parses");
        let expected = json["Packages"].as_array().expect("Packages array");
        assert_eq!(signed.index.packages.len(), expected.len());
        assert_eq!(expected.len(), 2);
        for (package, want) in signed.index.packages.iter().zip(expected) {
            assert_eq!(package.name.as_str(), want["Name"]);
            assert_eq!(package.version.as_str(), want["Version"]);
            assert_eq!(package.arch.as_str(), want["Arch"]);
            assert_eq!(package.description.as_str(), want["Description"]);
            assert_eq!(package.license.as_str(), want["License"]);
            assert_eq!(package.origin.as_str(), want["Origin"]);
            assert_eq!(
                base64::engine::general_purpose::STANDARD.encode(&package.checksum),
                want["Checksum"]
            );
            let dependencies: Vec<_> = want["Dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .map(|d| d.as_str().expect("string"))
                .collect();
            assert_eq!(package.dependencies, dependencies);
            assert_eq!(package.size, want["Size"]);
            assert_eq!(package.installed_size, want["InstalledSize"]);
        }
    }
}

#[test]
fn unknown_keys_are_refused_naming_the_index_and_the_signer() {
    let keys = keyring(&["wolfi-dev/os/chainguard-keys"]);
    assert_eq!(keys.len(), 3);
    match signed::verify(&bytes(WOLFICTL_INDEX), &keys, WOLFICTL_INDEX) {
        Err(error @ Error::UnknownKey { .. }) => {
            let message = error.to_string();
            assert!(message.contains(WOLFICTL_INDEX), "{message}");
            assert!(
                message.contains(".SIGN.RSA.wolfi-signing.rsa.pub"),
                "{message}"
            );
        }
        other => panic!("expected UnknownKey, got {other:?}"),
    }
}

#[test]
fn a_different_key_under_the_signers_name_is_a_bad_signature() {
    let mut keys = Keyring::new();
    let other = bytes("wolfi-dev/os/local-melange.rsa.pub");
    keys.insert_pem("wolfi-signing.rsa.pub", &other)
        .expect("key loads");
    match signed::read(&bytes(WOLFICTL_INDEX), &keys, WOLFICTL_INDEX) {
        Err(error @ Error::BadSignature { .. }) => assert_eq!(
            error.to_string(),
            format!("{WOLFICTL_INDEX}: signature by wolfi-signing.rsa.pub does not verify")
        ),
        other => panic!("expected BadSignature, got {other:?}"),
    }
}

#[test]
fn no_keys_is_an_error_before_reading() {
    match signed::read(&bytes(WOLFICTL_INDEX), &Keyring::new(), WOLFICTL_INDEX) {
        Err(Error::NoKeys { index }) => assert_eq!(index, WOLFICTL_INDEX),
        other => panic!("expected NoKeys, got {other:?}"),
    }
}

#[test]
fn every_flipped_byte_of_the_signed_member_breaks_the_signature() {
    let index = format!("{APKO}/rsa256-signed/APKINDEX.tar.gz");
    let original = bytes(&index);
    let keys = keyring(&[&format!("{APKO}/rsa256-signed/test-rsa256.rsa.pub")]);
    let member_two = corpus::first_member_len(&original);
    assert_eq!(
        member_two, 638,
        "member 1 ends where reference/test-data.md says"
    );
    for offset in member_two..original.len() {
        let mut corrupt = original.clone();
        corrupt[offset] ^= 0x01;
        match signed::read(&corrupt, &keys, &index) {
            Err(Error::BadSignature { keys, .. }) => {
                assert_eq!(keys[0].as_str(), "test-rsa256.rsa.pub")
            }
            other => panic!("flip at {offset}: expected BadSignature, got {other:?}"),
        }
    }
}

#[test]
fn flipped_bytes_in_the_signature_member_never_pass_unnoticed() {
    let index = format!("{APKO}/rsa256-signed/APKINDEX.tar.gz");
    let original = bytes(&index);
    let keys = keyring(&[&format!("{APKO}/rsa256-signed/test-rsa256.rsa.pub")]);
    let mut harmless = Vec::new();
    for offset in 0..corpus::first_member_len(&original) {
        let mut corrupt = original.clone();
        corrupt[offset] ^= 0x01;
        match signed::verify(&corrupt, &keys, &index) {
            // Header bits that carry no data (FTEXT, MTIME, XFL, OS): the member still decodes to
            // the same signature.
            Ok(verified) => {
                assert_eq!(verified.key.as_str(), "test-rsa256.rsa.pub");
                harmless.push(offset);
            }
            Err(Error::Gzip { member: 1, .. }) => {}
            other => panic!("flip at {offset}: expected a gzip error, got {other:?}"),
        }
    }
    // The same offsets Python's zlib accepts with identical output: FLG's FTEXT bit, MTIME,
    // XFL and OS.
    assert_eq!(harmless, [3, 4, 5, 6, 7, 8, 9]);
}

#[test]
fn truncations_at_every_offset_fail_with_the_error_for_that_region() {
    let index = format!("{APKO}/rsa256-signed/APKINDEX.tar.gz");
    let original = bytes(&index);
    let keys = keyring(&[&format!("{APKO}/rsa256-signed/test-rsa256.rsa.pub")]);
    let boundary = corpus::first_member_len(&original);
    for length in 0..original.len() {
        let truncated = &original[..length];
        let result = signed::read(truncated, &keys, &index);
        match (length, result) {
            (0, Err(Error::Gzip { member: 1, .. })) => {}
            (n, Err(Error::Gzip { member: 1, .. })) if n < boundary => {}
            (n, Err(Error::MissingIndex { .. })) if n == boundary => {}
            (n, Err(Error::BadSignature { .. })) if n > boundary => {}
            (n, other) => panic!("truncated to {n}: unexpected {other:?}"),
        }
        // Without the signature check, a cut in member 2 is a gzip error there.
        if length > boundary {
            match signed::read_unverified(truncated, &index) {
                Err(Error::Gzip { member: 2, .. }) => {}
                other => panic!("unverified, truncated to {length}: unexpected {other:?}"),
            }
        }
    }
}

#[test]
fn a_truncated_real_alpine_index_fails_at_many_offsets_without_panicking() {
    let index = format!("{APKO}/alpine-316/APKINDEX.tar.gz");
    let original = bytes(&index);
    let keys = keyring(&[&format!(
        "{ALPINE_KEYS}/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"
    )]);
    for length in (0..original.len()).step_by(4_099) {
        let truncated = &original[..length];
        assert!(matches!(
            signed::read(truncated, &keys, &index),
            Err(Error::Gzip { member: 1, .. } | Error::BadSignature { .. })
        ));
        if length > 667 {
            assert!(matches!(
                signed::read_unverified(truncated, &index),
                Err(Error::Gzip { member: 2, .. })
            ));
        }
    }
}

#[test]
fn single_stream_legacy_index_is_refused_but_parses_unverified_like_apko() {
    let index = format!("{APKO}/APKINDEX.tar.gz");
    let archive = bytes(&index);
    let keys = keyring(&["wolfi-dev/os/wolfi-signing.rsa.pub"]);
    match signed::verify(&archive, &keys, &index) {
        Err(Error::SingleStream { entry, .. }) => assert_eq!(entry, "APKINDEX"),
        other => panic!("expected SingleStream, got {other:?}"),
    }
    // apko's TestParseFromArchive reads it with IndexFromArchive; extracted/ holds its entries.
    let parsed = signed::read_unverified(&archive, &index).expect("parses");
    let description =
        std::fs::read_to_string(support::data(&format!("{APKO}/extracted/DESCRIPTION")))
            .expect("description");
    assert_eq!(parsed.description, description);
    let text = bytes(&format!("{APKO}/extracted/APKINDEX"));
    assert_eq!(
        parsed.packages,
        index::parse_text(&text).expect("text parses")
    );
    assert_eq!(parsed.packages.len(), 2);
}

#[test]
fn unverifiable_wolfi_os_index_parses_unverified() {
    let index = "wolfi-dev/os/APKINDEX.tar.gz";
    let archive = bytes(index);
    let keys = keyring(&["wolfi-dev/os/wolfi-signing.rsa.pub"]);
    assert!(matches!(
        signed::verify(&archive, &keys, index),
        Err(Error::UnknownKey { .. })
    ));
    let parsed = signed::read_unverified(&archive, index).expect("parses");
    let mut names: Vec<_> = parsed.packages.iter().map(|p| &p.name).collect();
    assert_eq!(names.len(), 163);
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 153);
}

#[test]
fn constructed_indexes_fail_with_the_specific_error() {
    let signer = corpus::Signer::load();
    let keys = signer.keyring();
    let text = b"P:one\nV:1.0-r0\n\n";
    let good = signer.index(
        &[Signature::rsa()],
        &[("DESCRIPTION", b"d"), ("APKINDEX", text)],
    );
    let signed = signed::read(&good, &keys, "good").expect("the corpus signer works");
    assert_eq!(signed.index.packages.len(), 1);
    assert_eq!(signed.index.description, "d");
    let sha256 = signer.index(&[Signature::rsa256()], &[("APKINDEX", text)]);
    let verified = signed::verify(&sha256, &keys, "sha256").expect("RSA256 verifies");
    assert_eq!(verified.algorithm, Algorithm::RsaSha256);

    type Expected = fn(&Error) -> bool;
    let cases: Vec<(&str, Vec<u8>, Expected)> = vec![
        (
            "extra entry in the index member",
            signer.index(&[Signature::rsa()], &[("APKINDEX", text), ("evil", b"x")]),
            |e| matches!(e, Error::UnexpectedEntry { entry, .. } if entry == "evil"),
        ),
        (
            "non-signature entry in the signature member",
            signer.index(
                &[Signature::named(".SIGN.RSA.x.pem")],
                &[("APKINDEX", text)],
            ),
            |e| matches!(e, Error::SignatureEntry { entry, .. } if entry == ".SIGN.RSA.x.pem"),
        ),
        (
            "empty signature member",
            signer.index(&[], &[("APKINDEX", text)]),
            |e| matches!(e, Error::Unsigned { .. }),
        ),
        (
            "DSA and RSA512 only, by the trusted key",
            signer.index(
                &[
                    Signature::named_for_key("DSA"),
                    Signature::named_for_key("RSA512"),
                ],
                &[("APKINDEX", text)],
            ),
            |e| matches!(e, Error::UnknownKey { signatures, .. } if signatures.len() == 2),
        ),
        (
            "signature member only",
            signer.signature_member_only(),
            |e| matches!(e, Error::MissingIndex { .. }),
        ),
        (
            "garbage after the last member",
            [good.as_slice(), b"garbage"].concat(),
            |e| matches!(e, Error::BadSignature { .. }),
        ),
        (
            "line longer than 1 MiB",
            signer.index(
                &[Signature::rsa()],
                &[(
                    "APKINDEX",
                    &[b"P:".as_slice(), &vec![b'a'; index::MAX_LINE]].concat(),
                )],
            ),
            |e| {
                matches!(
                    e,
                    Error::Text {
                        source: index::Error::LineTooLong { line: 1 },
                        ..
                    }
                )
            },
        ),
        (
            "truncated entry data",
            signer.index_with_member_two(&corpus::gzip(&corpus::truncated_tar(text))),
            |e| matches!(e, Error::TruncatedEntry { entry, .. } if entry == "APKINDEX"),
        ),
        (
            "corrupt tar header",
            signer.index_with_member_two(&corpus::gzip(
                &[b"not a tar header".as_slice(), &[b'x'; 496]].concat(),
            )),
            |e| matches!(e, Error::Tar { .. }),
        ),
        (
            "not gzip at all",
            b"plain text, not an index".to_vec(),
            |e| matches!(e, Error::Gzip { member: 1, .. }),
        ),
    ];
    for (what, archive, expected) in cases {
        match signed::read(&archive, &keys, what) {
            Err(error) => {
                assert!(expected(&error), "{what}: unexpected {error:?}");
                assert!(error.to_string().starts_with(what), "{what}: {error}");
            }
            Ok(_) => panic!("{what}: accepted"),
        }
    }
    // Trailing garbage after a correctly signed file: unsigned parsing rejects member 3.
    assert!(matches!(
        signed::read_unverified(&[good.as_slice(), b"garbage"].concat(), "garbage"),
        Err(Error::Gzip { member: 3, .. })
    ));
}

#[test]
fn a_gzip_bomb_is_refused_at_300_mib() {
    let signer = corpus::Signer::load();
    let bomb = signer.index_with_member_two(&corpus::zeros_tar_gz(301 << 20));
    match signed::read(&bomb, &signer.keyring(), "bomb") {
        Err(Error::TooLarge { limit, .. }) => assert_eq!(limit, 300 << 20),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let lying_header = signer.index_with_member_two(&corpus::huge_header_tar_gz(1 << 40));
    assert!(matches!(
        signed::read(&lying_header, &signer.keyring(), "lying header"),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn key_directory_loads_every_pub_file_and_skips_the_readme() {
    let keys = keyring(&[ALPINE_KEYS]);
    assert_eq!(keys.len(), 18);
    let names: Vec<_> = keys.names().map(|name| name.as_str()).collect();
    assert_eq!(
        names.first(),
        Some(&"alpine-devel@lists.alpinelinux.org-4a6a0840.rsa.pub")
    );
    assert_eq!(names.last(), Some(&"build.postmarketos.org.rsa.pub"));
}

#[test]
fn a_pkcs1_rsa_public_key_is_accepted() {
    use rsa::pkcs1::EncodeRsaPublicKey as _;
    use rsa::pkcs8::DecodePublicKey as _;
    let pkix = std::fs::read_to_string(support::data("wolfi-dev/os/wolfi-signing.rsa.pub"))
        .expect("key is readable");
    let key = rsa::PublicKey::from_public_key_pem(&pkix).expect("PKIX parses");
    let pkcs1 = key
        .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .expect("PKCS#1 encodes");
    assert!(pkcs1.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
    let mut keys = Keyring::new();
    keys.insert_pem("wolfi-signing.rsa.pub", pkcs1.as_bytes())
        .expect("PKCS#1 loads");
    let verified = signed::verify(&bytes(WOLFICTL_INDEX), &keys, WOLFICTL_INDEX).expect("verifies");
    assert_eq!(verified.key.as_str(), "wolfi-signing.rsa.pub");
}

#[test]
fn bad_key_files_are_errors_naming_the_file() {
    use receipts::apk::keyring::Error as KeyError;
    let dir = tempfile::tempdir().expect("temp dir");
    let cases: [(&str, &[u8]); 3] = [
        ("text.rsa.pub", b"not a key at all\n"),
        (
            "broken.rsa.pub",
            b"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
        ),
        (
            "empty-der.rsa.pub",
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        ),
    ];
    for (name, contents) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).expect("write key");
        let error = Keyring::from_paths(&[&path]).expect_err("bad key is refused");
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
        match (name, &error) {
            ("text.rsa.pub", KeyError::NoPem { .. })
            // Go's pem.Decode passes over a block whose body is not base64.
            | ("broken.rsa.pub", KeyError::NoPem { .. })
            | ("empty-der.rsa.pub", KeyError::NotRsa { .. }) => {}
            _ => panic!("{name}: unexpected {error:?}"),
        }
    }
    let mut keys = Keyring::new();
    assert!(matches!(
        keys.insert_pem("../evil.rsa.pub", b""),
        Err(KeyError::Name { name }) if name == "../evil.rsa.pub"
    ));
    let missing = dir.path().join("missing.rsa.pub");
    assert!(matches!(
        Keyring::from_paths(&[&missing]),
        Err(KeyError::Read { path, .. }) if path == missing
    ));
}

/// APKINDEX text of at least `size` bytes: records `pkg0`, `pkg1`, … (and how many).
fn synthetic_text(size: usize) -> (String, usize) {
    let mut text = String::new();
    let mut count = 0;
    while text.len() < size {
        text.push_str(&format!(
            "P:pkg{count}\nV:1.{count}-r0\nD:so:libc.musl-x86_64.so.1\n\n"
        ));
        count += 1;
    }
    (text, count)
}

/// A large index is parsed in two halves; errors still name the line in the whole file, and the
/// packages come out in file order.
#[test]
fn large_indexes_parse_in_order_and_name_the_right_line() {
    let (mut text, count) = synthetic_text(600 * 1024);
    let packages = index::parse_text(text.as_bytes()).expect("parse");
    assert_eq!(packages.len(), count);
    assert!(
        packages
            .iter()
            .enumerate()
            .all(|(i, p)| p.name == format!("pkg{i}"))
    );

    let lines_before = text.lines().count();
    text.push_str("P:broken\nnot a field line\n\n");
    let error = index::parse_text(text.as_bytes()).expect_err("malformed line");
    assert!(
        matches!(error, index::Error::Malformed { line, .. } if line == lines_before + 2),
        "{error:?} should name line {}",
        lines_before + 2
    );
}

/// Every index archive of the shared data (`.tar.gz` and `.tgz`), and the plain `APKINDEX`
/// texts, by path.
const EVERY_INDEX: &[&str] = &[
    "chainguard-dev/apko/internal/cli/testdata/packages/aarch64/APKINDEX.tar.gz",
    "chainguard-dev/apko/internal/cli/testdata/packages/x86_64/APKINDEX.tar.gz",
    "chainguard-dev/apko/internal/cli/testdata/private_packages/packages/aarch64/APKINDEX.tar.gz",
    "chainguard-dev/apko/internal/cli/testdata/private_packages/packages/x86_64/APKINDEX.tar.gz",
    "chainguard-dev/apko/pkg/apk/apk/testdata/signing/APKINDEX.tar.gz",
    "chainguard-dev/apko/pkg/apk/apk/testdata/alpine-316/APKINDEX.tar.gz",
    "chainguard-dev/apko/pkg/apk/apk/testdata/rsa256-signed/APKINDEX.tar.gz",
    "chainguard-dev/apko/pkg/apk/apk/testdata/APKINDEX.tar.gz",
    "chainguard-dev/apko/pkg/apk/apk/testdata/alpine-317/APKINDEX.tar.gz",
    "derived/apko/goldens/cacerts/repo/x86_64/APKINDEX.tar.gz",
    "derived/apko/goldens/layering/repo/x86_64/APKINDEX.tar.gz",
    "derived/apko/goldens/features/repo/aarch64/APKINDEX.tar.gz",
    "derived/apko/goldens/features/repo/x86_64/APKINDEX.tar.gz",
    "wolfi-dev/os/APKINDEX.tar.gz",
    "wolfi-dev/wolfictl/pkg/dag/testdata/packages/x86_64/APKINDEX.tar.gz",
    "wolfi-dev/wolfictl/pkg/dag/testdata/cycle/packages/x86_64/APKINDEX.tar.gz",
    "wolfi-dev/wolfictl/pkg/checks/testdata/diff/APKINDEX.tgz",
    "wolfi-dev/wolfictl/pkg/apk/testdata/APKINDEX.tar.gz",
    "chainguard-dev/apko/internal/cli/testdata/base_image/metadata/aarch64/APKINDEX",
    "chainguard-dev/apko/internal/cli/testdata/base_image/metadata/x86_64/APKINDEX",
    "chainguard-dev/apko/pkg/apk/apk/testdata/extracted/APKINDEX",
    "wolfi-dev/wolfictl/pkg/dag/testdata/cycle/APKINDEX",
    "wolfi-dev/wolfictl/pkg/apk/testdata/APKINDEX",
];

/// The `APKINDEX` text of an archive, read by the `tar` and `flate2` crates (not by ours), or
/// the file itself when it is text.
fn apkindex_text(relative: &str) -> Vec<u8> {
    use std::io::Read as _;
    let raw = bytes(relative);
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return raw;
    }
    let mut archive = tar::Archive::new(flate2::read::MultiGzDecoder::new(&raw[..]));
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        if entry.path().expect("entry path").as_os_str() == "APKINDEX" {
            let mut text = Vec::new();
            entry.read_to_end(&mut text).expect("APKINDEX entry");
            return text;
        }
    }
    panic!("{relative}: no APKINDEX entry");
}

/// A reader that hands out `steps` bytes at a time, cycling, so that pieces end at different
/// places and the parser meets them at different moments.
struct Steps<'a> {
    text: &'a [u8],
    steps: &'a [usize],
    at: usize,
}

impl std::io::Read for Steps<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let step = self.steps[self.at % self.steps.len()].min(buf.len());
        self.at += 1;
        let n = step.min(self.text.len());
        buf[..n].copy_from_slice(&self.text[..n]);
        self.text = &self.text[n..];
        Ok(n)
    }
}

/// Parsing while the text arrives (pieces parsed by a helper thread and by the reader, records
/// moved onto one list in order) gives exactly what parsing the whole text gives, for every
/// index we have, however the reads are cut; and reading an archive gives the same records.
#[test]
fn streamed_parsing_equals_whole_parsing_for_every_index() {
    let mut pieces_seen = 0;
    for relative in EVERY_INDEX {
        let text = apkindex_text(relative);
        let whole = index::parse_text(&text).expect("text parses");
        assert!(!whole.is_empty(), "{relative}: no packages");
        if text.len() > 256 * 1024 {
            pieces_seen += 1;
        }
        for steps in [&[usize::MAX][..], &[1_000, 7_919, 65_536], &[131_072, 17]] {
            let reader = Steps {
                text: &text,
                steps,
                at: 0,
            };
            let (streamed, read) = index::parse_from(reader).expect("streamed text parses");
            assert_eq!(read, text.len() as u64, "{relative}");
            assert!(
                streamed == whole,
                "{relative}, reads of {steps:?}: records differ"
            );
        }
        if relative.ends_with(".gz") {
            let archive = signed::read_unverified(&bytes(relative), relative).expect("archive");
            assert!(
                archive.packages == whole,
                "{relative}: archive records differ"
            );
        }
    }
    assert!(
        pieces_seen >= 2,
        "expected indexes large enough to cut in pieces"
    );
}

/// Errors in text that arrives in many pieces name the line in the whole text, and the first
/// error in the text wins over a later one, whichever thread parses which piece.
#[test]
fn streamed_parsing_names_the_first_errors_line_in_the_whole_text() {
    let (text, _) = synthetic_text(900 * 1024);
    let line_of = |text: &str, at: usize| text[..at].matches('\n').count() + 1;
    let malformed = |text: &mut String, at: usize| {
        let at = text[..at].rfind("\n\n").map_or(0, |n| n + 2);
        text.insert_str(at, "P:broken\nnot a field line\n\n");
        line_of(text, at) + 1
    };
    for (early, late) in [(None, 850 * 1024), (Some(300 * 1024), 800 * 1024)] {
        let mut broken = text.clone();
        let late_line = malformed(&mut broken, late);
        let expected = match early {
            Some(at) => malformed(&mut broken, at),
            None => late_line,
        };
        for steps in [&[usize::MAX][..], &[4_096, 100_003]] {
            let reader = Steps {
                text: broken.as_bytes(),
                steps,
                at: 0,
            };
            match index::parse_from(reader) {
                Err(index::StreamError::Text(index::Error::Malformed { line, .. })) => {
                    assert_eq!(line, expected, "reads of {steps:?}")
                }
                other => panic!("expected a malformed line {expected}, got {other:?}"),
            }
        }
        let whole = index::parse_text(broken.as_bytes()).expect_err("malformed");
        assert!(matches!(whole, index::Error::Malformed { line, .. } if line == expected));
    }
    // A byte that is not UTF-8 in a middle piece: named by its line too.
    let mut bytes = text.clone().into_bytes();
    let at = 500 * 1024;
    bytes[at] = 0xff;
    let expected = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    match index::parse_from(&bytes[..]) {
        Err(index::StreamError::Text(index::Error::Utf8 { line })) => assert_eq!(line, expected),
        other => panic!("expected a UTF-8 error at line {expected}, got {other:?}"),
    }
}
