//! Root filesystem assembly and the layer walk against layers apko built: the packages of a
//! golden build installed in lock order, apko's own files added, the tree walked into a tar,
//! compared byte for byte with the golden layer.

use crate::support::installed as help;
use crate::support::rootfs::{self as case, Case};
use receipts::build::fs::Spool;
use receipts::build::{rootfs, walk};

/// Builds one architecture's single layer; returns our tar, its diff_id and the golden layer.
fn rebuild(case: &Case, arch: &str, platform: &str) -> (Vec<u8>, String, help::Layer) {
    let spool = Spool::new().expect("spool");
    let plan = case.plan(arch);
    let packages = case.packages(&spool, arch);
    let mut golden = case::golden_layers(case, platform);
    assert_eq!(golden.len(), 1, "{platform}: one layer");
    let golden = golden.remove(0);
    let built =
        rootfs::build(&plan, packages, |run_as| case.apko_json(arch, run_as)).expect("rootfs");
    let (tar, hashed) = walk::write_layer(built.tree(), Vec::new()).expect("layer");
    assert_eq!(hashed.size, tar.len() as u64);
    (tar, hex::encode(hashed.sha256), golden)
}

#[test]
fn upstream_golden_layers_are_rebuilt_byte_for_byte() {
    let case = case::upstream_case();
    for (arch, platform, diff_id) in [
        (
            "x86_64",
            "amd64",
            "20f698463c2755b6dc42b7d07e959ed7455a06e7367d507e829a315898f21a01",
        ),
        (
            "aarch64",
            "arm64",
            "ca5e16c7c944d764863cb1a4286e668e72d6d87ef9ddd82337b19d87715bae7e",
        ),
    ] {
        let (tar, ours, golden) = rebuild(&case, arch, platform);
        case::assert_same_tar(&golden.label, &tar, &golden.tar);
        assert_eq!(golden.diff_id, diff_id);
        assert_eq!(ours, diff_id, "{platform}");
        assert_eq!(tar.len(), 32768);
    }
}

#[test]
fn features_layers_are_rebuilt_byte_for_byte() {
    let case = case::derived_case("features");
    for (arch, platform) in [("x86_64", "amd64"), ("aarch64", "arm64")] {
        let (tar, ours, golden) = rebuild(&case, arch, platform);
        case::assert_same_tar(&golden.label, &tar, &golden.tar);
        assert_eq!(ours, golden.diff_id, "{platform}");
    }
}

#[test]
fn whole_data_tars_spool_to_the_same_layer() {
    let case = case::derived_case("features");
    let spool = Spool::new().expect("spool");
    let plan = case.plan("aarch64");
    let packages = case.packages_via_data_tar(&spool, "aarch64");
    let built =
        rootfs::build(&plan, packages, |run_as| case.apko_json("aarch64", run_as)).expect("rootfs");
    let (tar, hashed) = walk::write_layer(built.tree(), Vec::new()).expect("layer");
    let golden = case::golden_layers(&case, "arm64").remove(0);
    case::assert_same_tar(&golden.label, &tar, &golden.tar);
    assert_eq!(hex::encode(hashed.sha256), golden.diff_id);
}

#[test]
fn cacerts_layer_is_rebuilt_byte_for_byte() {
    let case = case::derived_case("cacerts");
    let (tar, ours, golden) = rebuild(&case, "x86_64", "amd64");
    case::assert_same_tar(&golden.label, &tar, &golden.tar);
    assert_eq!(ours, golden.diff_id);
}
