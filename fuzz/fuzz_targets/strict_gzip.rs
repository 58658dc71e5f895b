//! Gzip streams through the strict reader (`compress::strict`): header fields, deflate blocks,
//! CRC-32 and size trailer, trailing bytes; both the strict and the lenient reader.
//!
//! Not for: writing gzip (`compress::gzip`).
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use receipts::compress::strict;

fuzz_target!(|data: &[u8]| {
    let whole = strict::decompress(data);
    let mut streamed = Vec::new();
    let mut reader = strict::Reader::new(data);
    let streamed_ok = reader.read_to_end(&mut streamed).is_ok();
    if let Ok((bytes, _)) = &whole {
        // Accepted whole means accepted streamed, with the same bytes.
        assert!(streamed_ok, "decompress accepted what the reader refused");
        assert_eq!(bytes, &streamed);
    }
    let _ = strict::Reader::lenient(data).finish();
});
