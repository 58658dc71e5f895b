//! The scale simulation: a catalogue of images made with our package writer (sharing most
//! packages, every seventh one tampered, one that does not exist), pushed to a loopback
//! registry, audited as 4 shards × 2 jobs over one shared package cache, as the pods of an
//! Indexed Job would be. One shard is killed mid-run and restarted. The merged report must
//! give exactly the right verdict for every image, the cache must hold each package once, and
//! every package must have been downloaded once across all shards.
//!
//! `RECEIPTS_CATALOG_IMAGES` sets the number of images (default 20, to keep the suite's time
//! reasonable on 2 cores; `benches/catalog.rs` runs 50).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use receipts::rebuild::catalog::summary::Summary;
use receipts::rebuild::catalog::{Record, Status};

use super::fixture::{Expect, World, binary, describe};

const SHARDS: u32 = 4;

fn images() -> usize {
    std::env::var("RECEIPTS_CATALOG_IMAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50)
}

fn shard(catalogue: &Path, reports: &Path, cache: &Path, index: u32) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .args(["catalog", "audit"])
        .arg(catalogue)
        .arg("--report-dir")
        .arg(reports)
        .arg("--cache-dir")
        .arg(cache)
        .args(["--jobs", "2"])
        // As Kubernetes sets them in an Indexed Job's pods.
        .env("JOB_COMPLETION_INDEX", index.to_string())
        .env("JOB_COMPLETIONS", SHARDS.to_string())
        .env_remove("SOURCE_DATE_EPOCH")
        .env("DOCKER_CONFIG", "/nonexistent")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cosign-rebuild starts")
}

fn records_of(reports: &Path, shard: &str) -> usize {
    Summary::read(reports)
        .map(|s| s.records.iter().filter(|r| r.shard == shard).count())
        .unwrap_or(0)
}

#[test]
fn four_shards_with_one_killed_and_restarted_give_every_right_verdict() {
    let count = images();
    let world = World::new(count);
    let dir = world.dir.path();
    let published = world.publish_all(count, &|app| app % 7 == 3);
    let missing = format!("{}:v1", world.registry.repository("never-pushed"));
    let mut expected: BTreeMap<String, Status> = published
        .iter()
        .map(|(image, expect)| {
            let status = match expect {
                Expect::Identical => Status::Identical,
                Expect::Different => Status::Different,
            };
            (image.clone(), status)
        })
        .collect();
    expected.insert(missing.clone(), Status::Error);
    let names: Vec<String> = expected.keys().cloned().collect();
    let catalogue = world.catalogue("catalog.yaml", &names, "");
    let reports = dir.join("reports");
    let cache = dir.join("shared-cache");
    let before: BTreeMap<String, usize> = package_gets(&world, count);

    // Shard 1 is killed as soon as it has recorded one image; the others run to the end.
    let started = Instant::now();
    let mut children: Vec<(u32, Child)> = (0..SHARDS)
        .map(|index| (index, shard(&catalogue, &reports, &cache, index)))
        .collect();
    let victim = format!("1/{SHARDS}");
    let deadline = Instant::now() + Duration::from_secs(600);
    while records_of(&reports, &victim) == 0 {
        assert!(Instant::now() < deadline, "shard 1 recorded nothing");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, killed) = children.iter_mut().find(|(i, _)| *i == 1).unwrap();
    killed.kill().expect("kill shard 1");
    for (index, child) in children {
        let output = child.wait_with_output().unwrap();
        if index != 1 {
            // 1: the missing image is some shard's error; 3: a different image; 0: neither.
            assert!(
                matches!(output.status.code(), Some(0 | 1 | 3)),
                "{}",
                describe(&output)
            );
        }
    }
    let verdicts_before_restart = Summary::read(&reports)
        .unwrap()
        .records
        .iter()
        .filter(|r| r.shard == victim && r.status != Status::Error)
        .count();

    // Restarted, shard 1 skips exactly the verdicts it had recorded and audits the rest.
    let output = shard(&catalogue, &reports, &cache, 1)
        .wait_with_output()
        .unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 1 | 3)),
        "{}",
        describe(&output)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches("skipping ").count(),
        verdicts_before_restart,
        "{stderr}"
    );
    assert!(
        stderr.contains("auditing "),
        "killed after its last audit: {stderr}"
    );
    let elapsed = started.elapsed();

    // Exactly one record per image, each with the right verdict.
    let summary = Summary::read(&reports).unwrap();
    let found: BTreeMap<String, Status> = summary
        .records
        .iter()
        .map(|r: &Record| (r.image.clone(), r.status))
        .collect();
    assert_eq!(found, expected);
    for record in &summary.records {
        let owner = receipts::rebuild::catalog::Shard::new(0, SHARDS)
            .unwrap()
            .owner(&record.image);
        assert_eq!(
            record.shard,
            format!("{owner}/{SHARDS}"),
            "{}",
            record.image
        );
    }
    // The merged report as the CLI prints it agrees.
    let output = binary(dir, &["catalog", "report", &reports.display().to_string()]);
    assert!(output.status.success(), "{}", describe(&output));
    let merged: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let different = expected
        .values()
        .filter(|s| **s == Status::Different)
        .count();
    assert_eq!(merged["totals"]["images"], expected.len());
    assert_eq!(merged["totals"]["different"], different);
    assert_eq!(
        merged["totals"]["identical"],
        expected.len() - different - 1
    );
    assert_eq!(merged["totals"]["error"], 1);

    // The cache holds each package the audits needed once, and each was downloaded once.
    let mut needed: Vec<String> = ["base", "libshared"]
        .into_iter()
        .map(String::from)
        .chain((0..count).map(|app| format!("app-{app}")))
        .map(|name| format!("{name}-1.0-r0.apk"))
        .collect();
    needed.sort();
    assert_eq!(World::cached_packages(&cache), needed);
    let after = package_gets(&world, count);
    for name in &needed {
        assert_eq!(
            after[name] - before[name],
            1,
            "{name} downloaded once by the audits"
        );
    }
    assert!(World::temporary_files(&cache).is_empty());
    eprintln!(
        "scale simulation: {} images, {SHARDS} shards x 2 jobs, one shard killed and restarted: {:.1} s",
        expected.len(),
        elapsed.as_secs_f64()
    );
}

/// GETs of every package so far, by file name.
fn package_gets(world: &World, count: usize) -> BTreeMap<String, usize> {
    ["base", "libshared", "tamper"]
        .into_iter()
        .map(String::from)
        .chain((0..count).map(|app| format!("app-{app}")))
        .map(|name| {
            let file = format!("{name}-1.0-r0.apk");
            let gets = world.http.count("GET", &format!("/x86_64/{file}"));
            (file, gets)
        })
        .collect()
}

/// The bench (`benches/catalog.sh`; not part of the suite): images per minute at 1, 2 and 4
/// shards (one job each, all on this machine, each run with an empty cache and report
/// directory), and the package cache's hit rate: 1 − downloads / package fetches, counting
/// the three packages each audited image installs.
// Compiled only for the bench (`--cfg receipts_bench`), so the suite skips nothing.
#[cfg(receipts_bench)]
#[test]
fn bench_images_per_minute_by_shards() {
    let count = images();
    let world = World::new(count);
    let published = world.publish_all(count, &|app| app % 7 == 3);
    let names: Vec<String> = published.iter().map(|(image, _)| image.clone()).collect();
    let catalogue = world.catalogue("catalog.yaml", &names, "");
    println!("catalogue: {count} images, load average {}", load());
    println!("| shards | wall (s) | images per minute | package downloads | cache hit rate |");
    println!("|---:|---:|---:|---:|---:|");
    for shards in [1u32, 2, 4] {
        let run = world.dir.path().join(format!("run-{shards}"));
        let (reports, cache) = (run.join("reports"), run.join("cache"));
        let before = package_gets(&world, count);
        let started = Instant::now();
        let children: Vec<Child> = (0..shards)
            .map(|index| {
                Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
                    .args(["-q", "catalog", "audit"])
                    .arg(&catalogue)
                    .arg("--report-dir")
                    .arg(&reports)
                    .arg("--cache-dir")
                    .arg(&cache)
                    .args(["--jobs", "1", "--shard", &format!("{index}/{shards}")])
                    .env_remove("SOURCE_DATE_EPOCH")
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("cosign-rebuild starts")
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            let errors: Vec<String> = Summary::read(&reports)
                .map(|s| s.records.into_iter().filter_map(|r| r.error).collect())
                .unwrap_or_default();
            assert!(
                matches!(output.status.code(), Some(0 | 3)),
                "{}\n{errors:#?}",
                describe(&output)
            );
        }
        let wall = started.elapsed().as_secs_f64();
        let audited = Summary::read(&reports).unwrap().records.len();
        assert_eq!(audited, count);
        let after = package_gets(&world, count);
        let downloads: usize = after.iter().map(|(name, n)| n - before[name]).sum();
        let fetches = 3 * count;
        println!(
            "| {shards} | {wall:.1} | {:.1} | {downloads} | {:.2} |",
            count as f64 * 60.0 / wall,
            1.0 - downloads as f64 / fetches as f64
        );
    }
}

#[cfg(receipts_bench)]
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}
