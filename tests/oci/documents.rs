//! The one set of OCI documents (`oci::{Manifest, Index, ConfigFile}`) against every upstream
//! document we have: apko's golden and base-image layouts, the layouts apko built for our
//! derived goldens, and cosign's stored documents. Each reads and, written back through the
//! Go-compatible encoder, gives exactly the bytes Go wrote (field order, `omitempty`,
//! annotations, platforms, Docker and OCI media types, `subject`, `artifactType`).

use std::path::{Path, PathBuf};

use receipts::codec::json::to_vec_go;
use receipts::oci::manifest::{media_type, media_type_of};
use receipts::oci::{ConfigFile, Index, Manifest};

use crate::support::testdata;

/// Every JSON document of the OCI layouts and cosign documents in the test data.
fn documents() -> Vec<PathBuf> {
    let root = testdata();
    let mut files = Vec::new();
    for layout in [
        "chainguard-dev/apko/internal/cli/testdata/golden",
        "chainguard-dev/apko/internal/cli/testdata/base_image",
        "chainguard-dev/apko/internal/cli/testdata/top_image",
        "derived/apko/goldens/cacerts/expected",
        "derived/apko/goldens/layering/expected",
        "derived/apko/goldens/features/expected",
    ] {
        let dir = root.join(layout);
        files.push(dir.join("index.json"));
        let blobs = std::fs::read_dir(dir.join("blobs/sha256")).expect("layout blobs");
        files.extend(blobs.map(|entry| entry.expect("blob entry").path()));
    }
    for name in [
        "legacy-att.config.json",
        "legacy-att.manifest.json",
        "referrer.manifest.json",
        "referrers-fallback-tag.index.json",
        // Not `subject-empty-image.config.json`: its `"diff_ids":null` is Go's nil slice, which
        // a `Vec` cannot tell from an empty one (written `[]`). Only a config with no layers at
        // all shows the difference, and nothing here writes one.
        "subject-empty-image.manifest.json",
    ] {
        files.push(root.join("derived/cosign").join(name));
    }
    files
}

/// Reads `bytes` as the document it is and writes it back; `None` for a blob that is not a
/// JSON document (a layer).
fn reencode(path: &Path, bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    if !text.starts_with('{') {
        return None;
    }
    let encoded = match media_type_of(bytes).as_deref() {
        Some(kind) if media_type::is_index(kind) => {
            to_vec_go(&Index::parse(bytes).unwrap_or_else(|e| panic!("{path:?}: {e}")))
        }
        Some(kind) if media_type::is_manifest(kind) => {
            to_vec_go(&Manifest::parse(bytes).unwrap_or_else(|e| panic!("{path:?}: {e}")))
        }
        Some(other) => panic!("{path:?}: unexpected media type {other}"),
        None if text.contains("\"rootfs\"") => to_vec_go(
            &serde_json::from_slice::<ConfigFile>(bytes)
                .unwrap_or_else(|e| panic!("{path:?}: {e}")),
        ),
        // Other JSON blobs (an attestation envelope, an SBOM) are not OCI documents.
        None => return None,
    };
    Some(encoded.unwrap_or_else(|e| panic!("{path:?}: {e}")))
}

#[test]
fn every_upstream_document_reads_and_rewrites_byte_for_byte() {
    let mut counts = [0usize; 2];
    for path in documents() {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let Some(encoded) = reencode(&path, &bytes) else {
            counts[1] += 1;
            continue;
        };
        assert_eq!(
            String::from_utf8_lossy(&encoded),
            String::from_utf8_lossy(&bytes),
            "{path:?}"
        );
        counts[0] += 1;
    }
    // Six layouts (an index and, per image, a manifest and a config each: 26 documents) and
    // five cosign documents: a vacuous pass would show here.
    assert!(counts[0] >= 31, "only {} documents checked", counts[0]);
}

#[test]
fn empty_optional_strings_are_left_out_as_go_leaves_them_out() {
    // `""` and `null` read as absent, and absent is not written: Go's `omitempty` on strings.
    let text = r#"{"schemaVersion":2,"mediaType":"","config":{"mediaType":"m","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","artifactType":"","platform":{"architecture":"arm","os":"linux","variant":"","os.version":null}},"layers":null,"artifactType":null}"#;
    let manifest = Manifest::parse(text.as_bytes()).expect("manifest");
    assert_eq!(manifest.media_type, None);
    assert_eq!(manifest.config.artifact_type, None);
    assert_eq!(
        String::from_utf8(to_vec_go(&manifest).expect("encode")).expect("utf-8"),
        r#"{"schemaVersion":2,"config":{"mediaType":"m","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","platform":{"architecture":"arm","os":"linux"}},"layers":[]}"#
    );
}
