//! `examples/kubernetes/` and `examples/github/catalog.yml` against the real schemas:
//! `kubernetes-validate --strict` (the Kubernetes API's schemas, shipped in the package) and
//! `check-jsonschema --builtin-schema vendor.github-workflows` (the schema vendored in the
//! package), both offline. A mutated copy of each must fail, so a passing run means the
//! validator looked. The catalogues in the examples must parse as catalogues.

use std::path::{Path, PathBuf};
use std::process::Command;

use receipts::rebuild::catalog::Catalogue;

use super::fixture::describe;
use super::tools;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn kubernetes_manifests() -> Vec<PathBuf> {
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(examples().join("kubernetes"))
        .expect("examples/kubernetes")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    manifests.sort();
    manifests
}

#[test]
fn kubernetes_examples_validate_against_the_kubernetes_schemas() {
    let Some(validate) = tools::venv_program("kubernetes-validate") else {
        return;
    };
    let manifests = kubernetes_manifests();
    assert!(manifests.len() >= 4, "{manifests:?}");
    let output = Command::new(&validate)
        .arg("--strict")
        .args(&manifests)
        .output()
        .expect("kubernetes-validate runs");
    assert!(output.status.success(), "{}", describe(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    for kind in ["job/receipts-catalog-audit", "job/receipts-catalog-report"] {
        assert!(
            text.contains(&format!("passed for resource {kind}")),
            "{text}"
        );
    }

    // A misspelt field must be caught: the validator really read the schema.
    let temp = tempfile::tempdir().unwrap();
    let job =
        std::fs::read_to_string(examples().join("kubernetes/catalog-audit-job.yaml")).unwrap();
    let broken = temp.path().join("broken.yaml");
    std::fs::write(&broken, job.replace("completionMode:", "completionMod:")).unwrap();
    let output = Command::new(&validate)
        .arg("--strict")
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!output.status.success(), "{}", describe(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("completionMod"),
        "{}",
        describe(&output)
    );
}

#[test]
fn the_github_matrix_workflow_validates_against_the_workflow_schema() {
    let Some(check) = tools::venv_program("check-jsonschema") else {
        return;
    };
    let workflow = examples().join("github/catalog.yml");
    let run = |path: &Path| {
        Command::new(&check)
            .args(["--builtin-schema", "vendor.github-workflows"])
            .arg(path)
            .output()
            .expect("check-jsonschema runs")
    };
    let output = run(&workflow);
    assert!(output.status.success(), "{}", describe(&output));

    let temp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&workflow).unwrap();
    let broken = temp.path().join("broken.yml");
    std::fs::write(&broken, text.replace("runs-on:", "runs_on:")).unwrap();
    assert!(!run(&broken).status.success());
}

#[test]
fn the_example_catalogues_parse() {
    let catalogue =
        Catalogue::load(&examples().join("catalog.yaml")).expect("examples/catalog.yaml");
    assert_eq!(catalogue.entries.len(), 3);
    // The ConfigMap's catalogue, as the pods read it.
    let configmap: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(examples().join("kubernetes/catalog-configmap.yaml")).unwrap(),
    )
    .unwrap();
    let text = configmap["data"]["catalog.yaml"]
        .as_str()
        .expect("data.catalog.yaml");
    let catalogue =
        Catalogue::parse(Path::new("/etc/receipts/catalog.yaml"), text.as_bytes()).unwrap();
    assert_eq!(catalogue.entries.len(), 2);
    assert_eq!(
        catalogue.build.cache_dir.as_deref(),
        Some(Path::new("/var/cache/receipts"))
    );
}
