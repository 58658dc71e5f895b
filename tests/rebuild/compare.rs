//! Verdicts and diffs between OCI layouts: apko's golden layout against copies of itself with
//! one layer re-compressed, badly framed or changed.

use receipts::oci::Digest;
use receipts::rebuild::{self, Options, Report, Side, Verdict};

use super::fixture::{self, AMD64_DIFF_ID, AMD64_LAYER, Fixture, GOLDEN_INDEX};

fn audit(published: &Fixture, rebuilt: &Fixture) -> Report {
    audit_with(published, rebuilt, &Options::default()).unwrap()
}

fn audit_with(
    published: &Fixture,
    rebuilt: &Fixture,
    options: &Options,
) -> Result<Report, rebuild::Error> {
    let (published_store, rebuilt_store) = (published.store(), rebuilt.store());
    rebuild::compare_published(
        Side {
            store: &published_store,
            root: published.root(),
            trusted: false,
        },
        &published.reference(),
        Side {
            store: &rebuilt_store,
            root: rebuilt.root(),
            trusted: true,
        },
        options,
    )
}

fn platform<'r>(report: &'r Report, key: &str) -> &'r rebuild::report::PlatformReport {
    report.platforms.iter().find(|p| p.platform == key).unwrap()
}

#[test]
fn a_layout_against_itself_is_identical_and_its_layers_were_decoded() {
    let published = Fixture::golden();
    let rebuilt = Fixture::golden();
    let report = audit(&published, &rebuilt);
    assert_eq!(report.verdict, Verdict::Identical);
    assert_eq!(report.a.digest.to_string(), GOLDEN_INDEX);
    let keys: Vec<&str> = report
        .platforms
        .iter()
        .map(|p| p.platform.as_str())
        .collect();
    assert_eq!(keys, ["linux/amd64", "linux/arm64"]);
    let amd64 = platform(&report, "linux/amd64");
    assert_eq!(amd64.verdict, Verdict::Identical);
    let layer = &amd64.layers[0];
    assert_eq!(layer.verdict, Verdict::Identical);
    let published_layer = layer.b.as_ref().unwrap();
    assert_eq!(published_layer.digest.to_string(), AMD64_LAYER);
    // The published layer was streamed and decoded: its tar hashes to the golden diff_id.
    assert_eq!(
        published_layer
            .decompressed_digest
            .map(|d| d.to_string())
            .as_deref(),
        Some(AMD64_DIFF_ID)
    );
    assert!(report.root_differences.is_empty());
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["verdict"], "identical");
    assert_eq!(json["platforms"][0]["layers"][0]["verdict"], "identical");
    assert!(report.to_text().starts_with("identical: rebuilt oci:"));
}

#[test]
fn a_layer_recompressed_by_gzip_is_equivalent() {
    let published = Fixture::golden();
    let tar = fixture::gunzip(&published.layer("amd64"));
    let regzipped = fixture::real_gzip(&tar, None);
    published.replace_layer("amd64", &regzipped, None);
    let rebuilt = Fixture::golden();
    let report = audit(&published, &rebuilt);
    assert_eq!(report.verdict, Verdict::Equivalent, "{}", report.to_text());
    let amd64 = platform(&report, "linux/amd64");
    assert_eq!(amd64.verdict, Verdict::Equivalent);
    assert_eq!(amd64.layers[0].verdict, Verdict::Equivalent);
    assert_eq!(amd64.config.a, amd64.config.b);
    let paths: Vec<&str> = amd64
        .manifest
        .differences
        .iter()
        .map(|d| d.path.as_str())
        .collect();
    assert_eq!(paths, ["/layers/0/digest", "/layers/0/size"]);
    assert_eq!(
        amd64.layers[0].b.as_ref().unwrap().digest,
        Digest::of(&regzipped)
    );
    assert_eq!(platform(&report, "linux/arm64").verdict, Verdict::Identical);
    let root: Vec<&str> = report
        .root_differences
        .iter()
        .map(|d| d.path.as_str())
        .collect();
    assert_eq!(root, ["/manifests/0/digest"]);
}

#[test]
fn gzip_with_a_file_name_is_different_and_says_why() {
    let published = Fixture::golden();
    let tar = fixture::gunzip(&published.layer("amd64"));
    let named = fixture::real_gzip(&tar, Some("layer.tar"));
    assert_eq!(named[3] & 0x08, 0x08, "gzip set FNAME");
    published.replace_layer("amd64", &named, None);
    let report = audit(&published, &Fixture::golden());
    assert_eq!(report.verdict, Verdict::Different);
    let layer = &platform(&report, "linux/amd64").layers[0];
    assert_eq!(layer.verdict, Verdict::Different);
    let reason = layer.reason.as_deref().unwrap();
    assert!(
        reason.contains("not strict gzip") && reason.contains("FNAME"),
        "{reason}"
    );
    // The files are the same: the tree diff (lenient about header fields) finds nothing.
    assert!(layer.files.as_ref().unwrap().is_empty());
}

#[test]
fn gzip_with_trailing_bytes_is_different_and_says_why() {
    let published = Fixture::golden();
    let tar = fixture::gunzip(&published.layer("amd64"));
    let mut padded = fixture::real_gzip(&tar, None);
    padded.extend_from_slice(&[0u8; 16]);
    published.replace_layer("amd64", &padded, None);
    let report = audit(&published, &Fixture::golden());
    assert_eq!(report.verdict, Verdict::Different);
    let reason = platform(&report, "linux/amd64").layers[0]
        .reason
        .clone()
        .unwrap();
    assert!(
        reason.contains("bytes follow the end of the gzip member"),
        "{reason}"
    );
}

#[test]
fn a_file_added_to_a_layer_is_different_and_the_diff_names_it() {
    let published = Fixture::golden();
    published.add_file("arm64", "etc/extra-file", b"not in the rebuild\n");
    let report = audit(&published, &Fixture::golden());
    assert_eq!(report.verdict, Verdict::Different);
    assert_eq!(platform(&report, "linux/amd64").verdict, Verdict::Identical);
    let arm64 = platform(&report, "linux/arm64");
    assert_eq!(arm64.verdict, Verdict::Different);
    let config: Vec<&str> = arm64
        .config
        .differences
        .iter()
        .map(|d| d.path.as_str())
        .collect();
    assert_eq!(config, ["/rootfs/diff_ids/0"]);
    let files = arm64.layers[0].files.as_ref().unwrap();
    let added: Vec<&str> = files.added.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(added, ["etc/extra-file"]);
    assert!(files.removed.is_empty() && files.changed.is_empty());
    assert_eq!(
        files.added[0].sha256.as_deref(),
        Some(Digest::of(b"not in the rebuild\n").to_string().as_str())
    );
    let text = report.to_text();
    assert!(text.starts_with("different: "), "{text}");
    assert!(
        text.contains("+ etc/extra-file (file, only in published)"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["verdict"], "different");
    assert_eq!(
        json["platforms"][1]["layers"][0]["files"]["added"][0]["path"],
        "etc/extra-file"
    );
}

#[test]
fn a_published_blob_that_does_not_match_its_digest_is_an_error() {
    let published = Fixture::golden();
    let layer = Digest::parse(AMD64_LAYER).unwrap();
    let mut bytes = published.blob(&layer);
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(published.blob_path(&layer), bytes).unwrap();
    let error = audit_with(&published, &Fixture::golden(), &Options::default()).unwrap_err();
    let chain = format!("{error}: {:?}", std::error::Error::source(&error));
    assert!(chain.contains(AMD64_LAYER), "{chain}");
}

#[test]
fn a_platform_not_in_the_published_index_is_an_error_listing_those_found() {
    let options = Options {
        platforms: vec!["linux/s390x".to_owned()],
        ..Options::default()
    };
    let error = audit_with(&Fixture::golden(), &Fixture::golden(), &options).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("linux/s390x") && message.contains("linux/amd64, linux/arm64"),
        "{message}"
    );
}

#[test]
fn one_platform_only() {
    let published = Fixture::golden();
    published.add_file("arm64", "etc/extra-file", b"x");
    let options = Options {
        platforms: vec!["linux/amd64".to_owned()],
        ..Options::default()
    };
    let report = audit_with(&published, &Fixture::golden(), &options).unwrap();
    assert_eq!(report.verdict, Verdict::Identical);
    assert_eq!(report.platforms.len(), 1);
}
