//! Hostile local configuration (issue 17.5): nesting, size and alias expansion are bounded
//! before parsing cost explodes. Before the bound, 100,000 levels of flow nesting (200 KB) took
//! 21 s in the YAML scanner.

use std::time::{Duration, Instant};

use receipts::config::{Error, ImageConfiguration};

/// Generous for a loaded machine; the unbounded parse took 21 s.
const QUICK: Duration = Duration::from_millis(500);

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed())
}

#[test]
fn deep_flow_nesting_is_refused_at_once_with_the_line() {
    let levels = 100_000;
    for (name, text) in [
        (
            "sequences",
            format!(
                "contents:\n  packages: {}{}\n",
                "[".repeat(levels),
                "]".repeat(levels)
            ),
        ),
        (
            "mappings",
            format!(
                "annotations: {}\n",
                "{a: ".repeat(levels) + &"}".repeat(levels)
            ),
        ),
    ] {
        let (result, took) = timed(|| ImageConfiguration::from_yaml(text.as_bytes(), "deep.yaml"));
        match result {
            Err(Error::TooDeep {
                source_name,
                line,
                limit,
            }) => {
                assert_eq!((source_name.as_str(), limit), ("deep.yaml", 100), "{name}");
                assert_eq!(line, if name == "sequences" { 2 } else { 1 }, "{name}");
            }
            other => panic!("{name}: expected TooDeep, got {other:?}"),
        }
        assert!(took < QUICK, "{name}: {took:?}");
        let message = Error::TooDeep {
            source_name: "deep.yaml".into(),
            line: 2,
            limit: 100,
        }
        .to_string();
        assert!(
            message.contains("deeper than 100 levels (line 2)"),
            "{message}"
        );
    }
    let json = format!(
        "{{\"contents\": {}{}}}",
        "[".repeat(levels),
        "]".repeat(levels)
    );
    let (result, took) = timed(|| ImageConfiguration::from_json(json.as_bytes()));
    assert!(matches!(result, Err(Error::TooDeep { .. })), "{result:?}");
    assert!(took < QUICK, "json: {took:?}");
}

#[test]
fn deep_block_nesting_and_alias_bombs_fail_quickly() {
    // Block sequences nested on one line: not flow, bounded by serde_yaml_ng's recursion limit.
    let block = format!("contents:\n  packages: {}x\n", "- ".repeat(100_000));
    let (result, took) = timed(|| ImageConfiguration::from_yaml(block.as_bytes(), "block.yaml"));
    assert!(result.is_err(), "block nesting parsed");
    assert!(took < QUICK * 4, "block nesting: {took:?}");

    // A "billion laughs": nine levels of ten aliases each.
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let previous = format!("*a{}", level - 1);
        let items = [previous.as_str(); 10].join(", ");
        bomb.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    bomb.push_str("contents:\n  packages: *a9\n");
    let (result, took) = timed(|| ImageConfiguration::from_yaml(bomb.as_bytes(), "bomb.yaml"));
    assert!(result.is_err(), "alias bomb parsed");
    assert!(took < QUICK * 4, "alias bomb: {took:?}");
}

#[test]
fn oversized_documents_are_refused_unparsed() {
    let mut text = String::from("contents:\n  packages:\n");
    while text.len() <= 8 << 20 {
        text.push_str("    - busybox\n");
    }
    let (result, took) = timed(|| ImageConfiguration::from_yaml(text.as_bytes(), "big.yaml"));
    assert!(
        matches!(result, Err(Error::TooLarge { limit, .. }) if limit == 8 << 20),
        "{result:?}"
    );
    assert!(took < QUICK, "{took:?}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    std::fs::write(&path, &text).unwrap();
    let error = receipts::config::Loader::new().load(&path).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("larger than the 8388608-byte limit"),
        "{error}"
    );
}
