//! A catalogue world for the tests: a signed package repository made by `apk::writer` and
//! served over loopback HTTP (so audits go through the download cache), a real registry, a
//! cosign key pair, and images built, pushed and attested by the binary itself.
//!
//! Images share most packages (`base`, `libshared`); each has its own `app-N`. A "tampered"
//! image is published with one more package (`tamper`) than its attested configuration, so its
//! rebuild is `different` with the files of `tamper` added.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use receipts::apk::writer::{self, FileSpec, PackageSigning, PackageSpec};

use crate::support::http::Server as Http;
use crate::support::lock::{example_key, example_public_key};
use crate::support::registry::Registry;

/// The password of the fixture's cosign key.
pub const PASSWORD: &str = "catalog-test";

/// Runs `cosign-rebuild args…` in `dir`.
pub fn binary(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .current_dir(dir)
        .args(args)
        .env("COSIGN_PASSWORD", PASSWORD)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("JOB_COMPLETIONS")
        .env("DOCKER_CONFIG", "/nonexistent")
        .output()
        .expect("cosign-rebuild runs")
}

/// Status and output, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// What an image's audit must find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Published as attested.
    Identical,
    /// Published with `tamper` added.
    Different,
}

/// The repository, registry and keys.
pub struct World {
    /// Scratch space (configurations, predicates, keys, caches).
    pub dir: tempfile::TempDir,
    /// The package repository.
    pub http: Http,
    /// The registry.
    pub registry: Registry,
    /// The cosign private key.
    pub key: PathBuf,
    /// Its public key.
    pub public: PathBuf,
    /// The repository's directory (`x86_64/*.apk`).
    pub repository: PathBuf,
}

/// Deterministic filler bytes, different per seed.
fn filler(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8
        })
        .collect()
}

/// A package of `files`, with a directory entry for each directory they are in.
fn spec(name: &str, files: Vec<FileSpec>) -> PackageSpec {
    let mut spec = PackageSpec::new(name, "1.0-r0", "x86_64");
    spec.package.description = format!("{name} for the catalogue tests").into();
    spec.package.license = "MIT".into();
    let mut dirs = std::collections::BTreeSet::new();
    for file in &files {
        let mut path = Path::new(&file.path).parent();
        while let Some(dir) = path.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(dir.to_string_lossy().into_owned());
            path = dir.parent();
        }
    }
    spec.files = dirs.iter().map(|dir| FileSpec::directory(dir)).collect();
    spec.files.extend(files);
    spec
}

impl World {
    /// A repository with the shared packages, `tamper` and `app-0` … `app-{apps-1}`.
    pub fn new(apps: usize) -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let repository = dir.path().join("repository");
        let mut specs = vec![
            spec(
                "base",
                (0..4)
                    .map(|i| FileSpec::file(&format!("usr/lib/base/{i}.bin"), &filler(i, 24 << 10)))
                    .collect(),
            ),
            spec(
                "libshared",
                vec![FileSpec::file(
                    "usr/lib/libshared.so.1",
                    &filler(99, 32 << 10),
                )],
            ),
            spec(
                "tamper",
                vec![FileSpec::file(
                    "usr/bin/backdoor",
                    b"#!/bin/sh\necho tampered\n",
                )],
            ),
        ];
        for app in 0..apps {
            specs.push(spec(
                &format!("app-{app}"),
                vec![FileSpec::file(
                    &format!("usr/bin/app-{app}"),
                    format!("#!/bin/sh\necho app {app}\n").as_bytes(),
                )],
            ));
        }
        let built =
            writer::build_repository(&specs, "catalogue", &example_key(), PackageSigning::Signed)
                .expect("build repository");
        writer::write_repository(&built, &repository.join("x86_64")).expect("write repository");
        std::fs::create_dir_all(repository.join("keys")).expect("keys dir");
        std::fs::copy(
            example_public_key(),
            repository.join("keys/receipts-example.rsa.pub"),
        )
        .expect("copy key");
        let http = Http::serve(&repository);
        let registry = Registry::start();
        let output = binary(
            dir.path(),
            &["generate-key-pair", "--output-key-prefix", "signer"],
        );
        assert!(output.status.success(), "{}", describe(&output));
        World {
            key: dir.path().join("signer.key"),
            public: dir.path().join("signer.pub"),
            repository,
            http,
            registry,
            dir,
        }
    }

    /// Writes an apko configuration installing `packages` from the served repository.
    pub fn config(&self, name: &str, packages: &[String]) -> PathBuf {
        let path = self.dir.path().join("configs").join(format!("{name}.yaml"));
        std::fs::create_dir_all(path.parent().expect("configs dir")).expect("configs dir");
        let yaml = format!(
            "contents:\n  keyring: [{key}]\n  repositories: [{repo}]\n  packages: [{packages}]\narchs: [x86_64]\n",
            key = self.http.url("/keys/receipts-example.rsa.pub"),
            repo = self.http.url(""),
            packages = packages.join(", "),
        );
        std::fs::write(&path, yaml).expect("write configuration");
        path
    }

    /// Builds, pushes and attests image `app-N` as `REGISTRY/app-N:v1`; returns the image.
    pub fn publish(&self, app: usize, expect: Expect) -> String {
        let name = format!("app-{app}");
        let attested: Vec<String> = ["base", "libshared", &name]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let image = format!("{}:v1", self.registry.repository(&name));
        let cache = self.dir.path().join("build-cache").display().to_string();
        let predicate = self.dir.path().join(format!("{name}.predicate.json"));
        let predicate_arg = predicate.display().to_string();
        let config = self.config(&name, &attested).display().to_string();
        let dir = self.dir.path();
        let build = |config: &str, output: &str, locked_out: Option<&str>| {
            let mut args = vec!["build", config, "--output", output, "--cache-dir", &cache];
            if let Some(path) = locked_out {
                args.extend(["--locked-out", path]);
            }
            let output = binary(dir, &args);
            assert!(output.status.success(), "{}", describe(&output));
        };
        match expect {
            Expect::Identical => build(&config, &image, Some(&predicate_arg)),
            Expect::Different => {
                let scratch = format!("oci:{}", dir.join(format!("{name}.clean")).display());
                build(&config, &scratch, Some(&predicate_arg));
                let mut published = attested.clone();
                published.push("tamper".to_owned());
                let tampered = self.config(&format!("{name}.tampered"), &published);
                build(&tampered.display().to_string(), &image, None);
            }
        }
        let key = self.key.display().to_string();
        let output = binary(
            dir,
            &[
                "attest",
                &image,
                "--predicate",
                &predicate_arg,
                "--key",
                &key,
                "--tlog-upload=false",
            ],
        );
        assert!(output.status.success(), "{}", describe(&output));
        image
    }

    /// Publishes `app-0` … `app-{count-1}` on two threads; `different(N)` says which are
    /// tampered. Returns the images with what their audits must find.
    pub fn publish_all(
        &self,
        count: usize,
        different: &(dyn Fn(usize) -> bool + Sync),
    ) -> Vec<(String, Expect)> {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let images = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    loop {
                        let app = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if app >= count {
                            return;
                        }
                        let expect = if different(app) {
                            Expect::Different
                        } else {
                            Expect::Identical
                        };
                        let image = self.publish(app, expect);
                        images.lock().unwrap().push((app, image, expect));
                    }
                });
            }
        });
        let mut images = images.into_inner().unwrap();
        images.sort_by_key(|(app, _, _)| *app);
        images
            .into_iter()
            .map(|(_, image, expect)| (image, expect))
            .collect()
    }

    /// Writes a catalogue of `images` (plus `extra` YAML entries) verified with the fixture's
    /// key; returns its path.
    pub fn catalogue(&self, name: &str, images: &[String], extra: &str) -> PathBuf {
        let mut yaml = format!(
            "defaults:\n  key: {}\n  insecure-ignore-tlog: true\nimages:\n",
            self.public.display()
        );
        for image in images {
            yaml.push_str(&format!("  - image: {image}\n"));
        }
        yaml.push_str(extra);
        let path = self.dir.path().join(name);
        std::fs::write(&path, yaml).expect("write catalogue");
        path
    }

    /// The `.apk` files under `cache` (relative names), sorted.
    pub fn cached_packages(cache: &Path) -> Vec<String> {
        let mut found = Vec::new();
        let mut stack = vec![cache.to_owned()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Some(name) = path.file_name().and_then(|n| n.to_str())
                    && name.ends_with(".apk")
                {
                    found.push(name.to_owned());
                }
            }
        }
        found.sort();
        found
    }

    /// Files under `dir` whose names say they are temporary (left by an interrupted write).
    pub fn temporary_files(dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if path.is_dir() {
                    stack.push(path);
                } else if name.starts_with(".tmp") || name.ends_with(".tmp") {
                    found.push(path);
                }
            }
        }
        found
    }
}
