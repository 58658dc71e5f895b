//! A small deterministic tar writer for our test packages and indexes.
//!
//! USTAR headers laid out as Go's `archive/tar` writes them (octal fields zero-padded and
//! NUL-terminated, checksum `%06o\0 `, magic `ustar\0` version `00`); PAX `x` headers named
//! `<dir>/PaxHeaders.0/<base>` carry extra records (the apk per-file checksum, long paths).
//!
//! Not for: the image layer tar (`build`), whose bytes must match apko exactly, or reading tars
//! (`super::super::archive`). Follows Go `archive/tar` `writer.go` closely enough for apk tools.

const BLOCK: usize = 512;

/// One tar header as we write it.
pub(super) struct Header<'a> {
    pub path: &'a str,
    pub flag: u8,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub link: &'a str,
    pub pax: &'a [(String, String)],
}

fn put(block: &mut [u8; BLOCK], at: usize, bytes: &[u8]) {
    if let Some(target) = block.get_mut(at..at + bytes.len()) {
        target.copy_from_slice(bytes);
    }
}

/// An octal field of `width` bytes: `width - 1` zero-padded digits and a NUL.
fn octal(block: &mut [u8; BLOCK], at: usize, width: usize, value: u64) {
    let text = format!("{value:0digits$o}", digits = width - 1);
    put(block, at, text.as_bytes());
}

fn owner_name(id: u32) -> &'static [u8] {
    if id == 0 { b"root" } else { b"" }
}

fn header_block(header: &Header<'_>, name: &str) -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    put(&mut block, 0, name.as_bytes());
    octal(&mut block, 100, 8, u64::from(header.mode));
    octal(&mut block, 108, 8, u64::from(header.uid));
    octal(&mut block, 116, 8, u64::from(header.gid));
    octal(&mut block, 124, 12, header.size);
    octal(&mut block, 136, 12, 0);
    block[156] = header.flag;
    put(&mut block, 157, header.link.as_bytes());
    put(&mut block, 257, b"ustar\x0000");
    put(&mut block, 265, owner_name(header.uid));
    put(&mut block, 297, owner_name(header.gid));
    octal(&mut block, 329, 8, 0);
    octal(&mut block, 337, 8, 0);
    put(&mut block, 148, b"        ");
    let sum: u64 = block.iter().map(|&b| u64::from(b)).sum();
    put(&mut block, 148, format!("{sum:06o}\0 ").as_bytes());
    block
}

/// `<length> <key>=<value>\n`, where the length counts itself.
fn pax_record(key: &str, value: &str) -> String {
    let body = key.len() + value.len() + 3;
    let mut length = body + body.to_string().len();
    if length.to_string().len() + body != length {
        length = body + length.to_string().len();
    }
    format!("{length} {key}={value}\n")
}

/// Whether `text` fits a USTAR field of `width` bytes.
fn fits(text: &str, width: usize) -> bool {
    text.len() <= width && !text.contains('\0')
}

/// Appends tar entries to a buffer.
#[derive(Default)]
pub(super) struct TarWriter {
    bytes: Vec<u8>,
}

impl TarWriter {
    fn pad(&mut self) {
        let padding = (BLOCK - self.bytes.len() % BLOCK) % BLOCK;
        self.bytes.resize(self.bytes.len() + padding, 0);
    }

    /// Appends one entry and its content (`content.len()` must equal `header.size`).
    pub(super) fn append(&mut self, header: &Header<'_>, content: &[u8]) {
        let mut records: Vec<(String, String)> = Vec::new();
        if !fits(header.path, 100) {
            records.push(("path".to_owned(), header.path.to_owned()));
        }
        if !fits(header.link, 100) {
            records.push(("linkpath".to_owned(), header.link.to_owned()));
        }
        records.extend(header.pax.iter().cloned());
        let short_path: String = header.path.chars().take(100).collect();
        if !records.is_empty() {
            let data: String = records.iter().map(|(k, v)| pax_record(k, v)).collect();
            let (dir, base) = match short_path.rsplit_once('/') {
                Some((dir, base)) => (dir, base),
                None => (".", short_path.as_str()),
            };
            let pax_name: String = format!("{dir}/PaxHeaders.0/{base}")
                .chars()
                .take(100)
                .collect();
            let pax_header = Header {
                path: &pax_name,
                flag: b'x',
                mode: 0,
                uid: 0,
                gid: 0,
                size: data.len() as u64,
                link: "",
                pax: &[],
            };
            let mut block = header_block(&pax_header, &pax_name);
            // Go leaves the owner names of PAX headers empty.
            put(&mut block, 265, &[0; 64]);
            put(&mut block, 148, b"        ");
            let sum: u64 = block.iter().map(|&b| u64::from(b)).sum();
            put(&mut block, 148, format!("{sum:06o}\0 ").as_bytes());
            self.bytes.extend_from_slice(&block);
            self.bytes.extend_from_slice(data.as_bytes());
            self.pad();
        }
        let link: String = header.link.chars().take(100).collect();
        let main = Header {
            link: &link,
            ..*header
        };
        self.bytes
            .extend_from_slice(&header_block(&main, &short_path));
        self.bytes.extend_from_slice(content);
        self.pad();
    }

    /// The tar without end-of-archive blocks (signature and control members).
    pub(super) fn into_truncated(self) -> Vec<u8> {
        self.bytes
    }

    /// The tar with its two end-of-archive blocks.
    pub(super) fn into_finished(mut self) -> Vec<u8> {
        self.bytes.resize(self.bytes.len() + 2 * BLOCK, 0);
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_lengths_count_themselves() {
        assert_eq!(
            pax_record(
                "APK-TOOLS.checksum.SHA1",
                "ca5e527bbb8a5cc9c4c2d2b4e29618d8ca3be5f8"
            ),
            "68 APK-TOOLS.checksum.SHA1=ca5e527bbb8a5cc9c4c2d2b4e29618d8ca3be5f8\n"
        );
        assert_eq!(pax_record("a", "bcde"), "9 a=bcde\n");
        // 9 + 1 digit would be 10, which needs two digits: 11.
        assert_eq!(pax_record("a", "bcdef"), "11 a=bcdef\n");
    }
}
