//! The product's central property, over every build path and every case we have: the predicate
//! a build writes (`--locked-out`, [`Built::predicate`]) rebuilds the image, through the path
//! the audit takes ([`predicate::rebuild`]), to the same index digest, and the layout compares
//! `identical`. Cases: the bundled example, apko's goldens (`apko.yaml`, `top_image` on
//! `base_image`), every derived golden, each with and without its lock file, and the rules_apko
//! lock files in their real install order over small signed repositories our package writer
//! makes with the same names and versions. Where apko's output exists for a configuration, the
//! build equals it, and building the predicate as apko builds a file (`cosign-rebuild build
//! PREDICATE`) equals it too. Changing the predicate's package order changes the rebuild.
//!
//! Every case also goes the way a release and an auditor go: the image is pushed to a real
//! loopback registry (`docker-registry`), the predicate attested there with a cosign key by the
//! binary (`attest --tlog-upload=false`), and the library's audit (`rebuild::audit`: fetch,
//! verify, rebuild, compare) says `identical`. Builds and rebuilds are offline over local
//! repositories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use receipts::apk::repository::{self, Network};
use receipts::apk::writer::{self, PackageSpec, SigningKey};
use receipts::attest::key;
use receipts::attest::verify::{Expected, Policy};
use receipts::build::image::{GoTime, SourceDate};
use receipts::build::pipeline::{self, Built, Packages, Request};
use receipts::build::predicate;
use receipts::config::lock::{LockPackage, LockRepository};
use receipts::config::{Architecture, ImageConfiguration, Loader, Lock};
use receipts::lock::{self, Locker, output};
use receipts::oci::{Reference, Store};
use receipts::rebuild::audit::{Settings as AuditSettings, Verification};
use receipts::rebuild::{self, Side};

use crate::support;
use crate::support::registry::Registry;

/// One way to build one configuration.
struct Case {
    label: String,
    dir: PathBuf,
    config: String,
    lock: Option<Lock>,
    annotations: BTreeMap<String, String>,
    epoch: Option<String>,
    archs: Vec<String>,
    /// apko's index digest for exactly this build, where apko's output is stored.
    apko: Option<&'static str>,
}

impl Case {
    fn new(label: &str, dir: PathBuf, config: &str) -> Case {
        Case {
            label: label.to_owned(),
            dir,
            config: config.to_owned(),
            lock: None,
            annotations: BTreeMap::new(),
            epoch: None,
            archs: Vec::new(),
            apko: None,
        }
    }

    fn settings(&self, cache: &Path, archs: &[String]) -> lock::Settings {
        lock::Settings {
            working_dir: self.dir.clone(),
            include_paths: Vec::new(),
            archs: archs.to_vec(),
            fetch: repository::Settings {
                cache_dir: Some(cache.to_owned()),
                network: Network::Offline,
            },
        }
    }

    fn source_date(&self) -> SourceDate {
        SourceDate::resolve(self.epoch.as_deref(), None).expect("source date")
    }

    fn build(&self, cache: &Path) -> Built {
        let configuration = Loader::new()
            .working_dir(&self.dir)
            .load(&self.config)
            .unwrap_or_else(|e| panic!("{}: load: {e}", self.label));
        let request = Request {
            name: self.config.clone(),
            configuration,
            packages: match &self.lock {
                Some(lock) => Packages::Locked(Box::new(lock.clone())),
                None => Packages::Resolve,
            },
            annotations: self.annotations.clone(),
            source_date: self.source_date(),
            settings: self.settings(cache, &self.archs),
            temp_dir: None,
            readers: None,
            read_budget: None,
        };
        pipeline::build(&request, &|_| {})
            .unwrap_or_else(|e| panic!("{}: build: {e:?}", self.label))
    }
}

fn upstream_dir() -> PathBuf {
    support::data("chainguard-dev/apko/internal/cli")
}

fn derived_dir(case: &str) -> PathBuf {
    support::data(&format!("derived/apko/goldens/{case}"))
}

/// The predicate as `--locked-out` writes it and an attestation carries it back.
fn attested(built: &Built, label: &str) -> ImageConfiguration {
    let predicate = built
        .predicate()
        .unwrap_or_else(|e| panic!("{label}: no predicate: {e}"));
    let bytes = output::encode(predicate, output::Format::Json).expect("encode");
    ImageConfiguration::from_json(&bytes).expect("predicate parses")
}

/// The published index's `created` annotation, as the audit reads it.
fn published_created(layout: &Path) -> Option<GoTime> {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).ok()?).ok()?;
    let created = index["annotations"]["org.opencontainers.image.created"].as_str()?;
    GoTime::parse_rfc3339(created).ok()
}

fn store(dir: &Path) -> Store {
    let reference = Reference::parse(&format!("oci:{}", dir.display())).expect("reference");
    Store::open(&reference, &Default::default()).expect("layout opens")
}

/// build → layout → predicate → rebuild as the audit does → identical. Returns the predicate.
fn round_trip(case: &Case) -> ImageConfiguration {
    let temp = tempfile::tempdir().expect("temp");
    let cache = temp.path().join("cache");
    let built = case.build(&cache);
    if let Some(apko) = case.apko {
        assert_eq!(
            built.digest().to_string(),
            apko,
            "{}: apko's digest",
            case.label
        );
    }
    let published = temp.path().join("published");
    built.write_layout(&published).expect("layout");
    let predicate = attested(&built, &case.label);
    let rebuilt = predicate::rebuild(
        &case.label,
        &predicate,
        case.settings(&cache, &[]),
        None,
        published_created(&published),
        &|rebuilt: &Built| {
            rebuilt
                .images
                .iter()
                .all(|image| built.images.iter().any(|b| b.digest() == image.digest()))
        },
        &|_| {},
    )
    .unwrap_or_else(|e| panic!("{}: rebuild: {e:?}", case.label));
    assert_eq!(
        rebuilt.digest(),
        built.digest(),
        "{}: the predicate does not rebuild the image (path {:?}): {:?}",
        case.label,
        predicate::rebuild_path(&predicate),
        predicate.contents.packages
    );
    let kept = temp.path().join("rebuilt");
    rebuilt.write_layout(&kept).expect("rebuilt layout");
    let (published_store, rebuilt_store) = (store(&published), store(&kept));
    let report = rebuild::compare_published(
        Side {
            store: &published_store,
            root: built.digest(),
            trusted: false,
        },
        &case.label,
        Side {
            store: &rebuilt_store,
            root: rebuilt.digest(),
            trusted: true,
        },
        &Default::default(),
    )
    .expect("compare");
    assert_eq!(
        report.verdict,
        rebuild::Verdict::Identical,
        "{}",
        case.label
    );
    through_a_registry(case, &built, &cache);
    predicate
}

fn test_key(ext: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/keys/receipts-test.{ext}"))
}

/// build → push to a loopback registry → `attest --predicate` (the `--locked-out` bytes) with
/// a key, through the binary → `rebuild::audit` of the tag → `identical`.
fn through_a_registry(case: &Case, built: &Built, cache: &Path) {
    let server = Registry::start();
    let image = format!("{}:release", server.repository("roundtrip"));
    let reference = Reference::parse(&image).expect("reference");
    Store::create(&reference, &Default::default())
        .expect("registry store")
        .publish(&built.image_set(), Some("release"))
        .unwrap_or_else(|e| panic!("{}: push: {e}", case.label));
    let temp = tempfile::tempdir().expect("temp");
    let predicate_file = temp.path().join("predicate.json");
    let predicate = built.predicate().expect("predicate");
    let bytes = output::encode(predicate, output::Format::Json).expect("encode");
    std::fs::write(&predicate_file, bytes).expect("write predicate");
    let attested = std::process::Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .arg("attest")
        .arg(&image)
        .arg("--predicate")
        .arg(&predicate_file)
        .arg("--key")
        .arg(test_key("rsa"))
        .arg("--tlog-upload=false")
        .env("DOCKER_CONFIG", "/nonexistent")
        .env("COSIGN_PASSWORD", "")
        .output()
        .expect("cosign-rebuild runs");
    assert!(
        attested.status.success(),
        "{}: attest: {}",
        case.label,
        String::from_utf8_lossy(&attested.stderr)
    );
    let public = std::fs::read(test_key("rsa.pub")).expect("public key");
    let policy = Policy {
        expected: Expected::Key(key::load_public_key(&public).expect("public key parses")),
        ignore_tlog: true,
        ignore_sct: false,
    };
    let settings = AuditSettings {
        working_dir: case.dir.clone(),
        fetch: repository::Settings {
            cache_dir: Some(cache.to_owned()),
            network: Network::Offline,
        },
        scratch_dir: Some(temp.path().join("scratch")),
        ..AuditSettings::default()
    };
    let verification = Verification::Policy {
        policy: &policy,
        trusted_root: None,
        key_name: None,
    };
    let audited = rebuild::audit(&image, &reference, &verification, &settings, &|_| {})
        .unwrap_or_else(|e| panic!("{}: audit through the registry: {e:?}", case.label));
    assert_eq!(
        audited.report.verdict,
        rebuild::Verdict::Identical,
        "{}: audit through the registry",
        case.label
    );
}

/// `cosign-rebuild build PREDICATE`: the file built as apko builds it (resolved, unified).
fn build_as_apko(case: &Case, predicate: &ImageConfiguration) -> String {
    let temp = tempfile::tempdir().expect("temp");
    let mut request = Request::new("predicate.json", predicate.clone());
    request.settings = case.settings(&temp.path().join("cache"), &[]);
    request.source_date = case.source_date();
    let built = pipeline::build(&request, &|_| {})
        .unwrap_or_else(|e| panic!("{}: build PREDICATE: {e:?}", case.label));
    built.digest().to_string()
}

const TITLE: &str = "org.opencontainers.image.title";
const VENDOR: &str = "org.opencontainers.image.vendor";

fn apko_golden_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for with_lock in [false, true] {
        let mut case = Case::new("apko.yaml", upstream_dir(), "testdata/apko.yaml");
        case.annotations = BTreeMap::from([
            (TITLE.to_owned(), "Title".to_owned()),
            (VENDOR.to_owned(), "Vendor".to_owned()),
        ]);
        case.apko = Some("sha256:b5f05e6fc882c97d61c1daee566954ae6fc09924f8e152293e2b97a06092069f");
        if with_lock {
            case.label.push_str(" --lockfile");
            case.lock = Some(Lock::read(upstream_dir().join("testdata/apko.lock.json")).unwrap());
        }
        cases.push(case);
    }
    let mut top = Case::new(
        "top_image",
        upstream_dir(),
        "testdata/image_on_top.apko.yaml",
    );
    top.lock =
        Some(Lock::read(upstream_dir().join("testdata/image_on_top.apko.lock.json")).unwrap());
    top.apko = Some("sha256:c05b35bf9653dd6b5cef6b5c0239a1400a8faa6fb4e63830aecbb68b27bea056");
    cases.push(top);
    cases
}

fn derived_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (name, digest) in [
        (
            "features",
            "sha256:4c249d74f7e9355ad5ffb16619e1c4202961e092f11f6acef7382628a73c5b1a",
        ),
        (
            "layering",
            "sha256:dc2ca77df8126c0b275353addd589df1f87956cc95815c14cfbfe290b4218ffa",
        ),
        (
            "cacerts",
            "sha256:fc9d33807e8286beac00afad81237f19fa9bb6c50e55890f4ecbdb4f043fa84e",
        ),
    ] {
        let dir = derived_dir(name);
        let env: BTreeMap<String, String> =
            serde_json::from_slice(&std::fs::read(dir.join("env.json")).unwrap()).unwrap();
        for with_lock in [false, true] {
            let mut case = Case::new(name, dir.clone(), "apko.yaml");
            case.epoch = env.get("SOURCE_DATE_EPOCH").cloned();
            if with_lock {
                case.label.push_str(" --lockfile");
                case.lock = Some(Lock::read(dir.join("apko.lock.json")).unwrap());
            } else {
                case.apko = Some(digest);
            }
            cases.push(case);
        }
    }
    cases
}

fn example_cases() -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let temp = tempfile::tempdir().unwrap();
    let settings = lock::Settings {
        working_dir: dir.clone(),
        fetch: repository::Settings {
            cache_dir: Some(temp.path().to_owned()),
            network: Network::Offline,
        },
        ..Default::default()
    };
    let lock = Locker::open("apko.yaml", &settings)
        .and_then(|locker| locker.lock_file())
        .expect("the example locks");
    let mut with_lock = Case::new("example --lockfile", dir.clone(), "apko.yaml");
    with_lock.lock = Some(lock);
    let plain = Case::new("example", dir.clone(), "apko.yaml");
    // SOURCE_DATE_EPOCH pins the creation time and the times inside scripts.tar. An epoch equal
    // to the newest package build time gives the same `created` as apko's rule without one, so
    // the audit cannot tell the two builds apart by their creation time alone.
    let newest = plain.build(temp.path()).index.created.unix_seconds();
    let mut epoch_cases = Vec::new();
    for epoch in [newest, newest + 123] {
        let mut case = Case::new(
            &format!("example SOURCE_DATE_EPOCH={epoch}"),
            dir.clone(),
            "apko.yaml",
        );
        case.epoch = Some(epoch.to_string());
        epoch_cases.push(case);
    }
    let mut cases = vec![plain, with_lock];
    cases.extend(epoch_cases);
    cases
}

/// A rules_apko lock file (real names, versions and install order, Wolfi packages we do not
/// have) over a signed repository of stand-in packages with the same names and versions,
/// written by `apk::writer` into `dir`; the lock rewritten to point at them.
fn rules_apko_case(path: &str, dir: &Path) -> Case {
    let real = Lock::read(support::data(&format!("chainguard-dev/rules_apko/{path}"))).unwrap();
    let pem = std::fs::read_to_string(upstream_dir().join("testdata/melange.rsa")).unwrap();
    let key = SigningKey::from_pem("melange.rsa.pub", &pem).unwrap();
    std::fs::copy(
        upstream_dir().join("testdata/melange.rsa.pub"),
        dir.join("melange.rsa.pub"),
    )
    .unwrap();
    let mut by_arch: BTreeMap<String, Vec<&LockPackage>> = BTreeMap::new();
    for package in &real.contents.packages {
        by_arch
            .entry(package.architecture.clone())
            .or_default()
            .push(package);
    }
    let mut first_names: Vec<String> = Vec::new();
    let mut built: BTreeMap<(String, String), writer::BuiltPackage> = BTreeMap::new();
    for (arch, packages) in &by_arch {
        let specs: Vec<PackageSpec> = packages
            .iter()
            .map(|p| {
                let mut spec = PackageSpec::new(&p.name, &p.version, arch);
                spec.files = vec![
                    writer::FileSpec::directory("usr"),
                    writer::FileSpec::directory("usr/share"),
                    writer::FileSpec::directory("usr/share/stand-in"),
                    writer::FileSpec::file(
                        &format!("usr/share/stand-in/{}", p.name),
                        format!("{} {} {arch}\n", p.name, p.version).as_bytes(),
                    ),
                ];
                spec
            })
            .collect();
        let repository =
            writer::build_repository(&specs, "stand-in", &key, writer::PackageSigning::Unsigned)
                .unwrap();
        writer::write_repository(&repository, &dir.join("repo").join(arch)).unwrap();
        for package in repository.packages {
            built.insert((arch.clone(), package.package.name.to_string()), package);
        }
        if first_names.is_empty() {
            first_names = packages.iter().map(|p| p.name.clone()).collect();
        }
    }
    let archs: Vec<&str> = by_arch.keys().map(String::as_str).collect();
    let yaml = format!(
        "contents:\n  keyring: [./melange.rsa.pub]\n  repositories: [./repo]\n  packages: [{}]\narchs: [{}]\n",
        first_names.join(", "),
        archs.join(", ")
    );
    std::fs::write(dir.join("apko.yaml"), yaml).unwrap();
    let loaded = Loader::new().working_dir(dir).load("apko.yaml").unwrap();
    let mut lock = Lock::new("apko.yaml", &loaded.checksum);
    for arch in by_arch.keys() {
        let arch_value = Architecture::parse(arch);
        lock.contents
            .repositories
            .push(LockRepository::new("./repo", &arch_value).unwrap());
    }
    for package in &real.contents.packages {
        let ours = &built[&(package.architecture.clone(), package.name.clone())];
        lock.contents.packages.push(LockPackage {
            name: package.name.clone(),
            url: format!(
                "./repo/{}/{}",
                package.architecture,
                ours.package.filename()
            ),
            version: package.version.clone(),
            architecture: package.architecture.clone(),
            checksum: ours.package.checksum_string(),
            ..LockPackage::default()
        });
    }
    let mut case = Case::new(path, dir.to_owned(), "apko.yaml");
    case.lock = Some(lock);
    case
}

#[test]
fn every_build_path_rebuilds_from_its_predicate_to_the_same_image() {
    let mut cases = apko_golden_cases();
    cases.extend(derived_cases());
    cases.extend(example_cases());
    for case in &cases {
        let predicate = round_trip(case);
        let resolved = matches!(predicate::rebuild_path(&predicate), Packages::Resolve);
        // Where apko's output for this configuration exists and the predicate is one apko
        // rebuilds by resolving, building the predicate file as apko does gives apko's image.
        if let (Some(apko), true) = (case.apko, resolved) {
            assert_eq!(
                build_as_apko(case, &predicate),
                apko,
                "{}: build PREDICATE",
                case.label
            );
        }
    }
}

#[test]
fn rules_apko_lock_files_in_install_order_rebuild_from_their_predicates() {
    for path in [
        "examples/lock/apko.lock.json",
        "examples/oci/apko.lock.json",
        "examples/wolfi-base/apko.lock.json",
        "examples/multi_arch_and_repo/apko.lock.json",
        "e2e/smoke/apko.lock.json",
        "e2e/smoke/multifile_config/base_config.apko.lock.json",
    ] {
        let temp = tempfile::tempdir().unwrap();
        let mut case = rules_apko_case(path, temp.path());
        let lock = case.lock.clone().unwrap();
        let archs: Vec<Architecture> = {
            let mut archs: Vec<Architecture> = lock
                .contents
                .packages
                .iter()
                .map(|p| Architecture::parse(&p.architecture))
                .collect();
            archs.dedup();
            archs
        };
        let orders = lock.locked_packages(&archs);
        let one_order = orders
            .values()
            .all(|list| Some(list) == orders.values().next());
        if one_order {
            let predicate = round_trip(&case);
            let listed = orders.values().next().unwrap();
            assert_eq!(
                &predicate.contents.packages, listed,
                "{path}: the lock order"
            );
            assert!(
                matches!(predicate::rebuild_path(&predicate), Packages::Listed),
                "{path}: a real install order is not unify's sorted order"
            );
        } else {
            // Architectures installing in different orders: no one predicate holds both, so
            // none is written; each architecture on its own round-trips.
            let temp_cache = tempfile::tempdir().unwrap();
            let built = case.build(temp_cache.path());
            assert!(
                built.predicate().is_err(),
                "{path}: a predicate for two orders"
            );
            for arch in &archs {
                case.archs = vec![arch.to_string()];
                case.label = format!("{path} --arch {arch}");
                let predicate = round_trip(&case);
                assert_eq!(
                    Some(&predicate.contents.packages),
                    orders.get(arch),
                    "{path}"
                );
            }
        }
    }
}

#[test]
fn a_changed_package_order_in_the_predicate_does_not_rebuild_the_image() {
    // The layering golden's lock order is not sorted: its predicate installs as listed.
    let dir = derived_dir("layering");
    let mut case = Case::new("layering --lockfile", dir.clone(), "apko.yaml");
    case.lock = Some(Lock::read(dir.join("apko.lock.json")).unwrap());
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("cache");
    let built = case.build(&cache);
    let predicate = attested(&built, &case.label);
    assert!(matches!(
        predicate::rebuild_path(&predicate),
        Packages::Listed
    ));
    let rebuild = |packages: Vec<String>| {
        let mut changed = predicate.clone();
        changed.contents.packages = packages;
        predicate::rebuild(
            "changed",
            &changed,
            case.settings(&cache, &[]),
            None,
            None,
            &|_| false,
            &|_| {},
        )
        .expect("rebuild")
        .digest()
    };
    assert_eq!(rebuild(predicate.contents.packages.clone()), built.digest());
    let mut sorted = predicate.contents.packages.clone();
    sorted.sort();
    assert_ne!(
        rebuild(sorted),
        built.digest(),
        "sorted: resolved as apko would"
    );
    let mut reversed = predicate.contents.packages.clone();
    reversed.reverse();
    assert_ne!(
        rebuild(reversed),
        built.digest(),
        "reversed: another install order"
    );
    let mut swapped = predicate.contents.packages.clone();
    swapped.swap(0, 1);
    assert_ne!(rebuild(swapped), built.digest(), "two entries swapped");
}
