//! SIGKILL (issue 17.4): what a killed run leaves is swept by the next run or removed by
//! `cosign-rebuild gc`; what a live (here: stopped) run holds is never swept.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use super::{Point, Running, Sandbox, dot_files, entries, has_entry, succeed, valid_or_absent};
use receipts::oci::layout::Layout;

#[test]
fn a_killed_builds_scratch_files_are_swept_by_the_next_run() {
    let sandbox = Sandbox::new();
    let output = format!("oci:{}", sandbox.path("out").join("image").display());
    for point in [Point::Compressing, Point::Writing] {
        let started = Instant::now();
        let mut run = Running::start(sandbox.build(&output, &[]));
        assert!(
            run.wait_for(|run| point.reached(&sandbox, run, started)),
            "{point:?} never came:\n{}",
            run.stderr()
        );
        run.signal(libc::SIGKILL);
        let (status, _) = run.finish();
        assert_eq!(status.code(), None, "killed");
    }
    // What the two kills left: layer blobs in the scratch area, a staging directory in out/.
    assert!(
        has_entry(&sandbox.area(), "layer-"),
        "{:?}",
        entries(&sandbox.area())
    );
    assert!(has_entry(&sandbox.path("out"), ".image.tmp-"));
    assert!(
        !sandbox.path("out").join("image").exists(),
        "no output from a killed build"
    );
    succeed(&mut sandbox.build(&output, &[]));
    assert!(valid_or_absent(&sandbox.path("out").join("image")));
    assert_eq!(sandbox.strays(&["image"]), Vec::<PathBuf>::new());
}

#[test]
fn a_live_runs_scratch_files_are_not_swept() {
    let sandbox = Sandbox::new();
    let first = format!("oci:{}", sandbox.path("out").join("first").display());
    let second = format!("oci:{}", sandbox.path("out").join("second").display());
    let started = Instant::now();
    let mut run = Running::start(sandbox.build(&first, &[]));
    assert!(run.wait_for(|run| Point::Compressing.reached(&sandbox, run, started)));
    // Stopped, the first build holds its scratch files while another run sweeps the area.
    run.signal(libc::SIGSTOP);
    let held = entries(&sandbox.area());
    assert!(!held.is_empty());
    succeed(&mut sandbox.build(&second, &[]));
    for path in &held {
        assert!(
            path.exists(),
            "{} was swept from a live run",
            path.display()
        );
    }
    run.signal(libc::SIGCONT);
    let (status, stderr) = run.finish();
    assert!(status.success(), "{stderr}");
    assert!(valid_or_absent(&sandbox.path("out").join("first")));
    assert!(valid_or_absent(&sandbox.path("out").join("second")));
    assert_eq!(sandbox.strays(&["first", "second"]), Vec::<PathBuf>::new());
}

#[test]
fn a_build_killed_mid_write_leaves_orphans_that_gc_reports_and_removes() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path("out").join("shared");
    let layout_arg = format!("oci:{}", dir.display());
    succeed(&mut sandbox.build(&format!("{layout_arg}:first"), &[]));
    let blobs = dir.join("blobs/sha256");
    let before = entries(&blobs);
    let tags = Layout::open(&dir).unwrap().tags().unwrap();
    // Killed once the first new blob is in place and before index.json names it (two
    // architectures: the second layer is still being copied). A run that ends first retries.
    let mut orphaned = false;
    for attempt in 0..4 {
        let epoch = format!("{}", 1_700_000_100 + attempt);
        let mut run = Running::start(sandbox.build(
            &format!("{layout_arg}:second"),
            &["--source-date-epoch", &epoch],
        ));
        let caught = run.wait_for(|_| {
            entries(&blobs).iter().any(|path| {
                !before.contains(path)
                    && !path.file_name().unwrap().to_string_lossy().starts_with('.')
            })
        });
        if !caught {
            let (status, stderr) = run.finish();
            assert!(status.success(), "{stderr}");
            break;
        }
        run.signal(libc::SIGKILL);
        run.finish();
        orphaned = Layout::open(&dir).unwrap().tags().unwrap() == tags;
        if orphaned {
            break;
        }
    }
    assert!(
        orphaned,
        "no attempt was killed between its blobs and its index.json"
    );
    let gc = |extra: &[&str]| {
        let mut args = vec!["gc".to_owned(), layout_arg.clone()];
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        succeed(&mut sandbox.command(&args))
    };
    let reported = gc(&["--dry-run"]);
    let orphans: Vec<&str> = reported
        .lines()
        .filter(|l| l.starts_with("sha256:"))
        .collect();
    assert!(!orphans.is_empty(), "gc --dry-run reports the orphans");
    for line in &orphans {
        let hex = line
            .split_whitespace()
            .next()
            .unwrap()
            .trim_start_matches("sha256:");
        assert!(blobs.join(hex).exists(), "a dry run removes nothing");
        assert!(
            !before.contains(&blobs.join(hex)),
            "{line} was reachable before"
        );
    }
    assert_eq!(gc(&[]), reported, "gc removes what the dry run reported");
    assert_eq!(gc(&["--dry-run"]), "", "nothing left to collect");
    assert_eq!(
        entries(&blobs),
        before,
        "exactly the first image's blobs remain"
    );
    assert_eq!(Layout::open(&dir).unwrap().tags().unwrap(), tags);
    assert!(valid_or_absent(&dir));
    assert_eq!(dot_files(&dir), Vec::<PathBuf>::new());
}

#[test]
fn a_killed_writers_temporary_file_in_a_layout_is_removed_by_the_next_attest_not_before() {
    let sandbox = Sandbox::example();
    let dir = sandbox.path("out").join("image");
    let image = format!("oci:{}", dir.display());
    let predicate = sandbox.path("predicate.json").display().to_string();
    let mut build_args = vec![
        "build",
        "apko.yaml",
        "--output",
        &image,
        "--locked-out",
        &predicate,
    ];
    let cache = sandbox.cache_args();
    build_args.extend(cache.iter().map(String::as_str));
    succeed(&mut sandbox.command(&build_args));
    let prefix = sandbox.path("release").display().to_string();
    succeed(&mut sandbox.command(&["generate-key-pair", "--output-key-prefix", &prefix]));
    let key = format!("{prefix}.key");
    // The owner of two scratch files, as a writer killed between creating and renaming them
    // would leave them: `.tmp-<pid>-<random>` in the root and in blobs/sha256.
    let mut owner = Command::new("sleep").arg("600").spawn().unwrap();
    let pid = owner.id();
    let left = [
        dir.join(format!(".tmp-{pid}-0123456789ab")),
        dir.join(format!("blobs/sha256/.tmp-{pid}-0123456789ab")),
    ];
    for path in &left {
        std::fs::write(path, b"partial").unwrap();
    }
    let attest = [
        "attest",
        &image,
        "--predicate",
        &predicate,
        "--key",
        &key,
        "--tlog-upload=false",
    ];
    succeed(&mut sandbox.command(&attest));
    for path in &left {
        assert!(
            path.exists(),
            "{} swept while its owner lives",
            path.display()
        );
    }
    owner.kill().unwrap(); // SIGKILL
    owner.wait().unwrap();
    succeed(&mut sandbox.command(&attest));
    for path in &left {
        assert!(
            !path.exists(),
            "{} outlived its killed owner",
            path.display()
        );
    }
    // No lock file (or anything else) beside the layout's own files after attesting.
    let names: Vec<String> = entries(&dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["blobs", "index.json", "oci-layout"]);
    assert_eq!(dot_files(&dir), Vec::<PathBuf>::new());
    let mut audit = vec![image.as_str(), "--key"];
    let public = format!("{prefix}.pub");
    audit.extend([public.as_str(), "--insecure-ignore-tlog"]);
    audit.extend(cache.iter().map(String::as_str));
    assert!(succeed(&mut sandbox.command(&audit)).contains("identical"));
    assert_eq!(sandbox.strays(&["image"]), Vec::<PathBuf>::new());
}
