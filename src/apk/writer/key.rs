//! [`SigningKey`]: an RSA private key that signs test packages and indexes, with the file name
//! its public half is published under.
//!
//! Not for: verifying ([`crate::apk::keyring`]) or production signing; test support, as the
//! rest of [`super`].

use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;

use super::Error;
use crate::apk::archive::SignatureAlgorithm;

/// An RSA private key with the file name its public half is published under.
pub struct SigningKey {
    name: String,
    key: rsa::PrivateKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a PEM private key (`RSA PRIVATE KEY` or `PRIVATE KEY`); `name` is the public key's
    /// file name, e.g. `receipts-test.rsa.pub`.
    pub fn from_pem(name: &str, pem: &str) -> Result<Self, Error> {
        let key = rsa::PrivateKey::from_pkcs1_pem(pem.trim())
            .or_else(|_| rsa::PrivateKey::from_pkcs8_pem(pem.trim()))
            .map_err(|source| Error::Key {
                key: name.to_owned(),
                source,
            })?;
        Ok(SigningKey {
            name: name.to_owned(),
            key,
        })
    }

    /// The public key's file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public half.
    pub fn public_key(&self) -> rsa::PublicKey {
        self.key.to_public_key()
    }

    /// RSA PKCS#1 v1.5 signature over the hash of `data` (deterministic).
    pub fn sign(&self, algorithm: SignatureAlgorithm, data: &[u8]) -> Result<Vec<u8>, Error> {
        let (scheme, digest) = algorithm.scheme_and_digest(data);
        self.key
            .sign(scheme, &digest)
            .map_err(|source| Error::Sign {
                key: self.name.clone(),
                source,
            })
    }
}
