//! Regenerates the small signed example repository in `examples/repo/` (x86_64 and aarch64)
//! with `apk::writer`, signed with the committed test-only key
//! `examples/repo/keys/receipts-example.rsa`.
//!
//! Run: `cargo run --example make-repo`. Output is deterministic; the test
//! `apk_archive::writer::example_repository_is_reproducible` checks the committed files.

use std::path::PathBuf;

use receipts::apk::writer::{self, SigningKey};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/repo");
    let pem = std::fs::read_to_string(root.join("keys/receipts-example.rsa"))?;
    let key = SigningKey::from_pem("receipts-example.rsa.pub", &pem)?;
    for arch in ["x86_64", "aarch64"] {
        let repository = writer::example_repository(arch, &key)?;
        writer::write_repository(&repository, &root.join(arch))?;
        for package in &repository.packages {
            println!(
                "{arch}/{} {} bytes {}",
                package.package.filename(),
                package.bytes.len(),
                package.package.checksum_string()
            );
        }
    }
    Ok(())
}
