//! A small catalogue end to end through the binary: one image reproduced, one tampered, one
//! that does not exist. Checks the records, the exit status, resumption and `--force`, the
//! verification summaries (our `verify --type https://slsa.dev/verification_summary/v1` and
//! securesystemslib), and the merged report: JSON, JUnit XML (parsed by Python's `xml.etree`)
//! and the HTML page loaded in headless Chromium. Also every bad-input error, naming its entry.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use receipts::oci::Digest;
use receipts::rebuild::catalog::summary::Summary;
use receipts::rebuild::catalog::{Record, Status};

use super::fixture::{Expect, World, binary, describe};
use super::tools;
use crate::support;

const VSA: &str = "https://slsa.dev/verification_summary/v1";

fn arg(path: &Path) -> String {
    path.display().to_string()
}

fn records(dir: &Path) -> BTreeMap<String, Record> {
    Summary::read(dir)
        .expect("records")
        .records
        .into_iter()
        .map(|r| (r.image.clone(), r))
        .collect()
}

#[test]
fn bad_catalogues_and_shards_are_refused_naming_the_entry() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let reports = arg(&dir.join("reports"));
    let cases = [
        (
            "images:\n  - image: a.example/x:1\n    key: k.pub\n  - image: a.example/y:1\n    keyy: k.pub\n",
            vec![],
            "images[1] (a.example/y:1)",
            "unknown field `keyy`",
        ),
        (
            "images:\n  - image: a.example/x:1\n    key: k.pub\n  - image: a.example/x:1\n",
            vec![],
            "images[1] (a.example/x:1) duplicates images[0]",
            "list each image once",
        ),
        (
            "images:\n  - image: a.example/x:1\n    key: k.pub\n",
            vec!["--shard", "4/4"],
            "shard 4/4 is out of range",
            "INDEX must be 0 to 3",
        ),
    ];
    for (yaml, extra, first, second) in cases {
        let catalogue = dir.join("catalog.yaml");
        std::fs::write(&catalogue, yaml).unwrap();
        let mut args = vec!["catalog", "audit", "catalog.yaml", "--report-dir", &reports];
        args.extend(extra);
        let output = binary(dir, &args);
        assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(first) && stderr.contains(second),
            "{stderr}"
        );
        assert!(!dir.join("reports").exists(), "nothing audited: {stderr}");
    }
    // An Indexed Job pod without the completions count.
    let output = Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .current_dir(dir)
        .args(["catalog", "audit", "catalog.yaml", "--report-dir", &reports])
        .env("JOB_COMPLETION_INDEX", "2")
        .env_remove("JOB_COMPLETIONS")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("JOB_COMPLETIONS is not"));
}

#[test]
fn a_catalogue_records_verdicts_and_errors_attests_them_and_merges_a_report() {
    let world = World::new(2);
    let dir = world.dir.path();
    let identical = world.publish(0, Expect::Identical);
    let different = world.publish(1, Expect::Different);
    let missing = format!("{}:v1", world.registry.repository("missing"));
    let catalogue = world.catalogue(
        "catalog.yaml",
        &[identical.clone(), different.clone(), missing.clone()],
        "",
    );
    let reports = dir.join("reports");
    let cache = dir.join("audit-cache");
    let (catalogue_arg, reports_arg, cache_arg, key_arg) =
        (arg(&catalogue), arg(&reports), arg(&cache), arg(&world.key));
    let audit = |extra: &[&str]| {
        let mut args = vec![
            "catalog",
            "audit",
            &catalogue_arg,
            "--report-dir",
            &reports_arg,
            "--jobs",
            "2",
            "--cache-dir",
            &cache_arg,
        ];
        args.extend_from_slice(extra);
        binary(dir, &args)
    };
    let output = audit(&["--attest-result", "--key", &key_arg]);
    // One image could not be audited: exit 1, the others still were.
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1 of 3 images audited could not be audited"),
        "{stderr}"
    );

    let found = records(&reports);
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[&identical].status, Status::Identical);
    assert_eq!(found[&different].status, Status::Different);
    let error = &found[&missing];
    assert_eq!(error.status, Status::Error);
    assert_eq!(error.digest, None);
    let message = error.error.as_deref().unwrap_or("");
    assert!(
        message.contains(&format!("cannot resolve {missing}")),
        "{message}"
    );
    // The tampered image's record names the file that should not be there.
    let audit_json = found[&different].audit.as_ref().unwrap().to_string();
    assert!(audit_json.contains("usr/bin/backdoor"), "{audit_json}");

    // Verification summaries: PASSED for the reproduced image, FAILED for the tampered one.
    for (image, result) in [(&identical, "PASSED"), (&different, "FAILED")] {
        let attestation = serde_json::to_value(&found[image].attestation).unwrap();
        assert_eq!(attestation["verificationResult"], result, "{attestation}");
        check_summary(
            &world,
            image,
            found[image].digest.as_deref().unwrap(),
            result,
            &catalogue,
        );
    }
    assert!(found[&missing].attestation.is_none());

    // Resumed: verdicts on record are skipped, the error is tried again; --force redoes all.
    let output = audit(&[]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for image in [&identical, &different] {
        assert!(stderr.contains(&format!("skipping {image}")), "{stderr}");
    }
    let again = records(&reports);
    assert_eq!(again[&identical], found[&identical]);
    assert!(!stderr.contains(&format!("skipping {missing}")), "{stderr}");
    assert!(
        !stderr.contains(&format!("auditing {identical}")),
        "{stderr}"
    );
    let output = audit(&["--force"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("skipping"), "{stderr}");
    assert_eq!(records(&reports)[&identical].status, Status::Identical);

    merged_report(
        dir,
        &reports,
        &[
            (&identical, "identical"),
            (&different, "different"),
            (&missing, "error"),
        ],
    );
}

/// Our verifier accepts the summary on `image` and it says `result`; securesystemslib accepts
/// its DSSE envelope.
fn check_summary(world: &World, image: &str, digest: &str, result: &str, catalogue: &Path) {
    let dir = world.dir.path();
    let predicate = dir.join("vsa.json");
    let output = binary(
        dir,
        &[
            "verify",
            image,
            "--key",
            &arg(&world.public),
            "--insecure-ignore-tlog",
            "--type",
            VSA,
            "--predicate-out",
            &arg(&predicate),
        ],
    );
    assert!(output.status.success(), "{}", describe(&output));
    let vsa: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&predicate).unwrap()).unwrap();
    assert_eq!(vsa["verificationResult"], result, "{vsa}");
    let hex = digest.trim_start_matches("sha256:");
    assert!(vsa["resourceUri"].as_str().unwrap().contains(hex), "{vsa}");
    let policy = Digest::of(&std::fs::read(catalogue).unwrap());
    assert_eq!(vsa["policy"]["digest"]["sha256"], policy.hex(), "{vsa}");
    for field in ["verifier", "timeVerified", "verifiedLevels", "slsaVersion"] {
        assert!(vsa.get(field).is_some(), "{field} missing: {vsa}");
    }

    let Some(peers) = support::attest::peers() else {
        return;
    };
    let output = binary(dir, &["download", image, "--predicate-type", VSA]);
    assert!(output.status.success(), "{}", describe(&output));
    let line = String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()
        .expect("one VSA bundle")
        .to_owned();
    let bundle: serde_json::Value = serde_json::from_str(&line).unwrap();
    let envelope = dir.join("vsa.dsse.json");
    std::fs::write(&envelope, bundle["dsseEnvelope"].to_string()).unwrap();
    let output = peers.verify_dsse(&envelope, &world.public, None);
    assert!(
        output.status.success(),
        "{}",
        support::attest::describe(&output)
    );
}

/// `catalog report`: JSON totals, JUnit XML that parses with the right counts, and the HTML page
/// whose rows Chromium renders.
fn merged_report(dir: &Path, reports: &Path, expected: &[(&String, &str)]) {
    let site = dir.join("site");
    let (json, junit, html) = (
        site.join("summary.json"),
        site.join("junit.xml"),
        site.join("index.html"),
    );
    let output = binary(
        dir,
        &[
            "catalog",
            "report",
            &arg(reports),
            "--json",
            &arg(&json),
            "--junit",
            &arg(&junit),
            "--html",
            &arg(&html),
        ],
    );
    assert!(output.status.success(), "{}", describe(&output));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let totals = &summary["totals"];
    assert_eq!(
        (
            totals["images"].as_u64(),
            totals["identical"].as_u64(),
            totals["different"].as_u64(),
            totals["error"].as_u64()
        ),
        (Some(3), Some(1), Some(1), Some(1)),
        "{summary}"
    );

    // JUnit: testsuites > testsuite > testcase, counts agreeing with the cases.
    if let Some(python) = tools::venv_program("python") {
        let script = "import sys, xml.etree.ElementTree as ET\n\
            root = ET.parse(sys.argv[1]).getroot()\n\
            assert root.tag == 'testsuites', root.tag\n\
            suites = root.findall('testsuite'); assert len(suites) == 1\n\
            cases = suites[0].findall('testcase')\n\
            assert int(suites[0].get('tests')) == len(cases)\n\
            assert int(suites[0].get('failures')) == sum(1 for c in cases if c.find('failure') is not None)\n\
            assert int(suites[0].get('errors')) == sum(1 for c in cases if c.find('error') is not None)\n\
            for c in cases:\n    assert c.get('classname') and c.get('name') and float(c.get('time')) >= 0\n\
            print('\\n'.join(sorted(c.get('classname') + ' ' + ('failure' if c.find('failure') is not None else 'error' if c.find('error') is not None else 'pass') for c in cases)))\n";
        let output = Command::new(python)
            .arg("-c")
            .arg(script)
            .arg(&junit)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", describe(&output));
        let text = String::from_utf8_lossy(&output.stdout);
        for (image, verdict) in expected {
            let outcome = match *verdict {
                "different" => "failure",
                "error" => "error",
                _ => "pass",
            };
            assert!(
                text.contains(&format!("{image} {outcome}")),
                "{image}: {text}"
            );
        }
    }

    // The page in a real browser: every row rendered, the tampered file inside <details>.
    let Some(chromium) = tools::chromium() else {
        return;
    };
    let output = tools::headless(&chromium, &html, &["--dump-dom".to_owned()]);
    assert!(output.status.success(), "{}", describe(&output));
    let dom = String::from_utf8_lossy(&output.stdout);
    for (image, verdict) in expected {
        assert!(
            dom.contains(&format!("data-image=\"{image}\""))
                && dom.contains(&format!("data-verdict=\"{verdict}\"")),
            "{image} {verdict} not rendered:\n{dom}"
        );
    }
    assert_eq!(dom.matches("<tr class=").count(), 3, "{dom}");
    assert!(
        dom.contains("<details>") && dom.contains("usr/bin/backdoor"),
        "{dom}"
    );
    for external in ["<script", "<link", " src=", "url("] {
        assert!(
            !dom.contains(external),
            "external asset {external:?} in the page"
        );
    }
    let screenshot = dir.join("report.png");
    let output = tools::headless(
        &chromium,
        &html,
        &[
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,900".to_owned(),
        ],
    );
    assert!(output.status.success(), "{}", describe(&output));
    let png = std::fs::read(&screenshot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 2000,
        "{} bytes",
        png.len()
    );
}
