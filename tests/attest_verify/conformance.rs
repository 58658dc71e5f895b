//! The sigstore-conformance `bundle-verify` cases, driven as the suite's client protocol does:
//! each case with the artifact and with its `sha256:` digest; `_fail` cases must fail.

use std::path::Path;

use receipts::attest::bundle::Bundle;
use receipts::attest::key;
use receipts::attest::verify::{self, Expected, Policy, TrustedRoot};
use sha2::{Digest as _, Sha256};

use super::*;

const CASES: &str = "sigstore/sigstore-conformance/test/assets/bundle-verify";
const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";
const PUBLIC_GOOD: &str = "sigstore/trust-roots/public-good-trusted_root.json";

fn text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|t| t.trim().to_owned())
}

/// Runs one case through the library; Ok when it verifies.
fn run_case(dir: &Path) -> Result<(), String> {
    let bundle = Bundle::from_json(&std::fs::read(dir.join("bundle.sigstore.json")).unwrap())
        .map_err(|e| e.to_string())?;
    let artifact_path = if dir.join("artifact").exists() {
        dir.join("artifact")
    } else {
        dir.join("../a.txt")
    };
    let artifact: [u8; 32] = Sha256::digest(std::fs::read(artifact_path).unwrap()).into();
    let root_path = if dir.join("trusted_root.json").exists() {
        dir.join("trusted_root.json")
    } else {
        support::data(PUBLIC_GOOD)
    };
    let root = TrustedRoot::from_file(&root_path).map_err(|e| e.to_string())?;
    let policy = match std::fs::read(dir.join("key.pub")) {
        Ok(pem) => Policy {
            expected: Expected::Key(key::load_public_key(&pem).map_err(|e| e.to_string())?),
            ignore_tlog: false,
            ignore_sct: false,
        },
        Err(_) => identity(
            &text(&dir.join("identity")).unwrap_or_else(|| DEFAULT_IDENTITY.to_owned()),
            &text(&dir.join("issuer")).unwrap_or_else(|| DEFAULT_ISSUER.to_owned()),
        ),
    };
    verify::verify_bundle(&bundle, &artifact, &policy, Some(&root), verify::now())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn conformance_cases_pass_and_fail_as_expected() {
    let root = support::data(CASES);
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("bundle.sigstore.json").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 10, "the shared subset has ten cases");
    let mut wrong = Vec::new();
    for name in &names {
        let result = run_case(&root.join(name));
        let should_fail = name.ends_with("_fail");
        match (&result, should_fail) {
            (Ok(()), false) | (Err(_), true) => {}
            _ => wrong.push(format!("{name}: {result:?}")),
        }
    }
    assert!(
        wrong.is_empty(),
        "cases with the wrong outcome:\n{}",
        wrong.join("\n")
    );
}
