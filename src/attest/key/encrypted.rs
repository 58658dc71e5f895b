//! cosign's password-encrypted private keys: scrypt-derived key, NaCl secretbox, JSON envelope.
//!
//! Not for: the PEM armour ([`crate::codec::pem`]) or the PKCS#8 key inside ([`super::PrivateKey`]).
//! Reproduces go-securesystemslib `encrypted/encrypted.go` (reference/cosign-attestations.md
//! §11): `{"kdf":{"name":"scrypt","params":{"N":…,"r":8,"p":1},"salt":…},
//! "cipher":{"name":"nacl/secretbox","nonce":…},"ciphertext":…}` with Go's field order and
//! standard padded base64. The secretbox (XSalsa20-Poly1305, `golang.org/x/crypto/nacl/secretbox`)
//! is composed here from the RustCrypto `salsa20` and `poly1305` crates, which the scrypt crate
//! already pulls in; the packaged `crypto_secretbox` is only available as a pre-release pinned to
//! older release candidates of the same crates.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use poly1305::Poly1305;
use poly1305::universal_hash::KeyInit;
use salsa20::XSalsa20;
use salsa20::cipher::{KeyIvInit, StreamCipher};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::Error;

/// Length of the scrypt salt cosign writes.
pub const SALT_LEN: usize = 32;
/// Length of a secretbox nonce.
pub const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// The scrypt cost parameter sets go-securesystemslib accepts (`CheckParams`); all use r = 8, p = 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScryptCost {
    /// N = 2^15: written by older cosign releases and by the Rust `sigstore` crate.
    Legacy,
    /// N = 2^16: what cosign writes today.
    Standard,
    /// N = 2^17: the OWASP recommendation, accepted on read.
    Owasp,
}

impl ScryptCost {
    const R: u32 = 8;
    const P: u32 = 1;

    /// The scrypt CPU/memory cost `N`.
    pub fn n(self) -> u64 {
        1 << self.log_n()
    }

    fn log_n(self) -> u8 {
        match self {
            ScryptCost::Legacy => 15,
            ScryptCost::Standard => 16,
            ScryptCost::Owasp => 17,
        }
    }

    fn from_params(params: &ScryptParams) -> Result<Self, Error> {
        let cost = match params.n {
            32768 => ScryptCost::Legacy,
            65536 => ScryptCost::Standard,
            131072 => ScryptCost::Owasp,
            _ => {
                return Err(Error::ScryptParams {
                    n: params.n,
                    r: params.r,
                    p: params.p,
                });
            }
        };
        if params.r != i64::from(Self::R) || params.p != i64::from(Self::P) {
            return Err(Error::ScryptParams {
                n: params.n,
                r: params.r,
                p: params.p,
            });
        }
        Ok(cost)
    }

    fn derive_key(self, password: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
        let params = scrypt::Params::new(self.log_n(), Self::R, Self::P).map_err(|_| {
            Error::ScryptParams {
                n: self.n() as i64,
                r: i64::from(Self::R),
                p: i64::from(Self::P),
            }
        })?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        scrypt::scrypt(password, salt, &params, key.as_mut_slice()).map_err(|_| {
            Error::ScryptParams {
                n: self.n() as i64,
                r: i64::from(Self::R),
                p: i64::from(Self::P),
            }
        })?;
        Ok(key)
    }
}

/// A decoded encrypted key: everything needed to try a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedKey {
    /// The scrypt cost the key was written with.
    pub cost: ScryptCost,
    /// The scrypt salt.
    pub salt: Vec<u8>,
    /// The secretbox nonce.
    pub nonce: [u8; NONCE_LEN],
    /// Poly1305 tag followed by the XSalsa20-encrypted PKCS#8 DER, as NaCl's `secretbox.Seal`.
    pub ciphertext: Vec<u8>,
}

impl EncryptedKey {
    /// Parses the JSON body of an `ENCRYPTED SIGSTORE PRIVATE KEY` / `ENCRYPTED COSIGN PRIVATE
    /// KEY` PEM block, with go-securesystemslib's checks: scrypt, nacl/secretbox, an accepted
    /// cost, a 24-byte nonce.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let wire: Wire =
            serde_json::from_slice(json).map_err(|source| Error::EncryptedJson { source })?;
        if wire.kdf.name != KDF_NAME {
            return Err(Error::Kdf {
                name: wire.kdf.name,
            });
        }
        if wire.cipher.name != CIPHER_NAME {
            return Err(Error::Cipher {
                name: wire.cipher.name,
            });
        }
        let cost = ScryptCost::from_params(&wire.kdf.params)?;
        let salt = decode_field("kdf.salt", &wire.kdf.salt)?;
        let nonce_bytes = decode_field("cipher.nonce", &wire.cipher.nonce)?;
        let nonce = <[u8; NONCE_LEN]>::try_from(nonce_bytes.as_slice()).map_err(|_| {
            Error::NonceLength {
                len: nonce_bytes.len(),
            }
        })?;
        let ciphertext = decode_field("ciphertext", &wire.ciphertext)?;
        Ok(EncryptedKey {
            cost,
            salt,
            nonce,
            ciphertext,
        })
    }

    /// The JSON body exactly as Go's `json.Marshal` writes go-securesystemslib's struct.
    pub fn to_json(&self) -> Vec<u8> {
        let wire = Wire {
            kdf: Kdf {
                name: KDF_NAME.to_owned(),
                params: ScryptParams {
                    n: self.cost.n() as i64,
                    r: i64::from(ScryptCost::R),
                    p: i64::from(ScryptCost::P),
                },
                salt: STANDARD.encode(&self.salt),
            },
            cipher: Cipher {
                name: CIPHER_NAME.to_owned(),
                nonce: STANDARD.encode(self.nonce),
            },
            ciphertext: STANDARD.encode(&self.ciphertext),
        };
        // Serialising plain strings and integers cannot fail.
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// Encrypts `plaintext` under `password` with a fresh random salt and nonce, as
    /// go-securesystemslib's `EncryptWithCustomKDFParameters`.
    pub fn seal(plaintext: &[u8], password: &[u8], cost: ScryptCost) -> Result<Self, Error> {
        let mut salt = vec![0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut salt).map_err(|source| Error::Random { source })?;
        getrandom::fill(&mut nonce).map_err(|source| Error::Random { source })?;
        Self::seal_with(plaintext, password, cost, salt, nonce)
    }

    /// Encrypts with a given salt and nonce. Reusing a nonce under the same password and salt
    /// breaks secretbox; this exists for reproducible tests.
    pub fn seal_with(
        plaintext: &[u8],
        password: &[u8],
        cost: ScryptCost,
        salt: Vec<u8>,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Self, Error> {
        let key = cost.derive_key(password, &salt)?;
        let mut buffer = Zeroizing::new(vec![0u8; KEY_LEN]);
        buffer.extend_from_slice(plaintext);
        xsalsa20(&key, &nonce, &mut buffer)?;
        let (mac_key, encrypted) = buffer.split_at(KEY_LEN);
        let tag = poly1305(mac_key, encrypted)?;
        let mut ciphertext = Vec::with_capacity(TAG_LEN + encrypted.len());
        ciphertext.extend_from_slice(&tag);
        ciphertext.extend_from_slice(encrypted);
        Ok(EncryptedKey {
            cost,
            salt,
            nonce,
            ciphertext,
        })
    }

    /// Decrypts with `password`: the PKCS#8 DER of the private key. A wrong password fails the
    /// Poly1305 check and yields [`Error::Decrypt`].
    pub fn open(&self, password: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        let Some((tag, encrypted)) = self.ciphertext.split_at_checked(TAG_LEN) else {
            return Err(Error::Decrypt);
        };
        let key = self.cost.derive_key(password, &self.salt)?;
        let mut buffer = Zeroizing::new(vec![0u8; KEY_LEN]);
        buffer.extend_from_slice(encrypted);
        // Only the first 32 keystream bytes are needed before authenticating.
        let mut mac_key = Zeroizing::new([0u8; KEY_LEN]);
        xsalsa20(&key, &self.nonce, mac_key.as_mut_slice())?;
        let expected = poly1305(mac_key.as_slice(), encrypted)?;
        if !bool::from(expected.as_slice().ct_eq(tag)) {
            return Err(Error::Decrypt);
        }
        xsalsa20(&key, &self.nonce, &mut buffer)?;
        Ok(Zeroizing::new(
            buffer.get(KEY_LEN..).unwrap_or_default().to_vec(),
        ))
    }
}

const KDF_NAME: &str = "scrypt";
const CIPHER_NAME: &str = "nacl/secretbox";

fn xsalsa20(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN], buffer: &mut [u8]) -> Result<(), Error> {
    let mut cipher = XSalsa20::new_from_slices(key, nonce).map_err(|_| Error::Decrypt)?;
    cipher
        .try_apply_keystream(buffer)
        .map_err(|_| Error::Decrypt)
}

fn poly1305(mac_key: &[u8], message: &[u8]) -> Result<[u8; TAG_LEN], Error> {
    let mac = Poly1305::new_from_slice(mac_key).map_err(|_| Error::Decrypt)?;
    let tag = mac.compute_unpadded(message);
    <[u8; TAG_LEN]>::try_from(tag.as_slice()).map_err(|_| Error::Decrypt)
}

fn decode_field(field: &'static str, text: &str) -> Result<Vec<u8>, Error> {
    STANDARD
        .decode(text)
        .map_err(|source| Error::EncryptedBase64 { field, source })
}

#[derive(Serialize, Deserialize)]
struct Wire {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: i64,
    r: i64,
    p: i64,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}
