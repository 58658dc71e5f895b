//! Reads the `APKINDEX` text out of an `APKINDEX.tar.gz` without checking its signature, for the
//! solver's tests and bench until `apk::signed` is on main.
//!
//! Not for: verifying indexes (`apk::signed`). The file is gzip members (signature, then control)
//! whose tar streams join into one: 512-byte headers, contents padded to 512 bytes.

use std::io::Read;

/// The bytes of the `APKINDEX` member of an `APKINDEX.tar.gz`.
pub fn apkindex_text(archive: &[u8]) -> Result<Vec<u8>, String> {
    let mut tar = Vec::new();
    flate2::read::MultiGzDecoder::new(archive)
        .read_to_end(&mut tar)
        .map_err(|e| format!("gunzip: {e}"))?;
    let mut at = 0;
    while let Some(header) = tar.get(at..at + 512) {
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let name_end = header[..100].iter().position(|&b| b == 0).unwrap_or(100);
        let name = &header[..name_end];
        let size_text = std::str::from_utf8(&header[124..136]).map_err(|e| e.to_string())?;
        let size =
            usize::from_str_radix(size_text.trim_matches(|c: char| c == '\0' || c == ' '), 8)
                .map_err(|e| format!("tar size {size_text:?}: {e}"))?;
        let body = tar
            .get(at + 512..at + 512 + size)
            .ok_or("truncated tar member")?;
        if name == b"APKINDEX" {
            return Ok(body.to_vec());
        }
        at += 512 + size.div_ceil(512) * 512;
    }
    Err("no APKINDEX member".to_owned())
}
