//! `cosign-rebuild diff A B`: exit status and output, text and JSON.

use std::process::{Command, Output};

use super::fixture::Fixture;

fn diff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .arg("diff")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn diff_exit_status_and_reports() {
    let a = Fixture::golden();
    let same = diff(&[&a.reference(), &Fixture::golden().reference()]);
    assert_eq!(same.status.code(), Some(0), "{same:?}");
    let text = String::from_utf8(same.stdout).unwrap();
    assert!(text.starts_with("identical: a oci:"), "{text}");

    let b = Fixture::golden();
    b.add_file("amd64", "etc/new", b"new\n");
    let different = diff(&[&a.reference(), &b.reference(), "--output", "json"]);
    assert_eq!(different.status.code(), Some(3), "{different:?}");
    let json: serde_json::Value = serde_json::from_slice(&different.stdout).unwrap();
    assert_eq!(json["verdict"], "different");
    assert_eq!(json["a"]["role"], "a");
    assert_eq!(
        json["platforms"][0]["layers"][0]["files"]["added"][0]["path"],
        "etc/new"
    );

    let text = diff(&[&a.reference(), &b.reference()]);
    assert_eq!(text.status.code(), Some(3));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("+ etc/new (file, only in b)"), "{text}");

    let missing = diff(&[&a.reference(), "oci:/nonexistent/layout"]);
    assert_eq!(missing.status.code(), Some(1));
    let usage = diff(&[&a.reference()]);
    assert_eq!(usage.status.code(), Some(2));
}
