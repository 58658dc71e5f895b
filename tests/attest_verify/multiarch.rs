//! Multi-arch images: attestations attach to the digest the reference resolves to, so a tag on
//! an index finds the index's attestations and a platform digest finds only its own (cosign
//! §2.1). Key-signed legacy layers without a log (recipe A) keep the setup small.

use std::collections::BTreeMap;

use receipts::attest::dsse::EnvelopeForm;
use receipts::attest::names;
use receipts::attest::verify::image::{self, Error};
use receipts::attest::verify::{self, Expected, Policy};
use receipts::oci::{Digest, Reference, Store, media_type};
use serde_json::json;

use super::oci::{derived, push_subject, put_blob};
use super::pki::{APKO_TYPE, Key, signed_statement};
use crate::support::registry::Registry;

fn attach(store: &Store, subject: &Digest, key: &Key) {
    let envelope = signed_statement("127.0.0.1:5000/multi", subject.as_bytes(), &key.private);
    let layer = envelope.to_json(EnvelopeForm::CosignV3);
    let config = b"{}".to_vec();
    put_blob(store, media_type::OCI_CONFIG, config.clone());
    put_blob(store, names::DSSE_LAYER_MEDIA_TYPE, layer.clone());
    let annotations = BTreeMap::from([
        (names::SIGNATURE_ANNOTATION, ""),
        (names::PREDICATE_TYPE_ANNOTATION, APKO_TYPE),
    ]);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": {"mediaType": media_type::OCI_CONFIG, "size": config.len(), "digest": Digest::of(&config).to_string()},
        "layers": [{"mediaType": names::DSSE_LAYER_MEDIA_TYPE, "size": layer.len(), "digest": Digest::of(&layer).to_string(), "annotations": annotations}]
    })
    .to_string();
    store
        .put_manifest(
            manifest.as_bytes(),
            media_type::OCI_MANIFEST,
            Some(&names::attestation_tag(subject)),
        )
        .unwrap();
}

#[test]
fn index_and_platform_digests_have_their_own_attestations() {
    let registry = Registry::start();
    let repository = registry.repository("multi");
    let (_, store) = {
        let reference = Reference::parse(&format!("{repository}:latest")).unwrap();
        let store = Store::create(&reference, &Default::default()).unwrap();
        (reference, store)
    };
    push_subject(&store);
    let amd64 = Digest::of(&derived("subject-empty-image.manifest.json"));
    let config = derived("legacy-att.config.json");
    put_blob(&store, media_type::OCI_CONFIG, config.clone());
    let arm64_manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": {"mediaType": media_type::OCI_CONFIG, "size": config.len(), "digest": Digest::of(&config).to_string()},
        "layers": []
    })
    .to_string();
    let arm64 = store
        .put_manifest(arm64_manifest.as_bytes(), media_type::OCI_MANIFEST, None)
        .unwrap();
    let index = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_INDEX,
        "manifests": [
            {"mediaType": media_type::DOCKER_MANIFEST, "size": derived("subject-empty-image.manifest.json").len(), "digest": amd64.to_string(), "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": media_type::OCI_MANIFEST, "size": arm64.size, "digest": arm64.digest.to_string(), "platform": {"architecture": "arm64", "os": "linux"}}
        ]
    })
    .to_string();
    let index = store
        .put_manifest(index.as_bytes(), media_type::OCI_INDEX, Some("latest"))
        .unwrap();

    let key = Key::generate();
    attach(&store, &index.digest, &key);
    attach(&store, &amd64, &key);
    let policy = Policy {
        expected: Expected::Key(key.public.clone()),
        ignore_tlog: true,
        ignore_sct: false,
    };
    let verify_ref = |text: String| {
        image::verify_image(
            &store,
            &Reference::parse(&text).unwrap(),
            &policy,
            None,
            Some(APKO_TYPE),
            verify::now(),
        )
    };

    let by_tag = verify_ref(format!("{repository}:latest")).unwrap();
    assert_eq!(by_tag.image.digest, index.digest);
    let subject = &by_tag.attestations[0].statement.subject[0];
    assert_eq!(subject.digest["sha256"], index.digest.hex());

    let by_platform = verify_ref(format!("{repository}@{amd64}")).unwrap();
    assert_eq!(
        by_platform.attestations[0].statement.subject[0].digest["sha256"],
        amd64.hex()
    );

    let error = verify_ref(format!("{repository}@{}", arm64.digest)).unwrap_err();
    assert!(matches!(error, Error::NoneFound { .. }), "{error}");
    assert!(error.to_string().starts_with("no matching attestations"));
}
