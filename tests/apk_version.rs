//! Versions and constraints against apko's transcribed vectors and apk-tools' version.data.

use std::cmp::Ordering;

use receipts::apk::{Constraint, Operator, Version};

use crate::support;

fn v(text: &str) -> Version {
    Version::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn tsv(relative: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(support::data(relative)).expect("read tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn every_apko_comparison_row_holds() {
    let rows = tsv("derived/apko/version-compare.tsv");
    assert_eq!(rows.len(), 731, "apko's TestCompareVersion has 731 pairs");
    for row in rows {
        let want = match row[2].as_str() {
            "<" => Ordering::Less,
            "=" => Ordering::Equal,
            ">" => Ordering::Greater,
            other => panic!("unknown expectation {other}"),
        };
        assert_eq!(
            v(&row[0]).cmp(&v(&row[1])),
            want,
            "{} vs {}",
            row[0],
            row[1]
        );
    }
}

#[test]
fn disabled_upstream_rows_document_apkos_behaviour() {
    // Commented out upstream because apko deliberately differs from apk-tools on them.
    // 1.8.5 vs 1.8.5_p2: `_p` is a post-release suffix, so 1.8.5 sorts below (the row agrees).
    // 4.5.14 vs 4.09-r1: numbers are integers, 4.5 < 4.9, so apko says `<` where the row says `>`.
    // 0.1.0_alpha_pre2: two pre-release suffixes do not parse in apko at all.
    assert!(v("1.8.5") < v("1.8.5_p2"));
    assert!(v("4.5.14") < v("4.09-r1"));
    assert!(Version::parse("0.1.0_alpha_pre2").is_err());
    assert_eq!(tsv("derived/apko/version-compare-disabled.tsv").len(), 3);
}

#[test]
fn versions_decompose_as_apko_parses_them() {
    let rows = tsv("derived/apko/version-parse-valid.tsv");
    assert_eq!(rows.len(), 41);
    for row in rows {
        let version = v(&row[0]);
        let numbers: Vec<u64> = row[1].split('.').map(|n| n.parse().unwrap()).collect();
        assert_eq!(version.numbers(), &numbers[..], "{}", row[0]);
        assert_eq!(
            version.letter().map(String::from).unwrap_or_default(),
            row[2],
            "{}",
            row[0]
        );
        let (pre, pre_number) = version.pre();
        assert_eq!(format!("{pre:?}").to_lowercase(), row[3], "{}", row[0]);
        assert_eq!(pre_number.to_string(), row[4], "{}", row[0]);
        let (post, post_number) = version.post();
        assert_eq!(format!("{post:?}").to_lowercase(), row[5], "{}", row[0]);
        assert_eq!(post_number.to_string(), row[6], "{}", row[0]);
        assert_eq!(version.revision().to_string(), row[7], "{}", row[0]);
    }
}

#[test]
fn invalid_versions_are_rejected_with_the_version_named() {
    let text = std::fs::read_to_string(support::data("derived/apko/version-parse-invalid.txt"))
        .expect("read");
    let mut count = 0;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let error = Version::parse(line).expect_err(line);
        assert!(error.to_string().contains(line), "{error}");
        count += 1;
    }
    assert_eq!(count, 4);
    for bad in [
        "1.2~abc",
        "1.0_alpha1_beta2",
        "",
        "1.",
        "1.2-r",
        "1-r1x",
        "99999999999999999999",
    ] {
        assert!(Version::parse(bad).is_err(), "{bad:?} must be rejected");
    }
    assert_eq!(v("1.01"), v("1.1"));
}

#[test]
fn constraints_split_as_apko_splits_them() {
    let rows = tsv("derived/apko/package-constraint.tsv");
    assert_eq!(rows.len(), 14);
    for row in rows {
        let c = Constraint::parse(&row[0]);
        let pin = row.get(4).cloned().unwrap_or_default();
        assert_eq!(
            (c.name.as_str(), c.version.as_str()),
            (row[1].as_str(), row[2].as_str())
        );
        let op = match row[3].as_str() {
            "any" => Operator::Any,
            "=" => Operator::Equal,
            ">" => Operator::Greater,
            "<" => Operator::Less,
            ">=" => Operator::GreaterEqual,
            "<=" => Operator::LessEqual,
            "~" => Operator::Fuzzy,
            other => panic!("unknown operator {other}"),
        };
        assert_eq!(c.operator, op, "{}", row[0]);
        assert_eq!(c.pin, pin, "{}", row[0]);
        assert!(!c.conflict);
    }
    let conflict = Constraint::parse("!busybox>1.0");
    assert!(conflict.conflict);
    assert_eq!(
        (conflict.name.as_str(), conflict.operator),
        ("busybox", Operator::Greater)
    );
    // An operator apko does not know means "any version", silently.
    let odd = Constraint::parse("foo><1.0");
    assert_eq!((odd.name.as_str(), odd.operator), ("foo", Operator::Any));
    assert!(odd.admits(&v("0.1")));
}

#[test]
fn resolve_version_cases_pick_apkos_candidate() {
    // apko TestResolveVersion: best candidate = highest version satisfying the constraint among
    // eligible ones (pinned only when the pin matches, or when already installed).
    let candidates = tsv("derived/apko/resolve-version-candidates.tsv");
    let cases = tsv("derived/apko/resolve-version.tsv");
    assert_eq!(cases.len(), 20);
    for case in cases {
        let (version, dep, pin, installed, want) =
            (&case[0], &case[1], &case[2], &case[3], &case[4]);
        let constraint = Constraint::parse(&if dep == "any" {
            "x".to_owned()
        } else {
            format!("x{dep}{version}")
        });
        let chosen = candidates
            .iter()
            .filter(|c| {
                let repo_pin = c.get(1).map(String::as_str).unwrap_or("");
                repo_pin.is_empty() || repo_pin == pin || c[0] == *installed
            })
            .filter(|c| constraint.admits(&v(&c[0])))
            .max_by(|a, b| {
                // An installed version wins outright, then the highest version.
                (a[0] == *installed)
                    .cmp(&(b[0] == *installed))
                    .then(v(&a[0]).cmp(&v(&b[0])))
            })
            .map(|c| c[0].clone())
            .unwrap_or_default();
        assert_eq!(&chosen, want, "{}", case[5]);
    }
}

/// apk-tools' own vectors: each row where both versions parse in apko and apko's answer agrees.
/// Rows where apko deliberately differs are listed, each with its reason.
#[test]
fn apk_tools_version_data_agrees_except_listed_rows() {
    let text = std::fs::read_to_string(support::data(
        "alpinelinux/apk-tools/test/unit/version.data",
    ))
    .expect("read version.data");
    let mut agreed = 0;
    let mut disagreed = Vec::new();
    for line in text.lines() {
        let row = line.split('#').next().unwrap_or("").trim();
        let fields: Vec<&str> = row.split_whitespace().collect();
        let [a, op, b] = fields[..] else { continue };
        let (Ok(va), Ok(vb)) = (Version::parse(a), Version::parse(b)) else {
            continue;
        };
        let holds = match op {
            "<" => va < vb,
            ">" => va > vb,
            "=" => va == vb,
            "~" => va.fuzzy_matches(&vb),
            "!~" => !va.fuzzy_matches(&vb),
            "<~" => va < vb || va.fuzzy_matches(&vb),
            ">~" => va > vb || va.fuzzy_matches(&vb),
            other => panic!("unknown operator {other} in {line}"),
        };
        if holds {
            agreed += 1;
        } else {
            disagreed.push(format!("{a} {op} {b}"));
        }
    }
    let expected: Vec<String> = KNOWN_DISAGREEMENTS
        .iter()
        .map(|(row, _)| row.to_string())
        .collect();
    assert_eq!(
        disagreed, expected,
        "rows where apko and apk-tools disagree changed"
    );
    assert!(agreed > 600, "only {agreed} rows agreed");
}

/// Each row of version.data whose answer in apko differs, with the reason.
const KNOWN_DISAGREEMENTS: &[(&str, &str)] = &[
    (
        "4.5.14 > 4.09-r1",
        "apk-tools compares a component with a leading zero as a decimal fraction (.09 > .5); \
         apko parses integers, so 5 < 9",
    ),
    (
        "8.2.0015 < 8.2.002",
        "apk-tools: leading zeros make .0015 < .002 as fractions; apko: 15 > 2",
    ),
];
