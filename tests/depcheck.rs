//! Architecture rules that the compiler cannot enforce (STYLE.md §1): pure modules do no I/O, and
//! nothing outside `cli` depends on it.

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file of the crate: its path under `src` and its text.
fn crate_sources() -> Vec<(String, String)> {
    let root = src();
    sources(&root)
        .into_iter()
        .map(|file| {
            let relative = file
                .strip_prefix(&root)
                .expect("under src")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&file).expect("read source");
            (relative, text)
        })
        .collect()
}

/// Modules whose job is computation on values and bytes: no filesystem, network or async.
const PURE: &[&str] = &[
    "apk/version.rs",
    "apk/constraint.rs",
    "apk/index.rs",
    "apk/signed.rs",
    "apk/pkginfo.rs",
    "apk/solver",
    "apk/solver.rs",
    "apk/unify.rs",
    "codec",
    "compress",
    "oci/digest.rs",
    "oci/config.rs",
    "oci/go_json.rs",
    "oci/descriptor.rs",
    "oci/manifest.rs",
    "oci/reference.rs",
    "oci/image_set.rs",
    "parallel.rs",
    "parallel",
    "attest/store/legacy.rs",
    "attest/store/referrer.rs",
    "attest/statement/predicate_type.rs",
    "attest/verify/der.rs",
    "attest/verify/signature.rs",
    "attest/verify/certificate.rs",
    "attest/verify/identity.rs",
    "attest/verify/rekor.rs",
    "attest/verify/sct.rs",
];

const IMPURE_NAMES: &[&str] = &["std::fs", "tokio", "reqwest", "std::net", "std::env"];

#[test]
fn pure_modules_do_no_io() {
    let mut checked = 0;
    for (relative, text) in crate_sources() {
        if !PURE
            .iter()
            .any(|p| relative == *p || relative.starts_with(&format!("{p}/")))
        {
            continue;
        }
        for name in IMPURE_NAMES {
            assert!(
                !text.contains(name),
                "{relative} is a pure module but names {name}"
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 3,
        "expected to check the pure modules, found {checked}"
    );
}

#[test]
fn only_cli_and_binaries_use_cli() {
    for (relative, text) in crate_sources() {
        if relative.starts_with("cli") || relative.starts_with("bin") {
            continue;
        }
        assert!(
            !text.contains("crate::cli"),
            "{relative} depends on crate::cli"
        );
    }
}

/// The floors, lowest first, written once. A top-level module may use only modules on a lower
/// floor: nothing reaches up or sideways, so there can be no import cycle between top-level
/// modules. `cli` is the top; the binaries (`src/bin`) stand above it.
const FLOORS: &[&[&str]] = &[
    // Go-exact codecs and process utilities: depend on nothing of ours.
    &["codec", "parallel", "progress", "scratch"],
    // The compressor; OCI documents, references, layouts and registries.
    &["compress", "oci"],
    // apko's configuration (its architectures name OCI platforms, as apko's `ToOCIPlatform`
    // returns ggcr's `v1.Platform`).
    &["config"],
    // APK packages: versions, indexes, archives, keyrings, sources, the solver.
    &["apk"],
    // What the product does: lock, build, attest.
    &["attest", "build", "lock"],
    // The audit, on top of build and attest.
    &["rebuild"],
    &["cli"],
];

fn floor_of(module: &str) -> Option<usize> {
    FLOORS.iter().position(|floor| floor.contains(&module))
}

/// The top-level modules named by `crate::NAME` and `crate::{NAME, …}` in code (comments and
/// doc comments excluded).
fn used_modules(text: &str) -> Vec<String> {
    let mut used = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let group = group.split('}').next().unwrap_or_default();
                for item in group.split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    used.push(name);
                }
            } else {
                used.push(
                    rest.chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect(),
                );
            }
        }
    }
    used.retain(|name| !name.is_empty());
    used
}

fn top_module(relative: &str) -> String {
    let first = relative.split('/').next().unwrap_or_default();
    first.strip_suffix(".rs").unwrap_or(first).to_owned()
}

#[test]
fn every_top_level_module_has_a_floor() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("read lib.rs");
    let mut declared = 0;
    for line in lib.lines() {
        if let Some(name) = line.trim().strip_prefix("pub mod ") {
            let name = name.trim_end_matches(';');
            assert!(
                floor_of(name).is_some(),
                "src/lib.rs declares `{name}`, which is on no floor in tests/depcheck.rs FLOORS"
            );
            declared += 1;
        }
    }
    assert!(
        declared >= 10,
        "expected the crate's modules, found {declared}"
    );
}

#[test]
fn no_module_uses_one_on_its_own_floor_or_above() {
    let mut edges = 0;
    let mut upward = Vec::new();
    for (relative, text) in crate_sources() {
        let top = top_module(&relative);
        let Some(floor) = floor_of(&top) else {
            continue;
        };
        for used in used_modules(&text) {
            if used == top {
                continue;
            }
            edges += 1;
            match floor_of(&used) {
                Some(to) if to < floor => {}
                _ => upward.push(format!("{relative} uses crate::{used}")),
            }
        }
    }
    upward.sort();
    upward.dedup();
    assert!(edges > 50, "expected many cross-module uses, found {edges}");
    assert!(
        upward.is_empty(),
        "uses that reach sideways or up the floors:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_edge_scanner_sees_grouped_and_plain_uses() {
    let text = "use crate::oci::Digest;\nuse crate::{apk, codec::tar};\n// crate::cli\nlet x = crate::build::f();";
    assert_eq!(used_modules(text), ["oci", "apk", "codec", "build"]);
}

/// Files that are faithful ports of klauspost/compress and keep its shape (their module docs
/// say so), exempt from the size limits below.
const PORTS: &[&str] = &["compress/deflate"];

const MAX_FILE_LINES: usize = 600;
const MAX_FUNCTION_LINES: usize = 100;

/// `(name, first line, line count)` of every `fn` with a body, by brace matching (strings with
/// braces in them are rare enough in this code base not to matter; the test says which
/// function it measured, so a miscount shows).
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let Some(at) = code.find("fn ") else {
            continue;
        };
        let before = code[..at].trim();
        let keywords = [
            "",
            "pub",
            "pub(crate)",
            "pub(super)",
            "const",
            "async",
            "unsafe",
        ];
        if !before
            .split_whitespace()
            .all(|word| keywords.contains(&word))
        {
            continue;
        }
        let name: String = code[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let mut depth = 0i64;
        let mut opened = false;
        for (offset, body) in lines[start..].iter().enumerate() {
            let body = body.split("//").next().unwrap_or_default();
            depth += body.matches('{').count() as i64 - body.matches('}').count() as i64;
            opened |= body.contains('{');
            if !opened && body.trim_end().ends_with(';') {
                break;
            }
            if opened && depth <= 0 {
                found.push((name.clone(), start + 1, offset + 1));
                break;
            }
        }
    }
    found
}

#[test]
fn files_and_functions_are_small() {
    let mut too_big = Vec::new();
    let mut measured = 0;
    for (relative, text) in crate_sources() {
        if PORTS.iter().any(|p| relative.starts_with(p)) {
            continue;
        }
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES {
            too_big.push(format!(
                "{relative}: {lines} lines (limit {MAX_FILE_LINES})"
            ));
        }
        for (name, line, length) in functions(&text) {
            measured += 1;
            if length > MAX_FUNCTION_LINES {
                too_big.push(format!(
                    "{relative}:{line}: fn {name} is {length} lines (limit {MAX_FUNCTION_LINES})"
                ));
            }
        }
    }
    assert!(
        measured > 500,
        "expected to measure the crate's functions, found {measured}"
    );
    assert!(too_big.is_empty(), "too big:\n{}", too_big.join("\n"));
}

#[test]
fn the_function_measure_counts_bodies() {
    let text = "fn a() {\n    if x {\n        y();\n    }\n}\nfn b();\npub(crate) fn c() { d() }\n";
    assert_eq!(
        functions(text),
        [("a".to_owned(), 1, 5), ("c".to_owned(), 7, 1)]
    );
}

#[test]
fn ports_say_so_in_their_module_docs() {
    for port in PORTS {
        let path = src().join(port).with_extension("rs");
        let doc = std::fs::read_to_string(src().join(port).join("mod.rs"))
            .or_else(|_| std::fs::read_to_string(&path))
            .expect("read the port's module");
        assert!(
            doc.contains("klauspost"),
            "{port} is exempt from the size limits as a port but its module doc does not say so"
        );
    }
}

/// Installing belongs to the README's test command (`scripts/test`, `scripts/install-peers`);
/// a test only looks for what is installed.
#[test]
fn tests_never_install_anything() {
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests");
    let installers = [
        "scripts/install-peers\")",
        "\"pip\"",
        "\"npm\"",
        "\"apt-get\"",
        "\"cargo\", \"install\"",
    ];
    let mut scanned = 0;
    for file in sources(&tests) {
        if file.ends_with("depcheck.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read test source");
        scanned += 1;
        for installer in installers {
            assert!(
                !text.contains(installer),
                "{} runs an installer ({installer}); install in scripts/test instead",
                file.display()
            );
        }
    }
    assert!(scanned > 20, "expected the test sources, found {scanned}");
}

/// Library errors name their subject, never a command-line flag: the flags are the CLI's, and
/// its hints (`cli::hint`) add them where a user needs one.
#[test]
fn library_errors_never_name_a_flag() {
    let mut messages = 0;
    let mut naming = Vec::new();
    for (relative, text) in crate_sources() {
        if relative.starts_with("cli") || relative.starts_with("bin") {
            continue;
        }
        for (number, line) in text.lines().enumerate() {
            let Some(message) = line.trim().strip_prefix("#[error(\"") else {
                continue;
            };
            messages += 1;
            let flag = message.match_indices("--").any(|(at, _)| {
                message[at + 2..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase())
            });
            if flag {
                naming.push(format!("{relative}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert!(
        messages > 100,
        "expected the library's error messages, found {messages}"
    );
    assert!(
        naming.is_empty(),
        "library errors that name a flag:\n{}",
        naming.join("\n")
    );
}
