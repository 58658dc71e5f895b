//! `cargo bench --bench apk`: reading and resolving the real Alpine 3.16 x86_64 index, against
//! the floor of merely decompressing and hashing the same file.
//!
//! Not for: correctness (tests/apk_solver.rs). Issue 2 item 8: (parse + verify + resolve) should
//! stay within twice the floor (gunzip + SHA-1 of the APKINDEX.tar.gz bytes). The parse stage is
//! `apk::signed::read`: RSA signature check over the control member, gunzip, tar, APKINDEX text.
//!
//! Prints a markdown table: median and minimum wall time and median CPU time (every thread of
//! the process) over runs that alternate between the stages, so that all see the same load.

use std::hint::black_box;
use std::io::Read;
use std::time::{Duration, Instant};

use receipts::apk::keyring::Keyring;
use receipts::apk::signed;
use receipts::apk::solver::{Options, Resolver, Source};
use sha1::{Digest, Sha1};

#[path = "alpine_world.rs"]
mod alpine_world;
#[path = "timing.rs"]
mod timing;
use alpine_world::WORLD;
use timing::{Timing, load_average, ratio_row, row, summary, testdata};

const RUNS: usize = 40;

/// CPU time of the whole process (every thread), to the nanosecond.
fn process_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill in.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// One timed call: wall and CPU time.
fn timed(f: &mut dyn FnMut()) -> (Duration, Duration) {
    let (cpu, start) = (process_cpu(), Instant::now());
    f();
    (start.elapsed(), process_cpu().saturating_sub(cpu))
}

/// Runs the stages in turn, `RUNS` rounds after two warm-up rounds, so that every stage sees
/// the same load; returns one timing per stage.
fn alternate(stages: &mut [&mut dyn FnMut()]) -> Vec<Timing> {
    for _ in 0..2 {
        for stage in stages.iter_mut() {
            stage();
        }
    }
    let mut samples = vec![Vec::with_capacity(RUNS); stages.len()];
    for _ in 0..RUNS {
        for (stage, times) in stages.iter_mut().zip(&mut samples) {
            times.push(timed(*stage));
        }
    }
    samples.into_iter().map(summary).collect()
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

    let mut floor = || {
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(&archive[..])
            .read_to_end(&mut text)
            .expect("gunzip");
        black_box((text.len(), Sha1::digest(&archive)));
    };
    let mut parse = || {
        black_box(signed::read(&archive, &keyring, "alpine-316").expect("index"));
    };
    let mut verify = || {
        black_box(signed::verify(&archive, &keyring, "alpine-316").expect("signature"));
    };
    let load_before = load_average();
    let timings = alternate(&mut [&mut floor, &mut parse, &mut verify]);
    let (floor, parse, verify) = (timings[0], timings[1], timings[2]);

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
    let resolver = Resolver::new(&sources);
    let mut table = || {
        black_box(Resolver::new(&sources));
    };
    let mut walk = || {
        black_box(resolver.resolve(&WORLD, &options).expect("resolve"));
    };
    let mut resolve = || {
        black_box(
            Resolver::new(&sources)
                .resolve(&WORLD, &options)
                .expect("resolve"),
        );
    };
    let timings = alternate(&mut [&mut table, &mut walk, &mut resolve]);
    let (table, walk, resolve) = (timings[0], timings[1], timings[2]);

    let total = parse + resolve;
    println!(
        "\nAlpine 3.16 x86_64 APKINDEX.tar.gz: {} bytes, {} packages; world of {} names -> {} packages; {RUNS} alternated runs; load average {load_before} before, {} after\n",
        archive.len(),
        packages.len(),
        WORLD.len(),
        installed,
        load_average()
    );
    println!("| stage | median | min | CPU (median) |");
    println!("|---|---|---|---|");
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
    ratio_row("ratio (b) / (a) (issue 18: target <= 1.3)", parse, floor);
    ratio_row("ratio ((b) + (c)) / (a) (target <= 2)", total, floor);
}
