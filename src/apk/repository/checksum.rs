//! The control checksum of a package in memory: SHA-1 of its control gzip member, the value an
//! index's `C:` holds (files are checked as they are opened, by `open`).
//!
//! Not for: reading the package's contents or checking `datahash` and per-file checksums
//! ([`crate::apk::archive`]). Reproduces apko `pkg/apk/expandapk` member splitting
//! (reference/apko-format.md §5.1, §5.2).

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
