//! TUF metadata and what it delivers: the duplicate-key check every fetched metadata file passes
//! (`attest::tuf::mirror::check_duplicate_keys`) and the Sigstore trusted root
//! (`attest::verify::TrustedRoot::from_json`).
//!
//! Not for: TUF signature and version checks (the `sigstore_tuf` client).
#![no_main]

use libfuzzer_sys::fuzz_target;
use receipts::attest::tuf::mirror;
use receipts::attest::verify::TrustedRoot;

fuzz_target!(|data: &[u8]| {
    let _ = mirror::check_duplicate_keys(data);
    let _ = TrustedRoot::from_json(data, "fuzz");
});
