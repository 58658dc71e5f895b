//! `cargo bench --bench apk`: reading and resolving the real Alpine 3.16 x86_64 index, against
//! the floor of merely decompressing and hashing the same file.
//!
//! Not for: correctness (tests/apk_solver.rs). Issue 2 item 8: (parse + verify + resolve) should
//! stay within twice the floor (gunzip + SHA-1 of the APKINDEX.tar.gz bytes). The parse stage is
//! `apk::signed::read`: RSA signature check over the control member, gunzip, tar, APKINDEX text.
//!
//! Prints a markdown table of median times over repeated runs.

use std::hint::black_box;
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use receipts::apk::keyring::Keyring;
use receipts::apk::signed;
use receipts::apk::solver::{Options, Resolver, Source};
use sha1::{Digest, Sha1};

#[path = "alpine_world.rs"]
mod alpine_world;
use alpine_world::WORLD;

const RUNS: usize = 40;

fn testdata(relative: &str) -> PathBuf {
    let root = match std::env::var_os("RECEIPTS_TESTDATA") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata"),
    };
    root.join(relative)
}

/// Median and minimum wall time of `RUNS` runs after two warm-ups. The machine is shared, so the
/// minimum is the better estimate of the uncontended cost.
#[derive(Clone, Copy)]
struct Timing {
    median: Duration,
    min: Duration,
}

impl std::ops::Add for Timing {
    type Output = Timing;
    fn add(self, other: Timing) -> Timing {
        Timing {
            median: self.median + other.median,
            min: self.min + other.min,
        }
    }
}

fn measure<T>(mut f: impl FnMut() -> T) -> Timing {
    for _ in 0..2 {
        black_box(f());
    }
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    Timing {
        median: times[RUNS / 2],
        min: times[0],
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn row(stage: &str, t: Timing) {
    println!("| {stage} | {} | {} |", ms(t.median), ms(t.min));
}

fn main() {
    let path = testdata("chainguard-dev/apko/pkg/apk/apk/testdata/alpine-316/APKINDEX.tar.gz");
    let archive = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (set RECEIPTS_TESTDATA)",
            path.display()
        )
    });
    let key = testdata(
        "postmarketOS-gitlab-mirror/pmbootstrap/pmb/data/keys/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
    );
    let keyring = Keyring::from_paths(&[key]).expect("key");

    let floor = measure(|| {
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(&archive[..])
            .read_to_end(&mut text)
            .expect("gunzip");
        (text.len(), Sha1::digest(&archive))
    });
    let parse = measure(|| signed::read(&archive, &keyring, "alpine-316").expect("index"));
    let verify = measure(|| signed::verify(&archive, &keyring, "alpine-316").expect("signature"));

    let packages = signed::read(&archive, &keyring, "alpine-316")
        .expect("index")
        .index
        .packages;
    let sources = [Source {
        url: "https://dl-cdn.example/alpine/v3.16/main/x86_64",
        pin: None,
        packages: &packages,
    }];
    let options = Options::default();
    let installed = Resolver::new(&sources)
        .resolve(&WORLD, &options)
        .expect("resolve")
        .packages
        .len();
    let table = measure(|| Resolver::new(&sources));
    let resolver = Resolver::new(&sources);
    let walk = measure(|| resolver.resolve(&WORLD, &options).expect("resolve"));
    let resolve = measure(|| {
        Resolver::new(&sources)
            .resolve(&WORLD, &options)
            .expect("resolve")
    });

    let total = parse + resolve;
    println!(
        "\nAlpine 3.16 x86_64 APKINDEX.tar.gz: {} bytes, {} packages; world of {} names -> {} packages; median of {RUNS} runs\n",
        archive.len(),
        packages.len(),
        WORLD.len(),
        installed
    );
    println!("| stage | median | min |");
    println!("|---|---|---|");
    row("(a) floor: gunzip + SHA-1 of the file", floor);
    row(
        "(b) parse + verify: `apk::signed::read` (signature, gunzip, tar, text)",
        parse,
    );
    row(
        "&nbsp;&nbsp;of which the signature check (`apk::signed::verify`)",
        verify,
    );
    row(
        "(c) resolve: build the candidate table + resolve the world",
        resolve,
    );
    row("&nbsp;&nbsp;of which the candidate table", table);
    row("&nbsp;&nbsp;resolution over an already used table", walk);
    row("(b) + (c)", total);
    let ratio = |t: Duration, f: Duration| t.as_secs_f64() / f.as_secs_f64();
    println!(
        "| ratio (b) / (a) (issue 18: target <= 1.3) | {:.2} | {:.2} |",
        ratio(parse.median, floor.median),
        ratio(parse.min, floor.min)
    );
    println!(
        "| ratio ((b) + (c)) / (a) (target <= 2) | {:.2} | {:.2} |",
        ratio(total.median, floor.median),
        ratio(total.min, floor.min)
    );
}
