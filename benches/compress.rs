//! Throughput and size of the layer compressor against pigz -6, gzip -6 and flate2 level 6 on
//! one corpus file, printed as a markdown table.
//!
//! Not for: correctness (tests/compress.rs checks the bytes); run through benches/compress.sh,
//! which builds a >= 256 MB tar of real binaries and installs pigz and gzip when missing.
//! Measures the compressor of reference/apko-format.md §9.
//!
//! Usage: `cargo bench --bench compress -- <corpus.tar> [runs] [--only=<name part>]`. Under
//! `cargo test` (no `--bench` argument) it does nothing.

#[path = "cpu.rs"]
mod cpu;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use receipts::compress::{Options, Writer};

/// Counts bytes written to it.
struct Count(u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Row {
    name: String,
    threads: String,
    time: Duration,
    cpu: Duration,
    size: u64,
}

/// The fastest of `runs` runs: (wall time, CPU time, compressed size).
fn best_of(
    runs: usize,
    mut f: impl FnMut() -> Result<u64, String>,
) -> Result<(Duration, Duration, u64), String> {
    let mut best: Option<(Duration, Duration, u64)> = None;
    for _ in 0..runs {
        let (start, cpu_start) = (Instant::now(), cpu::cpu_time(true));
        let size = f()?;
        let (time, cpu) = (
            start.elapsed(),
            cpu::cpu_time(true).saturating_sub(cpu_start),
        );
        if best.is_none_or(|(t, _, _)| time < t) {
            best = Some((time, cpu, size));
        }
    }
    best.ok_or_else(|| "no runs".to_owned())
}

fn ours(data: &[u8], threads: usize) -> Result<u64, String> {
    let mut writer = Writer::new(Count(0), Options::apko().threads(threads));
    // The builder streams a file in 32 KiB-ish pieces; do the same.
    for chunk in data.chunks(64 * 1024) {
        writer.write_all(chunk).map_err(|e| e.to_string())?;
    }
    let done = writer.finish().map_err(|e| e.to_string())?;
    Ok(done.size)
}

fn flate2_level6(data: &[u8]) -> Result<u64, String> {
    let mut enc = flate2::write::GzEncoder::new(Count(0), flate2::Compression::new(6));
    enc.write_all(data).map_err(|e| e.to_string())?;
    Ok(enc.finish().map_err(|e| e.to_string())?.0)
}

fn external(program: &str, args: &[&str], path: &str) -> Result<u64, String> {
    let input = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(input)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    let mut out = child.stdout.take().ok_or("no stdout")?;
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = out.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        size += n as u64;
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("{program} failed: {status}"));
    }
    Ok(size)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("compress bench: run it with benches/compress.sh (cargo bench)");
        return Ok(());
    }
    let rest: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let path = rest
        .first()
        .ok_or("usage: cargo bench --bench compress -- <corpus.tar> [runs]")?
        .as_str();
    let runs: usize = rest.get(1).and_then(|r| r.parse().ok()).unwrap_or(2);
    let only: Option<&str> = args.iter().find_map(|a| a.strip_prefix("--only="));
    let wanted = |name: &str| only.is_none_or(|o| name.contains(o));
    let data = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!(
        "corpus: {path}, {} bytes, {cores} cores, best of {runs}",
        data.len()
    );

    let mut rows = Vec::new();
    let mut add =
        |name: &str, threads: String, r: Result<(Duration, Duration, u64), String>| match r {
            Ok((time, cpu, size)) => rows.push(Row {
                name: name.to_owned(),
                threads,
                time,
                cpu,
                size,
            }),
            Err(e) => eprintln!("{name}: skipped: {e}"),
        };
    if wanted("receipts") {
        let r = best_of(runs, || ours(&data, cores));
        add("receipts (pgzip-exact)", cores.to_string(), r);
        if cores > 1 {
            add(
                "receipts (pgzip-exact)",
                "1".into(),
                best_of(runs, || ours(&data, 1)),
            );
        }
    }
    if wanted("pigz") {
        let r = best_of(runs, || external("pigz", &["-6", "-c"], path));
        add("pigz -6", cores.to_string(), r);
    }
    if wanted("gzip") {
        let r = best_of(runs, || external("gzip", &["-6", "-c"], path));
        add("gzip -6", "1".into(), r);
    }
    if wanted("flate2") {
        add(
            "flate2 level 6",
            "1".into(),
            best_of(runs, || flate2_level6(&data)),
        );
    }
    if rows.is_empty() {
        return Err("nothing measured".into());
    }

    let mb = data.len() as f64 / 1e6;
    let (our_time, our_size) = (rows[0].time.as_secs_f64(), rows[0].size as f64);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    println!(
        "\nInput: {} bytes ({mb:.1} MB), {cores} cores, load average {load}.\n",
        data.len()
    );
    println!(
        "| encoder | threads | wall (s) | MB/s | CPU (s) | MB per CPU-s | compressed bytes | ratio | speed vs ours | size vs ours |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        let secs = row.time.as_secs_f64();
        let cpu = row.cpu.as_secs_f64();
        println!(
            "| {} | {} | {:.2} | {:.1} | {:.2} | {:.1} | {} | {:.3} | {:.2}x | {:.3}x |",
            row.name,
            row.threads,
            secs,
            mb / secs,
            cpu,
            if cpu > 0.0 { mb / cpu } else { 0.0 },
            row.size,
            row.size as f64 / data.len() as f64,
            our_time / secs,
            row.size as f64 / our_size,
        );
    }
    Ok(())
}
