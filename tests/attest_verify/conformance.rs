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

/// The conformance client protocol through the binary:
/// `verify-bundle --bundle F (--certificate-identity ID --certificate-oidc-issuer ISS | --key K)
/// [--trusted-root F] FILE_OR_DIGEST`, each case with the file and with `sha256:<hex>`.
#[test]
fn conformance_cases_through_the_cli_protocol() {
    let root = support::data(CASES);
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("bundle.sigstore.json").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut passed = 0;
    let mut wrong = Vec::new();
    for name in &names {
        let dir = root.join(name);
        let artifact = if dir.join("artifact").exists() {
            dir.join("artifact")
        } else {
            root.join("a.txt")
        };
        let digest = format!(
            "sha256:{}",
            hex::encode(Sha256::digest(std::fs::read(&artifact).unwrap()))
        );
        let trusted_root = if dir.join("trusted_root.json").exists() {
            dir.join("trusted_root.json")
        } else {
            support::data(PUBLIC_GOOD)
        };
        for target in [artifact.display().to_string(), digest] {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"));
            command
                .env_remove("SIGSTORE_ROOT_FILE")
                .env_remove("SIGSTORE_REKOR_PUBLIC_KEY")
                .env_remove("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE")
                .arg("verify-bundle")
                .arg("--bundle")
                .arg(dir.join("bundle.sigstore.json"));
            if dir.join("key.pub").exists() {
                command.arg("--key").arg(dir.join("key.pub"));
            } else {
                command
                    .arg("--certificate-identity")
                    .arg(text(&dir.join("identity")).unwrap_or_else(|| DEFAULT_IDENTITY.into()))
                    .arg("--certificate-oidc-issuer")
                    .arg(text(&dir.join("issuer")).unwrap_or_else(|| DEFAULT_ISSUER.into()));
            }
            command
                .arg("--trusted-root")
                .arg(&trusted_root)
                .arg(&target);
            let output = command.output().expect("run cosign-rebuild");
            let expected_ok = !name.ends_with("_fail");
            if output.status.success() == expected_ok {
                passed += 1;
            } else {
                wrong.push(format!(
                    "{name} ({target}): status {:?}, stderr {}",
                    output.status.code(),
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            if !expected_ok {
                assert_eq!(output.status.code(), Some(1), "{name}: failures exit 1");
            }
        }
    }
    assert!(wrong.is_empty(), "wrong outcomes:\n{}", wrong.join("\n"));
    assert_eq!(passed, 2 * names.len());
}
