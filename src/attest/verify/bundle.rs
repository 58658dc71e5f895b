//! Verifying one Sigstore bundle as sigstore-go's `Verifier.Verify` does for cosign v3 and
//! the conformance client: transparency log entries (Rekor v1 with SET, inclusion proof and
//! checkpoint; Rekor v2 `hashedrekord` 0.0.2 with a C2SP checkpoint and no integrated time),
//! RFC 3161 signed timestamps, the certificate at every verified time, identity, SCT, the
//! signature and the artifact (bytes or a SHA-256/384/512 digest).
//!
//! Thresholds follow sigstore-go's conformance client: one verified log entry; one verified
//! signed timestamp when the bundle carries timestamps and the root has authorities; one
//! integrated time when an entry carries a SET; and a signed timestamp whenever only Rekor v2
//! entries were verified (they carry no time).
//!
//! Not for: the legacy `.att` path ([`super::verify_legacy`]), finding bundles
//! ([`crate::attest::fetch`]). Reproduces reference/cosign-attestations.md §6.7.

use sha2::{Digest as _, Sha256};

use super::artifact::{Artifact, ArtifactDigest, DigestAlgorithm};
use super::certificate::{self, Cert};
use super::trust::{LogKey, TrustedRoot};
use super::{
    Error, Expected, MAX_FUTURE_SKEW, Policy, SignerIdentity, VerifiedBundle, checkpoint,
    key_details, rekor, sct, signature, timestamp,
};
use crate::attest::bundle::{Bundle, Content, Signer as BundleSigner, TransparencyLogEntry};
use crate::attest::dsse;
use crate::attest::key::PublicKey;

/// Most log entries a bundle may carry (sigstore-go `limits.MaxAllowedTlogEntries`).
pub const MAX_TLOG_ENTRIES: usize = 32;

/// Who signed, as the bundle and policy say.
struct SignerMaterial {
    leaf: Option<Cert>,
    key: PublicKey,
    der: Vec<u8>,
}

/// How the transparency log was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tlog {
    /// Entries were verified.
    Verified,
    /// `--insecure-ignore-tlog`.
    Ignored,
    /// The root lists no log: a signed timestamp must stand in.
    NoLogs,
}

/// What the log and timestamp checks establish.
#[derive(Default)]
struct Evidence {
    /// Times vouched for (SETs and signed timestamps), Unix seconds.
    times: Vec<i64>,
    /// Integrated times of v1 entries (SET or not) the certificate must cover.
    integrated: Vec<i64>,
}

/// Verifies one bundle against the SHA-256 digest of an artifact.
pub fn verify_bundle(
    bundle: &Bundle,
    artifact: &[u8; 32],
    policy: &Policy,
    root: Option<&TrustedRoot>,
    now: i64,
) -> Result<VerifiedBundle, Error> {
    let digest = ArtifactDigest::sha256(*artifact);
    verify_bundle_artifact(bundle, Artifact::Digest(&digest), policy, root, now)
}

/// Verifies one bundle against an artifact's bytes or one of its digests.
pub fn verify_bundle_artifact(
    bundle: &Bundle,
    artifact: Artifact<'_>,
    policy: &Policy,
    root: Option<&TrustedRoot>,
    now: i64,
) -> Result<VerifiedBundle, Error> {
    let version = bundle.version().ok_or_else(|| Error::BundleVersion {
        media_type: bundle.media_type.clone(),
    })?;
    if !((0, 1)..(0, 4)).contains(&version) {
        return Err(Error::BundleVersion {
            media_type: bundle.media_type.clone(),
        });
    }
    let key_only_offline = matches!(policy.expected, Expected::Key(_)) && policy.ignore_tlog;
    // Per-service overrides serve the legacy path only, as in cosign (§6.3).
    let root = root.filter(|r| !r.legacy_only);
    if root.is_none() && !key_only_offline {
        return Err(Error::NoTrustedRoot);
    }
    let signer = signer_material(bundle, policy, version)?;
    let signature = match &bundle.content {
        Content::DsseEnvelope(envelope) => {
            let [sig] = envelope.signatures.as_slice() else {
                return Err(dsse::Error::SignatureCount {
                    count: envelope.signatures.len(),
                }
                .into());
            };
            sig.sig.clone()
        }
        Content::MessageSignature(message) => message.signature.clone(),
    };
    // The signature and its binding to the artifact first: every check must pass anyway, and
    // a bad signature is then reported as such rather than as a log entry that differs.
    check_content(bundle, artifact, &signer.key)?;
    let mut evidence = Evidence::default();
    if let Some(root) = root {
        // As sigstore-go's conformance client: log entries are required when the root has
        // logs; a root with only timestamping authorities accepts timestamped bundles.
        let tlog = if policy.ignore_tlog {
            Tlog::Ignored
        } else if root.has_tlogs() {
            evidence = verify_tlog(bundle, version, &signer, &signature, root, now)?;
            Tlog::Verified
        } else {
            Tlog::NoLogs
        };
        verify_timestamps(bundle, &signature, root, tlog, &mut evidence)?;
    }
    if evidence.times.is_empty() && (policy.ignore_tlog || signer.leaf.is_none()) {
        // cosign: keyless with --insecure-ignore-tlog verifies at the current time; a key
        // needs no time at all.
        if signer.leaf.is_some() {
            evidence.times.push(now);
        }
    }
    let identity = check_certificate(&signer, policy, root, &evidence)?;
    let (envelope, statement) = match &bundle.content {
        Content::DsseEnvelope(envelope) => (Some(envelope.clone()), Some(envelope.statement()?)),
        Content::MessageSignature(_) => (None, None),
    };
    Ok(VerifiedBundle {
        signer: identity,
        envelope,
        statement,
        times: evidence.times,
    })
}

/// The signer's key or certificate, checked against the policy and the bundle version.
fn signer_material(
    bundle: &Bundle,
    policy: &Policy,
    version: (u32, u32),
) -> Result<SignerMaterial, Error> {
    let (leaf, key) = match (&bundle.verification_material.signer, &policy.expected) {
        (BundleSigner::PublicKey { .. }, Expected::Key(key)) => (None, key.clone()),
        (BundleSigner::PublicKey { .. }, Expected::Identity(_)) => {
            return Err(Error::SignerMaterial {
                reason: "bundle is signed with a key; verify it with --key",
            });
        }
        (BundleSigner::Certificate(der), Expected::Identity(_)) => {
            let leaf = Cert::parse(der)?;
            let key = leaf.public_key.clone();
            (Some(leaf), key)
        }
        (BundleSigner::X509CertificateChain(chain), Expected::Identity(_)) => {
            if version >= (0, 3) {
                return Err(Error::SignerMaterial {
                    reason: "v0.3 bundles must carry a single certificate, not a chain",
                });
            }
            let (first, rest) = chain.split_first().ok_or(Error::SignerMaterial {
                reason: "bundle certificate chain is empty",
            })?;
            // A chain that brings its own root would let the bundle pick its trust anchor;
            // the trusted root alone supplies roots.
            if chain.iter().any(|der| certificate::is_self_signed(der)) && !rest.is_empty() {
                return Err(Error::SignerMaterial {
                    reason: "bundle certificate chain contains a root certificate",
                });
            }
            let leaf = Cert::parse(first)?;
            let key = leaf.public_key.clone();
            (Some(leaf), key)
        }
        (_, Expected::Key(_)) => {
            return Err(Error::SignerMaterial {
                reason: "bundle is signed with a certificate, not the given key",
            });
        }
    };
    let der = match &leaf {
        Some(leaf) => leaf.der.clone(),
        None => key.to_der().map_err(|_| Error::SignerMaterial {
            reason: "the key cannot be encoded",
        })?,
    };
    Ok(SignerMaterial { leaf, key, der })
}

/// Checks every entry from a trusted log; at least one must verify.
fn verify_tlog(
    bundle: &Bundle,
    version: (u32, u32),
    signer: &SignerMaterial,
    signature: &[u8],
    root: &TrustedRoot,
    now: i64,
) -> Result<Evidence, Error> {
    let entries = &bundle.verification_material.tlog_entries;
    if entries.len() > MAX_TLOG_ENTRIES {
        return Err(Error::TooManyTlogEntries {
            count: entries.len(),
        });
    }
    for (i, a) in entries.iter().enumerate() {
        if entries[i + 1..]
            .iter()
            .any(|b| a.log_id == b.log_id && a.log_index == b.log_index)
        {
            return Err(Error::TlogEntry {
                log_index: a.log_index,
                reason: "duplicate transparency log entry",
            });
        }
    }
    let mut evidence = Evidence::default();
    let mut verified = 0;
    let mut skipped = Vec::new();
    for entry in entries {
        let Some(log) = root.tlog(&entry.log_id) else {
            skipped.push(match root.unusable_key(&entry.log_id) {
                Some(unusable) => format!("{}: {}", unusable.field, unusable.reason),
                None => format!(
                    "log {} is not in the trusted root",
                    hex::encode(&entry.log_id)
                ),
            });
            continue;
        };
        let is_v2 = check_entry(entry, log, version, bundle, signer, signature, now)?;
        verified += 1;
        if !is_v2 {
            if entry.integrated_time != 0 {
                evidence.integrated.push(entry.integrated_time);
            }
            if entry.inclusion_promise.is_some() {
                evidence.times.push(entry.integrated_time);
            }
        }
    }
    if verified == 0 {
        let reason = if skipped.is_empty() {
            "the bundle has no transparency log entry".to_owned()
        } else {
            skipped.join("; ")
        };
        return Err(Error::NoTlogEntry { reason });
    }
    let has_promise = entries.iter().any(|e| e.inclusion_promise.is_some());
    if has_promise && evidence.times.is_empty() {
        return Err(Error::NoTlogEntry {
            reason: "no verified entry carries a signed entry timestamp".to_owned(),
        });
    }
    Ok(evidence)
}

/// Checks one entry from a trusted log; returns whether it is a Rekor v2 entry.
fn check_entry(
    entry: &TransparencyLogEntry,
    log: &LogKey,
    version: (u32, u32),
    bundle: &Bundle,
    signer: &SignerMaterial,
    signature: &[u8],
    now: i64,
) -> Result<bool, Error> {
    let log_index = entry.log_index;
    if log_index < 0 {
        return Err(Error::TlogEntry {
            log_index,
            reason: "negative log index",
        });
    }
    let body = rekor::parse_body(&entry.canonicalized_body)?;
    if body.kind != entry.kind_version.kind || body.version != entry.kind_version.version {
        return Err(Error::TlogEntry {
            log_index,
            reason: "kindVersion differs from the entry body",
        });
    }
    let is_v2 = body.is_rekor_v2();
    if entry.inclusion_proof.is_none() && (version >= (0, 2) || is_v2) {
        return Err(Error::TlogEntry {
            log_index,
            reason: "inclusion proof missing (required from bundle v0.2 and for Rekor v2)",
        });
    }
    if entry.inclusion_promise.is_none() && version == (0, 1) {
        return Err(Error::TlogEntry {
            log_index,
            reason: "inclusion promise missing (required for bundle v0.1)",
        });
    }
    if let Some(set) = entry.inclusion_promise.as_deref().filter(|_| !is_v2) {
        if !log.valid_at(entry.integrated_time) {
            return Err(Error::LogKeyValidity {
                time: entry.integrated_time,
            });
        }
        rekor::verify_set(
            &rekor::SetPayload {
                body: &entry.canonicalized_body,
                integrated_time: entry.integrated_time,
                log_id: &entry.log_id,
                log_index,
            },
            set,
            log,
        )?;
    }
    if let Some(proof) = &entry.inclusion_proof {
        check_proof(entry, proof, log, is_v2)?;
    }
    if is_v2 {
        check_v2_body(&body, bundle, signer, signature)?;
    } else {
        let expected = v1_digest(bundle);
        rekor::check_bundle_body(&body, signature, &signer.der, &expected)?;
        if entry.integrated_time > now + MAX_FUTURE_SKEW {
            return Err(Error::FutureIntegratedTime {
                time: entry.integrated_time,
            });
        }
    }
    Ok(is_v2)
}

/// Inclusion proof and checkpoint: Rekor v1 (`<host> - <tree id>` origin) or v2 (origin = the
/// log's host).
fn check_proof(
    entry: &TransparencyLogEntry,
    proof: &crate::attest::bundle::InclusionProof,
    log: &LogKey,
    is_v2: bool,
) -> Result<(), Error> {
    let log_index = entry.log_index;
    let proof_view = rekor::Proof {
        global_index: log_index,
        index: proof.log_index,
        tree_size: proof.tree_size,
        root_hash: &proof.root_hash,
        hashes: &proof.hashes,
    };
    rekor::verify_inclusion(&proof_view, &entry.canonicalized_body)?;
    let text = proof.checkpoint.as_deref().ok_or(Error::TlogEntry {
        log_index,
        reason: "inclusion proof without checkpoint",
    })?;
    let checkpoint = checkpoint::parse(text)?;
    if checkpoint.is_rekor_v1() && !is_v2 {
        checkpoint.verify_v1(log)?;
    } else {
        let host = log_host(&log.base_url).ok_or(Error::TlogEntry {
            log_index,
            reason: "the trusted root gives the log no baseUrl to name its checkpoints",
        })?;
        checkpoint.verify_v2(host, log)?;
    }
    if i64::try_from(checkpoint.size).ok() != Some(proof.tree_size)
        || checkpoint.root_hash != proof.root_hash
    {
        return Err(Error::TlogEntry {
            log_index,
            reason: "checkpoint tree size or root hash differs from the inclusion proof",
        });
    }
    Ok(())
}

/// The host of a log's base URL (`https://host[:port]/path`).
fn log_host(base_url: &str) -> Option<&str> {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    (!host.is_empty()).then_some(host)
}

/// What a v1 entry must record as the payload or artifact hash: the DSSE payload's SHA-256,
/// or the message digest the bundle states.
fn v1_digest(bundle: &Bundle) -> Vec<u8> {
    match &bundle.content {
        Content::DsseEnvelope(envelope) => Sha256::digest(&envelope.payload).to_vec(),
        Content::MessageSignature(message) => message
            .message_digest
            .as_ref()
            .map(|d| d.digest.clone())
            .unwrap_or_default(),
    }
}

/// Rekor v2 (sigstore-go `reconstructV2EntryHash`): the entry records this signature, this
/// key or certificate, the key's default scheme, and the digest signed — the message digest,
/// or for DSSE the hash of the PAE under the key's scheme.
fn check_v2_body(
    body: &rekor::Body,
    bundle: &Bundle,
    signer: &SignerMaterial,
    signature: &[u8],
) -> Result<(), Error> {
    let mismatch = |reason: &str| {
        Error::Rekor(rekor::Error::Mismatch {
            reason: reason.to_owned(),
        })
    };
    let scheme = key_details::default_scheme(&signer.key);
    let [(logged_sig, logged_signer)] = body.signatures.as_slice() else {
        return Err(mismatch("the entry must hold exactly one signature"));
    };
    if logged_signer != &signer.der {
        return Err(mismatch("key or certificate differs"));
    }
    if logged_sig != signature {
        return Err(mismatch("signature differs"));
    }
    if body.key_details.as_deref() != Some(scheme.name) {
        return Err(mismatch("keyDetails is not the signing key's scheme"));
    }
    let (algorithm, digest) = match &bundle.content {
        Content::MessageSignature(message) => {
            let stated = message.message_digest.as_ref().ok_or_else(|| {
                mismatch("a Rekor v2 message signature needs the bundle's message digest")
            })?;
            (
                DigestAlgorithm::from_name(&stated.algorithm),
                stated.digest.clone(),
            )
        }
        Content::DsseEnvelope(envelope) => {
            let pae = dsse::pae(&envelope.payload_type, &envelope.payload);
            let algorithm = match scheme.hash {
                signature::Hash::Sha384 => DigestAlgorithm::Sha384,
                signature::Hash::Sha512 => DigestAlgorithm::Sha512,
                _ => DigestAlgorithm::Sha256,
            };
            (Some(algorithm), signature::digest(algorithm.hash(), &pae))
        }
    };
    let logged_algorithm = body
        .digest_algorithm
        .as_deref()
        .and_then(DigestAlgorithm::from_name);
    if algorithm.is_none() || logged_algorithm != algorithm {
        return Err(mismatch("digest algorithm differs"));
    }
    if body.payload_hash.as_deref() != Some(hex::encode(&digest).as_str()) {
        return Err(mismatch("the logged digest is not the signed content's"));
    }
    Ok(())
}

/// RFC 3161 timestamps: at most 32; when the bundle has some and the root has authorities, at
/// least one must verify; a bundle whose only log evidence is Rekor v2 needs one.
fn verify_timestamps(
    bundle: &Bundle,
    signature: &[u8],
    root: &TrustedRoot,
    tlog: Tlog,
    evidence: &mut Evidence,
) -> Result<(), Error> {
    let stamps = bundle
        .verification_material
        .timestamp_verification_data
        .as_deref()
        .unwrap_or_default();
    let (verified, errors) = timestamp::verify_all(stamps, signature, root)?;
    let required = !stamps.is_empty() && !root.timestamp_authorities.is_empty();
    if required && verified.is_empty() {
        // Every timestamp failed, so there is an error for each; report the first.
        if let Some(first) = errors.into_iter().next() {
            return Err(Error::Timestamp(first));
        }
        return Err(Error::NoSignedTimestamp {
            reason: "no signed timestamp verified".to_owned(),
        });
    }
    if tlog == Tlog::NoLogs && verified.is_empty() {
        return Err(Error::NoTlogEntry {
            reason: "the trusted root lists no transparency log and no signed timestamp \
                     stands in for one"
                .to_owned(),
        });
    }
    evidence.times.extend(verified.iter().map(|v| v.time));
    let only_v2 = tlog == Tlog::Verified
        && !bundle.verification_material.tlog_entries.is_empty()
        && evidence.integrated.is_empty()
        && evidence.times.is_empty();
    if only_v2 {
        return Err(Error::NoSignedTimestamp {
            reason: match errors.first() {
                Some(e) => e.to_string(),
                None => "the bundle has no RFC 3161 timestamp".to_owned(),
            },
        });
    }
    Ok(())
}

/// The certificate at every verified time (and at integrated times), identity and SCT.
fn check_certificate(
    signer: &SignerMaterial,
    policy: &Policy,
    root: Option<&TrustedRoot>,
    evidence: &Evidence,
) -> Result<SignerIdentity, Error> {
    let (Some(leaf), Expected::Identity(identity)) = (&signer.leaf, &policy.expected) else {
        return Ok(SignerIdentity::Key);
    };
    let root = root.ok_or(Error::NoTrustedRoot)?;
    for &time in &evidence.integrated {
        if !leaf.valid_at(time) {
            return Err(Error::CertificateTime { time });
        }
    }
    if evidence.times.is_empty() {
        return Err(Error::NoSignedTimestamp {
            reason: "no verified time to check the certificate at".to_owned(),
        });
    }
    let mut issuer = None;
    for &time in &evidence.times {
        issuer = Some(certificate::verify_chain(leaf, &[], root, time)?.issuer);
    }
    identity.check_bundle(leaf)?;
    if !policy.ignore_sct
        && let Some(issuer) = &issuer
    {
        sct::verify_embedded(leaf, issuer, root)?;
    }
    Ok(SignerIdentity::Certificate {
        subject: leaf.primary_san().unwrap_or_default().to_owned(),
        issuer: leaf.issuer().unwrap_or_default(),
    })
}

/// The signature over the content and the content's binding to the artifact.
fn check_content(bundle: &Bundle, artifact: Artifact<'_>, key: &PublicKey) -> Result<(), Error> {
    match &bundle.content {
        Content::DsseEnvelope(envelope) => {
            envelope.verify(key)?;
            let statement = envelope.statement()?;
            if !statement
                .subject
                .iter()
                .any(|s| artifact.matches_digest_set(&s.digest))
            {
                return Err(Error::BundleSubject);
            }
            Ok(())
        }
        Content::MessageSignature(message) => {
            let algorithm = match &message.message_digest {
                Some(stated) => {
                    DigestAlgorithm::from_name(&stated.algorithm).ok_or(Error::MessageDigest)?
                }
                None => DigestAlgorithm::Sha256,
            };
            let digest = artifact.digest(algorithm).ok_or(Error::MessageDigest)?;
            if let Some(stated) = &message.message_digest
                && stated.digest != digest
            {
                return Err(Error::MessageDigest);
            }
            if let (PublicKey::Ed25519(_), Artifact::Bytes(bytes)) = (key, artifact) {
                return key
                    .verify(bytes, &message.signature)
                    .map_err(|_| Error::MessageSignature);
            }
            signature::verify_prehash(key, algorithm.hash(), &digest, &message.signature)
                .map_err(|_| Error::MessageSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_hosts() {
        assert_eq!(
            log_host("https://log2025-alpha1.rekor.sigstage.dev"),
            Some("log2025-alpha1.rekor.sigstage.dev")
        );
        assert_eq!(log_host("https://h:8080/api/v1"), Some("h"));
        assert_eq!(log_host(""), None);
    }
}
