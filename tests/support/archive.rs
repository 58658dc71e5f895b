//! Independent helpers for the archive tests: whole-stream gunzip (flate2's multi-member
//! decoder) and a minimal USTAR walker, so expectations never come from the reader under test.

use std::path::Path;

use flate2::read::MultiGzDecoder;
use receipts::apk::Package;
use std::io::Read;

/// Decompresses every gzip member of `bytes` into one stream.
pub fn gunzip_all(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

/// `(name, content)` of every entry of a plain USTAR stream (no PAX/GNU handling needed for
/// index archives); stops at the first zero block or the end.
pub fn tar_files(tar: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut offset = 0;
    while let Some(header) = tar.get(offset..offset + 512) {
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let name_end = header[..100].iter().position(|&b| b == 0).unwrap_or(100);
        let name = String::from_utf8(header[..name_end].to_vec()).expect("utf-8 name");
        let size_text = std::str::from_utf8(&header[124..136])
            .expect("ascii size")
            .trim_matches(|c| c == '\0' || c == ' ');
        let size = usize::from_str_radix(size_text, 8).expect("octal size");
        let content = tar[offset + 512..offset + 512 + size].to_vec();
        files.push((name, content));
        offset += 512 + size.div_ceil(512) * 512;
    }
    files
}

/// The packages of an `APKINDEX.tar.gz`, parsed by the index module.
pub fn index_packages(path: &Path) -> Vec<Package> {
    let bytes = std::fs::read(path).expect("read index");
    let tar = gunzip_all(&bytes);
    let (_, text) = tar_files(&tar)
        .into_iter()
        .find(|(name, _)| name == "APKINDEX")
        .expect("APKINDEX entry");
    receipts::apk::index::parse_text(&text).expect("index parses")
}

/// Reads a file of the shared test data.
pub fn read(relative: &str) -> Vec<u8> {
    std::fs::read(super::data(relative)).expect("read test data")
}

/// Loads an RSA public key from the shared test data (through `apk::keyring`).
pub fn public_key(relative: &str) -> rsa::PublicKey {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    let mut keyring = receipts::apk::keyring::Keyring::new();
    keyring
        .insert_pem(name, &read(relative))
        .expect("public key");
    let (_, key) = keyring.find(name).expect("just inserted");
    key.clone()
}
