//! RFC 3161 timestamp responses and tokens as bundles carry them
//! (`attest::verify::timestamp::verify`): CMS SignedData, TSTInfo, signed attributes.
//!
//! Not for: checking a token's chain to an authority, which needs a signature over the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use receipts::attest::verify::TrustedRoot;
use receipts::attest::verify::timestamp;

fuzz_target!(|data: &[u8]| {
    // An empty root: the token is parsed in full before any authority is consulted.
    let root = TrustedRoot::default();
    let _ = timestamp::verify(0, data, b"signature", &root);
});
