//! File modes as Go's `io/fs.FileMode` holds them: nine permission bits plus type and special
//! flags in the high bits.
//!
//! apko's filesystem stores Go `FileMode`s, and several of its rules only make sense in that
//! encoding: a raw `0o4755` passed where a `FileMode` is expected loses its setuid bit (it is
//! not the `ModeSetuid` flag), `Chmod` keeps the type but drops special flags, and a package
//! directory keeps only `Perm()`.
//!
//! Not for: tar mode fields themselves (`codec::tar`).
//! Reproduces Go `io/fs` `FileMode`, `archive/tar` `headerFileInfo.Mode` and the mode part of
//! `tar.FileInfoHeader`.

use crate::codec::tar::{EntryType, Header};

/// A Go `fs.FileMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FileMode(pub u32);

const C_ISUID: i64 = 0o4000;
const C_ISGID: i64 = 0o2000;
const C_ISVTX: i64 = 0o1000;

impl FileMode {
    /// `ModeDir`.
    pub const DIR: u32 = 1 << 31;
    /// `ModeSymlink`.
    pub const SYMLINK: u32 = 1 << 27;
    /// `ModeDevice`.
    pub const DEVICE: u32 = 1 << 26;
    /// `ModeNamedPipe`.
    pub const NAMED_PIPE: u32 = 1 << 25;
    /// `ModeSocket`.
    pub const SOCKET: u32 = 1 << 24;
    /// `ModeSetuid`.
    pub const SETUID: u32 = 1 << 23;
    /// `ModeSetgid`.
    pub const SETGID: u32 = 1 << 22;
    /// `ModeCharDevice`.
    pub const CHAR_DEVICE: u32 = 1 << 21;
    /// `ModeSticky`.
    pub const STICKY: u32 = 1 << 20;
    /// `ModeIrregular`.
    pub const IRREGULAR: u32 = 1 << 19;
    /// `ModeType`: the bits that say what kind of file it is.
    pub const TYPE: u32 = Self::DIR
        | Self::SYMLINK
        | Self::NAMED_PIPE
        | Self::SOCKET
        | Self::DEVICE
        | Self::CHAR_DEVICE
        | Self::IRREGULAR;

    /// `Perm()`: the nine permission bits.
    pub fn perm(self) -> u32 {
        self.0 & 0o777
    }

    /// `Type()`: the type bits.
    pub fn file_type(self) -> u32 {
        self.0 & Self::TYPE
    }

    /// `IsRegular()`: no type bit set.
    pub fn is_regular(self) -> bool {
        self.0 & Self::TYPE == 0
    }

    /// Whether any of `bits` is set.
    pub fn has(self, bits: u32) -> bool {
        self.0 & bits != 0
    }

    /// The mode Go's `tar.Header.FileInfo().Mode()` gives a header: permission bits, the
    /// setuid/setgid/sticky flags, and the type from the mode's `c_IS*` bits and the typeflag.
    pub fn from_tar_header(header: &Header) -> FileMode {
        let raw = header.mode;
        let mut mode = (raw as u32) & 0o777;
        if raw & C_ISUID != 0 {
            mode |= Self::SETUID;
        }
        if raw & C_ISGID != 0 {
            mode |= Self::SETGID;
        }
        if raw & C_ISVTX != 0 {
            mode |= Self::STICKY;
        }
        mode |= match raw & !0o7777 {
            0o040000 => Self::DIR,
            0o010000 => Self::NAMED_PIPE,
            0o120000 => Self::SYMLINK,
            0o060000 => Self::DEVICE,
            0o020000 => Self::DEVICE | Self::CHAR_DEVICE,
            0o140000 => Self::SOCKET,
            _ => 0,
        };
        mode |= match header.typeflag {
            EntryType::SYMLINK => Self::SYMLINK,
            EntryType::CHAR_DEVICE => Self::DEVICE | Self::CHAR_DEVICE,
            EntryType::BLOCK_DEVICE => Self::DEVICE,
            EntryType::DIRECTORY => Self::DIR,
            EntryType::FIFO => Self::NAMED_PIPE,
            _ => 0,
        };
        FileMode(mode)
    }

    /// apko's `unixModeToFsMode`: raw Unix permission bits as written in a configuration
    /// (e.g. `0o2775`) with setuid/setgid/sticky turned into Go's flags.
    pub fn from_unix_permissions(perms: u32) -> FileMode {
        let mut mode = perms & 0o777;
        if perms & 0o4000 != 0 {
            mode |= Self::SETUID;
        }
        if perms & 0o2000 != 0 {
            mode |= Self::SETGID;
        }
        if perms & 0o1000 != 0 {
            mode |= Self::STICKY;
        }
        FileMode(mode)
    }

    /// The tar mode field `tar.FileInfoHeader` derives: permission bits plus `c_ISUID`,
    /// `c_ISGID` and `c_ISVTX` for the special flags, and no file-type bits.
    pub fn tar_mode(self) -> i64 {
        let mut mode = i64::from(self.perm());
        if self.has(Self::SETUID) {
            mode |= C_ISUID;
        }
        if self.has(Self::SETGID) {
            mode |= C_ISGID;
        }
        if self.has(Self::STICKY) {
            mode |= C_ISVTX;
        }
        mode
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(typeflag: EntryType, mode: i64) -> Header {
        Header {
            typeflag,
            mode,
            ..Header::default()
        }
    }

    #[test]
    fn header_modes_become_go_flags() {
        let m = FileMode::from_tar_header(&header(EntryType::REGULAR, 0o104755));
        assert_eq!(m, FileMode(FileMode::SETUID | 0o755));
        assert!(m.is_regular());
        assert_eq!(m.tar_mode(), 0o4755);
        let d = FileMode::from_tar_header(&header(EntryType::DIRECTORY, 0o2755));
        assert_eq!(d, FileMode(FileMode::DIR | FileMode::SETGID | 0o755));
        assert_eq!(d.perm(), 0o755);
        // A regular-file entry whose mode carries directory bits is a directory to Go.
        let odd = FileMode::from_tar_header(&header(EntryType::REGULAR, 0o040644));
        assert!(odd.has(FileMode::DIR));
        let l = FileMode::from_tar_header(&header(EntryType::SYMLINK, 0o777));
        assert_eq!(l, FileMode(FileMode::SYMLINK | 0o777));
    }

    #[test]
    fn raw_special_bits_are_not_go_flags() {
        // apko's /tmp is `0o777 | ModeSticky`; a raw 0o1777 would lose the sticky bit.
        assert_eq!(FileMode(0o777 | FileMode::STICKY).tar_mode(), 0o1777);
        assert_eq!(FileMode(0o1777).tar_mode(), 0o777);
        assert_eq!(FileMode::from_unix_permissions(0o2775).tar_mode(), 0o2775);
    }
}
