//! The apk-tools solver suite (`alpinelinux/apk-tools/test/solver/*.test`) as a corpus of
//! scenarios: every case that starts from an empty root with a plain `apk add` is resolved with
//! apko's rules and compared with apk-tools' expected result. Where apko deliberately answers
//! otherwise, the case is listed with the rule that makes the difference; a case that changes
//! class, or a new applicable case, fails the test.
//!
//! Adaptations: apk-tools' `.repo` files carry placeholder `C:` checksums that are not base64
//! (apko would reject the index), so `C:` lines are dropped; a blank line is appended so the last
//! record counts. Repositories are ordered as apko orders `/etc/apk/repositories` (sorted lines,
//! `@tag file` for a tagged one), and the world is sorted and de-duplicated as apko writes it.

use receipts::apk::index::parse_text;
use receipts::apk::solver::{self, Options, Source};

use crate::support;

/// How apko's answer relates to apk-tools' expected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// The same packages in the same order.
    Same,
    /// The same packages; apko orders them by its depth-first walk, apk-tools topologically.
    SameSet,
    /// Both refuse the world.
    BothFail,
    /// apko answers otherwise, in the way and for the reason given.
    Differs(Kind, Why),
}

/// The way apko's answer differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Both resolve, to different packages.
    Packages,
    /// apk-tools refuses the world, apko resolves it.
    ApkoResolves,
    /// apko refuses the world, apk-tools resolves it.
    ApkoFails,
}

/// The apko rules (reference/apko-format.md §4.5–§4.7) behind each difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    /// Each world entry is resolved on its own: a provider chosen for one entry does not satisfy
    /// another entry naming the same virtual.
    EntriesResolvedApart,
    /// install_if is matched only against one world entry's dependencies, never against the
    /// world packages themselves; `!name` in install_if never matches.
    InstallIfWithinOneEntry,
    /// apko commits to the best candidate and never backtracks.
    NoBacktracking,
    /// apko does not compare a package's `A:` with the architecture.
    NoArchCheck,
    /// apk-tools refuses to choose among providers of a virtual; apko takes its preferred one.
    PicksAmongProviders,
    /// apko neither checks a package against its own provides nor enforces a dependency's
    /// `!name` against packages already chosen (it only reports the conflict).
    ConflictsNotEnforced,
    /// A second package of a name already in the install list is dropped (first one wins).
    FirstOfANameWins,
    /// apko's index reader keeps only the last of repeated `p:` lines.
    LastProvidesLineWins,
    /// Not recorded: what an observed difference carries until the table explains it.
    Unexplained,
}

/// Every applicable case and its class.
const EXPECTED: &[(&str, Class)] = &[
    ("basic1.test", Class::Same),
    (
        "basic19.test",
        Class::Differs(Kind::ApkoResolves, Why::NoArchCheck),
    ),
    (
        "complicated1.test",
        Class::Differs(Kind::ApkoFails, Why::NoBacktracking),
    ),
    ("complicated2.test", Class::Same),
    ("complicated3.test", Class::Same),
    ("conflict1.test", Class::SameSet),
    ("conflict2.test", Class::BothFail),
    ("error1.test", Class::BothFail),
    ("error10.test", Class::BothFail),
    ("error11.test", Class::BothFail),
    ("error2.test", Class::BothFail),
    ("error3.test", Class::BothFail),
    ("error4.test", Class::BothFail),
    ("error5.test", Class::BothFail),
    ("error8.test", Class::BothFail),
    ("error9.test", Class::BothFail),
    ("fuzzy1.test", Class::Same),
    ("fuzzy2.test", Class::BothFail),
    ("fuzzy3.test", Class::Same),
    (
        "installif1.test",
        Class::Differs(Kind::Packages, Why::InstallIfWithinOneEntry),
    ),
    (
        "installif10.test",
        Class::Differs(Kind::Packages, Why::InstallIfWithinOneEntry),
    ),
    (
        "installif2.test",
        Class::Differs(Kind::Packages, Why::InstallIfWithinOneEntry),
    ),
    (
        "installif3.test",
        Class::Differs(Kind::Packages, Why::InstallIfWithinOneEntry),
    ),
    (
        "installif5.test",
        Class::Differs(Kind::Packages, Why::InstallIfWithinOneEntry),
    ),
    (
        "installif6.test",
        Class::Differs(Kind::Packages, Why::InstallIfWithinOneEntry),
    ),
    (
        "installif8.test",
        Class::Differs(Kind::Packages, Why::InstallIfWithinOneEntry),
    ),
    ("installif9.test", Class::Same),
    ("pinning1.test", Class::Same),
    (
        "pinning12.test",
        Class::Differs(Kind::Packages, Why::InstallIfWithinOneEntry),
    ),
    ("pinning13.test", Class::Same),
    ("pinning15.test", Class::BothFail),
    ("pinning2.test", Class::Same),
    ("pinning3.test", Class::Same),
    ("pinning4.test", Class::Same),
    ("provides-prio1.test", Class::Same),
    ("provides-prio2.test", Class::Same),
    ("provides-prio5.test", Class::SameSet),
    (
        "provides-prio6.test",
        Class::Differs(Kind::Packages, Why::EntriesResolvedApart),
    ),
    ("provides1.test", Class::Same),
    (
        "provides10.test",
        Class::Differs(Kind::ApkoResolves, Why::PicksAmongProviders),
    ),
    (
        "provides11.test",
        Class::Differs(Kind::ApkoResolves, Why::PicksAmongProviders),
    ),
    (
        "provides12.test",
        Class::Differs(Kind::ApkoResolves, Why::ConflictsNotEnforced),
    ),
    ("provides13.test", Class::Same),
    (
        "provides14.test",
        Class::Differs(Kind::ApkoResolves, Why::PicksAmongProviders),
    ),
    ("provides15.test", Class::BothFail),
    (
        "provides16.test",
        Class::Differs(Kind::ApkoResolves, Why::PicksAmongProviders),
    ),
    ("provides17.test", Class::Same),
    ("provides19.test", Class::Same),
    ("provides2.test", Class::Same),
    (
        "provides20.test",
        Class::Differs(Kind::ApkoResolves, Why::ConflictsNotEnforced),
    ),
    (
        "provides21.test",
        Class::Differs(Kind::ApkoFails, Why::NoBacktracking),
    ),
    (
        "provides22.test",
        Class::Differs(Kind::ApkoFails, Why::LastProvidesLineWins),
    ),
    (
        "provides3.test",
        Class::Differs(Kind::Packages, Why::EntriesResolvedApart),
    ),
    ("provides4.test", Class::Same),
    ("provides5.test", Class::BothFail),
    (
        "provides6.test",
        Class::Differs(Kind::ApkoResolves, Why::FirstOfANameWins),
    ),
    (
        "provides7.test",
        Class::Differs(Kind::ApkoResolves, Why::ConflictsNotEnforced),
    ),
    ("provides8.test", Class::Same),
    (
        "provides9.test",
        Class::Differs(Kind::ApkoResolves, Why::PicksAmongProviders),
    ),
];

/// One `.test` file, when it is an `apk add` on an empty root without options.
struct Case {
    world: Vec<String>,
    /// `/etc/apk/repositories` lines: `file` or `@tag file`.
    repositories: Vec<String>,
    /// `name-version` (with `@tag` after the name for a tagged repository), or `None` when
    /// apk-tools refuses the world.
    expected: Option<Vec<String>>,
}

fn read_case(text: &str) -> Option<Case> {
    let (mut world, mut repositories, mut expect) = (None, Vec::new(), None::<Vec<&str>>);
    for line in text.lines() {
        if let Some(lines) = expect.as_mut() {
            lines.push(line);
        } else if let Some(args) = line.strip_prefix("@ARGS ") {
            let names = args.strip_prefix("add ")?;
            if names.split_whitespace().any(|w| w.starts_with('-')) {
                return None;
            }
            world = Some(
                names
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>(),
            );
        } else if let Some(repository) = line.strip_prefix("@REPO ") {
            repositories.push(repository.to_owned());
        } else if line == "@EXPECT" {
            expect = Some(Vec::new());
        } else if line.starts_with('@') {
            // @INSTALLED, @WORLD, @CACHE: not an empty root.
            return None;
        }
    }
    let mut world = world?;
    world.sort();
    world.dedup();
    repositories.sort();
    let expect = expect?;
    let expected = if expect.iter().any(|l| l.starts_with("ERROR")) {
        None
    } else {
        Some(
            expect
                .iter()
                .filter_map(|l| {
                    let (name, version) = l.split_once(") Installing ")?.1.split_once(" (")?;
                    Some(format!("{name}-{}", version.trim_end_matches(')')))
                })
                .collect(),
        )
    };
    Some(Case {
        world,
        repositories,
        expected,
    })
}

fn repository_packages(dir: &std::path::Path, file: &str) -> Vec<receipts::apk::Package> {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let mut kept: String = text
        .lines()
        .filter(|l| !l.starts_with("C:"))
        .flat_map(|l| [l, "\n"])
        .collect();
    kept.push_str("\n\n");
    parse_text(kept.as_bytes()).unwrap()
}

fn classify(dir: &std::path::Path, case: &Case) -> Class {
    let loaded: Vec<(Option<&str>, &str, Vec<receipts::apk::Package>)> = case
        .repositories
        .iter()
        .map(|line| {
            let (tag, file) = match line.strip_prefix('@') {
                Some(rest) => rest.split_once(' ').map(|(t, f)| (Some(t), f)).unwrap(),
                None => (None, line.as_str()),
            };
            (tag, file, repository_packages(dir, file))
        })
        .collect();
    let sources: Vec<Source<'_>> = loaded
        .iter()
        .map(|(tag, file, packages)| Source {
            url: file,
            pin: *tag,
            packages,
        })
        .collect();
    let got = solver::resolve(&sources, &case.world, &Options::default());
    let got: Option<Vec<String>> = got.ok().map(|resolution| {
        resolution
            .packages
            .iter()
            .map(|r| {
                let tag = loaded
                    .iter()
                    .find(|(_, file, _)| *file == r.repository)
                    .and_then(|(tag, _, _)| *tag);
                match tag {
                    Some(tag) => format!("{}@{tag}-{}", r.package.name, r.package.version),
                    None => format!("{}-{}", r.package.name, r.package.version),
                }
            })
            .collect()
    });
    match (&got, &case.expected) {
        (None, None) => Class::BothFail,
        (Some(got), Some(expected)) if got == expected => Class::Same,
        (Some(got), Some(expected)) => {
            let (mut a, mut b) = (got.clone(), expected.clone());
            a.sort();
            b.sort();
            if a == b {
                Class::SameSet
            } else {
                // The reason is the table's to give; only the kind is observed here.
                Class::Differs(Kind::Packages, Why::Unexplained)
            }
        }
        (Some(_), None) => Class::Differs(Kind::ApkoResolves, Why::Unexplained),
        (None, Some(_)) => Class::Differs(Kind::ApkoFails, Why::Unexplained),
    }
}

fn same_class(observed: Class, recorded: Class) -> bool {
    match (observed, recorded) {
        (Class::Differs(a, _), Class::Differs(b, why)) => a == b && why != Why::Unexplained,
        _ => observed == recorded,
    }
}

#[test]
fn apk_tools_solver_scenarios_under_apko_rules() {
    let dir = support::data("alpinelinux/apk-tools/test/solver");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".test"))
        .collect();
    names.sort();
    let mut seen = Vec::new();
    for name in &names {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let Some(case) = read_case(&text) else {
            continue;
        };
        let class = classify(&dir, &case);
        let recorded = EXPECTED
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| *c)
            .unwrap_or_else(|| panic!("{name}: applicable but not recorded (got {class:?})"));
        assert!(
            same_class(class, recorded),
            "{name}: recorded {recorded:?}, got {class:?}"
        );
        seen.push(name.as_str());
    }
    let recorded: Vec<&str> = EXPECTED.iter().map(|(n, _)| *n).collect();
    assert_eq!(seen, recorded);
}
