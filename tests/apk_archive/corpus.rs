//! Bad-input corpus generated at test time from a real package (apko's replayout, x86_64):
//! truncation at every offset, a flipped byte at every offset, member boundaries removed,
//! re-compressed members with altered content, limits. Each case asserts the specific error.

use std::io::Write as _;

use flate2::{Compression, GzBuilder, write::GzEncoder};
use receipts::apk::archive::{self, ApkFile, Error, Limits, PackageReader};
use receipts::codec::tar::Error as TarError;
use sha1::Digest as _;

use crate::support::archive::{gunzip_all, public_key, read};

const PACKAGE: &str =
    "chainguard-dev/apko/internal/cli/testdata/packages/x86_64/replayout-1.0.0-r0.apk";
const KEY: &str = "chainguard-dev/apko/internal/cli/testdata/melange.rsa.pub";
/// Member boundaries from apko.lock.json: signature 0-646, control 647-1660, data 1661-2960.
const CONTROL_START: usize = 647;
const DATA_START: usize = 1661;
const END: usize = 2961;
/// `C:` of replayout in the index beside it.
const INDEX_CHECKSUM: &str = "1/HhSewwwOXgl0r0ffb0O0BRtYc=";
/// `datahash` in replayout's .PKGINFO.
const DATAHASH: &str = "ce688706f6aa287b05f02c507876b43389992b08fb4f84f99117bd5694e45d4c";

fn original() -> Vec<u8> {
    let bytes = read(PACKAGE);
    assert_eq!(bytes.len(), END);
    bytes
}

fn expected_control() -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(INDEX_CHECKSUM)
        .expect("base64")
}

/// What apko does with a package: read it, then check `C:` against the index.
fn apko_checks(bytes: &[u8]) -> Result<ApkFile, Error> {
    let apk = archive::read_package(bytes, "replayout")?;
    apk.verify_control(&expected_control())?;
    Ok(apk)
}

fn gzip(content: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(level));
    encoder.write_all(content).expect("compress");
    encoder.finish().expect("compress")
}

fn member(number: usize) -> std::ops::Range<usize> {
    match number {
        1 => 0..CONTROL_START,
        2 => CONTROL_START..DATA_START,
        _ => DATA_START..END,
    }
}

fn member_of(offset: usize) -> usize {
    (1..=3).find(|&m| member(m).contains(&offset)).unwrap_or(3)
}

#[test]
fn truncation_at_every_offset_names_the_member_and_offset() {
    let bytes = original();
    for cut in 0..END {
        let result = archive::read_package(&bytes[..cut], "replayout");
        match (cut, result) {
            (0 | CONTROL_START | DATA_START, Err(Error::MissingMember { member, .. })) => {
                assert_eq!(member, member_of(cut), "cut at {cut}");
            }
            (_, Err(Error::Truncated { member, offset, .. })) => {
                assert_eq!(
                    (member, offset),
                    (member_of(cut), cut as u64),
                    "cut at {cut}"
                );
            }
            (_, other) => panic!("cut at {cut}: unexpected {other:?}"),
        }
    }
    assert!(archive::read_package(&bytes, "replayout").is_ok());
}

fn is_gzip_error_of(error: &Error, expected: usize) -> bool {
    match error {
        Error::NotGzip { member, .. }
        | Error::GzipHeader { member, .. }
        | Error::Truncated { member, .. }
        | Error::Corrupt { member, .. }
        | Error::GzipChecksum { member, .. } => *member == expected,
        _ => false,
    }
}

/// How a package with one flipped byte fails (or, for the signature member, does not).
#[derive(Debug, Default)]
struct FlipOutcomes {
    gzip: usize,
    streamed_data: usize,
    digest_only: usize,
}

#[test]
fn a_flipped_byte_anywhere_is_caught_by_the_check_that_covers_it() {
    let bytes = original();
    let key = public_key(KEY);
    let original_signature = archive::read_package(&bytes, "replayout")
        .expect("reads")
        .layout
        .signature
        .expect("signed");
    let mut outcomes = FlipOutcomes::default();
    for offset in 0..END {
        let mut altered = bytes.clone();
        altered[offset] ^= 0xff;
        let number = member_of(offset);
        let start = member(number).start;
        let result = apko_checks(&altered);
        if offset - start <= 2 {
            // Magic and method bytes.
            match result {
                Err(Error::NotGzip {
                    member, offset: at, ..
                }) => {
                    assert_eq!((member, at), (number, start as u64), "flip at {offset}");
                }
                other => panic!("flip at {offset}: expected NotGzip, got {other:?}"),
            }
            continue;
        }
        match (number, result) {
            // The gzip layer of that same member fails (flags, deflate data, trailer).
            (_, Err(error)) if is_gzip_error_of(&error, number) => outcomes.gzip += 1,
            // The data member is streamed: its tar reader or a file's checksum can see the
            // damage before the gzip trailer does (as in apko's `checkSums`).
            (
                3,
                Err(
                    Error::Tar { member: 3, .. }
                    | Error::FileChecksum { .. }
                    | Error::FileChecksumFormat { .. },
                ),
            ) => outcomes.streamed_data += 1,
            // Header MTIME/XFL/OS, or deflate changes that decompress to the same bytes (a
            // different match distance inside a run of zeros): only the member digest changes.
            (1, Ok(apk)) => {
                // apko never looks at the signature member; the lock file's checksum would
                // catch it, and the signature (over the control member) still verifies.
                let signature = apk.layout.signature.expect("signed");
                assert_eq!(signature.range, original_signature.range);
                assert_ne!(signature.digest, original_signature.digest);
                assert!(apk.verify_signature(|_| Some(&key)).is_ok());
                outcomes.digest_only += 1;
            }
            (2, Err(Error::ControlChecksum { .. })) => {
                let reader =
                    PackageReader::open(altered.as_slice(), "replayout", Limits::default())
                        .expect("opens");
                match reader.verify_signature(|_| Some(&key)) {
                    Err(Error::BadSignature { key, .. }) => assert_eq!(key, "melange.rsa.pub"),
                    other => panic!("flip at {offset}: expected BadSignature, got {other:?}"),
                }
                outcomes.digest_only += 1;
            }
            (3, Err(Error::DataHash { expected, .. })) => {
                assert_eq!(expected, DATAHASH);
                outcomes.digest_only += 1;
            }
            (_, other) => panic!("flip at {offset} (member {number}): unexpected {other:?}"),
        }
    }
    // Every member header has 6 digest-only bytes (MTIME, XFL, OS).
    assert!(outcomes.digest_only >= 18, "{outcomes:?}");
    assert!(
        outcomes.gzip > 1000 && outcomes.streamed_data > 500,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.gzip + outcomes.streamed_data + outcomes.digest_only,
        END - 9
    );
}

#[test]
fn removing_a_member_boundary_loses_a_member() {
    let bytes = original();
    let tars: Vec<Vec<u8>> = (1..=3).map(|m| gunzip_all(&bytes[member(m)])).collect();
    let signature_and_control = [
        gzip(&[tars[0].clone(), tars[1].clone()].concat(), 6),
        bytes[member(3)].to_vec(),
    ]
    .concat();
    let control_and_data = [
        bytes[member(1)].to_vec(),
        gzip(&[tars[1].clone(), tars[2].clone()].concat(), 6),
    ]
    .concat();
    let all_in_one = gzip(&tars.concat(), 6);
    for (name, altered, missing) in [
        ("signature+control", signature_and_control, 3),
        ("control+data", control_and_data, 3),
        ("all in one", all_in_one, 2),
    ] {
        match archive::read_package(&altered, "replayout") {
            Err(Error::MissingMember { member, .. }) => assert_eq!(member, missing, "{name}"),
            other => panic!("{name}: expected MissingMember, got {other:?}"),
        }
    }
}

/// Replaces member `number` with `content` re-compressed.
fn with_member(bytes: &[u8], number: usize, content: &[u8]) -> Vec<u8> {
    let range = member(number);
    [
        &bytes[..range.start],
        &gzip(content, 9),
        &bytes[range.end..],
    ]
    .concat()
}

/// The decompressed tar of member `number`, with `from` replaced by `to` (same length).
fn edited_tar(bytes: &[u8], number: usize, from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut tar = gunzip_all(&bytes[member(number)]);
    let at = tar
        .windows(from.len())
        .position(|w| w == from)
        .expect("text present");
    tar[at..at + to.len()].copy_from_slice(to);
    tar
}

#[test]
fn altered_file_content_fails_its_checksum_record() {
    let bytes = original();
    let tar = edited_tar(&bytes, 3, b"ID=replaces", b"ID=REPLACES");
    let altered = with_member(&bytes, 3, &tar);
    let content = b"ID=REPLACES\n";
    match archive::read_package(&altered, "replayout") {
        Err(Error::FileChecksum {
            package,
            path,
            expected,
            actual,
        }) => {
            assert_eq!(
                (package.as_str(), path.as_str()),
                ("replayout", "etc/os-release")
            );
            assert_eq!(expected, "ca5e527bbb8a5cc9c4c2d2b4e29618d8ca3be5f8");
            let os_release = tar
                .windows(content.len())
                .position(|w| w == content)
                .expect("file");
            let actual_expected =
                hex::encode(sha1::Sha1::digest(&tar[os_release..os_release + 102]));
            assert_eq!(actual, actual_expected);
        }
        other => panic!("expected FileChecksum, got {other:?}"),
    }
}

#[test]
fn recompressed_data_fails_datahash_and_a_bad_record_is_named() {
    let bytes = original();
    let same_content = with_member(&bytes, 3, &gunzip_all(&bytes[member(3)]));
    let new_member = &same_content[DATA_START..];
    match archive::read_package(&same_content, "replayout") {
        Err(Error::DataHash {
            expected, actual, ..
        }) => {
            assert_eq!(expected, DATAHASH);
            assert_eq!(actual, hex::encode(sha2::Sha256::digest(new_member)));
        }
        other => panic!("expected DataHash, got {other:?}"),
    }
    let record = b"SHA1=ca5e527b";
    let tar = edited_tar(&bytes, 3, record, b"SHA1=ca5e527g");
    match archive::read_package(&with_member(&bytes, 3, &tar), "replayout") {
        Err(Error::FileChecksumFormat { path, value, .. }) => {
            assert_eq!(path, "etc/os-release");
            assert_eq!(value, "ca5e527gbb8a5cc9c4c2d2b4e29618d8ca3be5f8");
        }
        other => panic!("expected FileChecksumFormat, got {other:?}"),
    }
}

#[test]
fn altered_control_fails_the_index_checksum_and_the_signature() {
    let bytes = original();
    let tar = edited_tar(
        &bytes,
        2,
        b"replacement baselayout",
        b"REPLACEMENT baselayout",
    );
    let altered = with_member(&bytes, 2, &tar);
    let reader =
        PackageReader::open(altered.as_slice(), "replayout", Limits::default()).expect("opens");
    assert_eq!(
        reader.pkginfo().package.description,
        "REPLACEMENT baselayout"
    );
    match reader.verify_control(&expected_control()) {
        Err(Error::ControlChecksum { expected, .. }) => {
            assert_eq!(expected, format!("Q1{INDEX_CHECKSUM}"))
        }
        other => panic!("expected ControlChecksum, got {other:?}"),
    }
    let key = public_key(KEY);
    assert!(matches!(
        reader.verify_signature(|_| Some(&key)),
        Err(Error::BadSignature { .. })
    ));
    // The data member is untouched, so everything else still verifies.
    assert!(reader.finish().is_ok());
}

#[test]
fn a_broken_tar_header_names_member_and_offset() {
    let bytes = original();
    // The first data header is `etc` at offset 0; changing its name breaks the header checksum.
    let mut tar = gunzip_all(&bytes[member(3)]);
    tar[0] = b'E';
    match archive::read_package(&with_member(&bytes, 3, &tar), "replayout") {
        Err(Error::Tar {
            member,
            source: TarError::InvalidHeader { offset, what },
            ..
        }) => {
            assert_eq!((member, offset, what), (3, 0, "checksum mismatch"));
        }
        other => panic!("expected Tar, got {other:?}"),
    }
    // A zero block followed by a header (second block of the control tar zeroed).
    let mut control = gunzip_all(&bytes[member(2)]);
    control[..512].fill(0);
    match archive::read_package(&with_member(&bytes, 2, &control), "replayout") {
        Err(Error::Tar {
            member,
            source: TarError::InvalidHeader { offset, what },
            ..
        }) => {
            assert_eq!(
                (member, offset, what),
                (2, 0, "zero block followed by a non-zero block")
            );
        }
        other => panic!("expected Tar, got {other:?}"),
    }
    // A data tar cut inside an entry, recompressed: the gzip layer is fine, the tar is not.
    let data = gunzip_all(&bytes[member(3)]);
    match archive::read_package(&with_member(&bytes, 3, &data[..1700]), "replayout") {
        Err(Error::Tar {
            member,
            source: TarError::Truncated { offset },
            ..
        }) => assert_eq!((member, offset), (3, 1700)),
        other => panic!("expected a truncated tar, got {other:?}"),
    }
}

#[test]
fn anything_after_the_data_member_is_read_as_gzip_and_hashed() {
    let bytes = original();
    let garbage = [bytes.clone(), b"trailing garbage".to_vec()].concat();
    match archive::read_package(&garbage, "replayout") {
        Err(Error::NotGzip { member, offset, .. }) => assert_eq!((member, offset), (4, END as u64)),
        other => panic!("expected NotGzip, got {other:?}"),
    }
    // Fewer than 10 bytes cannot even hold a gzip header (Go: io.ErrUnexpectedEOF).
    let short = [bytes.clone(), b"trailer".to_vec()].concat();
    match archive::read_package(&short, "replayout") {
        Err(Error::Truncated { member, offset, .. }) => {
            assert_eq!((member, offset), (4, END as u64 + 7))
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
    let extra_member = [bytes.clone(), gzip(b"", 6)].concat();
    match archive::read_package(&extra_member, "replayout") {
        Err(Error::DataHash { actual, .. }) => {
            assert_eq!(
                actual,
                hex::encode(sha2::Sha256::digest(&extra_member[DATA_START..]))
            );
        }
        other => panic!("expected DataHash, got {other:?}"),
    }
}

#[test]
fn not_gzip_and_gzip_header_fields() {
    let bytes = original();
    let tar = gunzip_all(&bytes);
    match archive::read_package(&tar, "replayout") {
        Err(Error::NotGzip { member, offset, .. }) => assert_eq!((member, offset), (1, 0)),
        other => panic!("expected NotGzip, got {other:?}"),
    }
    let signature_tar = gunzip_all(&bytes[member(1)]);
    let named = |name: Vec<u8>| {
        let mut encoder = GzBuilder::new()
            .filename(name)
            .comment("a comment")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), Compression::default());
        encoder.write_all(&signature_tar).expect("compress");
        let first = encoder.finish().expect("compress");
        [first, bytes[CONTROL_START..].to_vec()].concat()
    };
    // Optional header fields are skipped; the package still reads and verifies.
    let apk = apko_checks(&named(b"signature.tar".to_vec())).expect("reads");
    assert_eq!(
        apk.layout.control.range.first,
        apk.layout.signature.expect("signed").range.last + 1
    );
    // Go's gzip reader refuses header strings of 512 bytes or more.
    match archive::read_package(&named(vec![b'n'; 600]), "replayout") {
        Err(Error::GzipHeader { member, what, .. }) => {
            assert_eq!((member, what), (1, "header string longer than 512 bytes"));
        }
        other => panic!("expected GzipHeader, got {other:?}"),
    }
}

#[test]
fn decompression_limits_stop_large_members() {
    let bytes = original();
    let small_control = Limits {
        control: 1000,
        data: 1 << 20,
    };
    match PackageReader::open(bytes.as_slice(), "replayout", small_control) {
        Err(Error::TooLarge { member, limit, .. }) => assert_eq!((member, limit), (1, 1000)),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let small_data = Limits {
        control: 1 << 20,
        data: 5000,
    };
    let mut reader = PackageReader::open(bytes.as_slice(), "replayout", small_data).expect("opens");
    let result = loop {
        match reader.next_entry() {
            Ok(Some(_)) => continue,
            Ok(None) => break reader.finish().map(|_| ()),
            Err(error) => break Err(error),
        }
    };
    match result {
        Err(Error::TooLarge { member, limit, .. }) => assert_eq!((member, limit), (3, 5000)),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}
