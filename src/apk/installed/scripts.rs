//! A package's scripts appended to `scripts.tar`, and its triggers as `triggers` lines.
//!
//! Not for: the `installed` records (`record`), the tar format (`codec::tar`).
//! Reproduces apko `pkg/apk/apk/installed.go` `updateScriptsTar` and `updateTriggers`
//! (apko-format.md §6.4).

use super::Error;
use crate::apk::Package;
use crate::codec::tar::{self, Timestamp};
use base64::Engine as _;
use std::io::Read;

const END_MARKER: usize = 1024;

/// Appends `package`'s executable control-tar entries to `scripts_tar` as apko does.
///
/// Every entry of `control_tar` other than `.PKGINFO` whose permission bits include `0555`
/// is renamed `<name>-<version>.Q1<base64 control SHA-1><entry name>` and written with Go's
/// tar rules, keeping the header Go read (mode, owner, names, detected format). With
/// `source_date_epoch`, the mtime becomes that time and atime/ctime are cleared. The new
/// entries overwrite the previous 1024-byte end marker and a new one follows, so a tar that
/// gains nothing comes out unchanged.
pub fn append_scripts(
    scripts_tar: &mut Vec<u8>,
    package: &Package,
    control_tar: impl Read,
    source_date_epoch: Option<Timestamp>,
) -> Result<(), Error> {
    let failed = |source| Error::Scripts {
        package: package.name.to_string(),
        source,
    };
    // apko seeks back over the end marker when there is one and writes from there (from the
    // start of a shorter file); what it writes always reaches past the old end.
    scripts_tar.truncate(scripts_tar.len().saturating_sub(END_MARKER));
    let prefix = format!(
        "{}-{}.{}",
        package.name,
        package.version,
        package.checksum_string()
    );
    let mut reader = tar::Reader::new(control_tar);
    let mut writer = tar::Writer::new(&mut *scripts_tar);
    while let Some(mut header) = reader.next_header().map_err(failed)? {
        if header.name == b".PKGINFO" || header.mode & 0o555 != 0o555 {
            continue;
        }
        let mut name = prefix.clone().into_bytes();
        name.extend_from_slice(&header.name);
        header.name = name;
        if let Some(epoch) = source_date_epoch {
            header.mtime = epoch;
            header.atime = None;
            header.ctime = None;
        }
        writer.append(&header, &mut reader).map_err(failed)?;
    }
    writer.finish().map_err(failed)?;
    Ok(())
}

/// The `triggers` lines for `package`: `Q1<base64 control SHA-1> <trigger>\n` per value.
pub fn trigger_lines(package: &Package, triggers: &[String]) -> String {
    let checksum = base64::engine::general_purpose::STANDARD.encode(&package.checksum);
    triggers
        .iter()
        .map(|value| format!("Q1{checksum} {value}\n"))
        .collect()
}
