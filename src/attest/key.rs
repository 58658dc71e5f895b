//! cosign signing keys: the key files `cosign generate-key-pair` writes and `cosign sign --key`
//! reads, and the signature schemes cosign uses with them.
//!
//! Not for: DSSE framing ([`super::dsse`]) or certificates and Fulcio identities (verification,
//! later). Reproduces reference/cosign-attestations.md §11 and §4.2 (cosign
//! `pkg/cosign/keys.go`: `GeneratePrivateKey`, `LoadPrivateKey`; sigstore
//! `pkg/cryptoutils/publickey.go`; go-securesystemslib `encrypted/encrypted.go`).
//!
//! Passwords are arguments: reading `COSIGN_PASSWORD` or prompting is the command line's job.

pub mod encrypted;
pub mod pem;
mod signing;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

pub use encrypted::{EncryptedKey, ScryptCost};
pub use signing::{PrivateKey, PublicKey};

/// PEM label of the encrypted private keys cosign writes today.
pub const SIGSTORE_PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// PEM label of the encrypted private keys older cosign releases wrote; still read.
pub const COSIGN_PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// PEM label of a PKIX public key (`cosign.pub`).
pub const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// Why a key could not be read, used or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input holds no PEM block.
    #[error("no PEM block found in the key data")]
    PemMissing,
    /// The PEM block is not a kind of key this function reads.
    #[error("PEM block {label:?} is not a {expected}")]
    PemLabel {
        /// The label found.
        label: String,
        /// What was expected there.
        expected: &'static str,
    },
    /// The body of an encrypted key is not go-securesystemslib's JSON.
    #[error("encrypted key body is not the expected JSON")]
    EncryptedJson {
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A base64 field of an encrypted key is malformed.
    #[error("encrypted key field {field} is not standard base64")]
    EncryptedBase64 {
        /// The JSON field.
        field: &'static str,
        /// The decoding failure.
        #[source]
        source: base64::DecodeError,
    },
    /// The key derivation function is not scrypt.
    #[error("encrypted key uses key derivation {name:?}; only scrypt is supported")]
    Kdf {
        /// The `kdf.name` found.
        name: String,
    },
    /// The cipher is not NaCl secretbox.
    #[error("encrypted key uses cipher {name:?}; only nacl/secretbox is supported")]
    Cipher {
        /// The `cipher.name` found.
        name: String,
    },
    /// The scrypt parameters are not one of the sets cosign accepts.
    #[error(
        "encrypted key has scrypt parameters N={n}, r={r}, p={p}; accepted are N = 32768, 65536 \
         or 131072 with r = 8 and p = 1"
    )]
    ScryptParams {
        /// The cost `N`.
        n: i64,
        /// The block size `r`.
        r: i64,
        /// The parallelism `p`.
        p: i64,
    },
    /// The nonce is not 24 bytes.
    #[error("encrypted key nonce is {len} bytes; secretbox needs 24")]
    NonceLength {
        /// The decoded length.
        len: usize,
    },
    /// Authentication of the encrypted key failed: wrong password or altered file.
    #[error("cannot decrypt the private key: wrong password, or the key file was altered")]
    Decrypt,
    /// The operating system's random source failed.
    #[error("cannot read random bytes from the operating system")]
    Random {
        /// The failure.
        #[source]
        source: getrandom::Error,
    },
    /// A private key is not DER the expected structure describes.
    #[error("private key is not a valid {format} structure")]
    PrivateKeyDer {
        /// `PKCS#8`, `SEC1` or `PKCS#1`.
        format: &'static str,
    },
    /// A public key is not valid DER for its format.
    #[error("public key is not a valid {format} structure")]
    PublicKeyDer {
        /// `PKIX` or `PKCS#1`.
        format: &'static str,
    },
    /// The key's algorithm (or curve) is not one cosign signs with.
    #[error("unsupported key algorithm {algorithm}")]
    Algorithm {
        /// The algorithm identifier, as an OID or a name.
        algorithm: String,
    },
    /// A key could not be encoded (should not happen for keys this module built).
    #[error("cannot encode the {what}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
    },
    /// Signing failed inside the signature scheme.
    #[error("cannot sign with the {algorithm} key")]
    Sign {
        /// The key's algorithm.
        algorithm: &'static str,
    },
    /// A signature does not verify, or is not even well-formed for the key's scheme.
    #[error("signature does not verify with the {algorithm} public key")]
    BadSignature {
        /// The key's algorithm.
        algorithm: &'static str,
    },
    /// A key file exists and overwriting was not requested.
    #[error("key file {path} already exists")]
    Exists {
        /// The existing file.
        path: PathBuf,
    },
    /// A key file could not be written.
    #[error("cannot write key file {path}")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
}

/// Reads a private key file: cosign's encrypted PEM (current or older label), decrypted with
/// `password` (which may be empty, as cosign allows), or an unencrypted `PRIVATE KEY` (PKCS#8),
/// `EC PRIVATE KEY` (SEC1) or `RSA PRIVATE KEY` (PKCS#1) block, for which `password` is ignored.
pub fn load_private_key(pem_text: &[u8], password: &[u8]) -> Result<PrivateKey, Error> {
    let block = pem::decode(pem_text)?;
    match block.label.as_str() {
        SIGSTORE_PRIVATE_KEY_LABEL | COSIGN_PRIVATE_KEY_LABEL => {
            let pkcs8 = EncryptedKey::from_json(&block.body)?.open(password)?;
            PrivateKey::from_pkcs8_der(&pkcs8)
        }
        "PRIVATE KEY" => PrivateKey::from_pkcs8_der(&Zeroizing::new(block.body)),
        "EC PRIVATE KEY" => PrivateKey::from_sec1_der(&Zeroizing::new(block.body)),
        "RSA PRIVATE KEY" => PrivateKey::from_pkcs1_der(&Zeroizing::new(block.body)),
        _ => Err(Error::PemLabel {
            label: block.label,
            expected: "private key",
        }),
    }
}

/// Reads a public key file: `PUBLIC KEY` (PKIX) or `RSA PUBLIC KEY` (PKCS#1), the two PEM types
/// sigstore's `UnmarshalPEMToPublicKey` accepts.
pub fn load_public_key(pem_text: &[u8]) -> Result<PublicKey, Error> {
    let block = pem::decode(pem_text)?;
    match block.label.as_str() {
        PUBLIC_KEY_LABEL => PublicKey::from_der(&block.body),
        "RSA PUBLIC KEY" => PublicKey::from_pkcs1_der(&block.body),
        _ => Err(Error::PemLabel {
            label: block.label,
            expected: "public key",
        }),
    }
}

/// Encrypts `key` as cosign does: PKCS#8 DER sealed under `password`, armoured as
/// `ENCRYPTED SIGSTORE PRIVATE KEY`.
pub fn encrypt_private_key(
    key: &PrivateKey,
    password: &[u8],
    cost: ScryptCost,
) -> Result<String, Error> {
    let pkcs8 = key.to_pkcs8_der()?;
    let sealed = EncryptedKey::seal(&pkcs8, password, cost)?;
    Ok(pem::encode(SIGSTORE_PRIVATE_KEY_LABEL, &sealed.to_json()))
}

/// The key identifier cosign and sigstore-go put in a bundle's `publicKey.hint`: standard base64
/// of the SHA-256 of the PKIX DER public key.
pub fn public_key_hint(key: &PublicKey) -> Result<String, Error> {
    Ok(STANDARD.encode(Sha256::digest(key.to_der()?)))
}

/// The two files of a cosign key pair, as text.
#[derive(Clone)]
pub struct KeyPair {
    /// `cosign.key`: the encrypted private key PEM.
    pub private_pem: Zeroizing<String>,
    /// `cosign.pub`: the PKIX public key PEM.
    pub public_pem: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("public_pem", &self.public_pem)
            .finish_non_exhaustive()
    }
}

/// Generates a key pair exactly as `cosign generate-key-pair`: ECDSA P-256, the private key as
/// PKCS#8 in an `ENCRYPTED SIGSTORE PRIVATE KEY` block (scrypt N = 65536, r = 8, p = 1, 32-byte
/// salt, 24-byte nonce), the public key as a PKIX `PUBLIC KEY` block.
pub fn generate_key_pair(password: &[u8]) -> Result<KeyPair, Error> {
    let key = PrivateKey::generate_ecdsa_p256()?;
    let private_pem = Zeroizing::new(encrypt_private_key(&key, password, ScryptCost::Standard)?);
    let public_pem = key.public_key().to_pem()?;
    Ok(KeyPair {
        private_pem,
        public_pem,
    })
}

/// What to do when a key file already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Fail with [`Error::Exists`] and leave both files alone.
    Refuse,
    /// Replace the existing files.
    Replace,
}

/// Where [`write_key_pair`] put the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPairPaths {
    /// `<prefix>.key`
    pub private_key: PathBuf,
    /// `<prefix>.pub`
    pub public_key: PathBuf,
}

/// Writes `<prefix>.key` (mode 0600, as cosign) and `<prefix>.pub` (0644), each atomically
/// (temporary file in the same directory, then rename). With [`Overwrite::Refuse`] nothing is
/// written when either file exists.
pub fn write_key_pair(
    pair: &KeyPair,
    prefix: &Path,
    overwrite: Overwrite,
) -> Result<KeyPairPaths, Error> {
    let with_extension = |extension: &str| {
        let mut name = prefix.as_os_str().to_owned();
        name.push(".");
        name.push(extension);
        PathBuf::from(name)
    };
    let paths = KeyPairPaths {
        private_key: with_extension("key"),
        public_key: with_extension("pub"),
    };
    if overwrite == Overwrite::Refuse {
        for path in [&paths.private_key, &paths.public_key] {
            if path.symlink_metadata().is_ok() {
                return Err(Error::Exists { path: path.clone() });
            }
        }
    }
    write_atomically(
        &paths.private_key,
        pair.private_pem.as_bytes(),
        0o600,
        overwrite,
    )?;
    write_atomically(
        &paths.public_key,
        pair.public_pem.as_bytes(),
        0o644,
        overwrite,
    )?;
    Ok(paths)
}

fn write_atomically(
    path: &Path,
    contents: &[u8],
    mode: u32,
    overwrite: Overwrite,
) -> Result<(), Error> {
    let failed = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".receipts-key-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = builder.tempfile_in(directory).map_err(failed)?;
    file.write_all(contents).map_err(failed)?;
    file.as_file().sync_all().map_err(failed)?;
    match overwrite {
        Overwrite::Replace => file.persist(path).map(drop).map_err(|e| failed(e.error)),
        // A file that appeared since the check must not be replaced.
        Overwrite::Refuse => file.persist_noclobber(path).map(drop).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Exists {
                    path: path.to_owned(),
                }
            } else {
                failed(e.error)
            }
        }),
    }
}
