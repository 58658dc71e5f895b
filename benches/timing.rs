//! What the index benches (`apk`, `lock`) share (included with `#[path]`; not a bench target of
//! its own): the test data, a timing's median, minimum and CPU time, and its markdown rows.
//!
//! Not for: measuring (each bench times its own stages; `cpu.rs` reads CPU time).

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

/// `relative` under the shared test data (`RECEIPTS_TESTDATA`, else `../shared/testdata`).
pub fn testdata(relative: &str) -> PathBuf {
    let root = match std::env::var_os("RECEIPTS_TESTDATA") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata"),
    };
    let path = root.join(relative);
    assert!(
        path.exists(),
        "missing {} (set RECEIPTS_TESTDATA)",
        path.display()
    );
    path
}

/// Median and minimum wall time and median (or mean) CPU time of a stage's runs. The machine is
/// shared: the minimum and the CPU time say more about the code than the median wall time does.
#[derive(Clone, Copy)]
pub struct Timing {
    pub median: Duration,
    pub min: Duration,
    pub cpu: Duration,
}

impl std::ops::Add for Timing {
    type Output = Timing;
    fn add(self, other: Timing) -> Timing {
        Timing {
            median: self.median + other.median,
            min: self.min + other.min,
            cpu: self.cpu + other.cpu,
        }
    }
}

/// The timing of `(wall, CPU)` samples: median and minimum wall, median CPU.
pub fn summary(mut samples: Vec<(Duration, Duration)>) -> Timing {
    let mut cpu: Vec<Duration> = samples.iter().map(|&(_, cpu)| cpu).collect();
    cpu.sort();
    samples.sort();
    Timing {
        median: samples[samples.len() / 2].0,
        min: samples[0].0,
        cpu: cpu[cpu.len() / 2],
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// `| what | median | min | CPU |`.
pub fn row(what: &str, t: Timing) {
    println!(
        "| {what} | {} | {} | {} |",
        ms(t.median),
        ms(t.min),
        ms(t.cpu)
    );
}

/// `| what | t / floor |` for each of median, minimum and CPU.
pub fn ratio_row(what: &str, t: Timing, floor: Timing) {
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    println!(
        "| {what} | {:.2} | {:.2} | {:.2} |",
        ratio(t.median, floor.median),
        ratio(t.min, floor.min),
        ratio(t.cpu, floor.cpu)
    );
}

/// The one-minute load average, for the tables' captions.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}
