//! Trust material apko adds after the packages: `certificates.additional` files and bundle
//! appends, the CA bundles' checksum sidecars, and the runtime keyring.
//!
//! Certificates and keys are written as Go re-encodes them (`pem`), with the build date as
//! their mtime. Java truststores are not updated: when a build would have to add certificates
//! to one, it fails naming the truststore (their checksum sidecars are written as usual).
//!
//! Not for: keys used to verify packages at build time (`initdb`, `apk::keyring`).
//! Reproduces apko `pkg/build/certificates.go` (`installCertificates`,
//! `writeCABundleChecksums`, `parseCertificates`) and `pkg/build/runtime_keyring.go`
//! (reference/apko-format.md §6.7 steps 2–4). Go's `x509.ParseCertificate` is approximated by a
//! strict DER decoding of the certificate structure (`x509-cert`); Go's semantic checks (times,
//! extensions, key parameters) are not repeated.

use super::{Certificates, Error, NamedContent, fs_error};
use crate::apk::installed::{EntryKind, Record};
use crate::build::fs::{self, FileMode, Tree, path};
use crate::codec::pem::{self, Block};
use crate::codec::tar::Timestamp;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;

const CA_CERTS_DIR: &str = "usr/local/share/ca-certificates";
const CA_BUNDLES: [&str; 3] = [
    "etc/ssl/certs/ca-certificates.crt",
    "var/lib/ecs/deps/execute-command/certs/tls-ca-bundle.pem",
    "kaniko/ssl/certs/ca-certificates.crt",
];
const JAVA_TRUSTSTORES: [&str; 1] = ["etc/ssl/certs/java/cacerts"];
const APK_KEYS_DIR: &str = "etc/apk/keys";

struct ParsedCertificate {
    pem: Vec<u8>,
    fingerprint: String,
}

/// `installCertificates`.
pub(super) fn install(
    tree: &mut Tree,
    certificates: &Certificates,
    installed: &[Record],
    built: Timestamp,
) -> Result<(), Error> {
    let mut certs: Vec<ParsedCertificate> = Vec::new();
    if !certificates.additional.is_empty() {
        tree.mkdir_all(CA_CERTS_DIR, FileMode(0o755))
            .map_err(fs_error(CA_CERTS_DIR))?;
        for additional in &certificates.additional {
            let cert =
                parse_certificate(&additional.content).map_err(|reason| Error::Certificate {
                    name: additional.name.clone(),
                    reason,
                })?;
            let file = path::join(&[
                CA_CERTS_DIR,
                &format!("{}-{}.crt", additional.name, cert.fingerprint),
            ]);
            tree.write_file(&file, &cert.pem, FileMode(0o644))
                .map_err(fs_error(&file))?;
            tree.chtimes(&file, built).map_err(fs_error(&file))?;
            certs.push(cert);
        }
    }
    if !certificates.providers.is_empty() {
        let mut files: Vec<String> = installed
            .iter()
            .filter(|r| {
                r.package
                    .provides
                    .iter()
                    .any(|p| certificates.providers.iter().any(|c| c == p))
            })
            .flat_map(|r| r.files.iter())
            .filter(|f| f.kind != EntryKind::Directory)
            .map(|f| path::clean(&f.path))
            .filter(|name| name.starts_with(&format!("{CA_CERTS_DIR}/")))
            .filter(|name| {
                let base = path::base(name);
                base.ends_with(".crt") || base.ends_with(".pem")
            })
            .collect();
        files.sort();
        for file in files {
            let data = tree.read_file(&file).map_err(fs_error(&file))?;
            if let Ok(cert) = parse_certificate(&String::from_utf8_lossy(&data)) {
                certs.push(cert);
            }
        }
    }
    if certs.is_empty() {
        return Ok(());
    }
    let mut bundles = Vec::new();
    for bundle in CA_BUNDLES {
        match tree.open_for_append(bundle) {
            Ok(()) => bundles.push(bundle),
            Err(fs::Error::NotFound { .. }) => {}
            Err(e) => return Err(fs_error(bundle)(e)),
        }
    }
    for truststore in JAVA_TRUSTSTORES {
        match tree.stat(truststore) {
            Ok(_) => {
                return Err(Error::JavaTruststore {
                    path: truststore.to_owned(),
                });
            }
            Err(fs::Error::NotFound { .. }) => {}
            Err(e) => return Err(fs_error(truststore)(e)),
        }
    }
    for cert in &certs {
        for bundle in &bundles {
            let mut appended = cert.pem.clone();
            appended.push(b'\n');
            tree.append_file(bundle, &appended, FileMode(0o644))
                .map_err(fs_error(bundle))?;
        }
    }
    for bundle in CA_BUNDLES {
        match tree.chtimes(bundle, built) {
            Ok(()) | Err(fs::Error::NotFound { .. }) => {}
            Err(e) => return Err(fs_error(bundle)(e)),
        }
    }
    Ok(())
}

/// `writeCABundleChecksums`: `<dir>/.<name>.sha256` holding `<hex>  <name>\n` next to every
/// bundle and truststore present.
pub(super) fn write_checksums(tree: &mut Tree, built: Timestamp) -> Result<(), Error> {
    for store in CA_BUNDLES.into_iter().chain(JAVA_TRUSTSTORES) {
        let data = match tree.read_file(store) {
            Ok(data) => data,
            Err(fs::Error::NotFound { .. }) => continue,
            Err(e) => return Err(fs_error(store)(e)),
        };
        let base = path::base(store);
        let line = format!("{}  {base}\n", hex::encode(Sha256::digest(&data)));
        let sidecar = path::join(&[&path::dir(store), &format!(".{base}.sha256")]);
        tree.write_file(&sidecar, line.as_bytes(), FileMode(0o444))
            .map_err(fs_error(&sidecar))?;
        tree.chtimes(&sidecar, built).map_err(fs_error(&sidecar))?;
    }
    Ok(())
}

/// `installRuntimeKeyring`: each key, in name order, re-encoded into `/etc/apk/keys/<name>`;
/// a name already present there is an error.
pub(super) fn install_runtime_keyring(
    tree: &mut Tree,
    keys: &[NamedContent],
    built: Timestamp,
) -> Result<(), Error> {
    if keys.is_empty() {
        return Ok(());
    }
    tree.mkdir_all(APK_KEYS_DIR, FileMode(0o755))
        .map_err(fs_error(APK_KEYS_DIR))?;
    let sorted: BTreeMap<&str, &NamedContent> = keys.iter().map(|k| (k.name.as_str(), k)).collect();
    for (name, key) in sorted {
        let rejected = |reason: &str| Error::RuntimeKey {
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        let encoded = parse_public_key(&key.content).map_err(|r| rejected(&r))?;
        let file = path::join(&[APK_KEYS_DIR, name]);
        match tree.stat(&file) {
            Ok(_) => {
                return Err(rejected("collides with an existing /etc/apk/keys entry"));
            }
            Err(fs::Error::NotFound { .. }) => {}
            Err(e) => return Err(fs_error(&file)(e)),
        }
        tree.write_file(&file, &encoded, FileMode(0o644))
            .map_err(fs_error(&file))?;
        tree.chtimes(&file, built).map_err(fs_error(&file))?;
    }
    Ok(())
}

/// `parseCertificates`: exactly one CERTIFICATE block, re-encoded, with the SHA-256 of its DER.
fn parse_certificate(text: &str) -> Result<ParsedCertificate, String> {
    if text.is_empty() {
        return Err("no certificate data provided".to_owned());
    }
    let mut found: Option<ParsedCertificate> = None;
    let mut rest = text.as_bytes();
    while let Some((block, after)) = pem::decode(rest) {
        rest = after;
        if found.is_some() {
            return Err("multiple certificates found; only one is allowed".to_owned());
        }
        if block.kind != b"CERTIFICATE" {
            return Err(format!(
                "expected CERTIFICATE block, got {}",
                String::from_utf8_lossy(&block.kind)
            ));
        }
        if !is_certificate_der(&block.bytes) {
            return Err("failed to parse certificate".to_owned());
        }
        found = Some(ParsedCertificate {
            fingerprint: hex::encode(Sha256::digest(&block.bytes)),
            pem: pem::encode(&block),
        });
    }
    found.ok_or_else(|| "no certificates found in PEM data".to_owned())
}

/// `parsePublicKey`: exactly one PUBLIC KEY block holding an RSA key, re-encoded.
fn parse_public_key(text: &str) -> Result<Vec<u8>, String> {
    use rsa::pkcs8::DecodePublicKey as _;
    if text.is_empty() {
        return Err("no key data provided".to_owned());
    }
    let (block, rest) = pem::decode(text.as_bytes()).ok_or("no PEM block found")?;
    if block.kind != b"PUBLIC KEY" {
        return Err(format!(
            "expected PUBLIC KEY block, got {}",
            String::from_utf8_lossy(&block.kind)
        ));
    }
    if pem::decode(rest).is_some() {
        return Err("multiple PEM blocks found; only one is allowed".to_owned());
    }
    rsa::PublicKey::from_public_key_der(&block.bytes)
        .map_err(|e| format!("failed to parse public key: {e}"))?;
    Ok(pem::encode(&Block {
        kind: block.kind,
        headers: BTreeMap::new(),
        bytes: block.bytes,
    }))
}

/// Go's `x509.ParseCertificate`, approximated by a strict DER decoding of the X.509
/// structure (no trailing bytes).
fn is_certificate_der(der: &[u8]) -> bool {
    use x509_cert::der::Decode as _;
    x509_cert::Certificate::from_der(der).is_ok()
}
