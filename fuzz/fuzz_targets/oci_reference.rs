//! Image references as typed on the command line and read from lock files and catalogues:
//! `oci::Reference`, `oci::Remote`, `oci::Repository` and tag validation.
//!
//! Not for: fetching what a reference names (`oci::registry`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use receipts::oci::{Reference, Remote, Repository, reference};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = Reference::parse(text) {
        // What parses prints back as something that parses again.
        let _ = parsed.to_string().parse::<Reference>();
    }
    if let Ok(remote) = Remote::parse(text) {
        let _ = remote.identifier();
        let _ = remote.repository_name();
    }
    let _ = Repository::parse(text);
    let _ = reference::valid_tag(text);
});
