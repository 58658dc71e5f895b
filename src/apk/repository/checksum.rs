//! The control checksum: SHA-1 of a package's control gzip member, the value an index's `C:`
//! holds. Used to re-validate cached and fetched packages before they are handed out.
//!
//! Not for: reading the package's contents or checking `datahash` and per-file checksums
//! ([`crate::apk::archive`]). Reproduces apko `pkg/apk/expandapk` member splitting
//! (reference/apko-format.md §5.1, §5.2).

use crate::apk::package::Package;

use super::Error;

/// Checks the control member against the index's `C:`; a package without one passes unchecked
/// (apko's archive reader will still refuse it).
pub(super) fn check_package(bytes: &[u8], package: &Package, location: &str) -> Result<(), Error> {
    if package.checksum.is_empty() {
        return Ok(());
    }
    let actual = control_checksum(bytes).map_err(|source| Error::Package {
        url: location.to_owned(),
        source,
    })?;
    if actual.as_slice() != package.checksum.as_slice() {
        let actual = Package {
            checksum: actual.to_vec(),
            ..Package::default()
        };
        return Err(Error::Checksum {
            url: location.to_owned(),
            expected: package.checksum_string(),
            actual: actual.checksum_string(),
        });
    }
    Ok(())
}

/// SHA-1 of a package's control gzip member, the value an index's `C:` holds: the second member
/// when the first is a signature (its first tar entry is `.SIGN.*`), else the first
/// (reference/apko-format.md §5.1, §5.2).
pub fn control_checksum(apk: &[u8]) -> std::io::Result<[u8; 20]> {
    use sha1::Digest as _;
    let (first, head, rest) = split_member(apk)?;
    let control = if head.starts_with(b".SIGN.") {
        split_member(rest)?.0
    } else {
        first
    };
    Ok(sha1::Sha1::digest(control).into())
}

/// `(the raw first gzip member, the start of its decompressed bytes, the raw bytes after it)`.
fn split_member(bytes: &[u8]) -> std::io::Result<(&[u8], Vec<u8>, &[u8])> {
    use std::io::Read as _;
    if bytes.is_empty() {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let mut decoder = flate2::bufread::GzDecoder::new(bytes);
    let mut head = Vec::new();
    (&mut decoder).take(512).read_to_end(&mut head)?;
    std::io::copy(&mut decoder, &mut std::io::sink())?;
    let rest = decoder.into_inner();
    let member = bytes.get(..bytes.len() - rest.len()).unwrap_or(bytes);
    Ok((member, head, rest))
}
