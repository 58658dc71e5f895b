//! The 512-byte header block: field positions, number and string codecs, checksum and magic.
//!
//! Not for: choosing a format (`writer`) or walking a stream (`reader`).
//! Reproduces Go `archive/tar` `format.go` and `strconv.go` (apko-format.md §7.5).

use std::ops::Range;

pub(super) const BLOCK_SIZE: usize = 512;
pub(super) const NAME_SIZE: usize = 100;
pub(super) const PREFIX_SIZE: usize = 155;
/// Largest PAX body or GNU long name Go reads or writes (libarchive's limit).
pub(super) const MAX_SPECIAL_FILE_SIZE: usize = 1 << 20;

pub(super) type Block = [u8; BLOCK_SIZE];
pub(super) const ZERO_BLOCK: Block = [0; BLOCK_SIZE];

pub(super) const NAME: Range<usize> = 0..100;
pub(super) const MODE: Range<usize> = 100..108;
pub(super) const UID: Range<usize> = 108..116;
pub(super) const GID: Range<usize> = 116..124;
pub(super) const SIZE: Range<usize> = 124..136;
pub(super) const MTIME: Range<usize> = 136..148;
pub(super) const CHKSUM: Range<usize> = 148..156;
pub(super) const TYPEFLAG: usize = 156;
pub(super) const LINKNAME: Range<usize> = 157..257;
pub(super) const MAGIC: Range<usize> = 257..263;
pub(super) const VERSION: Range<usize> = 263..265;
pub(super) const UNAME: Range<usize> = 265..297;
pub(super) const GNAME: Range<usize> = 297..329;
pub(super) const DEVMAJOR: Range<usize> = 329..337;
pub(super) const DEVMINOR: Range<usize> = 337..345;
pub(super) const PREFIX: Range<usize> = 345..500;
pub(super) const GNU_ATIME: Range<usize> = 345..357;
pub(super) const GNU_CTIME: Range<usize> = 357..369;
pub(super) const STAR_PREFIX: Range<usize> = 345..476;
pub(super) const STAR_ATIME: Range<usize> = 476..488;
pub(super) const STAR_CTIME: Range<usize> = 488..500;
pub(super) const STAR_TRAILER: Range<usize> = 508..512;

const MAGIC_USTAR: &[u8] = b"ustar\0";
const VERSION_USTAR: &[u8] = b"00";
const MAGIC_GNU: &[u8] = b"ustar ";
const VERSION_GNU: &[u8] = b" \0";
const TRAILER_STAR: &[u8] = b"tar\0";

/// Go's `Format` bit set (`format.go`): several bits mean "any of these".
pub(super) type Formats = u8;
pub(super) const F_V7: Formats = 1;
pub(super) const F_USTAR: Formats = 2;
pub(super) const F_PAX: Formats = 4;
pub(super) const F_GNU: Formats = 8;
pub(super) const F_STAR: Formats = 16;

/// Zero bytes needed after `size` bytes of data to reach a block boundary.
pub(super) fn padding(size: u64) -> u64 {
    size.wrapping_neg() & (BLOCK_SIZE as u64 - 1)
}

/// Go's `isASCII`: every byte is 1..=0x7f (NUL counts as non-ASCII).
pub(super) fn is_ascii(s: &[u8]) -> bool {
    s.iter().all(|&c| c != 0 && c < 0x80)
}

/// Go's `toASCII`: drops NUL and every byte of a non-ASCII character.
pub(super) fn to_ascii(s: &[u8]) -> Vec<u8> {
    s.iter().copied().filter(|&c| c != 0 && c < 0x80).collect()
}

pub(super) fn has_nul(s: &[u8]) -> bool {
    s.contains(&0)
}

/// Copies `s` into `field`, NUL-terminated when there is room; reports whether it fit.
pub(super) fn format_string(field: &mut [u8], s: &[u8]) -> bool {
    let n = s.len().min(field.len());
    field[..n].copy_from_slice(&s[..n]);
    if s.len() < field.len() {
        field[s.len()] = 0;
    }
    // A truncated name must not end in '/', or some readers take the file for a directory.
    if s.len() > field.len() && field.last() == Some(&b'/') {
        let kept = trim_right(&s[..field.len()], b'/').len();
        field[kept] = 0;
    }
    s.len() <= field.len()
}

fn trim_right(s: &[u8], c: u8) -> &[u8] {
    let end = s.iter().rposition(|&b| b != c).map_or(0, |i| i + 1);
    &s[..end]
}

pub(super) fn fits_in_octal(n: usize, x: i64) -> bool {
    let bits = (n as u32 - 1) * 3;
    x >= 0 && (n >= 22 || x < 1i64 << bits)
}

pub(super) fn fits_in_base256(n: usize, x: i64) -> bool {
    let bits = (n as u32 - 1) * 8;
    n >= 9 || (x >= -(1i64 << bits) && x < 1i64 << bits)
}

/// Zero-padded octal leaving room for a NUL; writes 0 and reports false when `x` does not fit.
pub(super) fn format_octal(field: &mut [u8], x: i64) -> bool {
    let fits = fits_in_octal(field.len(), x);
    let x = if fits { x } else { 0 };
    let digits = format!("{x:o}");
    let width = field.len().saturating_sub(1);
    let padded = format!("{digits:0>width$}");
    format_string(field, padded.as_bytes());
    fits
}

/// Octal when it fits, else base-256 (big-endian two's complement with the top bit set).
pub(super) fn format_numeric(field: &mut [u8], x: i64) -> bool {
    if fits_in_octal(field.len(), x) {
        return format_octal(field, x);
    }
    if fits_in_base256(field.len(), x) {
        let mut v = x;
        for byte in field.iter_mut().rev() {
            *byte = v as u8;
            v >>= 8;
        }
        if let Some(first) = field.first_mut() {
            *first |= 0x80;
        }
        return true;
    }
    format_octal(field, 0);
    false
}

/// Go's `parseString`: the bytes before the first NUL.
pub(super) fn parse_string(field: &[u8]) -> &[u8] {
    match field.iter().position(|&c| c == 0) {
        Some(i) => &field[..i],
        None => field,
    }
}

/// Go's `parseNumeric`: base-256 when the top bit is set, else octal.
pub(super) fn parse_numeric(field: &[u8]) -> Option<i64> {
    let Some(&first) = field.first() else {
        return Some(0);
    };
    if first & 0x80 == 0 {
        return parse_octal(field);
    }
    let inv: u8 = if first & 0x40 != 0 { 0xff } else { 0 };
    let mut x: u64 = 0;
    for (i, &c) in field.iter().enumerate() {
        let mut c = c ^ inv;
        if i == 0 {
            c &= 0x7f;
        }
        if x >> 56 > 0 {
            return None;
        }
        x = x << 8 | u64::from(c);
    }
    if x >> 63 > 0 {
        return None;
    }
    let x = x as i64;
    Some(if inv == 0xff { !x } else { x })
}

/// Go's `parseOctal`: spaces and NULs trimmed at both ends, then base 8 up to the first NUL.
pub(super) fn parse_octal(field: &[u8]) -> Option<i64> {
    let start = field.iter().position(|&c| c != b' ' && c != 0);
    let Some(start) = start else {
        return Some(0);
    };
    let end = field
        .iter()
        .rposition(|&c| c != b' ' && c != 0)
        .map_or(start, |i| i + 1);
    let digits = parse_string(&field[start..end]);
    if digits.is_empty() {
        return None;
    }
    let mut x: u64 = 0;
    for &c in digits {
        if !(b'0'..=b'7').contains(&c) {
            return None;
        }
        x = x.checked_mul(8)?.checked_add(u64::from(c - b'0'))?;
    }
    // Go converts the unsigned result with a plain int64(x).
    Some(x as i64)
}

/// Sums of the header bytes with the checksum field counted as spaces: (unsigned, signed).
fn checksums(block: &Block) -> (i64, i64) {
    let mut unsigned = 0i64;
    let mut signed = 0i64;
    for (i, &c) in block.iter().enumerate() {
        let c = if CHKSUM.contains(&i) { b' ' } else { c };
        unsigned += i64::from(c);
        signed += i64::from(c as i8);
    }
    (unsigned, signed)
}

/// Go's `getFormat`: 0 when the checksum is wrong, else the formats the magic allows.
pub(super) fn detect_format(block: &Block) -> Formats {
    let Some(value) = parse_octal(&block[CHKSUM]) else {
        return 0;
    };
    let (unsigned, signed) = checksums(block);
    if value != unsigned && value != signed {
        return 0;
    }
    let magic = &block[MAGIC];
    if magic == MAGIC_USTAR && &block[STAR_TRAILER] == TRAILER_STAR {
        F_STAR
    } else if magic == MAGIC_USTAR {
        F_USTAR | F_PAX
    } else if magic == MAGIC_GNU && &block[VERSION] == VERSION_GNU {
        F_GNU
    } else {
        F_V7
    }
}

/// Go's `setFormat`: magic and version for the format, then the checksum as six octal digits,
/// NUL and space.
pub(super) fn seal(block: &mut Block, format: Formats) {
    if format & F_GNU != 0 {
        block[MAGIC].copy_from_slice(MAGIC_GNU);
        block[VERSION].copy_from_slice(VERSION_GNU);
    } else if format & (F_USTAR | F_PAX) != 0 {
        block[MAGIC].copy_from_slice(MAGIC_USTAR);
        block[VERSION].copy_from_slice(VERSION_USTAR);
    }
    let (unsigned, _) = checksums(block);
    let field = &mut block[CHKSUM];
    format_octal(&mut field[..7], unsigned);
    field[7] = b' ';
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_fields_are_zero_padded_and_nul_terminated() {
        let mut field = [0xffu8; 8];
        assert!(format_octal(&mut field, 0o755));
        assert_eq!(&field, b"0000755\0");
        let mut size = [0u8; 12];
        assert!(format_octal(&mut size, 8 * 1024 * 1024 * 1024 - 1));
        assert_eq!(&size, b"77777777777\0");
        assert!(!format_octal(&mut size, 8 * 1024 * 1024 * 1024));
        assert_eq!(&size, b"00000000000\0");
    }

    #[test]
    fn numbers_too_big_for_octal_use_base256() {
        let mut field = [0u8; 8];
        assert!(format_numeric(&mut field, 0o10000000));
        assert_eq!(field, [0x80, 0, 0, 0, 0, 0x20, 0, 0]);
        assert_eq!(parse_numeric(&field), Some(0o10000000));
        assert!(format_numeric(&mut field, -1));
        assert_eq!(field, [0xff; 8]);
        assert_eq!(parse_numeric(&field), Some(-1));
        assert!(!format_numeric(&mut field, 1 << 56));
    }

    #[test]
    fn octal_parsing_trims_spaces_and_nuls_and_rejects_signs() {
        assert_eq!(parse_octal(b" 0000644 \0"), Some(0o644));
        assert_eq!(parse_octal(b"\0\0\0"), Some(0));
        assert_eq!(parse_octal(b"+644\0"), None);
        assert_eq!(parse_octal(b"0008\0"), None);
    }

    #[test]
    fn truncated_strings_lose_a_trailing_slash() {
        let mut field = [0u8; 4];
        assert!(!format_string(&mut field, b"abc//x"));
        assert_eq!(&field, b"abc\0");
    }
}
