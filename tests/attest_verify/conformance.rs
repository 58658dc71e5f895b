//! The whole sigstore-conformance `bundle-verify` suite (70 cases at the pinned commit), driven
//! as the suite's client protocol does: each case with the artifact and with its `sha256:`
//! digest. Passing cases must verify; each `_fail` case must fail for the reason its README
//! names — the error variant is asserted, not just the outcome.

use std::path::{Path, PathBuf};

use receipts::attest::bundle::{self, Bundle};
use receipts::attest::key;
use receipts::attest::verify::{
    self, Artifact, ArtifactDigest, Expected, Policy, TrustedRoot, checkpoint, rekor, timestamp,
    trust,
};
use sha2::{Digest as _, Sha256};

use super::*;

const CASES: &str = "sigstore/sigstore-conformance/test/assets/bundle-verify";
const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";
const PUBLIC_GOOD: &str = "sigstore/trust-roots/public-good-trusted_root.json";

/// Why a case did not verify: the layer that refused it.
#[derive(Debug)]
pub enum Failure {
    Bundle(bundle::Error),
    Root(trust::Error),
    Key(key::Error),
    Verify(verify::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Bundle(e) => write!(f, "bundle: {e}"),
            Failure::Root(e) => write!(f, "trusted root: {e}"),
            Failure::Key(e) => write!(f, "key: {e}"),
            Failure::Verify(e) => write!(f, "verify: {e}"),
        }
    }
}

use verify::Error as V;

fn rekor_mismatch(f: &Failure) -> bool {
    matches!(f, Failure::Verify(V::Rekor(rekor::Error::Mismatch { .. })))
}
fn signature(f: &Failure) -> bool {
    matches!(f, Failure::Verify(V::Dsse(_) | V::MessageSignature))
}
fn checkpoint_unsigned(f: &Failure) -> bool {
    matches!(
        f,
        Failure::Verify(V::Checkpoint(checkpoint::Error::Unsigned { .. }))
    )
}
fn checkpoint_malformed(f: &Failure) -> bool {
    matches!(
        f,
        Failure::Verify(V::Checkpoint(checkpoint::Error::Malformed { .. }))
    )
}
fn untrusted_timestamp(f: &Failure) -> bool {
    matches!(
        f,
        Failure::Verify(V::Timestamp(timestamp::Error::Untrusted { .. }))
    )
}
fn certificate_time(f: &Failure) -> bool {
    matches!(
        f,
        Failure::Verify(
            V::Certificate(verify::certificate::Error::Untrusted { .. })
                | V::CertificateTime { .. }
        )
    )
}

/// Each `_fail` case: the check its README names, and a fragment of the message the CLI
/// prints for it.
type Expectation = (&'static str, fn(&Failure) -> bool, &'static str);

const EXPECTED_FAILURES: &[Expectation] = &[
    (
        "bundle-empty-certificate-chain_fail",
        |f| matches!(f, Failure::Verify(V::SignerMaterial { reason }) if reason.contains("empty")),
        "chain is empty",
    ),
    (
        "bundle-from-wrong-instance_fail",
        |f| matches!(f, Failure::Verify(V::NoTlogEntry { .. })),
        "not in the trusted root",
    ),
    (
        "bundle-invalid-base64-signature_fail",
        |f| matches!(f, Failure::Bundle(bundle::Error::Base64 { .. })),
        "not base64",
    ),
    (
        "bundle-malformed-json_fail",
        |f| matches!(f, Failure::Bundle(bundle::Error::Json { .. })),
        "JSON",
    ),
    (
        "bundle-negative-log-index_fail",
        |f| matches!(f, Failure::Bundle(bundle::Error::Negative { .. })),
        "negative",
    ),
    (
        "bundle-unknown-version_fail",
        |f| matches!(f, Failure::Verify(V::BundleVersion { .. })),
        "unsupported bundle media type",
    ),
    (
        "bundle-with-root-cert_fail",
        |f| matches!(f, Failure::Verify(V::SignerMaterial { reason }) if reason.contains("root certificate")),
        "root certificate",
    ),
    (
        "checkpoint-bad-keyhint_fail",
        checkpoint_unsigned,
        "checkpoint has no valid signature",
    ),
    (
        "checkpoint-wrong-roothash_fail",
        |f| matches!(f, Failure::Verify(V::TlogEntry { reason, .. }) if reason.contains("root hash")),
        "root hash",
    ),
    ("dsse-invalid-sig_fail", signature, "signature"),
    (
        "dsse-mismatch-envelope_fail",
        rekor_mismatch,
        "does not match the signed content",
    ),
    (
        "dsse-mismatch-sig_fail",
        rekor_mismatch,
        "does not match the signed content",
    ),
    (
        "inclusion-proof-corrupted-hash_fail",
        |f| matches!(f, Failure::Verify(V::Rekor(rekor::Error::Proof { .. }))),
        "inclusion proof does not verify",
    ),
    (
        "incorrect-public-key_fail",
        |f| matches!(f, Failure::Verify(V::Rekor(rekor::Error::Set { .. }))),
        "signed entry timestamp",
    ),
    (
        "integrated-time-in-future_fail",
        |f| {
            matches!(
                f,
                Failure::Verify(V::FutureIntegratedTime { .. } | V::CertificateTime { .. })
            )
        },
        "integrated time",
    ),
    (
        "intoto-expired-certificate_fail",
        certificate_time,
        "certificate",
    ),
    (
        "intoto-log-entry-mismatch_fail",
        |f| matches!(f, Failure::Verify(V::Rekor(_))),
        "transparency log entry",
    ),
    (
        "intoto-missing-inclusion-proof_fail",
        |f| matches!(f, Failure::Verify(V::TlogEntry { reason, .. }) if reason.contains("inclusion proof missing")),
        "inclusion proof missing",
    ),
    (
        "intoto-set-outside-signing-cert-validity_fail",
        |f| matches!(f, Failure::Verify(V::CertificateTime { .. })),
        "integrated time",
    ),
    (
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        certificate_time,
        "certificate",
    ),
    (
        "invalid-checkpoint-signature_fail",
        checkpoint_unsigned,
        "checkpoint has no valid signature",
    ),
    (
        "invalid-ct-key_fail",
        |f| matches!(f, Failure::Verify(V::Sct(_))),
        "SCT",
    ),
    (
        "invalid-inclusion-proof_fail",
        |f| matches!(f, Failure::Verify(V::Rekor(rekor::Error::Proof { .. }))),
        "inclusion proof does not verify",
    ),
    (
        "managed-key-no-key_fail",
        |f| matches!(f, Failure::Verify(V::SignerMaterial { .. })),
        "signed with a key",
    ),
    (
        "managed-key-wrong-key_fail",
        |f| matches!(f, Failure::Key(_)),
        "key",
    ),
    (
        "message-digest-mismatch_fail",
        |f| matches!(f, Failure::Verify(V::MessageDigest)),
        "message digest",
    ),
    (
        "rekor2-checkpoint-missing-log-signature_fail",
        checkpoint_malformed,
        "checkpoint is malformed",
    ),
    (
        "rekor2-checkpoint-missing-origin_fail",
        checkpoint_malformed,
        "checkpoint is malformed",
    ),
    (
        "rekor2-checkpoint-missing-root-hash_fail",
        checkpoint_malformed,
        "checkpoint is malformed",
    ),
    (
        "rekor2-checkpoint-missing-size_fail",
        checkpoint_malformed,
        "checkpoint is malformed",
    ),
    (
        "rekor2-checkpoint-no-matching-signature_fail",
        checkpoint_unsigned,
        "checkpoint has no valid signature",
    ),
    ("rekor2-dsse-invalid-sig_fail", signature, "signature"),
    (
        "rekor2-dsse-mismatch-envelope_fail",
        rekor_mismatch,
        "does not match the signed content",
    ),
    (
        "rekor2-dsse-mismatch-sig_fail",
        rekor_mismatch,
        "does not match the signed content",
    ),
    (
        "rekor2-no-inclusion-proof_fail",
        |f| matches!(f, Failure::Verify(V::TlogEntry { reason, .. }) if reason.contains("inclusion proof missing")),
        "inclusion proof missing",
    ),
    (
        "rekor2-no-timestamp_fail",
        |f| matches!(f, Failure::Verify(V::NoSignedTimestamp { .. })),
        "signed timestamps are required",
    ),
    (
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        untrusted_timestamp,
        "outside the authority's validity",
    ),
    (
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
        untrusted_timestamp,
        "TSA certificate",
    ),
    (
        "rekor2-timestamp-payload-mismatch_fail",
        |f| {
            matches!(
                f,
                Failure::Verify(V::Timestamp(timestamp::Error::Imprint { .. }))
            )
        },
        "does not cover this bundle's signature",
    ),
    (
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        untrusted_timestamp,
        "not from a trusted timestamping authority",
    ),
    (
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        untrusted_timestamp,
        "not from a trusted timestamping authority",
    ),
    (
        "rekor2-timestamp-with-incorrect-time_fail",
        certificate_time,
        "certificate",
    ),
    (
        "set-invalid-signature_fail",
        |f| matches!(f, Failure::Verify(V::Rekor(rekor::Error::Set { .. }))),
        "signed entry timestamp",
    ),
    ("signature-mismatch_fail", signature, "signature"),
    (
        "trust-root-tlog-missing-validity-start_fail",
        |f| matches!(f, Failure::Root(trust::Error::Field { field, .. }) if field.ends_with("validFor.start")),
        "validFor.start",
    ),
    (
        "wrong-hashedrekord-artifact_fail",
        |f| matches!(f, Failure::Verify(V::Rekor(rekor::Error::Mismatch { reason })) if reason == "payload hash differs"),
        "payload hash differs",
    ),
    (
        "wrong-hashedrekord-cert-and-sig_fail",
        rekor_mismatch,
        "does not match the signed content",
    ),
    (
        "wrong-hashedrekord-entry_fail",
        rekor_mismatch,
        "does not match the signed content",
    ),
    (
        "wrong-material_fail",
        |f| matches!(f, Failure::Verify(V::MessageDigest)),
        "message digest",
    ),
];

fn text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|t| t.trim().to_owned())
}

pub fn case_names() -> Vec<String> {
    let root = support::data(CASES);
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("bundle.sigstore.json").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn artifact_path(dir: &Path) -> PathBuf {
    if dir.join("artifact").exists() {
        dir.join("artifact")
    } else {
        dir.join("../a.txt")
    }
}

fn root_path(dir: &Path) -> PathBuf {
    if dir.join("trusted_root.json").exists() {
        dir.join("trusted_root.json")
    } else {
        support::data(PUBLIC_GOOD)
    }
}

/// Runs one case through the library, with the artifact's bytes or its SHA-256 digest.
fn run_case(dir: &Path, by_digest: bool) -> Result<(), Failure> {
    let bundle = Bundle::from_json(&std::fs::read(dir.join("bundle.sigstore.json")).unwrap())
        .map_err(Failure::Bundle)?;
    let bytes = std::fs::read(artifact_path(dir)).unwrap();
    let digest = ArtifactDigest::sha256(Sha256::digest(&bytes).into());
    let artifact = if by_digest {
        Artifact::Digest(&digest)
    } else {
        Artifact::Bytes(&bytes)
    };
    let root = TrustedRoot::from_file(&root_path(dir)).map_err(Failure::Root)?;
    let policy = match std::fs::read(dir.join("key.pub")) {
        Ok(pem) => Policy {
            expected: Expected::Key(key::load_public_key(&pem).map_err(Failure::Key)?),
            ignore_tlog: false,
            ignore_sct: false,
        },
        Err(_) => identity(
            &text(&dir.join("identity")).unwrap_or_else(|| DEFAULT_IDENTITY.to_owned()),
            &text(&dir.join("issuer")).unwrap_or_else(|| DEFAULT_ISSUER.to_owned()),
        ),
    };
    verify::verify_bundle_artifact(&bundle, artifact, &policy, Some(&root), verify::now())
        .map(|_| ())
        .map_err(Failure::Verify)
}

#[test]
fn conformance_cases_pass_and_fail_for_the_named_reason() {
    let root = support::data(CASES);
    let names = case_names();
    assert_eq!(
        names.len(),
        70,
        "the suite has 70 cases at the pinned commit"
    );
    let failing = names.iter().filter(|n| n.ends_with("_fail")).count();
    assert_eq!(
        failing,
        EXPECTED_FAILURES.len(),
        "every _fail case has a reason"
    );
    let mut wrong = Vec::new();
    for name in &names {
        for by_digest in [false, true] {
            let result = run_case(&root.join(name), by_digest);
            let how = if by_digest { "digest" } else { "artifact" };
            match (
                &result,
                EXPECTED_FAILURES.iter().find(|(n, _, _)| n == name),
            ) {
                (Ok(()), None) => {}
                (Err(failure), Some((_, reason, _))) if reason(failure) => {}
                (Err(failure), Some(_)) => {
                    wrong.push(format!("{name} ({how}): wrong reason: {failure}"))
                }
                (Err(failure), None) => wrong.push(format!("{name} ({how}): {failure}")),
                (Ok(()), Some(_)) => wrong.push(format!("{name} ({how}): verified")),
            }
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
/// [--trusted-root F] FILE_OR_DIGEST`, each case with the file and with `sha256:<hex>`; a
/// failure exits 1 and its message names the reason.
#[test]
fn conformance_cases_through_the_cli_protocol() {
    let root = support::data(CASES);
    let names = case_names();
    let mut passed = 0;
    let mut wrong = Vec::new();
    for name in &names {
        let dir = root.join(name);
        let artifact = artifact_path(&dir);
        let digest = format!(
            "sha256:{}",
            hex::encode(Sha256::digest(std::fs::read(&artifact).unwrap()))
        );
        let expected = EXPECTED_FAILURES.iter().find(|(n, _, _)| n == name);
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
                .arg(root_path(&dir))
                .arg(&target);
            let output = command.output().expect("run cosign-rebuild");
            let stderr = String::from_utf8_lossy(&output.stderr);
            let right = match expected {
                None => output.status.success(),
                Some((_, _, says)) => output.status.code() == Some(1) && stderr.contains(says),
            };
            if right {
                passed += 1;
            } else {
                wrong.push(format!(
                    "{name} ({target}): status {:?}, stderr {stderr}",
                    output.status.code()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "wrong outcomes:\n{}", wrong.join("\n"));
    assert_eq!(passed, 2 * names.len());
}
