//! Transparency log checkpoints: C2SP signed notes (`c2sp.org/signed-note`,
//! `c2sp.org/tlog-checkpoint`) carrying a log's tree size and root hash, signed by the log and
//! possibly cosigned by witnesses.
//!
//! Rekor v1 checkpoints have the origin `<host> - <tree id>` and need a signature line named
//! after the host with the log key's hint; Rekor v2 checkpoints have the log's host as
//! origin and must carry a signature named after it (sigstore-go `pkg/verify/tlog.go`,
//! rekor-tiles `pkg/note`). Signatures by keys this verifier does not know (witness
//! cosignatures) are ignored, as golang.org/x/mod/sumdb/note does. Pure.
//!
//! Not for: the Merkle proof itself ([`super::rekor`]).

use sha2::{Digest as _, Sha256};

use super::signature;
use super::trust::LogKey;
use crate::attest::dsse::decode_lenient;
use crate::attest::key::PublicKey;

/// sumdb/note's limit on signature lines.
const MAX_SIGNATURES: usize = 100;

/// Why a checkpoint is refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not a signed note, or not a checkpoint body.
    #[error("checkpoint is malformed: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// No signature line verifies with the log's key.
    #[error("checkpoint has no valid signature by log {name}: {reason}")]
    Unsigned {
        /// The log's note name (host).
        name: String,
        /// Why no line verified.
        reason: &'static str,
    },
    /// The checkpoint is for another log.
    #[error("checkpoint origin {origin:?} is not log {expected:?}")]
    Origin {
        /// The origin line.
        origin: String,
        /// The log's name.
        expected: String,
    },
}

/// One `— <name> <base64>` line.
#[derive(Debug, Clone)]
pub struct NoteSignature {
    /// The signer's name.
    pub name: String,
    /// The 4-byte key hint.
    pub hint: [u8; 4],
    /// The signature bytes after the hint.
    pub signature: Vec<u8>,
}

/// A parsed checkpoint.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The origin line.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root hash.
    pub root_hash: Vec<u8>,
    /// The signed note text (everything before the blank line, final newline included).
    pub text: String,
    /// The signature lines in order.
    pub signatures: Vec<NoteSignature>,
}

fn malformed(reason: &str) -> Error {
    Error::Malformed {
        reason: reason.to_owned(),
    }
}

/// Parses a signed note holding a checkpoint.
pub fn parse(note: &str) -> Result<Checkpoint, Error> {
    if !note.ends_with('\n') {
        return Err(malformed("the note does not end with a newline"));
    }
    let split = note
        .rfind("\n\n")
        .ok_or_else(|| malformed("no blank line before the signatures"))?;
    let text = &note[..split + 1];
    let signature_block = &note[split + 2..];
    let mut signatures = Vec::new();
    for line in signature_block.lines() {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or_else(|| malformed("a signature line does not start with an em dash"))?;
        let (name, encoded) = rest
            .split_once(' ')
            .ok_or_else(|| malformed("a signature line has no signature"))?;
        if name.is_empty() || name.contains('+') {
            return Err(malformed("a signature line has an invalid name"));
        }
        let raw = decode_lenient(encoded).ok_or_else(|| malformed("a signature is not base64"))?;
        let (hint, signature) = raw
            .split_first_chunk::<4>()
            .ok_or_else(|| malformed("a signature is shorter than its key hint"))?;
        signatures.push(NoteSignature {
            name: name.to_owned(),
            hint: *hint,
            signature: signature.to_vec(),
        });
    }
    if signatures.is_empty() {
        return Err(malformed("the note has no signature lines"));
    }
    if signatures.len() > MAX_SIGNATURES {
        return Err(malformed("the note has too many signature lines"));
    }
    let mut lines = text.lines();
    let origin = lines.next().unwrap_or_default();
    if origin.is_empty() {
        return Err(malformed("the origin line is empty"));
    }
    let size = lines
        .next()
        .and_then(|l| l.parse::<u64>().ok().filter(|_| !l.starts_with('+')))
        .ok_or_else(|| malformed("the second line is not a tree size"))?;
    let root_hash = lines
        .next()
        .and_then(decode_lenient)
        .filter(|h| !h.is_empty())
        .ok_or_else(|| malformed("the third line is not a base64 root hash"))?;
    Ok(Checkpoint {
        origin: origin.to_owned(),
        size,
        root_hash,
        text: text.to_owned(),
        signatures,
    })
}

impl Checkpoint {
    /// Whether the origin is Rekor v1's `<host> - <tree id>`.
    pub fn is_rekor_v1(&self) -> bool {
        self.origin
            .rsplit_once(" - ")
            .is_some_and(|(_, id)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    }

    /// Verifies a Rekor v1 checkpoint: a line named after the origin's host carries the log
    /// key's hint and verifies. (Rekor's own check ignores the name; Rekor v1 always signs as
    /// the host, so requiring it refuses nothing real and leaves no byte unauthenticated.)
    pub fn verify_v1(&self, key: &LogKey) -> Result<(), Error> {
        let host = self
            .origin
            .rsplit_once(" - ")
            .map_or(self.origin.as_str(), |(host, _)| host);
        let hint = ecdsa_style_hint(&key.der);
        self.verify_lines(key, |s| s.name == host && s.hint == hint, host)
    }

    /// Verifies a Rekor v2 checkpoint of the log named `name` (its host): the origin is the
    /// name, and a line by that name with the key's C2SP hint verifies.
    pub fn verify_v2(&self, name: &str, key: &LogKey) -> Result<(), Error> {
        // Signatures first, then the origin, as transparency-dev's `ParseCheckpoint` does.
        let hint = note_key_hint(name, key);
        self.verify_lines(key, |s| s.name == name && s.hint == hint, name)?;
        if self.origin != name {
            return Err(Error::Origin {
                origin: self.origin.clone(),
                expected: name.to_owned(),
            });
        }
        Ok(())
    }

    fn verify_lines(
        &self,
        key: &LogKey,
        candidate: impl Fn(&NoteSignature) -> bool,
        name: &str,
    ) -> Result<(), Error> {
        let mut reason = "no signature line names the log with its key hint";
        for line in self.signatures.iter().filter(|s| candidate(s)) {
            if signature::verify_scheme(
                &key.key,
                &key.scheme,
                self.text.as_bytes(),
                &line.signature,
            )
            .is_ok()
            {
                return Ok(());
            }
            reason = "the log's signature line does not verify";
        }
        Err(Error::Unsigned {
            name: name.to_owned(),
            reason,
        })
    }
}

/// Rekor v1 and v2 ECDSA logs: the first 4 bytes of SHA-256 of the PKIX key.
fn ecdsa_style_hint(der: &[u8]) -> [u8; 4] {
    let digest = Sha256::digest(der);
    [digest[0], digest[1], digest[2], digest[3]]
}

/// The key hint a signed note uses for `key` under `name` (rekor-tiles `pkg/note.KeyHash`):
/// ECDSA keys hash their PKIX DER; Ed25519 and RSA keys follow the C2SP rule
/// SHA-256(name || "\n" || type || key).
pub fn note_key_hint(name: &str, key: &LogKey) -> [u8; 4] {
    let conformant = |type_and_key: &[u8]| {
        let mut hasher = Sha256::new();
        hasher.update(name.as_bytes());
        hasher.update(b"\n");
        hasher.update(type_and_key);
        let digest = hasher.finalize();
        [digest[0], digest[1], digest[2], digest[3]]
    };
    match &key.key {
        PublicKey::Ed25519(ed) => {
            let mut bytes = vec![0x01];
            bytes.extend_from_slice(ed.as_bytes());
            conformant(&bytes)
        }
        PublicKey::Rsa(_) => {
            let mut bytes = vec![0xff];
            bytes.extend_from_slice(b"PKIX-RSA-PKCS#1v1.5");
            bytes.extend_from_slice(&key.der);
            conformant(&bytes)
        }
        _ => ecdsa_style_hint(&key.der),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_notes_are_named() {
        for (note, what) in [
            ("origin\n1\nAAAA\n", "blank line"),
            ("origin\n1\nAAAA\n\n", "signature lines"),
            ("origin\n1\nAAAA\n\n- x AAAAAAAA\n", "em dash"),
            ("\n1\nAAAA\n\n\u{2014} x AAAAAAAA\n", "origin"),
            ("origin\nx\nAAAA\n\n\u{2014} x AAAAAAAA\n", "tree size"),
            ("origin\n1\n\n\n\u{2014} x AAAAAAAA\n", "root hash"),
        ] {
            let e = parse(note).unwrap_err().to_string();
            assert!(e.contains(what), "{note:?}: {e}");
        }
    }
}
