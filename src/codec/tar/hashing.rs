//! A pass-through writer that hashes what goes through it: the layer's diff_id while the tar
//! is written, without a second pass.
//!
//! Not for: the tar format itself (`writer`), compressed-blob digests (`compress`).

use sha2::{Digest as _, Sha256};
use std::io::{self, Write};

/// SHA-256 and length of everything written through a [`HashingWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hashed {
    /// SHA-256 of the bytes (for a layer tar: the diff_id).
    pub sha256: [u8; 32],
    /// Number of bytes.
    pub size: u64,
}

/// Forwards writes to an inner writer and hashes the bytes it accepted.
#[derive(Debug)]
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Starts hashing in front of `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// The inner writer back, with the digest and size of what was written.
    pub fn finish(self) -> (W, Hashed) {
        let digest = self.hasher.finalize();
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(&digest);
        (
            self.inner,
            Hashed {
                sha256,
                size: self.size,
            },
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        // Only what the inner writer took counts, or a short write would skew the digest.
        let taken = buf.get(..n).unwrap_or(buf);
        self.hasher.update(taken);
        self.size += taken.len() as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
