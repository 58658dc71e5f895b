//! An OCI layout keeps what it holds (issue 13.5): building into an existing `oci:DIR` adds or
//! replaces only the named tag (or the untagged default image), keeping other tags and the
//! attestations; each image still audits `identical`, before and after `gc`.

use std::path::PathBuf;

use super::{Sandbox, succeed, valid_or_absent};
use receipts::oci::layout::{Layout, Shape};

struct Release<'a> {
    sandbox: &'a Sandbox,
    key: String,
    public: String,
}

impl<'a> Release<'a> {
    fn new(sandbox: &'a Sandbox) -> Self {
        let prefix = sandbox.path("release").display().to_string();
        succeed(&mut sandbox.command(&["generate-key-pair", "--output-key-prefix", &prefix]));
        Release {
            sandbox,
            key: format!("{prefix}.key"),
            public: format!("{prefix}.pub"),
        }
    }

    fn run(&self, args: &[&str]) -> String {
        succeed(&mut self.sandbox.command(args))
    }

    /// Builds the example into `image` at creation time `epoch`; returns the predicate file.
    fn build(&self, image: &str, epoch: &str) -> String {
        let predicate = self
            .sandbox
            .path(&format!("predicate-{epoch}.json"))
            .display()
            .to_string();
        let cache = self.sandbox.cache_args();
        let mut args = vec!["build", "apko.yaml", "--output", image, "--locked-out"];
        args.extend([predicate.as_str(), "--source-date-epoch", epoch]);
        args.extend(cache.iter().map(String::as_str));
        self.run(&args);
        predicate
    }

    fn attest(&self, image: &str, predicate: &str) {
        self.run(&[
            "attest",
            image,
            "--predicate",
            predicate,
            "--key",
            &self.key,
            "--tlog-upload=false",
        ]);
    }

    /// The audit's verdict line for `image`.
    fn audit(&self, image: &str) -> String {
        let cache = self.sandbox.cache_args();
        let mut args = vec![image, "--key", &self.public, "--insecure-ignore-tlog"];
        args.extend(cache.iter().map(String::as_str));
        self.run(&args)
    }
}

#[test]
fn building_into_a_layout_keeps_other_tags_and_attestations() {
    let sandbox = Sandbox::example();
    let release = Release::new(&sandbox);
    let dir = sandbox.path("out").join("layout");
    let at = |suffix: &str| format!("oci:{}{suffix}", dir.display());
    let one = release.build(&at(":one"), "1700000001");
    let two = release.build(&at(":two"), "1700000002");
    release.attest(&at(":one"), &one);
    release.attest(&at(":two"), &two);
    let layout = Layout::open(&dir).unwrap();
    let tags = layout.tags().unwrap();
    assert_eq!(
        tags.keys().filter(|t| !t.starts_with("sha256-")).count(),
        2,
        "{tags:?}"
    );
    assert_eq!(
        tags.keys().filter(|t| t.starts_with("sha256-")).count(),
        2,
        "one attestation index per image: {tags:?}"
    );
    // Rebuilding one tag, then building the untagged default image, keeps everything else.
    release.build(&at(":one"), "1700000001");
    release.build(&at(""), "1700000003");
    let after = layout.tags().unwrap();
    assert_eq!(after, tags, "every tag and attestation index is kept");
    assert_eq!(layout.index().unwrap().manifests.len(), tags.len() + 1);
    for image in [at(":one"), at(":two")] {
        assert!(release.audit(&image).contains("identical"), "{image}");
    }
    let collected = release.run(&["gc", &at("")]);
    assert_eq!(collected, "", "nothing in the layout is garbage");
    for image in [at(":one"), at(":two")] {
        assert!(
            release.audit(&image).contains("identical"),
            "{image} after gc"
        );
    }
    assert!(valid_or_absent(&dir));
    assert_eq!(sandbox.strays(&["layout"]), Vec::<PathBuf>::new());
}

#[test]
fn rebuilding_an_attested_apko_shaped_layout_keeps_its_attestation() {
    // The case: `build --output oci:DIR`, attest, build the same again: the audit
    // used to find "no attestations" because index.json was replaced.
    let sandbox = Sandbox::example();
    let release = Release::new(&sandbox);
    let dir = sandbox.path("out").join("image");
    let image = format!("oci:{}", dir.display());
    let predicate = release.build(&image, "1700000005");
    let layout = Layout::open(&dir).unwrap();
    assert_eq!(
        layout.shape().unwrap(),
        Shape::Image,
        "apko's shape while alone"
    );
    release.attest(&image, &predicate);
    release.build(&image, "1700000005");
    assert!(release.audit(&image).contains("identical"));
    // A different image as the default replaces the untagged entry and keeps the old
    // attestation index; the old image's blobs stay reachable through it, as its subject.
    release.build(&image, "1700000009");
    let tags = layout.tags().unwrap();
    assert_eq!(tags.len(), 1, "{tags:?}");
    assert!(valid_or_absent(&dir));
    let collected = release.run(&["gc", "--dry-run", &image]);
    assert_eq!(
        collected, "",
        "the attested image is kept as the subject of its referrer"
    );
}
