//! Walking the tars of the signature, control and data members as Go's `archive/tar` does.
//!
//! Takes decompressed bytes from an [`Inflow`]; yields [`Entry`] headers (USTAR, PAX `x`/`g`,
//! GNU `L`/`K` long names, V7) and each entry's content. Meta headers apply to the next entry;
//! a missing end-of-archive marker is accepted at a block boundary; a zero block followed by a
//! header is an error.
//!
//! Not for: decoding one header block ([`super::entry`]) or writing tars (the writer, the image
//! layer writer in `build`). Reproduces Go `archive/tar` `reader.go` (`Next`,
//! `handleRegularFile`, `readSpecialFile`), which apko's `expandapk` and `tarfs` use.

use std::collections::BTreeMap;

use super::Error;
use super::entry::{
    BLOCK, Entry, EntryKind, blank_entry, merge_pax, parse_header, parse_pax, text, until_nul,
};

/// Go's `maxSpecialFileSize`: the largest PAX or GNU long-name payload.
const MAX_SPECIAL: u64 = 1 << 20;

/// Something that hands out decompressed bytes.
pub(super) trait Inflow {
    /// Reads some bytes; `Ok(0)` at the end.
    fn read_some(&mut self, buffer: &mut [u8]) -> Result<usize, Error>;
}

impl Inflow for &[u8] {
    fn read_some(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        let count = self.len().min(buffer.len());
        let (head, rest) = self.split_at(count);
        if let Some(target) = buffer.get_mut(..count) {
            target.copy_from_slice(head);
        }
        *self = rest;
        Ok(count)
    }
}

/// Reads entries one after the other.
pub(super) struct TarReader<S> {
    source: S,
    package: String,
    member: usize,
    offset: u64,
    remaining: u64,
    padding: u64,
    ended: bool,
}

impl<S: Inflow> TarReader<S> {
    pub(super) fn new(source: S, package: String, member: usize) -> Self {
        TarReader {
            source,
            package,
            member,
            offset: 0,
            remaining: 0,
            padding: 0,
            ended: false,
        }
    }

    pub(super) fn source_mut(&mut self) -> &mut S {
        &mut self.source
    }

    fn fault(&self, offset: u64, what: &'static str) -> Error {
        Error::Tar {
            package: self.package.clone(),
            member: self.member,
            offset,
            what,
        }
    }

    /// Fills `buffer`; returns how many bytes there were before the end.
    fn fill(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        let mut filled = 0;
        while let Some(rest) = buffer.get_mut(filled..) {
            if rest.is_empty() {
                break;
            }
            let count = self.source.read_some(rest)?;
            if count == 0 {
                break;
            }
            filled += count;
        }
        self.offset += filled as u64;
        Ok(filled)
    }

    fn read_block(&mut self) -> Result<Option<[u8; BLOCK]>, Error> {
        let at = self.offset;
        let mut block = [0u8; BLOCK];
        match self.fill(&mut block)? {
            0 => Ok(None),
            BLOCK => Ok(Some(block)),
            _ => Err(self.fault(at, "archive ends inside a header")),
        }
    }

    fn skip(&mut self, mut count: u64) -> Result<(), Error> {
        let mut scratch = [0u8; 8192];
        while count > 0 {
            let want = usize::try_from(count)
                .unwrap_or(usize::MAX)
                .min(scratch.len());
            let got = self.fill(scratch.get_mut(..want).unwrap_or_default())?;
            if got < want {
                return Err(self.fault(self.offset, "archive ends inside an entry"));
            }
            count -= got as u64;
        }
        Ok(())
    }

    /// Reads content of the current entry; `Ok(0)` at its end.
    pub(super) fn read_content(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        let want = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(buffer.len());
        if want == 0 {
            return Ok(0);
        }
        let count = self
            .source
            .read_some(buffer.get_mut(..want).unwrap_or_default())?;
        if count == 0 {
            return Err(self.fault(self.offset, "archive ends inside an entry"));
        }
        self.offset += count as u64;
        self.remaining -= count as u64;
        Ok(count)
    }

    /// Content bytes of the current entry not yet read.
    pub(super) fn remaining(&self) -> u64 {
        self.remaining
    }

    fn read_special(&mut self, length: u64) -> Result<Vec<u8>, Error> {
        if length > MAX_SPECIAL {
            return Err(self.fault(self.offset, "extended header longer than 1 MiB"));
        }
        let mut data = vec![0u8; usize::try_from(length).unwrap_or(0)];
        if self.fill(&mut data)? != data.len() {
            return Err(self.fault(self.offset, "archive ends inside an entry"));
        }
        self.skip(padding(length))?;
        self.remaining = 0;
        self.padding = 0;
        Ok(data)
    }

    /// The next entry's header, after skipping whatever is left of the current one.
    pub(super) fn next_entry(&mut self) -> Result<Option<Entry>, Error> {
        if self.ended {
            return Ok(None);
        }
        self.skip(self.remaining + self.padding)?;
        self.remaining = 0;
        self.padding = 0;
        let mut pax: Option<BTreeMap<String, Vec<u8>>> = None;
        let mut long_name: Option<String> = None;
        let mut long_link: Option<String> = None;
        loop {
            let at = self.offset;
            let Some(block) = self.read_block()? else {
                self.ended = true;
                return Ok(None);
            };
            if block.iter().all(|&b| b == 0) {
                return match self.read_block()? {
                    Some(second) if second.iter().any(|&b| b != 0) => {
                        Err(self.fault(at + BLOCK as u64, "zero block followed by a header"))
                    }
                    _ => {
                        self.ended = true;
                        Ok(None)
                    }
                };
            }
            let mut entry = parse_header(&block).map_err(|what| self.fault(at, what))?;
            let flag = entry.kind.flag();
            let length = entry.content_len();
            match flag {
                b'x' | b'g' => {
                    let data = self.read_special(length)?;
                    let records = parse_pax(&data).map_err(|what| self.fault(at, what))?;
                    if flag == b'g' {
                        merge_pax(&mut entry, &records).map_err(|what| self.fault(at, what))?;
                        return Ok(Some(Entry {
                            path: entry.path,
                            kind: entry.kind,
                            pax: records,
                            ..blank_entry()
                        }));
                    }
                    pax = Some(records);
                }
                b'L' | b'K' => {
                    let data = self.read_special(length)?;
                    let name = until_nul(&data);
                    let name = text(name).map_err(|what| self.fault(at, what))?;
                    if flag == b'L' {
                        long_name = Some(name);
                    } else {
                        long_link = Some(name);
                    }
                }
                _ => {
                    if let Some(records) = pax.take() {
                        merge_pax(&mut entry, &records).map_err(|what| self.fault(at, what))?;
                        entry.pax = records;
                    }
                    if let Some(name) = long_name.take().filter(|n| !n.is_empty()) {
                        entry.path = name;
                    }
                    if let Some(link) = long_link.take().filter(|l| !l.is_empty()) {
                        entry.link_target = link;
                    }
                    if flag == 0 {
                        entry.kind = if entry.path.ends_with('/') {
                            EntryKind::Directory
                        } else {
                            EntryKind::Regular
                        };
                    }
                    if flag == b'S' || entry.pax.keys().any(|k| k.starts_with("GNU.sparse.")) {
                        return Err(self.fault(at, "sparse files are not supported"));
                    }
                    let length = entry.content_len();
                    self.remaining = length;
                    self.padding = padding(length);
                    return Ok(Some(entry));
                }
            }
        }
    }

    /// Reads everything left in the source (after the end-of-archive marker), as apko does
    /// with `io.Copy(io.Discard, …)`.
    pub(super) fn drain(&mut self) -> Result<(), Error> {
        let mut scratch = [0u8; 8192];
        while self.source.read_some(&mut scratch)? > 0 {}
        self.ended = true;
        self.remaining = 0;
        self.padding = 0;
        Ok(())
    }
}

fn padding(length: u64) -> u64 {
    (BLOCK as u64 - length % BLOCK as u64) % BLOCK as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header block with a valid checksum; `magic` selects USTAR, GNU or V7 (empty).
    fn block(name: &str, flag: u8, size: usize, magic: &[u8]) -> Vec<u8> {
        let mut block = vec![0u8; BLOCK];
        block[..name.len()].copy_from_slice(name.as_bytes());
        block[100..108].copy_from_slice(b"0000644\0");
        block[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        block[136..148].copy_from_slice(b"00000000000\0");
        block[156] = flag;
        block[257..257 + magic.len()].copy_from_slice(magic);
        block[148..156].copy_from_slice(b"        ");
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
        block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        block
    }

    fn padded(content: &[u8]) -> Vec<u8> {
        let mut bytes = content.to_vec();
        bytes.resize(content.len().div_ceil(BLOCK) * BLOCK, 0);
        bytes
    }

    #[test]
    fn gnu_long_names_and_v7_directories_read_as_go_reads_them() {
        let long = format!("usr/share/{}/file", "x".repeat(150));
        let gnu = b"ustar  \0";
        let mut tar = block("././@LongLink", b'L', long.len() + 1, gnu);
        tar.extend(padded(format!("{long}\0").as_bytes()));
        tar.extend(block(&long[..100], b'0', 3, gnu));
        tar.extend(padded(b"abc"));
        tar.extend(block("olddir/", 0, 0, b""));
        tar.extend(block("oldfile", 0, 2, b""));
        tar.extend(padded(b"hi"));
        let mut reader = TarReader::new(tar.as_slice(), "test".into(), 1);
        let entry = reader.next_entry().expect("entry").expect("some");
        assert_eq!(
            (entry.path.as_str(), entry.kind),
            (long.as_str(), EntryKind::Regular)
        );
        let mut content = [0u8; 8];
        assert_eq!(reader.read_content(&mut content).expect("content"), 3);
        let entry = reader.next_entry().expect("entry").expect("some");
        assert_eq!(
            (entry.path.as_str(), entry.kind),
            ("olddir/", EntryKind::Directory)
        );
        let entry = reader.next_entry().expect("entry").expect("some");
        assert_eq!(
            (entry.path.as_str(), entry.kind, entry.size),
            ("oldfile", EntryKind::Regular, 2)
        );
        // No end-of-archive marker: a clean end at a block boundary ends the archive.
        assert!(reader.next_entry().expect("end").is_none());
    }

    #[test]
    fn a_header_cut_short_is_an_error() {
        let tar = block("file", b'0', 0, b"ustar\x0000");
        let mut reader = TarReader::new(&tar[..300], "test".into(), 2);
        match reader.next_entry() {
            Err(Error::Tar {
                member,
                offset,
                what,
                ..
            }) => {
                assert_eq!(
                    (member, offset, what),
                    (2, 0, "archive ends inside a header")
                );
            }
            other => panic!("expected Tar, got {other:?}"),
        }
    }
}
