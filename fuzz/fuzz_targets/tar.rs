//! Tar streams read the way Go's `archive/tar` reads them (`build::tar::Reader`): headers, PAX
//! and GNU long-name records, numbers, entry data and padding.
//!
//! Not for: writing tars (`build::tar::Writer`, checked by the test suite against Go's bytes).
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use receipts::codec::tar::Reader;

fuzz_target!(|data: &[u8]| {
    let mut reader = Reader::new(data);
    let mut sink = Vec::new();
    // Every header of an input is at least one 512-byte block, so this ends; the bound only
    // keeps a bug that stops advancing from hanging the fuzzer instead of reporting it.
    for _ in 0..=data.len() / 512 + 1 {
        match reader.next_header() {
            Ok(Some(_)) => {
                sink.clear();
                if reader.read_to_end(&mut sink).is_err() {
                    return;
                }
            }
            Ok(None) | Err(_) => return,
        }
    }
    panic!("the tar reader returned more headers than the input has blocks");
});
