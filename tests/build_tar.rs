//! Tests for the tar writer and reader: layers apko wrote and tars melange (Go `archive/tar`)
//! wrote are re-emitted byte for byte; edge cases follow Go's documented format choices.

use crate::support::{self, installed as help};
use receipts::codec::tar::{
    EntryType, Error, Format, HashingWriter, Header, PaxRecords, Reader, Timestamp, Writer,
};
use std::io::Read;

/// A header from the `tar` crate's view of an entry (an independent parser).
fn header_from_tar_crate(entry: &mut ::tar::Entry<'_, &[u8]>) -> Header {
    let mut pax_records = PaxRecords::new();
    if let Some(extensions) = entry.pax_extensions().expect("pax extensions") {
        for extension in extensions {
            let extension = extension.expect("pax record");
            pax_records.insert(extension.key_bytes(), extension.value_bytes());
        }
    }
    let raw = entry.header();
    Header {
        typeflag: EntryType(raw.entry_type().as_byte()),
        name: entry.path_bytes().into_owned(),
        linkname: entry
            .link_name_bytes()
            .map(|l| l.into_owned())
            .unwrap_or_default(),
        size: raw.size().expect("size") as i64,
        mode: i64::from(raw.mode().expect("mode")),
        uid: raw.uid().expect("uid") as i64,
        gid: raw.gid().expect("gid") as i64,
        uname: raw.username_bytes().unwrap_or_default().to_vec(),
        gname: raw.groupname_bytes().unwrap_or_default().to_vec(),
        mtime: Timestamp::from_seconds(raw.mtime().expect("mtime") as i64),
        devmajor: i64::from(raw.device_major().expect("devmajor").unwrap_or(0)),
        devminor: i64::from(raw.device_minor().expect("devminor").unwrap_or(0)),
        pax_records,
        ..Header::default()
    }
}

/// Parses `tar` with the `tar` crate and writes every entry again with our writer.
fn reemit_with_tar_crate(tar: &[u8]) -> (Vec<u8>, receipts::codec::tar::Hashed, usize) {
    let mut writer = Writer::new(HashingWriter::new(Vec::new()));
    let mut archive = ::tar::Archive::new(tar);
    let mut count = 0;
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let header = header_from_tar_crate(&mut entry);
        writer.append(&header, &mut entry).expect("append");
        count += 1;
    }
    let (bytes, hashed) = writer.finish().expect("finish").finish();
    (bytes, hashed, count)
}

#[test]
fn golden_layers_are_reemitted_byte_for_byte() {
    let mut layers = 0;
    for layout in help::golden_layouts() {
        for layer in help::golden_layers(&layout) {
            let (ours, hashed, entries) = reemit_with_tar_crate(&layer.tar);
            assert!(entries > 0, "{}: no entries", layer.label);
            assert_eq!(ours.len(), layer.tar.len(), "{}: length", layer.label);
            if let Some(at) = ours.iter().zip(&layer.tar).position(|(a, b)| a != b) {
                panic!(
                    "{}: first difference at byte {at} (block {})",
                    layer.label,
                    at / 512
                );
            }
            assert_eq!(hex::encode(hashed.sha256), layer.diff_id, "{}", layer.label);
            assert_eq!(hashed.size, layer.tar.len() as u64);
            layers += 1;
        }
    }
    // golden: 2 layers, features: 2, layering: 4, cacerts: 1.
    assert_eq!(layers, 9);
}

#[test]
fn upstream_golden_amd64_layer_has_the_documented_shape() {
    let layout = support::data("chainguard-dev/apko/internal/cli/testdata/golden");
    let layers = help::golden_layers(&layout);
    let amd64 = layers
        .iter()
        .find(|l| l.diff_id.starts_with("20f69846"))
        .expect("amd64 layer");
    let (ours, hashed, entries) = reemit_with_tar_crate(&amd64.tar);
    assert_eq!(entries, 39);
    assert_eq!(ours.len(), 32768);
    assert_eq!(
        hex::encode(hashed.sha256),
        "20f698463c2755b6dc42b7d07e959ed7455a06e7367d507e829a315898f21a01"
    );
    // The first header is `dev`, a directory with checksum `007704\0 ` (apko-format.md §7.5).
    assert_eq!(&ours[..4], b"dev\0");
    assert_eq!(&ours[148..156], b"007704\0 ");
    assert_eq!(&ours[31744..], &[0u8; 1024][..]);
}

/// Go-written tars inside melange-built packages: signature, control and data members. (The
/// packages of the derived goldens are not listed: they were not written by Go — their
/// headers leave the device fields NUL and their data tars are padded to 10 KiB records.)
fn melange_packages() -> Vec<std::path::PathBuf> {
    let mut paths = Vec::new();
    for dir in [
        "chainguard-dev/apko/internal/cli/testdata/packages/x86_64",
        "chainguard-dev/apko/internal/cli/testdata/packages/aarch64",
        "chainguard-dev/apko/internal/cli/testdata/private_packages/packages/x86_64",
        "chainguard-dev/apko/internal/cli/testdata/private_packages/packages/aarch64",
    ] {
        let dir = support::data(dir);
        for entry in std::fs::read_dir(&dir).expect("package directory") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "apk") {
                paths.push(path);
            }
        }
    }
    for file in [
        "chainguard-dev/apko/pkg/apk/apk/testdata/hello-wolfi-2.12.1-r0.apk",
        "chainguard-dev/apko/pkg/apk/fs/testdata/hello-2.12-r0.apk",
        "chainguard-dev/melange/pkg/sca/testdata/libcap-2.69-r0.apk",
        "chainguard-dev/melange/pkg/sca/testdata/perl-json-4.11-r0.apk",
        "chainguard-dev/melange/pkg/sca/testdata/bash-doc-5.2.37-r2.apk",
        "chainguard-dev/melange/pkg/sca/testdata/ruby3.2-base64-0.2.0-r2.apk",
        "wolfi-dev/wolfictl/pkg/checks/testdata/hello-wolfi-2.12-r1.apk",
    ] {
        paths.push(support::data(file));
    }
    paths.sort();
    paths
}

/// Reads `tar` with our reader and writes it again; `end` says whether it had end blocks.
fn reemit_with_our_reader(tar: &[u8]) -> (Vec<u8>, Vec<Header>) {
    let mut reader = Reader::new(tar);
    let mut writer = Writer::new(Vec::new());
    let mut headers = Vec::new();
    while let Some(header) = reader.next_header().expect("header") {
        writer.append(&header, &mut reader).expect("append");
        headers.push(header);
    }
    (writer.get_ref().clone(), headers)
}

#[test]
fn melange_package_tars_are_reemitted_byte_for_byte() {
    let mut tars = 0;
    let mut pax_entries = 0;
    let mut xattrs = 0;
    for path in melange_packages() {
        let apk = help::read_apk(&path);
        let members = apk.signature.iter().chain([&apk.control, &apk.data]);
        for member in members {
            let (body, headers) = reemit_with_our_reader(&member.data);
            // Signature and control tars are cut before the end marker; data tars keep it.
            let expected = if member.data.len() == body.len() + 1024 {
                assert!(member.data.ends_with(&[0u8; 1024]));
                &member.data[..body.len()]
            } else {
                &member.data[..]
            };
            assert_eq!(body, expected, "{}", path.display());
            pax_entries += headers.iter().filter(|h| h.format == Format::Pax).count();
            xattrs += headers
                .iter()
                .flat_map(|h| h.pax_records.iter())
                .filter(|(k, _)| k.starts_with(b"SCHILY.xattr."))
                .count();
            tars += 1;
        }
    }
    // 12 signed melange fixtures (3 tars each), 5 signed and 2 unsigned Wolfi packages.
    assert_eq!(tars, 12 * 3 + 5 * 3 + 2 * 2);
    assert!(pax_entries > 100, "only {pax_entries} PAX entries");
    assert!(xattrs > 0, "no xattr records exercised");
}

fn header(name: &str, typeflag: EntryType) -> Header {
    Header {
        typeflag,
        name: name.as_bytes().to_vec(),
        mode: 0o644,
        ..Header::default()
    }
}

/// Writes one entry with `content` (its size set from the content) and the end marker.
fn write_one(header: &Header, content: &[u8]) -> Vec<u8> {
    let mut header = header.clone();
    if !header.typeflag.is_header_only() {
        header.size = content.len() as i64;
    }
    let mut writer = Writer::new(Vec::new());
    writer.append(&header, content).expect("append");
    writer.finish().expect("finish")
}

fn field(block: &[u8], range: std::ops::Range<usize>) -> &[u8] {
    &block[range]
}

/// One entry as the `tar` crate reads it back.
struct ReadBack {
    path: Vec<u8>,
    link: Vec<u8>,
    content: Vec<u8>,
    header: ::tar::Header,
}

fn tar_crate_entries(bytes: &[u8]) -> Vec<ReadBack> {
    let mut archive = ::tar::Archive::new(bytes);
    let mut out = Vec::new();
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("content");
        out.push(ReadBack {
            path: entry.path_bytes().into_owned(),
            link: entry
                .link_name_bytes()
                .map(|l| l.into_owned())
                .unwrap_or_default(),
            content,
            header: entry.header().clone(),
        });
    }
    out
}

#[test]
fn long_names_split_into_the_ustar_prefix_when_they_can() {
    let dir = "d".repeat(120);
    let name = format!("{dir}/file.txt");
    let bytes = write_one(&header(&name, EntryType::REGULAR), b"");
    assert_eq!(bytes.len(), 512 + 1024, "one USTAR block, no PAX header");
    assert_eq!(field(&bytes, 0..9), b"file.txt\0");
    assert_eq!(field(&bytes, 345..465), dir.as_bytes());
    assert_eq!(field(&bytes, 257..265), b"ustar\x0000");
    assert_eq!(tar_crate_entries(&bytes)[0].path, name.as_bytes());
}

#[test]
fn names_beyond_the_prefix_get_a_pax_header() {
    let name = format!("{}/{}", "a".repeat(200), "b".repeat(80));
    let bytes = write_one(&header(&name, EntryType::REGULAR), b"hello");
    // `x` header, one block of records, main header, one block of data, end marker.
    assert_eq!(bytes.len(), 512 * 4 + 1024);
    assert_eq!(bytes[156], b'x');
    // Name `<dir>/PaxHeaders.0/<base>`, cut to 100 bytes.
    assert_eq!(field(&bytes, 0..100), &"a".repeat(100).into_bytes()[..]);
    assert_eq!(field(&bytes, 124..136), b"00000000443\0");
    // PAX headers leave uname, gname and the device fields NUL (apko-format.md §7.6).
    assert_eq!(field(&bytes, 265..345), &[0u8; 80][..]);
    let record = format!("291 path={name}\n");
    assert_eq!(record.len(), 291);
    assert_eq!(field(&bytes, 512..512 + 291), record.as_bytes());
    // The main header holds the first 100 bytes of the name and no prefix.
    assert_eq!(bytes[1024 + 156], b'0');
    assert_eq!(field(&bytes, 1024..1124), &"a".repeat(100).into_bytes()[..]);
    assert_eq!(field(&bytes, 1024 + 345..1024 + 500), &[0u8; 155][..]);
    assert_eq!(
        field(&bytes, 1024 + 329..1024 + 345),
        b"0000000\x000000000\0"
    );
    let entries = tar_crate_entries(&bytes);
    assert_eq!(entries[0].path, name.as_bytes());
    assert_eq!(entries[0].content, b"hello");
}

#[test]
fn non_ascii_names_get_a_pax_path_and_an_ascii_header_name() {
    let name = "etc/caf\u{e9}.conf";
    let bytes = write_one(&header(name, EntryType::REGULAR), b"x");
    assert_eq!(bytes[156], b'x');
    assert_eq!(field(&bytes, 0..26), b"etc/PaxHeaders.0/caf.conf\0");
    let record = format!("23 path={name}\n");
    assert_eq!(record.len(), 23);
    assert_eq!(field(&bytes, 512..512 + record.len()), record.as_bytes());
    assert_eq!(field(&bytes, 1024..1037), b"etc/caf.conf\0");
    assert_eq!(tar_crate_entries(&bytes)[0].path, name.as_bytes());
}

#[test]
fn large_ids_and_sizes_move_to_pax_records() {
    let mut h = header("big", EntryType::SYMLINK);
    h.linkname = b"target".to_vec();
    h.uid = 2_097_152; // 0o10000000: one past the 7-digit octal field
    h.size = 8 << 30; // 8 GiB: one past the 11-digit octal field; symlinks carry no data
    let bytes = write_one(&h, &b""[..]);
    assert_eq!(bytes.len(), 512 * 3 + 1024);
    assert_eq!(field(&bytes, 0..20), b"PaxHeaders.0/big\0\0\0\0");
    let body = b"19 size=8589934592\n15 uid=2097152\n";
    assert_eq!(field(&bytes, 512..512 + body.len()), body);
    // The main header writes zeros where octal does not fit.
    assert_eq!(field(&bytes, 1024 + 108..1024 + 116), b"0000000\0");
    assert_eq!(field(&bytes, 1024 + 124..1024 + 136), b"00000000000\0");
    // (The `tar` crate would try to read 8 GiB of data; Go and our reader know symlinks have none.)
    let mut reader = Reader::new(&bytes[..]);
    let read = reader.next_header().expect("read").expect("entry");
    assert_eq!(
        (read.uid, read.size, read.format),
        (2_097_152, 8 << 30, Format::Pax)
    );
    assert_eq!(read.linkname, b"target");
    assert!(reader.next_header().expect("end").is_none());
}

#[test]
fn modes_beyond_octal_fall_back_to_gnu_base256() {
    let mut h = header("odd", EntryType::REGULAR);
    h.mode = 0o10000000;
    let bytes = write_one(&h, b"");
    assert_eq!(bytes.len(), 512 + 1024);
    assert_eq!(field(&bytes, 257..265), b"ustar  \0");
    assert_eq!(field(&bytes, 100..108), &[0x80, 0, 0, 0, 0, 0x20, 0, 0][..]);
    assert_eq!(field(&bytes, 329..345), b"0000000\x000000000\0");
}

#[test]
fn a_requested_format_is_kept() {
    // What Go reads back from an Alpine control tar (PAX atime/ctime records, Format PAX)
    // after apko zeroes atime and ctime: PAX is the only format left, but no record remains,
    // so the header goes out alone with the USTAR magic and without prefix splitting.
    let mut h = header(
        &format!("{}/{}", "p".repeat(60), "s".repeat(60)),
        EntryType::REGULAR,
    );
    h.format = Format::Pax;
    h.pax_records = [("atime", "0"), ("ctime", "0")].into_iter().collect();
    h.mtime = Timestamp::from_seconds(1_655_134_747);
    let bytes = write_one(&h, b"");
    assert_eq!(
        bytes.len(),
        512 + 512 + 512 + 1024,
        "PAX path record for the long name"
    );
    assert_eq!(bytes[156], b'x');
    assert_eq!(
        field(&bytes, 1024 + 345..1024 + 346),
        b"\0",
        "no USTAR prefix"
    );

    let mut short = header("busybox.post-install", EntryType::REGULAR);
    short.format = Format::Pax;
    short.pax_records = [("atime", "0"), ("ctime", "0")].into_iter().collect();
    let bytes = write_one(&short, b"");
    assert_eq!(bytes.len(), 512 + 1024);
    assert_eq!(field(&bytes, 257..265), b"ustar\x0000");

    short.format = Format::Gnu;
    short.pax_records = PaxRecords::new();
    short.uname = b"root".to_vec();
    let bytes = write_one(&short, b"");
    assert_eq!(field(&bytes, 257..269), b"ustar  \0root");
    assert_eq!(field(&bytes, 329..345), b"0000000\x000000000\0");
}

#[test]
fn unrequested_formats_round_mtime_and_drop_atime() {
    let mut h = header("t", EntryType::REGULAR);
    h.mtime = Timestamp::from_parts(10, 500_000_000);
    h.atime = Some(Timestamp::from_seconds(7));
    let bytes = write_one(&h, b"");
    assert_eq!(bytes.len(), 512 + 1024, "USTAR, no PAX header");
    assert_eq!(field(&bytes, 136..148), b"00000000013\0");

    h.format = Format::Pax;
    let bytes = write_one(&h, b"");
    let body = b"11 atime=7\n14 mtime=10.5\n";
    assert_eq!(field(&bytes, 512..512 + body.len()), body);
}

#[test]
fn xattr_records_are_sorted_and_force_pax() {
    let mut h = header("usr/bin/ping", EntryType::REGULAR);
    h.pax_records = [
        ("SCHILY.xattr.security.capability", "\u{1}\u{0}\u{0}\u{2}"),
        ("APK-TOOLS.checksum.SHA1", "0123"),
    ]
    .into_iter()
    .collect();
    let bytes = write_one(&h, b"");
    assert_eq!(field(&bytes, 0..30), b"usr/bin/PaxHeaders.0/ping\0\0\0\0\0");
    let body =
        b"32 APK-TOOLS.checksum.SHA1=0123\n41 SCHILY.xattr.security.capability=\x01\x00\x00\x02\n";
    assert_eq!(field(&bytes, 512..512 + body.len()), &body[..]);
}

#[test]
fn every_entry_type_round_trips_through_the_tar_crate() {
    let mut writer = Writer::new(Vec::new());
    let mut dir = header("etc", EntryType::DIRECTORY);
    dir.mode = 0o1777;
    dir.mtime = Timestamp::from_seconds(1_700_000_000);
    writer.append(&dir, &b""[..]).expect("dir");
    let mut file = header("etc/os-release", EntryType::REGULAR);
    file.size = 600;
    file.uid = 501;
    file.gid = 20;
    file.uname = b"user".to_vec();
    let content: Vec<u8> = (0..600u32).map(|i| (i % 251) as u8).collect();
    writer.append(&file, &content[..]).expect("file");
    let mut link = header("lib/apk", EntryType::SYMLINK);
    link.linkname = b"../usr/lib/apk".to_vec();
    link.mode = 0o777;
    writer.append(&link, &b""[..]).expect("symlink");
    let mut hard = header("etc/os-release.hard", EntryType::HARDLINK);
    hard.linkname = b"etc/os-release".to_vec();
    writer.append(&hard, &b""[..]).expect("hardlink");
    let mut console = header("dev/console", EntryType::CHAR_DEVICE);
    console.mode = 0o620;
    console.devmajor = 5;
    console.devminor = 1;
    writer.append(&console, &b""[..]).expect("device");
    let long_link_target = format!("/{}", "t".repeat(150));
    let mut long_link = header("long", EntryType::SYMLINK);
    long_link.linkname = long_link_target.clone().into_bytes();
    writer.append(&long_link, &b""[..]).expect("long link");
    let bytes = writer.finish().expect("finish");

    let entries = tar_crate_entries(&bytes);
    assert_eq!(entries.len(), 6);
    assert_eq!(entries[0].path, b"etc");
    assert_eq!(entries[0].header.mode().expect("mode"), 0o1777);
    assert_eq!(entries[0].header.mtime().expect("mtime"), 1_700_000_000);
    assert_eq!(entries[1].content, content);
    assert_eq!(entries[1].header.uid().expect("uid"), 501);
    assert_eq!(entries[1].header.username_bytes(), Some(&b"user"[..]));
    assert_eq!(entries[2].link, b"../usr/lib/apk");
    assert_eq!(entries[3].header.entry_type(), ::tar::EntryType::Link);
    assert_eq!(entries[3].link, b"etc/os-release");
    assert_eq!(entries[4].header.device_major().expect("major"), Some(5));
    assert_eq!(entries[4].header.device_minor().expect("minor"), Some(1));
    assert_eq!(entries[5].link, long_link_target.as_bytes());

    // Our reader sees the same headers that were written.
    let mut reader = Reader::new(&bytes[..]);
    let first = reader.next_header().expect("read").expect("entry");
    assert_eq!(first.name, b"etc");
    assert_eq!(first.format, Format::Ustar);
    let second = reader.next_header().expect("read").expect("entry");
    assert_eq!((second.uid, second.gid, second.size), (501, 20, 600));
    let mut read_back = Vec::new();
    reader.read_to_end(&mut read_back).expect("content");
    assert_eq!(read_back, content);
}

#[test]
fn short_content_and_bad_headers_are_errors() {
    let mut h = header("f", EntryType::REGULAR);
    h.size = 10;
    let mut writer = Writer::new(Vec::new());
    let err = writer.append(&h, &b"short"[..]).expect_err("too short");
    assert!(matches!(
        err,
        Error::ContentTooShort {
            size: 10,
            written: 5,
            ..
        }
    ));
    let slash = header("dir/", EntryType::REGULAR);
    let err = Writer::new(Vec::new())
        .append(&slash, &b""[..])
        .expect_err("trailing slash");
    assert!(matches!(err, Error::Unencodable { .. }), "{err}");
    let mut corrupt = write_one(&header("x", EntryType::REGULAR), b"");
    corrupt[0] = b'y';
    let err = Reader::new(&corrupt[..])
        .next_header()
        .expect_err("checksum");
    assert!(
        matches!(err, Error::InvalidHeader { offset: 0, .. }),
        "{err}"
    );
}
