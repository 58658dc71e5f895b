//! References parse and normalise as ggcr's `pkg/name` does; the tables are ported from its
//! `tag_test.go`, `digest_test.go`, `repository_test.go` and `registry_test.go`.

use receipts::oci::Digest;
use receipts::oci::reference::{self, Local, Reference, Remote, Repository, Selector};

const VALID_DIGEST: &str =
    "sha256:deadb33fdeadb33fdeadb33fdeadb33fdeadb33fdeadb33fdeadb33fdeadb33f";

#[test]
fn ggcr_good_tag_names_keep_their_name() {
    // goodStrictValidationTagNames: Name() reproduces the input.
    for name in [
        "gcr.io/g-convoy/hello-world:latest",
        "gcr.io/google.com/g-convoy/hello-world:latest",
        "gcr.io/project-id/with-nums:v2",
        "us.gcr.io/project-id/image:with.period.in.tag",
        "gcr.io/project-id/image:w1th-alpha_num3ric.PLUScaps",
        "domain.with.port:9001/image:latest",
    ] {
        let remote = Remote::parse(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(remote.to_string(), name);
    }
}

#[test]
fn ggcr_weak_names_are_normalised() {
    for (name, canonical) in [
        (
            "namespace/pathcomponent/image",
            "index.docker.io/namespace/pathcomponent/image:latest",
        ),
        ("library/ubuntu", "index.docker.io/library/ubuntu:latest"),
        (
            "gcr.io/project-id/implicit-latest",
            "gcr.io/project-id/implicit-latest:latest",
        ),
        (
            "www.example.test:12345/repo/path",
            "www.example.test:12345/repo/path:latest",
        ),
        ("ubuntu", "index.docker.io/library/ubuntu:latest"),
        ("alpine", "index.docker.io/library/alpine:latest"),
        (
            "docker.io/alpine:3.19",
            "index.docker.io/library/alpine:3.19",
        ),
        ("a", "index.docker.io/library/a:latest"),
        ("localhost/testimage", "localhost/testimage:latest"),
        ("localhost:5000/x", "localhost:5000/x:latest"),
        // A lone host:port is a Docker Hub repository with a tag, as in ggcr.
        ("localhost:5000", "index.docker.io/library/localhost:5000"),
    ] {
        let remote = Remote::parse(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(remote.to_string(), canonical, "{name}");
    }
}

#[test]
fn ggcr_digest_names() {
    for name in [
        "gcr.io/g-convoy/hello-world@",
        "gcr.io/google.com/project-id/hello-world@",
        "us.gcr.io/project-id/sub-repo@",
        "example.text/foo/bar@",
    ] {
        let text = format!("{name}{VALID_DIGEST}");
        let remote = Remote::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(remote.to_string(), text);
        assert_eq!(
            remote.digest().map(Digest::to_string).as_deref(),
            Some(VALID_DIGEST)
        );
        assert_eq!(remote.tag(), None);
    }
    // Tag and digest: the digest decides, the canonical name drops the tag, the tag is kept.
    for (name, canonical, tag) in [
        (
            "example.text/foo/bar:latest@",
            "example.text/foo/bar@",
            "latest",
        ),
        (
            "example.text:8443/foo/bar:latest@",
            "example.text:8443/foo/bar@",
            "latest",
        ),
        (
            "example.text/foo/bar:v1.0.0-alpine@",
            "example.text/foo/bar@",
            "v1.0.0-alpine",
        ),
        ("nginx:latest@", "index.docker.io/library/nginx@", "latest"),
        (
            "library/nginx:latest@",
            "index.docker.io/library/nginx@",
            "latest",
        ),
    ] {
        let remote = Remote::parse(&format!("{name}{VALID_DIGEST}")).unwrap();
        assert_eq!(remote.to_string(), format!("{canonical}{VALID_DIGEST}"));
        assert_eq!(remote.tag(), Some(tag));
        assert_eq!(remote.identifier(), VALID_DIGEST);
    }
}

#[test]
fn ggcr_bad_names_are_refused() {
    for name in [
        "gcr.io/project-id/bad_chars:c@n'tuse",
        "gcr.io/project-id/wrong-length:white space",
        "gcr.io/project-id/too-many-chars:thisisthetagthatneverendsitgoesonandonmyfriendsomepeoplestartedtaggingitnotknowingwhatitwasandtheyllcontinuetaggingitforeverjustbecausethisisthetagthatneverends",
        "gcr.io/project-id/unknown-alg@unknown:abc123",
        "gcr.io/project-id/wrong-length@sha256:d34db33fd34db33f",
        "gcr.io/project-id/missing-digest@",
        "white space",
        "b@char/image",
        "",
        "UPPER/case",
        "gcr?com/foo",
        "https://gcr.io/foo",
        "host:port/foo",
    ] {
        assert!(Remote::parse(name).is_err(), "{name:?} should not parse");
    }
}

#[test]
fn components_and_repository_name() {
    let remote = Remote::parse("gcr.io/project-id/image:latest").unwrap();
    assert_eq!(remote.repository().registry(), "gcr.io");
    assert_eq!(remote.repository().path(), "project-id/image");
    assert_eq!(remote.repository_name(), "gcr.io/project-id/image");
    assert_eq!(remote.identifier(), "latest");
    // reference/cosign-attestations.md §5.2: Docker Hub expanded, ports kept.
    let hub = Remote::parse(&format!("alpine@{VALID_DIGEST}")).unwrap();
    assert_eq!(hub.repository_name(), "index.docker.io/library/alpine");
    let local = Remote::parse(&format!("127.0.0.1:60943/repo@{VALID_DIGEST}")).unwrap();
    assert_eq!(local.repository_name(), "127.0.0.1:60943/repo");
    assert_eq!(
        Repository::parse("docker.io/ubuntu").unwrap().to_string(),
        "index.docker.io/library/ubuntu"
    );
    let digest = Digest::parse(VALID_DIGEST).unwrap();
    assert_eq!(
        remote.with_digest(digest).to_string(),
        format!("gcr.io/project-id/image@{VALID_DIGEST}")
    );
    assert_eq!(
        reference::referrers_tag(&digest),
        VALID_DIGEST.replace(':', "-")
    );
}

#[test]
fn layout_references() {
    let default = Local::parse("oci:out").unwrap();
    assert_eq!(default.dir(), std::path::Path::new("out"));
    assert_eq!(default.selector(), &Selector::Default);
    let tagged = Local::parse("oci:some/dir:v1.2").unwrap();
    assert_eq!(tagged.dir(), std::path::Path::new("some/dir"));
    assert_eq!(tagged.selector(), &Selector::Tag("v1.2".into()));
    let pinned = Local::parse(&format!("oci:/tmp/x@{VALID_DIGEST}")).unwrap();
    assert_eq!(
        pinned.selector(),
        &Selector::Digest(Digest::parse(VALID_DIGEST).unwrap())
    );
    for text in [
        "oci:out",
        "oci:some/dir:v1.2",
        &format!("oci:/tmp/x@{VALID_DIGEST}"),
    ] {
        assert_eq!(Reference::parse(text).unwrap().to_string(), text);
    }
    assert!(matches!(
        Reference::parse("oci:out"),
        Ok(Reference::Local(_))
    ));
    assert!(matches!(Reference::parse("out"), Ok(Reference::Remote(_))));
    for bad in ["oci:", "oci::v1", "oci:dir:bad tag", "oci:dir@sha256:00"] {
        assert!(Reference::parse(bad).is_err(), "{bad:?} should not parse");
    }
}
