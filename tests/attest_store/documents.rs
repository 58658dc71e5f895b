//! The stored documents, byte for byte: `derived/cosign/legacy-att.*`, `referrer.manifest.json`
//! and `referrers-fallback-tag.index.json`, rebuilt from their parts.

use std::collections::BTreeMap;

use receipts::attest::names;
use receipts::attest::store::{AttManifest, legacy, referrer};
use receipts::oci::{Descriptor, Digest, Manifest, media_type};

use crate::support;

fn derived(name: &str) -> Vec<u8> {
    std::fs::read(support::data(&format!("derived/cosign/{name}"))).unwrap()
}

const COSIGN_CUSTOM: &str = "https://cosign.sigstore.dev/attestation/v1";

#[test]
fn legacy_att_manifest_and_config_are_cosigns_bytes() {
    let envelope = derived("legacy-att.layer.dsse.json");
    let want_manifest = derived("legacy-att.manifest.json");
    let want_config = derived("legacy-att.config.json");
    // The keyless annotations (certificate, empty chain, Rekor bundle) come with the fixture;
    // the signature and predicate type annotations are ours to set.
    let fixture = Manifest::parse(&want_manifest).unwrap();
    let mut extra = fixture.layers[0].annotations.clone();
    extra.remove(names::SIGNATURE_ANNOTATION);
    extra.remove(names::PREDICATE_TYPE_ANNOTATION);
    assert_eq!(extra.len(), 3, "certificate, chain and bundle annotations");
    let layer = legacy::layer(&envelope, COSIGN_CUSTOM, &extra);
    assert_eq!(layer.size, 616);
    let mut att = AttManifest::default();
    att.append(layer).unwrap();
    let bytes = att.to_bytes().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&bytes.config),
        String::from_utf8_lossy(&want_config)
    );
    assert_eq!(
        String::from_utf8_lossy(&bytes.manifest),
        String::from_utf8_lossy(&want_manifest)
    );
    assert_eq!(
        Digest::of(&bytes.manifest).to_string(),
        "sha256:4143b31e3815b027a85bc7babeb510f69e4284a480f2829a041cb9fb37e0dc51"
    );
}

#[test]
fn parsing_and_rewriting_an_att_manifest_changes_no_byte() {
    let want = derived("legacy-att.manifest.json");
    let att = AttManifest::parse(&want).unwrap();
    assert_eq!(
        AttManifest::annotated_predicate_type(&att.layers[0]),
        Some(COSIGN_CUSTOM)
    );
    assert_eq!(att.to_bytes().unwrap().manifest, want);
}

#[test]
fn appending_keeps_old_layers_and_grows_the_config() {
    let old = AttManifest::parse(&derived("legacy-att.manifest.json")).unwrap();
    let mut att = old.clone();
    let new = legacy::layer(
        b"{\"x\":1}",
        "https://apko.dev/image-configuration",
        &BTreeMap::new(),
    );
    att.append(new.clone()).unwrap();
    assert_eq!(att.layers, vec![old.layers[0].clone(), new.clone()]);
    let bytes = att.to_bytes().unwrap();
    let config: serde_json::Value = serde_json::from_slice(&bytes.config).unwrap();
    assert_eq!(config["history"].as_array().unwrap().len(), 2);
    assert_eq!(
        config["rootfs"]["diff_ids"],
        serde_json::json!([old.layers[0].digest.to_string(), new.digest.to_string()])
    );
    let manifest = Manifest::parse(&bytes.manifest).unwrap();
    assert_eq!(
        manifest.config,
        Descriptor::of(media_type::OCI_CONFIG, &bytes.config)
    );
}

#[test]
fn referrer_manifest_and_fallback_index_are_cosigns_bytes() {
    let bundle = std::fs::read(support::data(
        "sigstore/cosign/pkg/cosign/testdata/oci-attestation.sigstore.json",
    ))
    .unwrap();
    let subject = Descriptor::of(
        media_type::DOCKER_MANIFEST,
        &derived("subject-empty-image.manifest.json"),
    );
    let manifest = referrer::manifest(
        &referrer::bundle_layer(&bundle),
        &subject,
        COSIGN_CUSTOM,
        &referrer::rfc3339_utc(1_740_770_292),
    )
    .unwrap();
    let want = derived("referrer.manifest.json");
    assert_eq!(
        String::from_utf8_lossy(&manifest),
        String::from_utf8_lossy(&want)
    );

    let index = referrer::add_to_fallback_index(None, referrer::fallback_entry(&manifest))
        .unwrap()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&index),
        String::from_utf8_lossy(&derived("referrers-fallback-tag.index.json"))
    );
}

#[test]
fn fallback_index_keeps_foreign_entries_and_their_annotations() {
    // Another writer (oras-go, @sigstore/oci) copies annotations into its entries.
    let foreign = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,"digest":"sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","annotations":{"a":"<b>"},"artifactType":"application/example"}]}"#;
    let ours = referrer::fallback_entry(&derived("referrer.manifest.json"));
    let index = referrer::add_to_fallback_index(Some(foreign.as_bytes()), ours.clone())
        .unwrap()
        .unwrap();
    let text = String::from_utf8(index).unwrap();
    // Sorted by digest: ours (baef…) before the foreign one (ffff…); Go escapes `<` and `>`.
    let want = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{},{}]}}"#,
        serde_json::to_string(&ours).unwrap(),
        r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,"digest":"sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","annotations":{"a":"\u003cb\u003e"},"artifactType":"application/example"}"#
    );
    assert_eq!(text, want);
}
