//! Just enough of an ELF reader to say what `ld.so.cache` needs: a shared object's type,
//! machine and `DT_SONAME` strings, accepting and refusing files as Go's `debug/elf` does.
//!
//! Not for: anything else about ELF files.
//! Reproduces Go `debug/elf` `NewFile` (identification, header, section-header and
//! section-name checks), `Section.Data` and `File.DynString` (reading `SHT_DYNAMIC` entries
//! to the end of the section, string table from the section's link).

/// What `ld.so.cache` needs to know about an ELF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// `e_type`.
    pub file_type: u16,
    /// `e_machine`.
    pub machine: u16,
    /// `DT_SONAME` values, in dynamic-section order.
    pub sonames: Vec<String>,
}

/// `ET_DYN`.
pub const ET_DYN: u16 = 3;
/// `EM_X86_64`.
pub const EM_X86_64: u16 = 62;
/// `EM_AARCH64`.
pub const EM_AARCH64: u16 = 183;

const SHT_STRTAB: u32 = 3;
const SHT_DYNAMIC: u32 = 6;
const SHT_NOBITS: u32 = 8;
const SHF_COMPRESSED: u64 = 0x800;
const SHN_LORESERVE: usize = 0xff00;
const SHN_XINDEX: usize = 0xffff;
const DT_SONAME: u64 = 14;

/// Random access to the file's bytes: `None` when the range is not entirely there.
pub type ReadAt<'a> = dyn Fn(u64, usize) -> Option<Vec<u8>> + 'a;

struct Section {
    name_index: u32,
    kind: u32,
    flags: u64,
    offset: u64,
    size: u64,
    link: u32,
}

#[derive(Clone, Copy)]
struct Decoder {
    wide: bool,
    big_endian: bool,
}

impl Decoder {
    fn u16(&self, b: &[u8], at: usize) -> Option<u16> {
        let bytes: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(bytes)
        } else {
            u16::from_le_bytes(bytes)
        })
    }

    fn u32(&self, b: &[u8], at: usize) -> Option<u32> {
        let bytes: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    }

    fn u64(&self, b: &[u8], at: usize) -> Option<u64> {
        let bytes: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
        Some(if self.big_endian {
            u64::from_be_bytes(bytes)
        } else {
            u64::from_le_bytes(bytes)
        })
    }

    /// An address-sized field: 4 bytes in ELF32, 8 in ELF64.
    fn word(&self, b: &[u8], at: usize) -> Option<u64> {
        if self.wide {
            self.u64(b, at)
        } else {
            self.u32(b, at).map(u64::from)
        }
    }
}

/// The file header fields `parse` goes on with.
struct Header {
    decoder: Decoder,
    file_type: u16,
    machine: u16,
    phoff: u64,
    shoff: u64,
    phentsize: usize,
    phnum: usize,
    shentsize: usize,
    shnum: usize,
    shstrndx: usize,
}

/// Parses the file behind `read`; `None` wherever Go's `elf.NewFile` or `DynString` fails.
pub fn parse(read: &ReadAt<'_>) -> Option<ElfInfo> {
    let mut header = file_header(read)?;
    let d = header.decoder;
    let (want_ph, want_sh) = if d.wide { (56, 64) } else { (32, 40) };
    if header.phnum > 0 && header.phentsize < want_ph {
        return None;
    }
    check_program_headers(read, &header)?;
    if header.shoff > 0 && header.shnum == 0 {
        extended_section_count(read, &mut header, want_sh)?;
    }
    if header.shnum > 0 && header.shentsize < want_sh {
        return None;
    }
    let sections = section_headers(read, &header)?;
    if !sections.is_empty() && header.shstrndx != 0 {
        let shstr = sections.get(header.shstrndx)?;
        if shstr.kind != SHT_STRTAB {
            return None;
        }
        let names = section_data(read, shstr)?;
        for s in &sections {
            string_at(&names, usize::try_from(s.name_index).ok()?)?;
        }
    }
    let sonames = dyn_sonames(read, &d, &sections)?;
    Some(ElfInfo {
        file_type: header.file_type,
        machine: header.machine,
        sonames,
    })
}

/// The identification and file header, checked as `elf.NewFile` checks them.
fn file_header(read: &ReadAt<'_>) -> Option<Header> {
    let ident = read(0, 16)?;
    if ident.get(..4)? != b"\x7fELF" {
        return None;
    }
    let wide = match ident.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let big_endian = match ident.get(5)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let version = *ident.get(6)?;
    if version != 1 {
        return None;
    }
    let d = Decoder { wide, big_endian };
    let header = read(0, if wide { 64 } else { 52 })?;
    let file_type = d.u16(&header, 16)?;
    let machine = d.u16(&header, 18)?;
    if d.u32(&header, 20)? != u32::from(version) {
        return None;
    }
    // Field offsets after e_entry differ by class.
    let (phoff, shoff, rest) = if wide {
        (d.u64(&header, 32)?, d.u64(&header, 40)?, 48)
    } else {
        (
            u64::from(d.u32(&header, 28)?),
            u64::from(d.u32(&header, 32)?),
            36,
        )
    };
    let parsed = Header {
        decoder: d,
        file_type,
        machine,
        phoff,
        shoff,
        phentsize: usize::from(d.u16(&header, rest + 6)?),
        phnum: usize::from(d.u16(&header, rest + 8)?),
        shentsize: usize::from(d.u16(&header, rest + 10)?),
        shnum: usize::from(d.u16(&header, rest + 12)?),
        shstrndx: usize::from(d.u16(&header, rest + 14)?),
    };
    if i64::try_from(shoff).is_err() || i64::try_from(phoff).is_err() {
        return None;
    }
    if shoff == 0 && parsed.shnum != 0 {
        return None;
    }
    if parsed.shnum > 0 && parsed.shstrndx >= parsed.shnum {
        return None;
    }
    Some(parsed)
}

/// Every program header's offset and size must fit an `int64`.
fn check_program_headers(read: &ReadAt<'_>, header: &Header) -> Option<()> {
    let d = header.decoder;
    let (phnum, phentsize) = (header.phnum, header.phentsize);
    let phdata = read(header.phoff, phnum.checked_mul(phentsize)?)?;
    for i in 0..phnum {
        let at = i * phentsize;
        let (off, filesz) = if d.wide {
            (d.u64(&phdata, at + 8)?, d.u64(&phdata, at + 32)?)
        } else {
            (
                u64::from(d.u32(&phdata, at + 4)?),
                u64::from(d.u32(&phdata, at + 16)?),
            )
        };
        if i64::try_from(off).is_err() || i64::try_from(filesz).is_err() {
            return None;
        }
    }
    Some(())
}

/// A section count (and string table index) too large for the header, read from the first
/// section header as ELF extends them.
fn extended_section_count(read: &ReadAt<'_>, header: &mut Header, want_sh: usize) -> Option<()> {
    let d = header.decoder;
    let first = read(header.shoff, want_sh)?;
    let (kind, link, size) = if d.wide {
        (d.u32(&first, 4)?, d.u32(&first, 40)?, d.u64(&first, 32)?)
    } else {
        (
            d.u32(&first, 4)?,
            d.u32(&first, 24)?,
            u64::from(d.u32(&first, 20)?),
        )
    };
    if kind != 0 {
        return None;
    }
    header.shnum = usize::try_from(size).ok()?;
    if header.shnum < SHN_LORESERVE {
        return None;
    }
    if header.shstrndx == SHN_XINDEX {
        header.shstrndx = usize::try_from(link).ok()?;
        if header.shstrndx < SHN_LORESERVE {
            return None;
        }
    }
    Some(())
}

/// The section headers, each offset and size fitting an `int64`.
fn section_headers(read: &ReadAt<'_>, header: &Header) -> Option<Vec<Section>> {
    let d = header.decoder;
    let (shnum, shentsize) = (header.shnum, header.shentsize);
    let shdata = read(header.shoff, shnum.checked_mul(shentsize)?)?;
    let mut sections = Vec::with_capacity(shnum);
    for i in 0..shnum {
        let at = i * shentsize;
        let section = if d.wide {
            Section {
                name_index: d.u32(&shdata, at)?,
                kind: d.u32(&shdata, at + 4)?,
                flags: d.u64(&shdata, at + 8)?,
                offset: d.u64(&shdata, at + 24)?,
                size: d.u64(&shdata, at + 32)?,
                link: d.u32(&shdata, at + 40)?,
            }
        } else {
            Section {
                name_index: d.u32(&shdata, at)?,
                kind: d.u32(&shdata, at + 4)?,
                flags: u64::from(d.u32(&shdata, at + 8)?),
                offset: u64::from(d.u32(&shdata, at + 16)?),
                size: u64::from(d.u32(&shdata, at + 20)?),
                link: d.u32(&shdata, at + 24)?,
            }
        };
        if i64::try_from(section.offset).is_err() || i64::try_from(section.size).is_err() {
            return None;
        }
        sections.push(section);
    }
    Some(sections)
}

/// `Section.Data`: zeros for `SHT_NOBITS`; compressed sections are not supported (Go would
/// inflate them; the sections read here never are compressed in real libraries).
fn section_data(read: &ReadAt<'_>, section: &Section) -> Option<Vec<u8>> {
    if section.flags & SHF_COMPRESSED != 0 {
        return None;
    }
    let size = usize::try_from(section.size).ok()?;
    if section.kind == SHT_NOBITS {
        return Some(vec![0; size]);
    }
    read(section.offset, size)
}

/// Go's `getString`: the NUL-terminated string at `start`.
fn string_at(table: &[u8], start: usize) -> Option<String> {
    let tail = table.get(start..)?;
    let end = tail.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(tail.get(..end)?).into_owned())
}

/// `DynString(DT_SONAME)`: no dynamic section means no names.
fn dyn_sonames(read: &ReadAt<'_>, d: &Decoder, sections: &[Section]) -> Option<Vec<String>> {
    let Some(dynamic) = sections.iter().find(|s| s.kind == SHT_DYNAMIC) else {
        return Some(Vec::new());
    };
    let data = section_data(read, dynamic)?;
    let entry = if d.wide { 16 } else { 8 };
    if data.len() % entry != 0 {
        return None;
    }
    let link = usize::try_from(dynamic.link).ok()?;
    if link == 0 || link >= sections.len() {
        return None;
    }
    let strings = section_data(read, sections.get(link)?)?;
    let mut names = Vec::new();
    for at in (0..data.len()).step_by(entry) {
        let tag = d.word(&data, at)?;
        let value = d.word(&data, at + entry / 2)?;
        if tag == DT_SONAME
            && let Some(name) = usize::try_from(value)
                .ok()
                .and_then(|v| string_at(&strings, v))
        {
            names.push(name);
        }
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal little-endian ELF64 shared object with one DT_SONAME, built by hand.
    pub(crate) fn shared_object(machine: u16, soname: &str) -> Vec<u8> {
        let mut dynstr = vec![0u8];
        dynstr.extend_from_slice(soname.as_bytes());
        dynstr.push(0);
        let shstrtab = b"\0.dynstr\0.dynamic\0.shstrtab\0".to_vec();
        let mut dynamic = Vec::new();
        for (tag, value) in [(DT_SONAME, 1u64), (0, 0)] {
            dynamic.extend_from_slice(&tag.to_le_bytes());
            dynamic.extend_from_slice(&value.to_le_bytes());
        }
        let dynstr_off = 64u64;
        let dynamic_off = dynstr_off + dynstr.len() as u64;
        let shstrtab_off = dynamic_off + dynamic.len() as u64;
        let shoff = shstrtab_off + shstrtab.len() as u64;
        let mut out = vec![0u8; 64];
        out[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
        out[16..18].copy_from_slice(&ET_DYN.to_le_bytes());
        out[18..20].copy_from_slice(&machine.to_le_bytes());
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        out[40..48].copy_from_slice(&shoff.to_le_bytes());
        out[52..54].copy_from_slice(&64u16.to_le_bytes());
        out[58..60].copy_from_slice(&64u16.to_le_bytes());
        out[60..62].copy_from_slice(&4u16.to_le_bytes());
        out[62..64].copy_from_slice(&3u16.to_le_bytes());
        out.extend_from_slice(&dynstr);
        out.extend_from_slice(&dynamic);
        out.extend_from_slice(&shstrtab);
        let mut header = |name: u32, kind: u32, off: u64, size: u64, link: u32| {
            let mut h = vec![0u8; 64];
            h[0..4].copy_from_slice(&name.to_le_bytes());
            h[4..8].copy_from_slice(&kind.to_le_bytes());
            h[24..32].copy_from_slice(&off.to_le_bytes());
            h[32..40].copy_from_slice(&size.to_le_bytes());
            h[40..44].copy_from_slice(&link.to_le_bytes());
            out.extend_from_slice(&h);
        };
        header(0, 0, 0, 0, 0);
        header(1, SHT_STRTAB, dynstr_off, dynstr.len() as u64, 0);
        header(9, SHT_DYNAMIC, dynamic_off, dynamic.len() as u64, 1);
        header(18, SHT_STRTAB, shstrtab_off, shstrtab.len() as u64, 0);
        out
    }

    fn reader(bytes: &[u8]) -> impl Fn(u64, usize) -> Option<Vec<u8>> + '_ {
        move |off, len| {
            let start = usize::try_from(off).ok()?;
            bytes
                .get(start..start.checked_add(len)?)
                .map(<[u8]>::to_vec)
        }
    }

    #[test]
    fn reads_soname_and_machine() {
        let so = shared_object(EM_AARCH64, "libz.so.1");
        let info = parse(&reader(&so)).unwrap();
        assert_eq!(info.file_type, ET_DYN);
        assert_eq!(info.machine, EM_AARCH64);
        assert_eq!(info.sonames, vec!["libz.so.1".to_owned()]);
    }

    #[test]
    fn refuses_what_go_refuses() {
        assert!(parse(&reader(b"/* GNU ld script */")).is_none());
        let mut so = shared_object(EM_X86_64, "libc.so.6");
        so[6] = 2;
        assert!(parse(&reader(&so)).is_none());
        let so = shared_object(EM_X86_64, "libc.so.6");
        assert!(parse(&reader(&so[..so.len() - 1])).is_none());
    }
}
