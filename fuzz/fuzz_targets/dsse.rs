//! DSSE envelopes as stored and fetched (`attest::dsse::Envelope::from_json`) and the in-toto
//! statement in their payload.
//!
//! Not for: Sigstore bundles around envelopes (the `bundle` target).
#![no_main]

use libfuzzer_sys::fuzz_target;
use receipts::attest::dsse::{Envelope, EnvelopeForm};
use receipts::attest::statement::Statement;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::from_json(data) {
        let _ = envelope.statement();
        let _ = envelope.to_json(EnvelopeForm::CosignV3);
    }
    let _ = Statement::from_json(data);
});
