//! The layer compressor and strict reader against reference vectors (apko-format.md §9).
//!
//! Not for: speed (benches/compress.rs). Goldens come only from the shared test data: the
//! pgzip reference vectors, the apko golden OCI layouts and apko-built layouts.

use std::io::{Read, Write};

use flate2::read::GzDecoder;
use receipts::compress::{self, Options, Writer};
use sha2::{Digest, Sha256};

use crate::support;

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("gunzip: {e}"));
    out
}

fn pgzip_vectors() -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let dir = support::data("derived/pgzip");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".pgzip").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let input = gunzip(&std::fs::read(dir.join(format!("{name}.input.gz"))).unwrap());
            let expected = std::fs::read(dir.join(format!("{name}.pgzip"))).unwrap();
            (name, input, expected)
        })
        .collect()
}

#[test]
fn pgzip_reference_vectors_match_byte_for_byte() {
    let vectors = pgzip_vectors();
    assert_eq!(vectors.len(), 11, "eleven reference pairs");
    let mut failures = Vec::new();
    for (name, input, expected) in &vectors {
        let ours = compress::gzip(input);
        if &ours != expected {
            let first = ours.iter().zip(expected.iter()).position(|(a, b)| a != b);
            failures.push(format!(
                "{name}: ours {} bytes, reference {} bytes, first difference at {:?}",
                ours.len(),
                expected.len(),
                first
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A gzip layer named by an OCI manifest: where it came from, its digest and its bytes.
struct Layer {
    origin: String,
    digest: String,
    blob: Vec<u8>,
}

/// Every `tar+gzip` layer reachable from an OCI layout's `index.json` (through nested indexes
/// and manifests), each listed once.
fn layout_layers(layout: &std::path::Path) -> Vec<Layer> {
    fn blob(layout: &std::path::Path, digest: &str) -> Vec<u8> {
        let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
        std::fs::read(layout.join("blobs/sha256").join(hex))
            .unwrap_or_else(|e| panic!("{}: blob {digest}: {e}", layout.display()))
    }
    let mut layers: Vec<Layer> = Vec::new();
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let mut queue: Vec<serde_json::Value> = index["manifests"].as_array().unwrap().clone();
    while let Some(descriptor) = queue.pop() {
        let digest = descriptor["digest"].as_str().unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&blob(layout, digest)).unwrap();
        if let Some(children) = doc["manifests"].as_array() {
            queue.extend(children.iter().cloned());
        }
        for layer in doc["layers"].as_array().into_iter().flatten() {
            let media_type = layer["mediaType"].as_str().unwrap();
            if !media_type.ends_with("tar+gzip") {
                continue;
            }
            let digest = layer["digest"].as_str().unwrap().to_owned();
            if layers.iter().any(|l| l.digest == digest) {
                continue;
            }
            let bytes = blob(layout, &digest);
            assert_eq!(bytes.len() as u64, layer["size"].as_u64().unwrap());
            layers.push(Layer {
                origin: layout.display().to_string(),
                digest,
                blob: bytes,
            });
        }
    }
    layers
}

fn golden_layers() -> Vec<Layer> {
    let mut layouts = vec![
        support::data("chainguard-dev/apko/internal/cli/testdata/golden"),
        support::data("chainguard-dev/apko/internal/cli/testdata/base_image"),
        support::data("chainguard-dev/apko/internal/cli/testdata/top_image"),
    ];
    let goldens = support::data("derived/apko/goldens");
    let mut cases: Vec<_> = std::fs::read_dir(&goldens)
        .unwrap()
        .map(|e| e.unwrap().path().join("expected"))
        .filter(|p| p.join("index.json").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 3, "derived apko golden cases");
    layouts.extend(cases);
    let layers: Vec<Layer> = layouts.iter().flat_map(|l| layout_layers(l)).collect();
    // No gzip blob is left out: every blob that starts with the gzip magic is a listed layer.
    for layout in &layouts {
        for entry in std::fs::read_dir(layout.join("blobs/sha256")).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            if bytes.starts_with(&[0x1f, 0x8b]) {
                let digest = format!("sha256:{}", path.file_name().unwrap().to_string_lossy());
                assert!(
                    layers.iter().any(|l| l.digest == digest),
                    "{}: gzip blob {digest} not reached from index.json",
                    layout.display()
                );
            }
        }
    }
    layers
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[test]
fn golden_layers_recompress_to_the_published_blobs() {
    let layers = golden_layers();
    let digests: Vec<&str> = layers.iter().map(|l| l.digest.as_str()).collect();
    // The two layers of §13.7, and a multi-block layer from apko itself.
    assert!(
        digests
            .contains(&"sha256:c7557730da0e2d7fb242d8d1ac6dcf7e3a2439732aa5981270b4f3a02454b738")
    );
    assert!(
        digests
            .contains(&"sha256:7e0f9d62f6cab4785e18a55f17d03f20ffb776881f1f46258efd9458f7cdaf08")
    );
    let mut multi_block = 0;
    let mut failures = Vec::new();
    for layer in &layers {
        let tar = gunzip(&layer.blob);
        if tar.len() > compress::BLOCK_SIZE {
            multi_block += 1;
        }
        let mut writer = Writer::new(Vec::new(), Options::apko());
        writer.write_all(&tar).unwrap();
        let done = writer.finish().unwrap();
        let digest = format!("sha256:{}", hex::encode(done.digest_sha256));
        if done.sink != layer.blob || digest != layer.digest {
            let first = done.sink.iter().zip(&layer.blob).position(|(a, b)| a != b);
            failures.push(format!(
                "{} {}: ours {} bytes ({digest}), golden {} bytes, first difference at {first:?}",
                layer.origin,
                layer.digest,
                done.sink.len(),
                layer.blob.len()
            ));
            continue;
        }
        assert_eq!(done.size, layer.blob.len() as u64);
        assert_eq!(done.uncompressed_size, tar.len() as u64);
        assert_eq!(sha256_hex(&done.sink), layer.digest);
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(layers.len() >= 12, "found {} golden layers", layers.len());
    assert!(multi_block >= 1, "a multi-block golden layer");
}

/// splitmix64: a small seeded generator so the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

/// A ustar archive of the shared test data's files (sorted, repeated until `min_len`).
fn testdata_tar(min_len: usize) -> Vec<u8> {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if crate::support::is_real_dir(&path) {
                files(&path, out);
            } else if path.is_file() {
                out.push(path);
            }
        }
    }
    fn octal(field: &mut [u8], value: u64) {
        let width = field.len() - 1;
        let text = format!("{value:0width$o}");
        field[..width].copy_from_slice(text.as_bytes());
    }
    let root = support::testdata();
    let mut paths = Vec::new();
    files(&root, &mut paths);
    assert!(!paths.is_empty());
    let mut tar = Vec::new();
    'fill: for round in 0.. {
        for path in &paths {
            if tar.len() >= min_len {
                break 'fill;
            }
            let content = std::fs::read(path).unwrap();
            let rel = path.strip_prefix(&root).unwrap().to_string_lossy();
            let name = format!("{round}/{rel}");
            let name = &name.as_bytes()[..name.len().min(99)];
            let mut header = [0u8; 512];
            header[..name.len()].copy_from_slice(name);
            octal(&mut header[100..108], 0o644);
            octal(&mut header[108..116], 0);
            octal(&mut header[116..124], 0);
            octal(&mut header[124..136], content.len() as u64);
            octal(&mut header[136..148], 0);
            header[148..156].fill(b' ');
            header[156] = b'0';
            header[257..263].copy_from_slice(b"ustar\0");
            header[263..265].copy_from_slice(b"00");
            let sum: u32 = header.iter().map(|&b| b as u32).sum();
            octal(&mut header[148..155], sum as u64);
            tar.extend_from_slice(&header);
            tar.extend_from_slice(&content);
            tar.resize(tar.len().div_ceil(512) * 512, 0);
        }
    }
    tar.extend_from_slice(&[0u8; 1024]);
    tar
}

/// English-like text: words drawn from a small vocabulary.
fn text(rng: &mut Rng, len: usize) -> Vec<u8> {
    const WORDS: [&str; 16] = [
        "the ",
        "layer ",
        "is ",
        "compressed ",
        "with ",
        "level ",
        "five ",
        "and ",
        "blocks ",
        "of ",
        "one ",
        "mebibyte ",
        "each, ",
        "dictionary ",
        "tail. ",
        "\n",
    ];
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        out.extend_from_slice(WORDS[(rng.next() % 16) as usize].as_bytes());
    }
    out.truncate(len);
    out
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let mib = 1 << 20;
    let mut rng = Rng(0x5eed);
    let mut c: Vec<(String, Vec<u8>)> = Vec::with_capacity(24);
    c.push(("empty".into(), Vec::new()));
    c.push(("one byte".into(), b"x".to_vec()));
    c.push((
        "12 bytes (below the matcher minimum)".into(),
        b"abcabcabcabc".to_vec(),
    ));
    c.push(("32 bytes (largest tiny stored)".into(), text(&mut rng, 32)));
    c.push(("33 bytes (tiny Huffman-only)".into(), text(&mut rng, 33)));
    c.push(("128 bytes".into(), text(&mut rng, 128)));
    c.push(("one window (65535)".into(), text(&mut rng, 65535)));
    c.push(("one window + 1".into(), text(&mut rng, 65536)));
    c.push(("16 KiB".into(), text(&mut rng, 16 * 1024)));
    c.push(("16 KiB + 1".into(), text(&mut rng, 16 * 1024 + 1)));
    c.push(("exactly 1 MiB".into(), text(&mut rng, mib)));
    c.push(("1 MiB + 1".into(), text(&mut rng, mib + 1)));
    c.push(("exactly 2 MiB".into(), text(&mut rng, 2 * mib)));
    c.push(("3 MiB + 17 zeros".into(), vec![0u8; 3 * mib + 17]));
    c.push((
        "all byte values cycling".into(),
        (0..=255u8).cycle().take(mib + 333).collect(),
    ));
    let period = |rng: &mut Rng, p: usize| -> Vec<u8> {
        let unit = rng.bytes(p);
        unit.iter().copied().cycle().take(3 * p + 1000).collect()
    };
    c.push((
        "period 32767 (farthest match)".into(),
        period(&mut rng, 32767),
    ));
    c.push((
        "period 32768 (just out of reach)".into(),
        period(&mut rng, 32768),
    ));
    c.push(("small alphabet random (Huffman-only)".into(), {
        (0..3 * mib)
            .map(|_| b"acgt"[(rng.next() % 4) as usize])
            .collect()
    }));
    c.push(("random and text interleaved".into(), {
        let mut v = Vec::new();
        for i in 0..40 {
            let len = 20_000 + (rng.next() % 90_000) as usize;
            if i % 2 == 0 {
                v.extend(rng.bytes(len));
            } else {
                v.extend(text(&mut rng, len));
            }
        }
        v
    }));
    c.push(("sparse: zeros with random bytes".into(), {
        let mut v = vec![0u8; 2 * mib + 4321];
        for _ in 0..5000 {
            let at = (rng.next() % v.len() as u64) as usize;
            v[at] = rng.next() as u8;
        }
        v
    }));
    c.push(("64 MiB random".into(), rng.bytes(64 * mib)));
    c.push(("64 MiB tar of the test data".into(), testdata_tar(64 * mib)));
    c
}

fn external_gzip(args: &[&str], input: &[u8]) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut child = Command::new("gzip")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("the external `gzip` is required for this test: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    output
}

#[test]
fn every_output_decompresses_to_its_input_with_flate2_strict_and_gzip() {
    let corpus = corpus();
    assert!(corpus.len() >= 20);
    for (name, input) in &corpus {
        let mut writer = Writer::new(Vec::new(), Options::apko());
        // Odd-sized writes, so block cutting cannot lean on the caller's chunking.
        for chunk in input.chunks(100_003) {
            writer.write_all(chunk).unwrap();
        }
        let done = writer.finish().unwrap();
        let gz = done.sink;
        assert_eq!(done.size, gz.len() as u64, "{name}");
        assert_eq!(
            hex::encode(done.digest_sha256),
            hex::encode(Sha256::digest(&gz))
        );
        assert_eq!(&gz[..10], &compress::HEADER, "{name}: Go's gzip header");
        assert_eq!(&gunzip(&gz), input, "{name}: flate2");

        let (strict, verified) = compress::strict::decompress(&gz)
            .unwrap_or_else(|e| panic!("{name}: strict reader: {e}"));
        assert!(&strict == input, "{name}: strict reader output");
        assert_eq!(verified.size, input.len() as u64);
        assert_eq!(
            verified.digest_sha256.as_slice(),
            Sha256::digest(input).as_slice()
        );

        let tested = external_gzip(&["-t"], &gz);
        assert!(tested.status.success(), "{name}: gzip -t: {tested:?}");
        let unzipped = external_gzip(&["-dc"], &gz);
        assert!(unzipped.status.success(), "{name}: gzip -dc");
        assert!(&unzipped.stdout == input, "{name}: gzip -dc output");

        if input.len() <= 4 << 20 {
            assert!(gz == compress::gzip(input), "{name}: in-memory path");
        }
    }
}

#[test]
fn output_is_identical_whatever_the_thread_count_and_write_sizes() {
    let mut rng = Rng(7);
    let mut input = text(&mut rng, 5 << 20);
    input.extend(rng.bytes(3 << 20));
    input.extend(testdata_tar(3 << 20));
    input.extend(text(&mut rng, 12345));
    let reference = compress::gzip(&input);
    for (threads, chunk) in [(1, 1 << 20), (2, 4096), (3, 777_777), (8, (1 << 20) + 1)] {
        let mut writer = Writer::new(Vec::new(), Options::apko().threads(threads));
        for piece in input.chunks(chunk) {
            writer.write_all(piece).unwrap();
        }
        let done = writer.finish().unwrap();
        assert!(
            done.sink == reference,
            "{threads} threads, {chunk}-byte writes: different bytes"
        );
        assert_eq!(
            done.digest_sha256.as_slice(),
            Sha256::digest(&reference).as_slice()
        );
        assert_eq!(done.uncompressed_size, input.len() as u64);
    }
}

#[test]
fn a_failing_sink_surfaces_its_error() {
    struct Full(usize);
    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "full"));
            }
            let n = buf.len().min(self.0);
            self.0 -= n;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let input = Rng(3).bytes(6 << 20);
    for threads in [1, 2] {
        let mut writer = Writer::new(Full(100_000), Options::apko().threads(threads));
        let result = writer
            .write_all(&input)
            .and_then(|()| writer.finish().map(|_| ()));
        let err = result.expect_err("a full sink must fail the compression");
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::StorageFull,
            "{threads} threads"
        );
    }
}

mod strict_reader {
    use std::io::Read;

    use receipts::compress::strict::{self, Error, Reader};
    use sha2::{Digest, Sha256};

    use super::{Rng, golden_layers, gunzip};
    use crate::support;

    /// The amd64 golden layer (apko-format.md §13.7): a real gzip to mutate.
    fn layer() -> Vec<u8> {
        std::fs::read(support::data(
            "chainguard-dev/apko/internal/cli/testdata/golden/blobs/sha256/\
             c7557730da0e2d7fb242d8d1ac6dcf7e3a2439732aa5981270b4f3a02454b738",
        ))
        .unwrap()
    }

    /// The layer with flag `flag` set and `field` inserted after the fixed header.
    fn with_field(flag: u8, field: &[u8]) -> Vec<u8> {
        let mut gz = layer();
        gz[3] |= flag;
        gz.splice(10..10, field.iter().copied());
        gz
    }

    fn strict_err(bytes: &[u8]) -> Error {
        match strict::decompress(bytes) {
            Ok(_) => panic!("accepted a stream that must be rejected"),
            Err(e) => e,
        }
    }

    fn lenient(bytes: &[u8]) -> Result<strict::Verified, Error> {
        let mut reader = Reader::lenient(bytes);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).map_err(|e| {
            let inner = e.into_inner().expect("a strict::Error inside");
            *inner.downcast::<Error>().expect("a strict::Error inside")
        })?;
        let verified = reader.finish()?;
        assert_eq!(out, gunzip(&layer()));
        Ok(verified)
    }

    #[test]
    fn digests_of_golden_layers_are_their_diff_ids() {
        // The config's rootfs.diff_ids, matched to the manifest's layers by position.
        let layout = support::data("chainguard-dev/apko/internal/cli/testdata/golden/blobs/sha256");
        let config: serde_json::Value = serde_json::from_slice(
            &std::fs::read(
                layout.join("6c815259150f37d000417f9a93f41bddf74dff905c745986069d4b03e954ac1d"),
            )
            .unwrap(),
        )
        .unwrap();
        let diff_id = config["rootfs"]["diff_ids"][0].as_str().unwrap();
        assert_eq!(
            diff_id,
            "sha256:20f698463c2755b6dc42b7d07e959ed7455a06e7367d507e829a315898f21a01"
        );
        let (tar, verified) = strict::decompress(&layer()).unwrap();
        assert_eq!(
            format!("sha256:{}", hex::encode(verified.digest_sha256)),
            diff_id
        );
        assert_eq!(verified.size, tar.len() as u64);
        assert_eq!(verified.size, 32768, "ISIZE of §9.3");
        for layer in golden_layers() {
            let (tar, verified) =
                strict::decompress(&layer.blob).unwrap_or_else(|e| panic!("{}: {e}", layer.digest));
            assert_eq!(
                verified.digest_sha256.as_slice(),
                Sha256::digest(&tar).as_slice()
            );
        }
    }

    #[test]
    fn header_rejections() {
        let mut gz = layer();
        gz[1] = 0x8c;
        assert!(matches!(strict_err(&gz), Error::BadMagic([0x1f, 0x8c])));

        let mut gz = layer();
        gz[2] = 7;
        assert!(matches!(strict_err(&gz), Error::UnsupportedMethod(7)));

        let mut gz = layer();
        gz[3] = 0x20;
        assert!(matches!(strict_err(&gz), Error::ReservedFlags(0x20)));

        assert!(matches!(strict_err(&layer()[..7]), Error::TruncatedHeader));
        assert!(matches!(strict_err(&[]), Error::TruncatedHeader));
    }

    #[test]
    fn optional_header_fields_are_rejected_strictly_and_checked_leniently() {
        let expected_digest = strict::decompress(&layer()).unwrap().1;

        let extra = with_field(0x04, &[4, 0, b'a', b'b', 0, 0]);
        assert!(matches!(strict_err(&extra), Error::ExtraField));
        assert_eq!(lenient(&extra).unwrap(), expected_digest);

        let name = with_field(0x08, b"layer.tar\0");
        assert!(matches!(strict_err(&name), Error::FileName));
        assert_eq!(lenient(&name).unwrap(), expected_digest);

        let comment = with_field(0x10, b"made elsewhere\0");
        assert!(matches!(strict_err(&comment), Error::Comment));
        assert_eq!(lenient(&comment).unwrap(), expected_digest);

        // FHCRC: the low 16 bits of the CRC-32 of the header bytes before it.
        let mut header = layer()[..10].to_vec();
        header[3] |= 0x02;
        let crc16 = (crc32fast::hash(&header) as u16).to_le_bytes();
        let hcrc = with_field(0x02, &crc16);
        assert!(matches!(strict_err(&hcrc), Error::HeaderCrc));
        assert_eq!(lenient(&hcrc).unwrap(), expected_digest);
        let bad_hcrc = with_field(0x02, &[crc16[0] ^ 1, crc16[1]]);
        assert!(matches!(lenient(&bad_hcrc), Err(Error::HeaderCrcMismatch)));

        let cut_name = &with_field(0x08, b"layer.tar\0")[..15];
        assert!(matches!(lenient(cut_name), Err(Error::TruncatedHeader)));
    }

    #[test]
    fn body_and_trailer_rejections() {
        let gz = layer();
        let n = gz.len();

        // BTYPE 11 is reserved: the first block header becomes invalid.
        let mut bad = gz.clone();
        bad[10] |= 0b110;
        assert!(matches!(strict_err(&bad), Error::Deflate(_)));

        assert!(matches!(strict_err(&gz[..n / 2]), Error::TruncatedData));
        assert!(matches!(strict_err(&gz[..n - 3]), Error::TruncatedTrailer));

        let mut bad = gz.clone();
        bad[n - 8] ^= 0x01;
        assert!(matches!(strict_err(&bad), Error::CrcMismatch { .. }));

        let mut bad = gz.clone();
        bad[n - 2] ^= 0x01;
        assert!(
            matches!(strict_err(&bad), Error::SizeMismatch { expected, actual } if expected == 32768 ^ (1 << 16) && actual == 32768)
        );

        let mut bad = gz.clone();
        bad.push(0);
        assert!(matches!(strict_err(&bad), Error::TrailingBytes));

        // A second member (valid for gzip -d, not for a layer).
        let mut two = gz.clone();
        two.extend_from_slice(&gz);
        assert!(matches!(strict_err(&two), Error::TrailingBytes));
    }

    #[test]
    fn io_errors_and_repeated_reads_report_the_same_failure() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "gone",
                ))
            }
        }
        let mut reader = Reader::new(Broken);
        let err = reader.read(&mut [0u8; 16]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
        assert!(matches!(reader.finish(), Err(Error::Io(_))));

        let mut bad = layer();
        let n = bad.len();
        bad[n - 8] ^= 0xff;
        let mut reader = Reader::new(bad.as_slice());
        let err = std::io::copy(&mut reader, &mut std::io::sink()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(matches!(reader.finish(), Err(Error::CrcMismatch { .. })));
    }

    #[test]
    fn arbitrary_mutations_never_panic() {
        let gz = super::compress::gzip(&super::text(&mut Rng(11), 200_000));
        let mut rng = Rng(99);
        let mut rejected = 0;
        for round in 0..3000 {
            let mut bytes = gz.clone();
            match round % 3 {
                0 => {
                    for _ in 0..1 + rng.next() % 4 {
                        let at = (rng.next() % bytes.len() as u64) as usize;
                        bytes[at] ^= 1 << (rng.next() % 8);
                    }
                }
                1 => bytes.truncate((rng.next() % bytes.len() as u64) as usize),
                _ => {
                    let len = (rng.next() % 4096) as usize;
                    bytes = rng.bytes(len);
                }
            }
            if round % 3 == 2 && bytes.len() >= 2 {
                bytes[0] = 0x1f;
                bytes[1] = 0x8b;
            }
            if strict::decompress(&bytes).is_err() {
                rejected += 1;
            }
        }
        assert!(
            rejected > 2900,
            "almost every mutation is caught: {rejected}"
        );
    }
}
