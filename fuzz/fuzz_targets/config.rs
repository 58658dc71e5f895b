//! apko configuration files, YAML and JSON (`config::ImageConfiguration::from_yaml` /
//! `from_json`, which check nesting, size and aliases before decoding).
//!
//! Not for: following `include` files (`config::Loader`, which reads the file system).
#![no_main]

use libfuzzer_sys::fuzz_target;
use receipts::config::ImageConfiguration;

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = ImageConfiguration::from_yaml(data, "fuzz.yaml") {
        let _ = config.to_json();
    }
    if let Ok(config) = ImageConfiguration::from_json(data) {
        let _ = config.to_json();
    }
});
