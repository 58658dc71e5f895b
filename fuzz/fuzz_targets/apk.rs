//! `.apk` packages as downloaded: gzip members, signature, control and data tars, checksums
//! (`apk::archive::read_package`).
//!
//! Not for: `.PKGINFO` on its own (the `pkginfo` target), APKINDEX archives (`apkindex`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use receipts::apk::archive;

fuzz_target!(|data: &[u8]| {
    if let Ok(package) = archive::read_package(data, "fuzz") {
        let _ = package.package_record();
    }
});
