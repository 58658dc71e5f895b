//! Repositories: apko's repository lines, local and file:// repositories over apko's CLI fixture,
//! and an HTTP repository on loopback with apko's cache layout, revalidation and offline mode.

use std::path::{Path, PathBuf};

use receipts::apk::Package;
use receipts::apk::keyring::Keyring;
use receipts::apk::repository::{
    self, Error, Fetcher, Location, Network, Repository, RepositoryIndex, Settings,
};
use receipts::apk::signed;

use crate::support;
use crate::support::http::{Etags, Server};

const CLI: &str = "chainguard-dev/apko/internal/cli/testdata";
const INDEX: &str = "/packages/x86_64/APKINDEX.tar.gz";
const PACKAGE: &str = "/packages/x86_64/replayout-1.0.0-r0.apk";

fn cli() -> PathBuf {
    support::data(CLI)
}

fn melange_keyring() -> Keyring {
    Keyring::from_paths(&[support::data(&format!("{CLI}/packages/melange.rsa.pub"))])
        .expect("melange key loads")
}

fn fetcher(cache: &Path, network: Network) -> Fetcher {
    Fetcher::new(&Settings {
        cache_dir: Some(cache.to_owned()),
        network,
    })
    .expect("fetcher")
}

fn package<'a>(index: &'a RepositoryIndex, name: &str) -> &'a Package {
    let found = index.index.packages.iter().find(|p| p.name == name);
    found.expect("package is in the index")
}

/// `<cache>/<first 8 hex of SHA-1 of the repository URL>`, apk's naming.
fn repository_dir(url: &str) -> String {
    use sha1::Digest as _;
    hex::encode(&sha1::Sha1::digest(url.trim_end_matches('/').as_bytes())[..4])
}

/// `<cache>/<repository dir>/x86_64`.
fn cache_arch_dir(cache: &Path, server: &Server) -> PathBuf {
    cache
        .join(repository_dir(&server.url("/packages")))
        .join("x86_64")
}

#[test]
fn repository_lines_parse_like_apko() {
    let base = Path::new("/base");
    let parse = |line| Repository::parse(line, base);

    let wolfi = parse("https://packages.wolfi.dev/os").expect("URL");
    assert_eq!(
        wolfi.location,
        Location::Remote("https://packages.wolfi.dev/os".into())
    );
    assert_eq!(wolfi.pin, None);
    assert_eq!(
        wolfi.index_url("aarch64"),
        "https://packages.wolfi.dev/os/aarch64/APKINDEX.tar.gz"
    );
    let hello = Package {
        name: "hello-wolfi".into(),
        version: "2.12.1-r0".into(),
        ..Package::default()
    };
    assert_eq!(
        wolfi.package_url("x86_64", &hello),
        "https://packages.wolfi.dev/os/x86_64/hello-wolfi-2.12.1-r0.apk"
    );

    let pinned = parse("@local https://example.com/repo").expect("pinned");
    assert_eq!(pinned.pin.as_deref(), Some("local"));
    assert_eq!(pinned.base(), "https://example.com/repo");
    // strings.Fields: "@ URL" has an empty tag, so it is not pinned.
    assert_eq!(
        parse("@ https://example.com/repo").expect("empty tag").pin,
        None
    );

    assert_eq!(
        parse("packages").expect("relative").location,
        Location::Local(PathBuf::from("/base/packages"))
    );
    assert_eq!(
        parse("/srv/repo").expect("absolute").location,
        Location::Local(PathBuf::from("/srv/repo"))
    );
    assert_eq!(
        parse("file:///srv/my%20repo").expect("file URL").location,
        Location::Local(PathBuf::from("/srv/my repo"))
    );

    for (line, wanted) in [
        ("@tag", "a pinned repository needs `@tag URL`"),
        ("", "empty repository"),
        (
            "ftp://example.com/repo",
            "only http, https and file URLs are supported",
        ),
        ("https://exa mple.com", "not a valid URL"),
    ] {
        match parse(line) {
            Err(Error::Parse { problem, .. }) => assert_eq!(problem, wanted, "{line:?}"),
            other => panic!("{line:?}: expected a parse error, got {other:?}"),
        }
    }
}

#[test]
fn local_path_repository_serves_apko_cli_fixture() {
    let cache = tempfile::tempdir().expect("temp");
    let fetcher = fetcher(cache.path(), Network::Offline);
    let keys = fetcher
        .fetch_keyring(&["packages/melange.rsa.pub"], &cli())
        .expect("relative key path");
    let repository = Repository::parse("@fixture packages", &cli()).expect("local path");
    for arch in ["x86_64", "aarch64"] {
        let index = fetcher
            .fetch_index(&repository, arch, &keys)
            .expect("local index verifies");
        assert_eq!(index.verified.key.as_str(), "melange.rsa.pub");
        assert_eq!(index.repository.pin.as_deref(), Some("fixture"));
        assert_eq!(index.index.packages.len(), 4);
        for package in &index.index.packages {
            // Offline does not matter: local files are read where they are.
            let bytes = fetcher
                .fetch_package(&repository, arch, package)
                .expect("package matches its C:");
            let file = cli().join(format!("packages/{arch}/{}", package.filename()));
            assert_eq!(bytes, std::fs::read(file).expect("fixture package"));
            assert_eq!(bytes.len() as u64, package.size);
        }
    }
}

#[test]
fn file_url_repository_reads_the_same_index() {
    let cache = tempfile::tempdir().expect("temp");
    let fetcher = fetcher(cache.path(), Network::Online);
    let line = format!("file://{}/packages", cli().display());
    let repository = Repository::parse(&line, Path::new("/elsewhere")).expect("file URL");
    let index = fetcher
        .fetch_index(&repository, "aarch64", &melange_keyring())
        .expect("verifies");
    let replayout = package(&index, "replayout");
    assert_eq!(replayout.version, "1.0.0-r0");
    assert_eq!(replayout.arch, "aarch64");
}

#[test]
fn control_checksum_matches_index_checksums_with_and_without_a_signature_member() {
    let dir = support::data("chainguard-dev/apko/pkg/apk/apk/testdata/rsa256-signed");
    let index = signed::read_unverified(
        &std::fs::read(dir.join("APKINDEX.tar.gz")).expect("index"),
        "rsa256-signed",
    )
    .expect("parses");
    let [baselayout] = index.packages.as_slice() else {
        panic!("one package expected");
    };
    // The .apk beside that index is a git symlink (stored as its target's path): read the target.
    let apk = std::fs::read(support::data(&format!(
        "chainguard-dev/apko/pkg/apk/apk/testdata/alpine-316/{}",
        baselayout.filename()
    )))
    .expect("package");
    let checksum = repository::control_checksum(&apk).expect("members split");
    assert_eq!(checksum.as_slice(), baselayout.checksum.as_slice());

    // Recent Wolfi packages carry no signature member: the control member comes first.
    let signature_end = support::signed::first_member_len(&apk);
    let unsigned = &apk[signature_end..];
    let checksum = repository::control_checksum(unsigned).expect("members split");
    assert_eq!(checksum.as_slice(), baselayout.checksum.as_slice());

    assert!(repository::control_checksum(b"").is_err());
    assert!(repository::control_checksum(&apk[..100]).is_err());
}

#[test]
fn http_repository_fills_apkos_cache_layout_and_reuses_it() {
    let server = Server::serve(&cli());
    server.set_etags(Etags::Fixed("an-etag".into()));
    let cache = tempfile::tempdir().expect("temp");
    let repository = Repository::parse(&server.url("/packages"), Path::new("/")).expect("URL");
    let keys = melange_keyring();

    let first = fetcher(cache.path(), Network::Online)
        .fetch_index(&repository, "x86_64", &keys)
        .expect("index verifies");
    assert_eq!(first.index.packages.len(), 4);
    assert_eq!(
        (server.count("HEAD", INDEX), server.count("GET", INDEX)),
        (1, 1)
    );
    // apko's "cache miss network should fill cache": APKINDEX/<base32(etag)>.tar.gz.
    let cached = cache_arch_dir(cache.path(), &server).join("APKINDEX/MFXC2ZLUMFTQ====.tar.gz");
    let served = std::fs::read(cli().join("packages/x86_64/APKINDEX.tar.gz")).expect("index");
    assert_eq!(std::fs::read(&cached).expect("cached index"), served);

    // A new fetcher over the same cache: one HEAD, no download.
    let again = fetcher(cache.path(), Network::Online)
        .fetch_index(&repository, "x86_64", &keys)
        .expect("cached index verifies");
    assert_eq!(again, first);
    assert_eq!(
        (server.count("HEAD", INDEX), server.count("GET", INDEX)),
        (2, 1)
    );

    let replayout = package(&first, "replayout");
    let online = fetcher(cache.path(), Network::Online);
    let bytes = online
        .fetch_package(&repository, "x86_64", replayout)
        .expect("package");
    let file = std::fs::read(cli().join("packages/x86_64/replayout-1.0.0-r0.apk")).expect("apk");
    assert_eq!(bytes, file);
    let cached = cache_arch_dir(cache.path(), &server).join("replayout-1.0.0-r0.apk");
    assert_eq!(std::fs::read(&cached).expect("cached package"), file);
    let again = online
        .fetch_package(&repository, "x86_64", replayout)
        .expect("package from cache");
    assert_eq!(again, file);
    assert_eq!(server.count("GET", PACKAGE), 1);
    assert_eq!(server.count("HEAD", PACKAGE), 0);
}

#[test]
fn corrupted_cache_entries_are_fetched_again_never_trusted() {
    let server = Server::serve(&cli());
    let cache = tempfile::tempdir().expect("temp");
    let repository = Repository::parse(&server.url("/packages"), Path::new("/")).expect("URL");
    let keys = melange_keyring();
    let online = fetcher(cache.path(), Network::Online);
    let index = online
        .fetch_index(&repository, "x86_64", &keys)
        .expect("index");
    let replayout = package(&index, "replayout");
    online
        .fetch_package(&repository, "x86_64", replayout)
        .expect("package");

    let index_dir = cache_arch_dir(cache.path(), &server).join("APKINDEX");
    let entries: Vec<_> = std::fs::read_dir(&index_dir)
        .expect("index cache dir")
        .map(|entry| entry.expect("entry").path())
        .collect();
    let [cached_index] = entries.as_slice() else {
        panic!("one cached index expected: {entries:?}");
    };
    let original = std::fs::read(cached_index).expect("cached index");
    let mut corrupt = original.clone();
    let last = corrupt.len() - 20;
    corrupt[last] ^= 0x40;
    std::fs::write(cached_index, &corrupt).expect("corrupt the cache");
    let refetched = online
        .fetch_index(&repository, "x86_64", &keys)
        .expect("refetched");
    assert_eq!(refetched.index, index.index);
    assert_eq!(server.count("GET", INDEX), 2);
    assert_eq!(std::fs::read(cached_index).expect("rewritten"), original);

    let cached_package = cache_arch_dir(cache.path(), &server).join("replayout-1.0.0-r0.apk");
    let original = std::fs::read(&cached_package).expect("cached package");
    let mut corrupt = original.clone();
    corrupt[40] ^= 0x01;
    std::fs::write(&cached_package, &corrupt).expect("corrupt the cache");
    let bytes = online
        .fetch_package(&repository, "x86_64", replayout)
        .expect("refetched");
    assert_eq!(bytes, original);
    assert_eq!(server.count("GET", PACKAGE), 2);
    assert_eq!(std::fs::read(&cached_package).expect("rewritten"), original);
}

#[test]
fn offline_serves_only_the_cache_and_names_the_missing_url() {
    let server = Server::serve(&cli());
    let cache = tempfile::tempdir().expect("temp");
    let repository = Repository::parse(&server.url("/packages"), Path::new("/")).expect("URL");
    let keys = melange_keyring();

    let offline = fetcher(cache.path(), Network::Offline);
    match offline.fetch_index(&repository, "x86_64", &keys) {
        Err(error @ Error::Offline { .. }) => assert_eq!(
            error.to_string(),
            format!(
                "{}: not in the download cache and the network is off",
                server.url(INDEX)
            )
        ),
        other => panic!("expected Offline, got {other:?}"),
    }
    assert_eq!(server.total(), 0);

    let index = fetcher(cache.path(), Network::Online)
        .fetch_index(&repository, "x86_64", &keys)
        .expect("online");
    let custom = package(&index, "custom-ca-certs-1");
    match offline.fetch_package(&repository, "x86_64", custom) {
        Err(Error::Offline { url }) => {
            assert_eq!(
                url,
                server.url("/packages/x86_64/custom-ca-certs-1-1.0.0-r0.apk")
            )
        }
        other => panic!("expected Offline, got {other:?}"),
    }
    let requests = server.total();
    let cached = offline
        .fetch_index(&repository, "x86_64", &keys)
        .expect("served from the cache");
    assert_eq!(cached, index);
    assert_eq!(server.total(), requests);
}

#[test]
fn http_errors_name_the_url_and_the_status() {
    let server = Server::serve(&cli());
    let cache = tempfile::tempdir().expect("temp");
    let repository = Repository::parse(&server.url("/packages"), Path::new("/")).expect("URL");
    match fetcher(cache.path(), Network::Online).fetch_index(
        &repository,
        "riscv64",
        &melange_keyring(),
    ) {
        Err(error @ Error::Status { status: 404, .. }) => assert_eq!(
            error.to_string(),
            format!(
                "{}: HTTP status 404",
                server.url("/packages/riscv64/APKINDEX.tar.gz")
            )
        ),
        other => panic!("expected a 404, got {other:?}"),
    }
}

#[test]
fn a_corrupted_index_from_the_server_is_refused_and_not_cached() {
    let server = Server::serve(&cli());
    let mut corrupt = std::fs::read(cli().join("packages/x86_64/APKINDEX.tar.gz")).expect("index");
    let last = corrupt.len() - 30;
    corrupt[last] ^= 0x01;
    server.replace(INDEX, corrupt);
    let cache = tempfile::tempdir().expect("temp");
    let repository = Repository::parse(&server.url("/packages"), Path::new("/")).expect("URL");
    match fetcher(cache.path(), Network::Online).fetch_index(
        &repository,
        "x86_64",
        &melange_keyring(),
    ) {
        Err(Error::Index(signed::Error::BadSignature { index, keys })) => {
            assert_eq!(index, server.url(INDEX));
            assert_eq!(keys[0].as_str(), "melange.rsa.pub");
        }
        other => panic!("expected BadSignature, got {other:?}"),
    }
    assert!(
        !cache_arch_dir(cache.path(), &server)
            .join("APKINDEX")
            .exists()
    );
}

#[test]
fn without_etags_indexes_are_fetched_every_time_and_not_cached() {
    let server = Server::serve(&cli());
    server.set_etags(Etags::Absent);
    let cache = tempfile::tempdir().expect("temp");
    let repository = Repository::parse(&server.url("/packages"), Path::new("/")).expect("URL");
    let online = fetcher(cache.path(), Network::Online);
    for _ in 0..2 {
        online
            .fetch_index(&repository, "x86_64", &melange_keyring())
            .expect("index");
    }
    assert_eq!(server.count("GET", INDEX), 2);
    assert!(
        !cache_arch_dir(cache.path(), &server)
            .join("APKINDEX")
            .exists()
    );
}

#[test]
fn a_package_that_does_not_match_its_checksum_is_refused_naming_the_url() {
    let server = Server::serve(&cli());
    let cache = tempfile::tempdir().expect("temp");
    let repository = Repository::parse(&server.url("/packages"), Path::new("/")).expect("URL");
    let online = fetcher(cache.path(), Network::Online);
    let index = online
        .fetch_index(&repository, "x86_64", &melange_keyring())
        .expect("index");
    let mut wrong = package(&index, "replayout").clone();
    let expected = wrong.checksum_string();
    wrong.checksum[0] ^= 0xff;
    match online.fetch_package(&repository, "x86_64", &wrong) {
        Err(Error::Checksum {
            url,
            expected: claimed,
            actual,
        }) => {
            assert_eq!(url, server.url(PACKAGE));
            assert_eq!(actual, expected);
            assert_eq!(claimed, wrong.checksum_string());
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
    assert!(
        !cache_arch_dir(cache.path(), &server)
            .join("replayout-1.0.0-r0.apk")
            .exists()
    );
}

#[test]
fn keys_may_be_urls_and_are_cached() {
    let server = Server::serve(&cli());
    server.set_etags(Etags::Fixed("test-etag".into()));
    let cache = tempfile::tempdir().expect("temp");
    let url = server.url("/packages/melange.rsa.pub");
    let keys = fetcher(cache.path(), Network::Online)
        .fetch_keyring(&[url.as_str()], Path::new("/"))
        .expect("key by URL");
    let names: Vec<_> = keys.names().map(|name| name.as_str()).collect();
    assert_eq!(names, ["melange.rsa.pub"]);
    let cached = cache
        .path()
        .join(repository_dir(&server.url("/")))
        .join("packages/melange.rsa.pub/ORSXG5BNMV2GCZY=.etag");
    assert_eq!(
        std::fs::read(&cached).expect("cached key"),
        std::fs::read(cli().join("packages/melange.rsa.pub")).expect("key")
    );

    let requests = server.total();
    let offline = fetcher(cache.path(), Network::Offline)
        .fetch_keyring(&[url.as_str()], Path::new("/"))
        .expect("key from the cache");
    assert_eq!(offline.len(), 1);
    assert_eq!(server.total(), requests);

    // A key at the top of a host has no directory element in apko's layout.
    let top = Server::serve(&cli().join("packages"));
    top.set_etags(Etags::Fixed("test-etag".into()));
    let url = top.url("/melange.rsa.pub");
    let keys = fetcher(cache.path(), Network::Online)
        .fetch_keyring(&[url.as_str()], Path::new("/"))
        .expect("key at the top of a host");
    assert_eq!(keys.len(), 1);
    assert!(
        cache
            .path()
            .join(repository_dir(&top.url("/")))
            .join("melange.rsa.pub/ORSXG5BNMV2GCZY=.etag")
            .is_file()
    );

    let missing = server.url("/packages/nothing.rsa.pub");
    assert!(matches!(
        fetcher(cache.path(), Network::Online).fetch_keyring(&[missing.as_str()], Path::new("/")),
        Err(Error::Status { status: 404, .. })
    ));
}

#[test]
fn missing_local_indexes_are_skipped_like_apko() {
    let cache = tempfile::tempdir().expect("temp");
    let fetcher = fetcher(cache.path(), Network::Offline);
    let empty = tempfile::tempdir().expect("temp");
    let repositories = [
        Repository::parse(&empty.path().display().to_string(), Path::new("/")).expect("path"),
        Repository::parse("packages", &cli()).expect("path"),
    ];
    let found = fetcher
        .fetch_indexes(&repositories, "x86_64", &melange_keyring())
        .expect("indexes");
    assert_eq!(found.indexes.len(), 1);
    assert_eq!(found.indexes[0].repository, repositories[1]);
    assert_eq!(found.missing, [empty.path().join("x86_64/APKINDEX.tar.gz")]);
}
