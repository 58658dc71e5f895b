//! `.PKGINFO` control files (`apk::pkginfo::parse`).
//!
//! Not for: the archive around it (the `apk` target).
#![no_main]

use libfuzzer_sys::fuzz_target;
use receipts::apk::pkginfo;

fuzz_target!(|data: &[u8]| {
    let _ = pkginfo::parse(data);
});
