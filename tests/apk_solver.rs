//! The solver against apko's own expectations: the cases of apko `pkg/apk/apk/repo_test.go`
//! (fixtures rebuilt here, expectations carried over), apko v1.2.39's resolution of a real
//! Alpine 3.16 world, closures checked by hand against the Alpine 3.16 index, and error cases.

use std::sync::OnceLock;

use receipts::apk::Package;
use receipts::apk::keyring::Keyring;
use receipts::apk::signed;
use receipts::apk::solver::{
    self, ArchSources, Error, Options, Reason, Resolution, Resolver, Source,
};

use crate::support;

mod corpus;

// ---------------------------------------------------------------------------------------------
// Fixture helpers

/// A package from `name`, `version`, dependencies and provides.
fn pkg(name: &str, version: &str, deps: &[&str], provides: &[&str]) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        dependencies: deps.iter().map(|&s| s.into()).collect(),
        provides: provides.iter().map(|&s| s.into()).collect(),
        ..Package::default()
    }
}

fn with_origin(mut package: Package, origin: &str) -> Package {
    package.origin = origin.into();
    package
}

fn with_priority(mut package: Package, priority: u64) -> Package {
    package.provider_priority = priority;
    package
}

/// One unpinned repository.
fn source(packages: &[Package]) -> Source<'_> {
    Source {
        url: "https://example.invalid/repo/x86_64",
        pin: None,
        packages,
    }
}

fn resolve_one<'a>(packages: &'a [Package], world: &[&str]) -> Result<Resolution<'a>, Error> {
    solver::resolve(&[source(packages)], world, &Options::default())
}

/// `name-version.apk` of each package in install order (apko's `Filename()`).
fn files(resolution: &Resolution<'_>) -> Vec<String> {
    resolution
        .packages
        .iter()
        .map(|r| r.package.filename())
        .collect()
}

fn names(resolution: &Resolution<'_>) -> Vec<String> {
    resolution
        .packages
        .iter()
        .map(|r| r.package.name.to_string())
        .collect()
}

fn version_of<'r>(resolution: &'r Resolution<'_>, name: &str) -> Option<&'r str> {
    resolution
        .packages
        .iter()
        .find(|r| r.package.name == name)
        .map(|r| r.package.version.as_str())
}

/// The index built by apko's `testGetPackagesAndIndex`, in the same order.
fn fixture() -> Vec<Package> {
    vec![
        pkg("package1", "1.0.0", &["dep1", "dep2", "dep3"], &[]),
        pkg("dep1", "1.0.0", &["dep4", "dep5"], &[]),
        pkg("dep2", "1.0.0", &["dep3", "/bin/sh"], &[]),
        pkg(
            "dep3",
            "1.0.0",
            &["dep6", "cmd:/bin/foo", "so:libq.so.1"],
            &[],
        ),
        pkg("dep4", "1.0.0", &[], &[]),
        pkg("dep5", "1.0.0", &[], &[]),
        pkg("dep6", "1.0.0", &[], &[]),
        pkg("dep7", "1.0.0", &[], &[]),
        pkg("dep8", "1.0.0", &["dep8"], &[]),
        pkg("libq", "1.0.0", &[], &["so:libq.so.1"]),
        pkg("foo", "1.0.0", &[], &["cmd:/bin/foo"]),
        pkg("busybox", "1.0.0", &[], &["/bin/sh"]),
        pkg("unused", "1.0.0", &[], &[]),
        pkg("package2", "1.0.0", &["dep2", "dep7"], &[]),
        pkg("package3", "1.0.0", &["dep8"], &[]),
        pkg("package5", "1.0.0", &[], &[]),
        pkg("package5", "1.5.0", &[], &[]),
        pkg("package5", "1.5.1", &[], &[]),
        pkg("package5", "2.0.0", &[], &[]),
        pkg("package5-special", "1.2.0", &[], &["package5"]),
        pkg("package5-conflict", "1.2.0", &[], &["package5=1.2.0"]),
        pkg("package5-noconflict", "1.2.0", &[], &["package5"]),
        pkg("package6", "1.5.1", &[], &[]),
        pkg("package6", "2.0.0", &["package6", "package5"], &[]),
        pkg("package7", "1", &[], &[]),
        pkg("package8", "2", &[], &["package7=0.9"]),
        pkg("package9", "2.0.0", &["package5"], &[]),
        pkg("abc9", "2.0.0", &["package5"], &[]),
        pkg("locked-dep", "2.0.0", &["package5=1.5.1"], &[]),
    ]
}

/// apko's `makeResolver`: packages named `name=version` with provides and dependencies. apko
/// fills its index from a Go map (random order); the cases do not depend on it, we use the
/// order given.
fn made(entries: &[(&str, &[&str], &[&str])]) -> Vec<Package> {
    entries
        .iter()
        .map(|(name_version, provides, deps)| {
            let (name, version) = name_version.split_once('=').unwrap_or((name_version, ""));
            pkg(name, version, deps, provides)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// apko repo_test.go: TestGetPackagesWithDependences

#[test]
fn names_only_installs_dependencies_depth_first() {
    let index = fixture();
    let resolution = resolve_one(&index, &["package1", "package2"]).unwrap();
    assert_eq!(
        names(&resolution),
        [
            "dep4", "dep5", "dep1", "busybox", "foo", "dep6", "libq", "dep3", "dep2", "package1",
            "dep7", "package2"
        ]
    );
}

#[test]
fn dependency_in_world_same_name_no_lock() {
    let index = fixture();
    let resolution = resolve_one(&index, &["abc9", "package5"]).unwrap();
    assert_eq!(resolution.packages.len(), 2);
    assert_eq!(version_of(&resolution, "package5"), Some("2.0.0"));
}

#[test]
fn dependency_in_world_same_name_locked() {
    let index = fixture();
    let resolution = resolve_one(&index, &["abc9", "package5=1.5.1"]).unwrap();
    assert_eq!(resolution.packages.len(), 2);
    assert_eq!(version_of(&resolution, "package5"), Some("1.5.1"));
}

#[test]
fn dependency_in_world_different_name_with_provides() {
    let index = fixture();
    let resolution = resolve_one(&index, &["abc9", "package5-special"]).unwrap();
    assert_eq!(resolution.packages.len(), 2);
    assert_eq!(version_of(&resolution, "package5-special"), Some("1.2.0"));
    assert_eq!(version_of(&resolution, "package5"), None);
}

#[test]
fn unversioned_provides_do_not_conflict() {
    let index = fixture();
    let world = ["abc9", "package5-noconflict", "package5-special"];
    let resolution = resolve_one(&index, &world).unwrap();
    // Both are chosen for the world at 1.2.0, so abc9's `package5` sees two candidates that are
    // both already installed at their version; the final rule (name) picks package5-noconflict.
    assert_eq!(
        files(&resolution),
        [
            "package5-noconflict-1.2.0.apk",
            "abc9-2.0.0.apk",
            "package5-special-1.2.0.apk"
        ]
    );
}

#[test]
fn versioned_provide_conflicts_with_other_providers() {
    let index = fixture();
    let world = ["abc9", "package5-conflict", "package5-special"];
    let error = resolve_one(&index, &world).unwrap_err();
    let Error::Unsatisfiable {
        constraint,
        rejected,
        ..
    } = &error
    else {
        panic!("unexpected error {error}");
    };
    assert_eq!(constraint, "package5-special");
    assert_eq!(rejected.0.len(), 1);
    assert_eq!(rejected.0[0].package, "package5-special-1.2.0.apk");
    assert_eq!(
        rejected.0[0].reason,
        Reason::Conflicts {
            package: "package5-conflict-1.2.0.apk".to_owned(),
            name: "package5".to_owned()
        }
    );
}

#[test]
fn locked_versions() {
    let index = fixture();
    let resolution = resolve_one(&index, &["locked-dep", "package5"]).unwrap();
    assert_eq!(
        files(&resolution),
        ["package5-1.5.1.apk", "locked-dep-2.0.0.apk"]
    );
}

#[test]
fn stricter_requirement_wins() {
    let index = fixture();
    let resolution = resolve_one(&index, &["package5=1.5.1", "package5>1.0.0"]).unwrap();
    assert_eq!(files(&resolution), ["package5-1.5.1.apk"]);
}

#[test]
fn conflicting_requirements_fail() {
    let index = fixture();
    let error = resolve_one(&index, &["package5=1.0.0", "package5=1.5.1"]).unwrap_err();
    assert!(
        matches!(&error, Error::Unsatisfiable { constraint, .. } if constraint == "package5=1.0.0"),
        "{error}"
    );
}

// ---------------------------------------------------------------------------------------------
// apko repo_test.go: TestGetPackageDependencies (through a one-entry world, whose install list
// is the dependency list followed by the package)

#[test]
fn normal_dependencies_once_each() {
    let index = fixture();
    let resolution = resolve_one(&index, &["package1"]).unwrap();
    assert_eq!(
        names(&resolution),
        [
            "dep4", "dep5", "dep1", "busybox", "foo", "dep6", "libq", "dep3", "dep2", "package1"
        ]
    );
}

#[test]
fn circular_dependencies_stop() {
    let index = fixture();
    let resolution = resolve_one(&index, &["package3"]).unwrap();
    assert_eq!(names(&resolution), ["dep8", "package3"]);
}

#[test]
fn existing_dependency_is_preferred() {
    let index = fixture();
    // Alone, package9's `package5` takes the highest version.
    let resolution = resolve_one(&index, &["package9"]).unwrap();
    assert_eq!(
        files(&resolution),
        ["package5-2.0.0.apk", "package9-2.0.0.apk"]
    );
    // With package5-special already chosen, it satisfies package9 despite its lower version.
    let resolution = resolve_one(&index, &["package5-special", "package9"]).unwrap();
    assert_eq!(
        files(&resolution),
        ["package5-special-1.2.0.apk", "package9-2.0.0.apk"]
    );
}

// ---------------------------------------------------------------------------------------------
// apko repo_test.go: TestResolvePackage, TestVersionHierarchy, TestSortPackages

#[test]
fn resolve_package_candidates() {
    let index = fixture();
    let sources = [source(&index)];
    let resolver = Resolver::new(&sources);
    assert!(matches!(
        resolver.candidates("package12"),
        Err(Error::NothingProvides { name, .. }) if name == "package12"
    ));
    assert_eq!(resolver.candidates("package5").unwrap().len(), 7);
    let exact = resolver.candidates("package5=1.0.0").unwrap();
    assert_eq!(exact.len(), 1);
    assert_eq!(exact[0].package.version, "1.0.0");
    assert!(resolver.candidates("package5=1.0.1").is_err());
    let greater = resolver.candidates("package5>1.0.0").unwrap();
    assert_eq!(greater.len(), 6);
    assert_eq!(greater[0].package.version, "2.0.0");
    let provided = resolver.candidates("package7").unwrap();
    assert_eq!(provided.len(), 2);
    assert_eq!(provided[0].package.version, "1");
}

#[test]
fn candidates_keep_index_order() {
    // TestVersionHierarchy: nameMap lists a name's packages in index order. The rejection list
    // of an unsatisfiable constraint walks that list.
    let versions = [
        "1.2.3-r0", "1.3.6-r0", "1.2.8-r0", "1.7.1-r0", "1.7.1-r1", "2.0.6-r0",
    ];
    let index: Vec<Package> = versions
        .iter()
        .map(|v| pkg("multi-versioner", v, &[], &[]))
        .collect();
    let error = resolve_one(&index, &["multi-versioner=9"]).unwrap_err();
    let Error::Unsatisfiable { rejected, .. } = &error else {
        panic!("unexpected error {error}");
    };
    let order: Vec<&str> = rejected.0.iter().map(|r| r.package.as_str()).collect();
    let expected: Vec<String> = versions
        .iter()
        .map(|v| format!("multi-versioner-{v}.apk"))
        .collect();
    assert_eq!(order, expected);
}

#[test]
fn sort_by_version_then_name() {
    // TestSortPackages "just versions": an unparsable version sorts last.
    let index = vec![
        pkg("package1", "1.0.0", &[], &[]),
        pkg("package1", "2.0.1", &[], &[]),
        pkg("package1", "1.2.0abc", &[], &[]),
        pkg("package1", "1.2.0", &[], &[]),
    ];
    let sources = [source(&index)];
    let sorted: Vec<String> = Resolver::new(&sources)
        .candidates("package1")
        .unwrap()
        .iter()
        .map(|r| r.package.version.to_string())
        .collect();
    assert_eq!(sorted, ["2.0.1", "1.2.0", "1.0.0", "1.2.0abc"]);
    // "just names": equal versions (here reached through an unversioned provide, for which
    // apko compares package versions) sort by name.
    let index = vec![
        pkg("package1", "1.0.0", &[], &["virt"]),
        pkg("package2", "1.0.0", &[], &["virt"]),
        pkg("earlier", "1.0.0", &[], &["virt"]),
    ];
    let sources = [source(&index)];
    let sorted: Vec<String> = Resolver::new(&sources)
        .candidates("virt")
        .unwrap()
        .iter()
        .map(|r| r.package.name.to_string())
        .collect();
    assert_eq!(sorted, ["earlier", "package1", "package2"]);
}

// ---------------------------------------------------------------------------------------------
// apko repo_test.go: the makeResolver cases and the provider-preference cases

#[test]
fn excluded_deps() {
    let index = made(&[
        ("musl=1.23-r4", &["so:ld-linux-aarch64.so.1"], &[]),
        ("ld-linux=2.38-r10", &["so:ld-linux-aarch64.so.1"], &[]),
        (
            "glibc=2.38-r10",
            &[],
            &["!musl", "so:ld-linux-aarch64.so.1"],
        ),
    ]);
    let resolution = resolve_one(&index, &["glibc"]).unwrap();
    assert_eq!(
        files(&resolution),
        ["ld-linux-2.38-r10.apk", "glibc-2.38-r10.apk"]
    );
    assert_eq!(resolution.conflicts, ["musl"]);
}

#[test]
fn same_provided_version_takes_higher_package() {
    let index = made(&[
        ("ld-linux=2.38-r10", &["so:ld-linux-aarch64.so.1=1.0"], &[]),
        ("ld-linux=2.38-r11", &["so:ld-linux-aarch64.so.1=1.0"], &[]),
        ("glibc=2.38-r10", &[], &["so:ld-linux-aarch64.so.1"]),
    ]);
    let resolution = resolve_one(&index, &["glibc"]).unwrap();
    assert_eq!(
        files(&resolution),
        ["ld-linux-2.38-r11.apk", "glibc-2.38-r10.apk"]
    );
}

#[test]
fn dep_with_provides_of_different_version() {
    let index = made(&[
        (
            "libcurl-openssl4=8.12.1-r1",
            &["libcurl-abi=8.12.1", "so:libcurl.so.4=4"],
            &["foo"],
        ),
        ("foo=1", &[], &[]),
        (
            "curl=8.12.1-r1",
            &[],
            &["libcurl-abi=8.12.1", "so:libcurl.so.4"],
        ),
        ("curl-dev=8.12.1-r1", &[], &["so:libcurl.so.4"]),
    ]);
    // The world as apko's test gives it, not sorted.
    let resolution = resolve_one(&index, &["curl-dev", "curl"]).unwrap();
    assert_eq!(
        files(&resolution),
        [
            "foo-1.apk",
            "libcurl-openssl4-8.12.1-r1.apk",
            "curl-dev-8.12.1-r1.apk",
            "curl-8.12.1-r1.apk"
        ]
    );
}

#[test]
fn higher_provided_version_wins() {
    let index = made(&[
        ("ld-linux=2.38-r10", &["so:ld-linux-aarch64.so.1=1.1"], &[]),
        ("ld-linux=2.38-r11", &["so:ld-linux-aarch64.so.1=1.0"], &[]),
        ("glibc=2.38-r10", &[], &["so:ld-linux-aarch64.so.1"]),
    ]);
    let resolution = resolve_one(&index, &["glibc"]).unwrap();
    assert_eq!(
        files(&resolution),
        ["ld-linux-2.38-r10.apk", "glibc-2.38-r10.apk"]
    );
}

#[test]
fn provider_across_origin_version_bump() {
    let index = vec![
        with_origin(pkg("glibc", "1", &[], &[]), "glibc"),
        with_origin(pkg("libcrypt1", "1", &[], &["so:libcrypt.so.1=1"]), "glibc"),
        with_origin(pkg("glibc", "2", &[], &[]), "glibc"),
        with_origin(
            pkg("libxcrypt", "2", &[], &["so:libcrypt.so.1=1"]),
            "libxcrypt",
        ),
        pkg("consumer", "1", &["so:libcrypt.so.1"], &[]),
    ];
    let resolution = resolve_one(&index, &["consumer", "glibc=2"]).unwrap();
    let got = files(&resolution);
    assert!(!got.contains(&"libcrypt1-1.apk".to_owned()), "{got:?}");
    assert!(got.contains(&"libxcrypt-2.apk".to_owned()), "{got:?}");
    assert!(got.contains(&"glibc-2.apk".to_owned()), "{got:?}");
}

fn pybind(version: &str, priority: u64) -> Package {
    with_priority(
        with_origin(
            pkg(
                "py3.10-pybind11",
                version,
                &[],
                &["py3-pybind11", "py3-pybind11-dev"],
            ),
            "py3-pybind11",
        ),
        priority,
    )
}

#[test]
fn same_origin_version_beats_stale_provider_priority() {
    let index = vec![
        pybind("2.13.6-r1", 312),
        pybind("3.0.4-r0", 310),
        with_origin(
            pkg(
                "py3-supported-pybind11",
                "3.0.4-r0",
                &["py3.10-pybind11"],
                &[],
            ),
            "py3-pybind11",
        ),
    ];
    let resolution = resolve_one(&index, &["py3-supported-pybind11"]).unwrap();
    let got = files(&resolution);
    assert!(
        got.contains(&"py3.10-pybind11-3.0.4-r0.apk".to_owned()),
        "{got:?}"
    );
    assert!(
        !got.contains(&"py3.10-pybind11-2.13.6-r1.apk".to_owned()),
        "{got:?}"
    );
}

#[test]
fn direct_dependency_prefers_version_over_provider_priority() {
    let index = vec![pybind("2.13.6-r1", 312), pybind("3.0.4-r0", 310)];
    let resolution = resolve_one(&index, &["py3.10-pybind11"]).unwrap();
    assert_eq!(files(&resolution), ["py3.10-pybind11-3.0.4-r0.apk"]);
}

#[test]
fn unversioned_provide_does_not_disqualify_against_versioned_constraint() {
    let index = vec![
        with_origin(pkg("unbound-config", "1.25.1-r2", &[], &[]), "unbound"),
        with_origin(
            pkg(
                "unbound-mailcow-compat",
                "1.25.1-r2",
                &[],
                &["unbound-config"],
            ),
            "unbound",
        ),
    ];
    let world = [
        "unbound-mailcow-compat=1.25.1-r2",
        "unbound-config=1.25.1-r2",
    ];
    let resolution = resolve_one(&index, &world).unwrap();
    assert_eq!(files(&resolution), ["unbound-mailcow-compat-1.25.1-r2.apk"]);
}

#[test]
fn unversioned_provide_version_mismatch_fails() {
    let index = vec![with_origin(
        pkg(
            "unbound-mailcow-compat",
            "9.9.9-r9",
            &[],
            &["unbound-config"],
        ),
        "unbound",
    )];
    let error = resolve_one(&index, &["unbound-config=1.25.1-r2"]).unwrap_err();
    assert!(
        error.to_string().contains("unbound-config=1.25.1-r2"),
        "{error}"
    );
}

#[test]
fn provider_priority_arbitrates_virtual_provides() {
    let index = vec![
        with_priority(
            with_origin(
                pkg("py3.10-pybind11", "3.0.4-r0", &[], &["py3-pybind11-dev"]),
                "py3-pybind11",
            ),
            310,
        ),
        with_priority(
            with_origin(
                pkg("py3.13-pybind11", "3.0.4-r0", &[], &["py3-pybind11-dev"]),
                "py3-pybind11",
            ),
            313,
        ),
    ];
    let resolution = resolve_one(&index, &["py3-pybind11-dev"]).unwrap();
    assert_eq!(files(&resolution), ["py3.13-pybind11-3.0.4-r0.apk"]);
}

#[test]
fn versioned_provide_beats_provider_priority() {
    let index = vec![
        with_priority(
            with_origin(pkg("prov-a", "1.0-r0", &[], &["virt=2.0"]), "prov-a"),
            1,
        ),
        with_priority(
            with_origin(pkg("prov-b", "9.0-r0", &[], &["virt=1.0"]), "prov-b"),
            999,
        ),
    ];
    let resolution = resolve_one(&index, &["virt"]).unwrap();
    assert_eq!(files(&resolution), ["prov-a-1.0-r0.apk"]);
}

#[test]
fn higher_version_breaks_provider_tie_across_repositories() {
    let a = vec![with_origin(
        pkg("prov-variant", "1.0-r1", &[], &["so:libprov.so.12=12"]),
        "prov-variant",
    )];
    let b = vec![with_origin(
        pkg("prov", "1.0-r2", &[], &["so:libprov.so.12=12"]),
        "prov",
    )];
    let sources = [
        Source {
            url: "https://example.invalid/a",
            pin: None,
            packages: &a,
        },
        Source {
            url: "https://example.invalid/b",
            pin: None,
            packages: &b,
        },
    ];
    let resolution = solver::resolve(&sources, &["so:libprov.so.12"], &Options::default()).unwrap();
    assert_eq!(files(&resolution), ["prov-1.0-r2.apk"]);
    assert_eq!(
        resolution.packages[0].repository,
        "https://example.invalid/b"
    );
    assert_eq!(
        resolution.packages[0].url,
        "https://example.invalid/b/prov-1.0-r2.apk"
    );
}

#[test]
fn world_constraint_binds_later_dependencies() {
    // TestConstrains
    let index = made(&[
        ("ld-linux=2.38-r10", &["so:ld-linux-aarch64.so.1=1.0"], &[]),
        ("ld-linux=2.38-r11", &["so:ld-linux-aarch64.so.1=1.1"], &[]),
        ("glibc=2.38-r10", &[], &["so:ld-linux-aarch64.so.1=1.0"]),
        ("glibc=2.39-r0", &[], &["so:ld-linux-aarch64.so.1"]),
        ("foo=1.23-r4", &[], &["so:ld-linux-aarch64.so.1"]),
    ]);
    let resolution = resolve_one(&index, &["glibc~2.38", "foo"]).unwrap();
    assert_eq!(
        files(&resolution),
        [
            "ld-linux-2.38-r10.apk",
            "glibc-2.38-r10.apk",
            "foo-1.23-r4.apk"
        ]
    );
}

#[test]
fn disqualifying_other_architectures() {
    let x86 = fixture();
    let only_arm = vec![pkg("onlyinarm64", "1.0.0", &[], &[])];
    let arm_sources = [
        source(&x86),
        Source {
            url: "https://example.invalid/extra/aarch64",
            pin: None,
            packages: &only_arm,
        },
    ];
    let x86_sources = [source(&x86)];
    let arches = [
        ArchSources {
            arch: "x86_64",
            sources: &x86_sources,
        },
        ArchSources {
            arch: "aarch64",
            sources: &arm_sources,
        },
    ];
    let options = Options { arches: &arches };
    let world = ["package1", "package2", "onlyinarm64"];
    let error = solver::resolve(&arm_sources, &world, &options).unwrap_err();
    let Error::Unsatisfiable { rejected, .. } = &error else {
        panic!("unexpected error {error}");
    };
    assert_eq!(rejected.0[0].package, "onlyinarm64-1.0.0.apk");
    assert_eq!(
        rejected.0[0].reason,
        Reason::NotForArch {
            arch: "x86_64".to_owned()
        }
    );
    assert!(
        error
            .to_string()
            .contains("onlyinarm64-1.0.0.apk (https://example.invalid/extra/aarch64): not available for arch \"x86_64\""),
        "{error}"
    );
    // Without the other architecture the same world resolves.
    let resolution = solver::resolve(&arm_sources, &world, &Options::default()).unwrap();
    assert_eq!(version_of(&resolution, "onlyinarm64"), Some("1.0.0"));
}

// ---------------------------------------------------------------------------------------------
// apko version_test.go TestResolveVersion, as transcribed in derived/apko/resolve-version*.tsv:
// one name, a pinned repository for version 2.1.0. The four rows with an installed package need
// apko's `existing` map, which only the dependency walk fills; they are left out here.

#[test]
fn resolve_version_vectors() {
    let candidates =
        std::fs::read_to_string(support::data("derived/apko/resolve-version-candidates.tsv"))
            .unwrap();
    let (mut plain, mut pinned) = (Vec::new(), Vec::new());
    for line in candidates.lines().skip(1) {
        let (version, pin) = line.split_once('\t').unwrap_or((line, ""));
        let package = pkg("multi", version, &[], &[]);
        if pin.is_empty() {
            plain.push(package);
        } else {
            assert_eq!(pin, "pinA");
            pinned.push(package);
        }
    }
    let sources = [
        Source {
            url: "https://example.invalid/main/x86_64",
            pin: None,
            packages: &plain,
        },
        Source {
            url: "https://example.invalid/pinned/x86_64",
            pin: Some("pinA"),
            packages: &pinned,
        },
    ];
    let cases = std::fs::read_to_string(support::data("derived/apko/resolve-version.tsv")).unwrap();
    let mut checked = 0;
    for line in cases.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [version, dep, pin, installed, want, description] = fields[..] else {
            panic!("bad row {line:?}");
        };
        if !installed.is_empty() {
            continue;
        }
        let mut constraint = "multi".to_owned();
        if dep != "any" {
            constraint.push_str(dep);
            constraint.push_str(version);
        }
        if !pin.is_empty() {
            constraint.push('@');
            constraint.push_str(pin);
        }
        let got = solver::resolve(&sources, &[constraint.as_str()], &Options::default());
        match got {
            Ok(resolution) => assert_eq!(
                version_of(&resolution, "multi"),
                Some(want),
                "{description}: {constraint}"
            ),
            Err(error) => assert!(want.is_empty(), "{description}: {constraint}: {error}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 16);
}

// ---------------------------------------------------------------------------------------------
// Alpine 3.16 x86_64

/// apko's alpine-316 test index, its signature verified with Alpine's key.
fn alpine_316() -> &'static [Package] {
    static INDEX: OnceLock<Vec<Package>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let path =
            support::data("chainguard-dev/apko/pkg/apk/apk/testdata/alpine-316/APKINDEX.tar.gz");
        let key = support::data(
            "postmarketOS-gitlab-mirror/pmbootstrap/pmb/data/keys/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
        );
        let keyring = Keyring::from_paths(&[key]).unwrap();
        let archive = std::fs::read(&path).unwrap();
        signed::read(&archive, &keyring, &path.display().to_string())
            .unwrap()
            .index
            .packages
    })
}

fn alpine_source() -> Source<'static> {
    Source {
        url: "./repo/x86_64",
        pin: None,
        packages: alpine_316(),
    }
}

fn alpine(world: &[&str]) -> Result<Resolution<'static>, Error> {
    solver::resolve(&[alpine_source()], world, &Options::default())
}

fn name_versions(resolution: &Resolution<'_>) -> Vec<String> {
    resolution
        .packages
        .iter()
        .map(|r| format!("{} {}", r.package.name, r.package.version))
        .collect()
}

#[test]
fn alpine_316_dev_matches_apko_show_packages() {
    let dir = "derived/apko/resolve/alpine-316-dev";
    let config: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(support::data(&format!("{dir}/apko.yaml"))).unwrap(),
    )
    .unwrap();
    let mut world: Vec<String> = config["contents"]["packages"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    world.sort();
    world.dedup();
    assert_eq!(world.len(), 25);
    let expected =
        std::fs::read_to_string(support::data(&format!("{dir}/show-packages.txt"))).unwrap();
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(expected.len(), 133);
    let resolution = solver::resolve(&[alpine_source()], &world, &Options::default()).unwrap();
    let got = name_versions(&resolution);
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "line {}", i + 1);
    }
    assert_eq!(got.len(), expected.len());
    assert_eq!(
        resolution.packages[0].url,
        "./repo/x86_64/musl-1.2.3-r2.apk"
    );
}

// Closures checked by hand against the Alpine 3.16 index. apko takes, among a package's
// unresolved dependencies, the one with the fewest candidates, ties to the smaller string; it
// walks depth first and lists children before parents; a package whose dependencies were walked
// is "selected" with its versioned provides, which then satisfy later unversioned dependencies
// on those names without a new walk. Every name below has exactly one candidate in this index.

#[test]
fn alpine_316_busybox_closure() {
    // busybox-1.35.0-r17  D: so:libc.musl-x86_64.so.1, provided only by musl-1.2.3-r2
    //   (p: so:libc.musl-x86_64.so.1=1), which has no dependencies. No install_if entry names
    //   musl, and the world package itself is not considered for install_if.
    let resolution = alpine(&["busybox"]).unwrap();
    assert_eq!(
        name_versions(&resolution),
        ["musl 1.2.3-r2", "busybox 1.35.0-r17"]
    );
}

#[test]
fn alpine_316_curl_closure() {
    // curl-7.83.1-r4  D: ca-certificates so:libc.musl-x86_64.so.1 so:libcurl.so.4 so:libz.so.1
    // 1. ca-certificates-20220614-r0  D: /bin/sh so:libc.musl-x86_64.so.1 so:libcrypto.so.1.1
    //    a. /bin/sh: busybox (p: /bin/sh, unversioned)  D: so:libc.musl... -> musl
    //    b. so:libc.musl...: musl again (musl has no deps, so it is never "selected")
    //    c. so:libcrypto.so.1.1: libcrypto1.1-1.1.1s-r0  D: so:libc.musl... -> musl
    // 2. so:libc.musl...: musl
    // 3. so:libcurl.so.4: libcurl-7.83.1-r4 (p: so:libcurl.so.4=4.8.0)
    //    D: ca-certificates (selected) so:libbrotlidec.so.1 so:libc.musl... so:libcrypto.so.1.1
    //    (selected through libcrypto1.1's provide) so:libnghttp2.so.14 so:libssl.so.1.1 so:libz.so.1
    //    -> brotli-libs (musl first), musl, nghttp2-libs (musl), libssl1.1 (musl; its
    //    so:libcrypto.so.1.1 is selected), zlib (musl)
    // 4. so:libz.so.1: selected through zlib's provide.
    // De-duplicated: musl busybox libcrypto1.1 ca-certificates brotli-libs nghttp2-libs libssl1.1
    // zlib libcurl. install_if: ssl_client-1.35.0-r17 has `i:busybox=1.35.0-r17 libssl1.1`, both
    // among curl's dependencies, so it follows them, before curl itself.
    let resolution = alpine(&["curl"]).unwrap();
    assert_eq!(
        name_versions(&resolution),
        [
            "musl 1.2.3-r2",
            "busybox 1.35.0-r17",
            "libcrypto1.1 1.1.1s-r0",
            "ca-certificates 20220614-r0",
            "brotli-libs 1.0.9-r6",
            "nghttp2-libs 1.47.0-r0",
            "libssl1.1 1.1.1s-r0",
            "zlib 1.2.12-r3",
            "libcurl 7.83.1-r4",
            "ssl_client 1.35.0-r17",
            "curl 7.83.1-r4",
        ]
    );
}

#[test]
fn alpine_316_openssh_server_closure() {
    // openssh-server-9.0_p1-r2  D: openssh-keygen=9.0_p1-r2 openssh-server-common=9.0_p1-r2
    //   so:libc.musl-x86_64.so.1 so:libcrypto.so.1.1 so:libz.so.1 (sorted as strings)
    // 1. openssh-keygen-9.0_p1-r2  D: so:libc.musl... so:libcrypto.so.1.1 -> musl, then
    //    libcrypto1.1 (D: so:libc.musl... -> musl)
    // 2. openssh-server-common-9.0_p1-r2, no dependencies
    // 3. so:libc.musl...: musl
    // 4. so:libcrypto.so.1.1: selected through libcrypto1.1's versioned provide
    // 5. so:libz.so.1: zlib-1.2.12-r3 (D: so:libc.musl... -> musl)
    // No install_if entry is satisfied (zlib-doc also needs `docs`).
    let resolution = alpine(&["openssh-server"]).unwrap();
    assert_eq!(
        name_versions(&resolution),
        [
            "musl 1.2.3-r2",
            "libcrypto1.1 1.1.1s-r0",
            "openssh-keygen 9.0_p1-r2",
            "openssh-server-common 9.0_p1-r2",
            "zlib 1.2.12-r3",
            "openssh-server 9.0_p1-r2",
        ]
    );
}

#[test]
fn alpine_316_vim_is_served_by_gvim() {
    // `vim` has two candidates: vim-8.2.5000-r0 and gvim-8.2.5000-r0 (p: vim, unversioned).
    // The unversioned provide ties on the requested name's version, the names differ, the
    // priorities (none) and package versions are equal, so the name decides: gvim. apko's own
    // resolution of alpine-316-dev (above) installs gvim for `vim` too.
    let resolution = alpine(&["vim"]).unwrap();
    let names = names(&resolution);
    assert_eq!(names.last().map(String::as_str), Some("gvim"));
    assert!(!names.contains(&"vim".to_owned()), "{names:?}");
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn missing_name_names_the_world() {
    let error = alpine(&["busybox", "no-such-package"]).unwrap_err();
    assert!(
        matches!(&error, Error::NothingProvides { name, .. } if name == "no-such-package"),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "nothing provides \"no-such-package\" required by world"
    );
}

#[test]
fn missing_dependency_names_the_chain() {
    let index = vec![
        pkg("git", "2.3-r0", &["curl"], &[]),
        pkg("curl", "7.1-r0", &["so:libfoo.so.1"], &[]),
    ];
    let error = resolve_one(&index, &["git"]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "nothing provides \"so:libfoo.so.1\" required by curl-7.1-r0 <- git-2.3-r0 <- world"
    );
}

#[test]
fn conflict_excludes_a_dependency() {
    // app refuses `legacy`; its other dependency, helper, needs it.
    let index = vec![
        pkg("app", "1-r0", &["!legacy", "helper"], &[]),
        pkg("helper", "1-r0", &["legacy"], &[]),
        pkg("legacy", "1-r0", &[], &[]),
    ];
    let error = resolve_one(&index, &["app"]).unwrap_err();
    let Error::Unsatisfiable {
        constraint,
        chain,
        rejected,
    } = &error
    else {
        panic!("unexpected error {error}");
    };
    assert_eq!(constraint, "legacy");
    assert_eq!(chain.to_string(), "helper-1-r0 <- app-1-r0 <- world");
    assert_eq!(rejected.0.len(), 1);
    assert_eq!(
        rejected.0[0].reason,
        Reason::Excluded {
            constraint: "!legacy".to_owned()
        }
    );
    // Without helper the conflict is only reported.
    let index = vec![
        pkg("app", "1-r0", &["!legacy"], &[]),
        pkg("legacy", "1-r0", &[], &[]),
    ];
    let resolution = resolve_one(&index, &["app"]).unwrap();
    assert_eq!(files(&resolution), ["app-1-r0.apk"]);
    assert_eq!(resolution.conflicts, ["legacy"]);
}

#[test]
fn conflict_in_the_world_fails_as_in_apko() {
    let error = alpine(&["!busybox", "curl"]).unwrap_err();
    assert!(
        matches!(&error, Error::WorldConflict { entry } if entry == "!busybox"),
        "{error}"
    );
}

#[test]
fn unsatisfied_version_says_why_each_candidate_lost() {
    let error = alpine(&["busybox>=2"]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "no package satisfies \"busybox>=2\" required by world:\n  busybox-1.35.0-r17.apk \
         (./repo/x86_64): version does not satisfy \"busybox>=2\""
    );
    // A dependency's version: openssh-server needs openssh-keygen=9.0_p1-r2, which the world's
    // own constraint has already ruled out.
    let error = alpine(&["openssh-keygen<9", "openssh-server"]).unwrap_err();
    let Error::Unsatisfiable {
        constraint,
        chain,
        rejected,
    } = &error
    else {
        panic!("unexpected error {error}");
    };
    assert_eq!(constraint, "openssh-keygen<9");
    assert_eq!(chain.to_string(), "world");
    assert_eq!(
        rejected.0[0].reason,
        Reason::VersionMismatch {
            constraint: "openssh-keygen<9".to_owned()
        }
    );
}

#[test]
fn invalid_constraint_version_is_an_error() {
    let error = alpine(&["busybox>=1.0~beta"]).unwrap_err();
    assert!(
        matches!(&error, Error::InvalidConstraint { constraint, .. } if constraint == "busybox>=1.0~beta"),
        "{error}"
    );
}

#[test]
fn pinned_repository_only_on_request() {
    let main = vec![
        pkg("foo", "1-r0", &[], &[]),
        pkg("baz", "1-r0", &["bar"], &[]),
    ];
    let edge = vec![
        pkg("foo", "2-r0", &["bar"], &[]),
        pkg("bar", "1-r0", &[], &[]),
    ];
    let sources = [
        Source {
            url: "https://example.invalid/main/x86_64",
            pin: None,
            packages: &main,
        },
        Source {
            url: "https://example.invalid/edge/x86_64",
            pin: Some("edge"),
            packages: &edge,
        },
    ];
    let options = Options::default();
    // Unpinned, the pinned repository's higher foo is not eligible.
    let resolution = solver::resolve(&sources, &["foo"], &options).unwrap();
    assert_eq!(files(&resolution), ["foo-1-r0.apk"]);
    // Requested with the pin, foo and its dependencies come from it.
    let resolution = solver::resolve(&sources, &["foo@edge"], &options).unwrap();
    assert_eq!(files(&resolution), ["bar-1-r0.apk", "foo-2-r0.apk"]);
    assert_eq!(
        resolution.packages[1].url,
        "https://example.invalid/edge/x86_64/foo-2-r0.apk"
    );
    // An unpinned package cannot reach into the pinned repository.
    let error = solver::resolve(&sources, &["baz"], &options).unwrap_err();
    let Error::Unsatisfiable { rejected, .. } = &error else {
        panic!("unexpected error {error}");
    };
    assert_eq!(
        rejected.0[0].reason,
        Reason::Pinned {
            pin: "edge".to_owned()
        }
    );
}
