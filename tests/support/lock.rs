//! Helpers for the `oras-lock` tests: run the built binary in a directory, write small signed
//! repositories with `apk::writer`, set up the alpine-316 repository of apko's resolution case,
//! and read `etc/apko.json` out of an apko-built OCI layout.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use receipts::apk::writer::{self, PackageSigning, PackageSpec, SigningKey};

/// What a run of `oras-lock` printed and how it ended.
pub struct Run {
    /// Exit status code.
    pub status: i32,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error, as text.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            status: output.status.code().unwrap_or(-1),
            stdout: output.stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Standard output as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs `oras-lock args…` with `dir` as working directory; the default cache directory is under
/// the build's temporary directory (unless the arguments name one), never the user's.
pub fn oras_lock(dir: &Path, args: &[&str]) -> Run {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_oras-lock"))
        .args(args)
        .current_dir(dir)
        .env(
            "XDG_CACHE_HOME",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("oras-lock-cache-home"),
        )
        .output()
        .expect("run oras-lock");
    Run::from(output)
}

/// The committed test-only signing key of `examples/repo/`.
pub fn example_key() -> SigningKey {
    let pem = std::fs::read_to_string(example_public_key().with_extension(""))
        .expect("read examples/repo/keys/receipts-example.rsa");
    SigningKey::from_pem("receipts-example.rsa.pub", &pem).expect("example key")
}

/// `examples/repo/keys/receipts-example.rsa.pub`.
pub fn example_public_key() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/repo/keys/receipts-example.rsa.pub")
}

/// A package spec with one file, so each version's bytes differ.
pub fn package(name: &str, version: &str, arch: &str, dependencies: &[&str]) -> PackageSpec {
    let mut spec = PackageSpec::new(name, version, arch);
    spec.package.description = format!("{name} for tests").into();
    spec.package.license = "MIT".into();
    spec.package.dependencies = dependencies.iter().map(|&d| d.into()).collect();
    spec.files = vec![writer::FileSpec::file(
        &format!("usr/share/{name}/version"),
        format!("{name} {version}\n").as_bytes(),
    )];
    spec
}

/// Writes a signed repository of `specs` to `<root>/<arch>/` (replacing what was there).
pub fn write_repository(root: &Path, arch: &str, specs: &[PackageSpec]) {
    let dir = root.join(arch);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("clear repository");
    }
    let repository = writer::build_repository(
        specs,
        "test repository",
        &example_key(),
        PackageSigning::Signed,
    )
    .expect("build repository");
    writer::write_repository(&repository, &dir).expect("write repository");
}

/// Writes `apko.yaml` into `dir` with the example key (copied beside it) and `./repo`.
pub fn write_config(dir: &Path, packages: &[&str], archs: &[&str]) {
    std::fs::copy(example_public_key(), dir.join("receipts-example.rsa.pub")).expect("copy key");
    let yaml = format!(
        "contents:\n  keyring: [./receipts-example.rsa.pub]\n  repositories: [./repo]\n  packages: [{}]\narchs: [{}]\n",
        packages.join(", "),
        archs.join(", ")
    );
    std::fs::write(dir.join("apko.yaml"), yaml).expect("write apko.yaml");
}

/// apko's alpine-316-dev resolution case set up as its README says: `repo/x86_64/` holding
/// the alpine-316 index (linked), the Alpine key and `apko.yaml` beside it.
pub fn alpine_316_dev(dir: &Path) {
    let case = super::data("derived/apko/resolve/alpine-316-dev");
    let index = super::data("chainguard-dev/apko/pkg/apk/apk/testdata/alpine-316/APKINDEX.tar.gz");
    let key = super::data(
        "postmarketOS-gitlab-mirror/pmbootstrap/pmb/data/keys/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
    );
    std::fs::create_dir_all(dir.join("repo/x86_64")).expect("repo dir");
    std::os::unix::fs::symlink(&index, dir.join("repo/x86_64/APKINDEX.tar.gz")).expect("link");
    std::fs::copy(&key, dir.join(key.file_name().expect("key name"))).expect("copy key");
    std::fs::copy(case.join("apko.yaml"), dir.join("apko.yaml")).expect("copy apko.yaml");
}

/// Every `etc/apko.json` in the layers of an apko-built OCI layout, keyed by the `archs` it
/// names (one per image).
pub fn apko_json_files(layout: &Path) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    let blobs = layout.join("blobs/sha256");
    for entry in std::fs::read_dir(&blobs).expect("blobs") {
        let bytes = std::fs::read(entry.expect("blob").path()).expect("read blob");
        if !bytes.starts_with(&[0x1f, 0x8b]) {
            continue;
        }
        let mut tar = Vec::new();
        if flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .read_to_end(&mut tar)
            .is_err()
        {
            continue;
        }
        let mut archive = tar::Archive::new(tar.as_slice());
        for file in archive.entries().expect("tar entries") {
            let mut file = file.expect("tar entry");
            let path = file.path().expect("path").to_string_lossy().into_owned();
            if path == "etc/apko.json" {
                let mut content = Vec::new();
                file.read_to_end(&mut content).expect("read apko.json");
                found.push(content);
            }
        }
    }
    found
}
