//! The audit's comparison of a large image published in a loopback registry against its rebuild
//! (an OCI layout), against the floor: pulling every published layer, gunzipping it and hashing
//! the tar (what any check of the published bytes must do). Prints wall time and the peak RSS
//! of each phase as a markdown table.
//!
//! The image: one platform, layers of incompressible file data (so the compressed image is as
//! large as asked), compressed with our pgzip-compatible writer; published with `Store::publish`
//! to Debian's `docker-registry` (as the tests start it). Peak RSS is reset between phases
//! through `/proc/self/clear_refs`.
//!
//! Not for: correctness (tests/rebuild.rs), or the whole command (benches/audit.rs). Usage:
//! `cargo bench --bench audit_compare -- [MB] [runs]`
//! (default 200 MB, 3 runs). Under `cargo test` (no `--bench` argument) it does nothing.

#[path = "../tests/support/registry.rs"]
#[allow(dead_code)]
mod registry;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use receipts::codec::tar::{self, EntryType, Header};
use receipts::compress::{Options, Writer};
use receipts::oci::image_set::Content;
use receipts::oci::{Descriptor, Digest, ImageSet, Reference, Store, media_type};
use receipts::rebuild::{self, Side};
use sha2::Digest as _;

const LAYER_MB: usize = 50;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let total_mb = numbers.first().copied().unwrap_or(200);
    let runs = numbers.get(1).copied().unwrap_or(3);
    let work = tempfile::tempdir().expect("temp dir");
    let set = image(work.path(), total_mb);
    let compressed: u64 = set.blobs().iter().map(|b| b.descriptor.size).sum();
    let server = registry::Registry::start();
    let reference = format!("{}:v1", server.repository("bench/audit"));
    let published = Store::create(&Reference::parse(&reference).unwrap(), &Default::default())
        .expect("registry store");
    let root = published.publish(&set, Some("v1")).expect("publish").digest;
    let layout_dir = work.path().join("rebuilt");
    let rebuilt = Store::create(
        &Reference::parse(&format!("oci:{}", layout_dir.display())).unwrap(),
        &Default::default(),
    )
    .expect("layout");
    rebuilt
        .publish(&set, Some("rebuilt"))
        .expect("layout write");

    println!(
        "image: {} layers, {:.1} MB compressed, loopback registry\n",
        set.blobs().len() - 1,
        compressed as f64 / 1e6
    );
    println!("| phase | best wall time | MB/s (compressed) | peak RSS |");
    println!("|---|---|---|---|");
    let layers: Vec<Descriptor> = set
        .blobs()
        .iter()
        .filter(|b| b.descriptor.media_type == media_type::OCI_LAYER_GZIP)
        .map(|b| b.descriptor.clone())
        .collect();
    let (time, rss) = measure(runs, || floor(&published, &layers));
    row("floor: pull + gunzip + SHA-256", time, compressed, rss);
    let (time, rss) = measure(runs, || {
        let report = rebuild::compare_published(
            Side {
                store: &published,
                root,
                trusted: false,
            },
            &reference,
            Side {
                store: &rebuilt,
                root,
                trusted: true,
            },
            &rebuild::Options::default(),
        )
        .expect("audit");
        assert_eq!(report.verdict, rebuild::Verdict::Identical);
    });
    row("audit (identical)", time, compressed, rss);
}

fn row(name: &str, time: Duration, bytes: u64, rss_kb: u64) {
    println!(
        "| {name} | {:.2} s | {:.0} | {:.0} MB |",
        time.as_secs_f64(),
        bytes as f64 / 1e6 / time.as_secs_f64(),
        rss_kb as f64 / 1024.0
    );
}

/// Best wall time over `runs`, and the peak RSS (kB) reached during them.
fn measure(runs: usize, mut f: impl FnMut()) -> (Duration, u64) {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        f();
        best = best.min(start.elapsed());
    }
    (best, peak_rss_kb())
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Pulls each layer (digest checked by the store), gunzips it and hashes the tar.
fn floor(store: &Store, layers: &[Descriptor]) {
    for layer in layers {
        let mut sink = flate2::write::GzDecoder::new(HashSink(sha2::Sha256::new()));
        store.copy_blob(&layer.digest, &mut sink).expect("pull");
        let tar = sink.finish().expect("gunzip");
        std::hint::black_box(tar.0.finalize());
    }
}

struct HashSink(sha2::Sha256);

impl Write for HashSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An image of about `total_mb` compressed megabytes: layers of pseudo-random files, written
/// to files under `dir`, with its config and manifest.
fn image(dir: &Path, total_mb: usize) -> ImageSet {
    let mut set = ImageSet::new();
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for index in 0..total_mb.div_ceil(LAYER_MB) {
        let path = dir.join(format!("layer{index}.tar.gz"));
        let file = std::fs::File::create(&path).expect("layer file");
        let gzip = Writer::new(std::io::BufWriter::new(file), Options::apko());
        let mut tar = tar::Writer::new(tar::HashingWriter::new(gzip));
        for n in 0..LAYER_MB {
            let mut data = vec![0u8; 1 << 20];
            for chunk in data.chunks_mut(8) {
                // xorshift: incompressible, reproducible.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
            }
            let header = Header {
                typeflag: EntryType::REGULAR,
                name: format!("data/{index}/{n}.bin").into_bytes(),
                size: data.len() as i64,
                mode: 0o644,
                ..Header::default()
            };
            tar.append(&header, &data[..]).expect("tar");
        }
        let (gzip, hashed) = tar.finish().expect("tar end").finish();
        let compressed = gzip.finish().expect("gzip");
        let mut sink = compressed.sink;
        sink.flush().expect("flush");
        let digest = Digest::parse(&format!("sha256:{}", hex::encode(compressed.digest_sha256)))
            .expect("digest");
        let descriptor = Descriptor::new(media_type::OCI_LAYER_GZIP, compressed.size, digest);
        set.add_blob(descriptor.clone(), Content::File(path));
        layers.push(descriptor);
        diff_ids.push(format!("sha256:{}", hex::encode(hashed.sha256)));
    }
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "config": {}
    });
    let config = serde_json::to_vec(&config).expect("config");
    let config_descriptor = Descriptor::of(media_type::OCI_CONFIG, &config);
    set.add_blob(config_descriptor.clone(), Content::Bytes(config));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": config_descriptor,
        "layers": layers,
    });
    set.add_manifest(
        media_type::OCI_MANIFEST,
        serde_json::to_vec(&manifest).expect("manifest"),
    );
    set
}
