//! APKINDEX archives as a repository serves them: `apk::signed` (signature members, gzip
//! members, tar entries) and the index text inside (`apk::index`).
//!
//! Not for: fetching or caching indexes (`apk::repository`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use receipts::apk::{Keyring, index, signed};

/// The project's test key under its own name and under the name the upstream test indexes are
/// signed with, so that signature members reach the RSA check.
const TEST_KEY: &[u8] = include_bytes!("../../tests/keys/receipts-test.rsa.pub");

fuzz_target!(|data: &[u8]| {
    let mut keyring = Keyring::new();
    for name in ["receipts-test.rsa.pub", "melange.rsa.pub"] {
        keyring
            .insert_pem(name, TEST_KEY)
            .expect("the test key is valid PEM");
    }
    let _ = signed::read_unverified(data, "fuzz");
    let _ = signed::verify(data, &keyring, "fuzz");
    let _ = index::parse_text(data);
    let _ = index::parse_from(data);
});
