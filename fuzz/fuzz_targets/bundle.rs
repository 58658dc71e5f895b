//! Sigstore bundles (`attest::bundle::Bundle::from_json`): version, verification material,
//! transparency-log entries and the DSSE envelope inside.
//!
//! Not for: verifying a bundle's signatures (`attest::verify`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use receipts::attest::bundle::Bundle;

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = Bundle::from_json(data) {
        let _ = bundle.version();
        if let Some(envelope) = bundle.dsse_envelope() {
            let _ = envelope.statement();
        }
        let _ = bundle.to_json();
    }
});
