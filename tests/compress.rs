//! The layer compressor and strict reader against reference vectors (apko-format.md §9).

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
    layouts.iter().flat_map(|l| layout_layers(l)).collect()
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
