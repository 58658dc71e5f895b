//! Attaching through the library to OCI layouts (apko's golden layout, converted on the first
//! tag and keeping every digest) and to a real registry without the referrers API.

use std::path::{Path, PathBuf};

use receipts::attest::bundle::{BUNDLE_V03_MEDIA_TYPE, Bundle};
use receipts::attest::dsse::Envelope;
use receipts::attest::key::PrivateKey;
use receipts::attest::names;
use receipts::attest::statement::{Predicate, Sha256Digest, Statement, SubjectName};
use receipts::attest::store::{self, AttManifest, Format, Signed};
use receipts::oci::layout::Layout;
use receipts::oci::reference::referrers_tag;
use receipts::oci::registry::Settings;
use receipts::oci::{Descriptor, Digest, Index, Manifest, Reference, Selector, Store, media_type};

use crate::support;
use crate::support::attest::{describe, peers};

/// apko's golden layout (chainguard-dev/apko `internal/cli/testdata/golden`) and its digests.
pub mod image {
    use receipts::oci::Digest;
    use std::path::PathBuf;

    pub fn golden() -> PathBuf {
        crate::support::data("chainguard-dev/apko/internal/cli/testdata/golden")
    }
    pub const GOLDEN_INDEX: &str =
        "sha256:b5f05e6fc882c97d61c1daee566954ae6fc09924f8e152293e2b97a06092069f";
    pub const GOLDEN_AMD64: &str =
        "sha256:69f0237c7f8cf0b8a329d1bf1d6870c870c4ec323e39d3a6da59596632d0f2f4";
    pub const GOLDEN_ARM64: &str =
        "sha256:124c885f834cfaf1329987457a9651a68c4fb9733d4462ae6288b98011277858";
    pub fn digest(text: &str) -> Digest {
        Digest::parse(text).unwrap()
    }
}

pub const APKO: &str = "https://apko.dev/image-configuration";
pub const CUSTOM: &str = "https://cosign.sigstore.dev/attestation/v1";
const CREATED: &str = "2026-01-02T03:04:05Z";

/// A writable copy of apko's golden layout (whose `index.json` is the image index).
pub fn golden_copy(into: &Path) -> PathBuf {
    let target = into.join("golden");
    copy_dir(&image::golden(), &target);
    target
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let target = to.join(entry.file_name());
        if crate::support::is_real_dir(&path) {
            copy_dir(&path, &target);
        } else {
            std::fs::write(&target, std::fs::read(&path).unwrap()).unwrap();
        }
    }
}

fn signed(
    name: &str,
    subject: &Digest,
    predicate_type: &str,
    predicate: &str,
    key: &PrivateKey,
) -> Signed {
    let statement = Statement::for_image(
        &SubjectName::from_reference(name).unwrap(),
        &Sha256Digest::from_bytes(*subject.as_bytes()),
        predicate_type,
        Predicate::from_json(predicate.as_bytes()).unwrap(),
    );
    Signed::sign(&statement, subject, key).unwrap()
}

fn layout_store(dir: &Path) -> (Store, Descriptor) {
    let reference = Reference::parse(&format!("oci:{}", dir.display())).unwrap();
    let store = Store::open(&reference, &Settings::default()).unwrap();
    let subject = store.resolve(&reference).unwrap();
    (store, subject)
}

fn att_layers(store: &Store, subject: &Digest) -> Vec<Descriptor> {
    let raw = store
        .tagged(&names::attestation_tag(subject))
        .unwrap()
        .expect(".att tag");
    AttManifest::parse(&raw.bytes).unwrap().layers
}

fn statement_of(store: &Store, layer: &Descriptor, key: &PrivateKey) -> Statement {
    let envelope = Envelope::from_json(&store.read_blob(&layer.digest).unwrap()).unwrap();
    envelope
        .verify(&key.public_key())
        .expect("stored envelope verifies");
    envelope.statement().unwrap()
}

#[test]
fn legacy_attestations_append_in_a_converted_layout_without_changing_digests() {
    let temp = tempfile::tempdir().unwrap();
    let dir = golden_copy(temp.path());
    let original_index = std::fs::read(dir.join("index.json")).unwrap();
    let (store, subject) = layout_store(&dir);
    assert_eq!(subject.digest, image::digest(image::GOLDEN_INDEX));
    let key = PrivateKey::generate_ecdsa_p256().unwrap();

    let first = signed(
        "oci.example/golden",
        &subject.digest,
        APKO,
        r#"{"n":1}"#,
        &key,
    );
    let done = store::attach(
        &store,
        &subject,
        &first,
        Format::Legacy { replace: false },
        CREATED,
    )
    .unwrap();
    assert_eq!(
        done.tag.as_deref(),
        Some(names::attestation_tag(&subject.digest).as_str())
    );
    assert_eq!(done.attempts, 1);
    let second = signed(
        "oci.example/golden",
        &subject.digest,
        CUSTOM,
        r#"{"n":2}"#,
        &key,
    );
    store::attach(
        &store,
        &subject,
        &second,
        Format::Legacy { replace: false },
        CREATED,
    )
    .unwrap();

    // The image keeps its digest and bytes, now as a blob, and `oci:DIR` still names it.
    let layout = Layout::open(&dir).unwrap();
    assert_eq!(
        layout.resolve(&Selector::Default).unwrap().digest,
        subject.digest
    );
    assert_eq!(layout.read_blob(&subject.digest).unwrap(), original_index);
    for child in [image::GOLDEN_AMD64, image::GOLDEN_ARM64] {
        assert!(layout.has_blob(&image::digest(child)));
    }
    let tags = layout.tags().unwrap();
    assert!(tags.contains_key(&names::attestation_tag(&subject.digest)));

    let layers = att_layers(&store, &subject.digest);
    assert_eq!(layers.len(), 2);
    for (layer, (predicate_type, n)) in layers.iter().zip([(APKO, 1.0), (CUSTOM, 2.0)]) {
        assert_eq!(layer.media_type, names::DSSE_LAYER_MEDIA_TYPE);
        assert_eq!(
            layer
                .annotations
                .get(names::SIGNATURE_ANNOTATION)
                .map(String::as_str),
            Some("")
        );
        assert_eq!(
            AttManifest::annotated_predicate_type(layer),
            Some(predicate_type)
        );
        let statement = statement_of(&store, layer, &key);
        assert_eq!(statement.predicate_type, predicate_type);
        assert!(
            statement.has_subject_digest(&Sha256Digest::from_bytes(*subject.digest.as_bytes()))
        );
        assert_eq!(statement.predicate.fields()["n"], serde_json::json!(n));
    }
    // The stored config is cosign's: one zero-time history entry and one diff ID per layer.
    let raw = store
        .tagged(&names::attestation_tag(&subject.digest))
        .unwrap()
        .unwrap();
    let manifest = Manifest::parse(&raw.bytes).unwrap();
    let config: serde_json::Value =
        serde_json::from_slice(&store.read_blob(&manifest.config.digest).unwrap()).unwrap();
    assert_eq!(
        config["rootfs"]["diff_ids"],
        serde_json::json!([layers[0].digest.to_string(), layers[1].digest.to_string()])
    );

    // --replace: the new layer first, the other type kept, the same type dropped.
    let third = signed(
        "oci.example/golden",
        &subject.digest,
        APKO,
        r#"{"n":3}"#,
        &key,
    );
    let done = store::attach(
        &store,
        &subject,
        &third,
        Format::Legacy { replace: true },
        CREATED,
    )
    .unwrap();
    let replaced: Vec<(String, bool)> = done
        .replacements
        .iter()
        .map(|r| (r.predicate_type.clone(), r.replaced))
        .collect();
    assert_eq!(
        replaced,
        [(APKO.to_owned(), true), (CUSTOM.to_owned(), false)]
    );
    let layers = att_layers(&store, &subject.digest);
    let types: Vec<String> = layers
        .iter()
        .map(|l| statement_of(&store, l, &key).predicate_type)
        .collect();
    assert_eq!(types, [APKO, CUSTOM]);
    assert_eq!(
        statement_of(&store, &layers[0], &key).predicate.fields()["n"],
        serde_json::json!(3.0)
    );
}

#[test]
fn bundle_referrers_in_a_layout_are_listed_through_the_fallback_index() {
    let temp = tempfile::tempdir().unwrap();
    let dir = golden_copy(temp.path());
    let (store, subject) = layout_store(&dir);
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let mut written = Vec::new();
    for n in 0..2 {
        let one = signed(
            "oci.example/golden",
            &subject.digest,
            APKO,
            &format!(r#"{{"n":{n}}}"#),
            &key,
        );
        let done = store::attach(&store, &subject, &one, Format::Bundle, CREATED).unwrap();
        assert_eq!(done.tag, Some(referrers_tag(&subject.digest)));
        written.push(done.manifest.digest);
    }
    written.sort_by_key(|d| d.to_string());
    let listed = store
        .referrers(&subject.digest, Some(BUNDLE_V03_MEDIA_TYPE))
        .unwrap();
    let mut digests: Vec<Digest> = listed.iter().map(|d| d.digest).collect();
    digests.sort_by_key(|d| d.to_string());
    digests.dedup();
    assert_eq!(digests, written);

    // The fallback index is ggcr's: sorted by digest, entries without annotations.
    let raw = store
        .tagged(&referrers_tag(&subject.digest))
        .unwrap()
        .unwrap();
    let index = Index::parse(&raw.bytes).unwrap();
    assert_eq!(
        index.manifests.iter().map(|m| m.digest).collect::<Vec<_>>(),
        written
    );
    assert!(
        index.manifests.iter().all(|m| m.annotations.is_empty()
            && m.artifact_type.as_deref() == Some(BUNDLE_V03_MEDIA_TYPE))
    );
    for entry in &index.manifests {
        check_referrer(&store, entry, &subject, &key);
    }
    assert_eq!(
        Layout::open(&dir)
            .unwrap()
            .resolve(&Selector::Default)
            .unwrap()
            .digest,
        subject.digest
    );
}

/// A referrer manifest as cosign writes it, whose bundle verifies with `key`.
fn check_referrer(
    store: &Store,
    entry: &Descriptor,
    subject: &Descriptor,
    key: &PrivateKey,
) -> Vec<u8> {
    let raw = store.manifest(&entry.digest).unwrap();
    let manifest = Manifest::parse(&raw.bytes).unwrap();
    assert_eq!(
        manifest.artifact_type.as_deref(),
        Some(BUNDLE_V03_MEDIA_TYPE)
    );
    assert_eq!(manifest.config.media_type, media_type::OCI_EMPTY);
    assert_eq!(
        manifest.config.artifact_type.as_deref(),
        Some(BUNDLE_V03_MEDIA_TYPE)
    );
    let want_subject = Descriptor::new(subject.media_type.clone(), subject.size, subject.digest);
    assert_eq!(manifest.subject.as_ref(), Some(&want_subject));
    assert_eq!(
        manifest
            .annotations
            .get(names::BUNDLE_CONTENT_ANNOTATION)
            .map(String::as_str),
        Some("dsse-envelope")
    );
    assert_eq!(
        manifest
            .annotations
            .get(names::BUNDLE_PREDICATE_TYPE_ANNOTATION)
            .map(String::as_str),
        Some(APKO)
    );
    assert!(manifest.annotations.contains_key(names::CREATED_ANNOTATION));
    let [layer] = manifest.layers.as_slice() else {
        panic!("one layer expected: {:?}", manifest.layers)
    };
    assert_eq!(layer.media_type, BUNDLE_V03_MEDIA_TYPE);
    let bytes = store.read_blob(&layer.digest).unwrap();
    let bundle = Bundle::from_json(&bytes).unwrap();
    bundle
        .dsse_envelope()
        .unwrap()
        .verify(&key.public_key())
        .unwrap();
    assert_eq!(store.read_blob(&manifest.config.digest).unwrap(), b"{}");
    bytes
}

#[test]
fn nothing_is_written_for_a_statement_about_another_image() {
    let temp = tempfile::tempdir().unwrap();
    let dir = golden_copy(temp.path());
    let before = std::fs::read(dir.join("index.json")).unwrap();
    let (store, subject) = layout_store(&dir);
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let other = image::digest(image::GOLDEN_AMD64);
    // Signing refuses a statement whose subject is not the digest given...
    let statement = Statement::for_image(
        &SubjectName::from_reference("oci.example/golden").unwrap(),
        &Sha256Digest::from_bytes(*other.as_bytes()),
        APKO,
        Predicate::default(),
    );
    assert!(matches!(
        Signed::sign(&statement, &subject.digest, &key),
        Err(store::Error::Subject { .. })
    ));
    // ...and attaching refuses an attestation signed for another image.
    let elsewhere = signed("oci.example/golden", &other, APKO, "{}", &key);
    for format in [Format::Bundle, Format::Legacy { replace: false }] {
        assert!(matches!(
            store::attach(&store, &subject, &elsewhere, format, CREATED),
            Err(store::Error::WrongImage { .. })
        ));
    }
    assert_eq!(std::fs::read(dir.join("index.json")).unwrap(), before);
}

/// Pushes apko's golden image to `repository` and returns the store and the image.
pub fn pushed_golden(
    registry: &support::registry::Registry,
    repository: &str,
) -> (Store, Descriptor, String) {
    let layout = Layout::open(&image::golden()).unwrap();
    let root = layout.resolve(&Selector::Default).unwrap();
    let set = layout.image_set(&root).unwrap();
    let name = registry.repository(repository);
    let reference = Reference::parse(&format!("{name}:v1")).unwrap();
    let store = Store::open(&reference, &Settings::default()).unwrap();
    store.publish(&set, Some("v1")).unwrap();
    let subject = store.resolve(&reference).unwrap();
    assert_eq!(subject.digest, root.digest);
    (store, subject, name)
}

#[test]
fn registry_without_referrers_api_gets_att_tag_and_fallback_index() {
    let registry = support::registry::Registry::start();
    let (store, subject, name) = pushed_golden(&registry, "golden");
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    assert!(!store.has_referrers_api(&subject.digest).unwrap());

    for n in 0..2 {
        let one = signed(
            &name,
            &subject.digest,
            APKO,
            &format!(r#"{{"n":{n}}}"#),
            &key,
        );
        store::attach(
            &store,
            &subject,
            &one,
            Format::Legacy { replace: false },
            CREATED,
        )
        .unwrap();
    }
    let layers = att_layers(&store, &subject.digest);
    assert_eq!(layers.len(), 2);
    let statement = statement_of(&store, &layers[0], &key);
    assert_eq!(statement.subject[0].name, name);

    let mut written = Vec::new();
    for n in 0..2 {
        let one = signed(
            &name,
            &subject.digest,
            APKO,
            &format!(r#"{{"b":{n}}}"#),
            &key,
        );
        let done = store::attach(&store, &subject, &one, Format::Bundle, CREATED).unwrap();
        assert_eq!(done.tag, Some(referrers_tag(&subject.digest)));
        written.push(done.manifest.digest);
    }
    written.sort_by_key(|d| d.to_string());
    let listed: Vec<Digest> = store
        .referrers(&subject.digest, Some(BUNDLE_V03_MEDIA_TYPE))
        .unwrap()
        .iter()
        .map(|d| d.digest)
        .collect();
    assert_eq!(listed, written);
    for entry in store.referrers(&subject.digest, None).unwrap() {
        check_referrer(&store, &entry, &subject, &key);
    }
    // The image is untouched.
    assert_eq!(
        store.manifest(&subject.digest).unwrap().bytes,
        std::fs::read(image::golden().join("index.json")).unwrap()
    );
}

#[test]
fn peers_verify_what_was_stored_and_skopeo_reads_the_att_tag() {
    let registry = support::registry::Registry::start();
    let (store, subject, name) = pushed_golden(&registry, "peers");
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let one = signed(&name, &subject.digest, APKO, r#"{"k":"v"}"#, &key);
    store::attach(
        &store,
        &subject,
        &one,
        Format::Legacy { replace: false },
        CREATED,
    )
    .unwrap();
    let two = signed(&name, &subject.digest, APKO, r#"{"k":"w"}"#, &key);
    let done = store::attach(&store, &subject, &two, Format::Bundle, CREATED).unwrap();

    // skopeo reads the .att manifest from the registry, byte for byte.
    let tag = names::attestation_tag(&subject.digest);
    let output = std::process::Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{name}:{tag}"))
        .output()
        .expect("skopeo runs");
    assert!(output.status.success(), "{}", describe(&output));
    assert_eq!(output.stdout, store.tagged(&tag).unwrap().unwrap().bytes);

    let Some(peers) = peers() else { return };
    let scratch = registry.scratch("peers");
    let pem = scratch.join("cosign.pub");
    std::fs::write(&pem, key.public_key().to_pem().unwrap()).unwrap();
    let layer = &att_layers(&store, &subject.digest)[0];
    let envelope = scratch.join("layer.dsse.json");
    std::fs::write(&envelope, store.read_blob(&layer.digest).unwrap()).unwrap();
    let output = peers.verify_dsse(&envelope, &pem, Some("ecdsa-sha2-nistp256"));
    assert!(
        output.status.success(),
        "securesystemslib: {}",
        describe(&output)
    );

    let entry = Descriptor::new(
        media_type::OCI_MANIFEST,
        done.manifest.size,
        done.manifest.digest,
    );
    let bundle = scratch.join("bundle.sigstore.json");
    std::fs::write(&bundle, check_referrer(&store, &entry, &subject, &key)).unwrap();
    let output = peers.verify_bundle(&bundle, &pem);
    assert!(
        output.status.success(),
        "@sigstore/verify: {}",
        describe(&output)
    );
    // Neither peer is vacuous: another key is refused.
    let other = scratch.join("other.pub");
    std::fs::write(
        &other,
        PrivateKey::generate_ecdsa_p256()
            .unwrap()
            .public_key()
            .to_pem()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        peers
            .verify_dsse(&envelope, &other, Some("ecdsa-sha2-nistp256"))
            .status
            .code(),
        Some(1)
    );
    assert_eq!(peers.verify_bundle(&bundle, &other).status.code(), Some(1));
}
