//! The content both `build` and `audit` benches build an image from (included with `#[path]`;
//! not a bench target of its own): regular files and symbolic links from `/usr/lib`, `/usr/bin`
//! and `/usr/libexec` (each directory in sorted order) until a given size, split into
//! [`PACKAGES`] packages by `apk::writer` into a repository signed with the example key, and an
//! `apko.yaml` naming them; plus the CPU clock both benches read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use receipts::apk::writer::{self, FileSpec, PackageSpec, SigningKey};

/// How many packages the content is split into.
pub const PACKAGES: usize = 11;
/// The directories the content comes from.
pub const SOURCES: [&str; 3] = ["/usr/lib", "/usr/bin", "/usr/libexec"];

/// Regular files and symlinks under `dir`, sorted by path, with their sizes.
fn collect(dir: &Path, out: &mut Vec<(PathBuf, u64)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if path.to_str().is_none() {
            continue;
        }
        let kind = metadata.file_type();
        if kind.is_dir() {
            collect(&path, out);
        } else if kind.is_symlink() {
            out.push((path, 0));
        } else if kind.is_file() && std::fs::File::open(&path).is_ok() {
            out.push((path, metadata.len()));
        }
    }
}

/// The files for `bytes` of content, in order.
fn corpus(bytes: u64) -> Vec<(PathBuf, u64)> {
    let mut all = Vec::new();
    for source in SOURCES {
        collect(Path::new(source), &mut all);
    }
    // Files that would overshoot are skipped, so the corpus ends close to `bytes`.
    let mut total = 0;
    all.into_iter()
        .filter(|(_, size)| {
            let keep = total + size <= bytes;
            if keep {
                total += size;
            }
            keep
        })
        .collect()
}

/// One package holding `files` (absolute paths) and their parent directories.
fn package_spec(name: &str, files: &[(PathBuf, u64)]) -> PackageSpec {
    let mut spec = PackageSpec::new(name, "1.0-r0", "x86_64");
    let mut dirs = std::collections::BTreeSet::new();
    for (path, _) in files {
        let relative = path.strip_prefix("/").unwrap_or(path);
        let mut parent = relative.parent();
        while let Some(dir) = parent.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(dir.to_string_lossy().into_owned());
            parent = dir.parent();
        }
        let name = relative.to_string_lossy();
        let metadata = std::fs::symlink_metadata(path).expect("metadata");
        let entry = if metadata.file_type().is_symlink() {
            let target = std::fs::read_link(path).expect("link");
            FileSpec::symlink(&name, &target.to_string_lossy())
        } else {
            let mut entry = FileSpec::file(&name, &std::fs::read(path).expect("read file"));
            entry.mode = {
                use std::os::unix::fs::PermissionsExt as _;
                metadata.permissions().mode() & 0o777
            };
            entry
        };
        spec.files.push(entry);
    }
    spec.files
        .extend(dirs.iter().map(|dir| FileSpec::directory(dir)));
    spec
}

/// Writes the repository and `apko.yaml` into `dir`; returns (content bytes, package bytes).
pub fn make_repository(dir: &Path, megabytes: u64) -> (u64, u64) {
    let files = corpus(megabytes * 1_000_000);
    let content: u64 = files.iter().map(|(_, size)| size).sum();
    let key_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/repo/keys");
    let pem = std::fs::read_to_string(key_dir.join("receipts-example.rsa")).expect("key");
    let key = SigningKey::from_pem("receipts-example.rsa.pub", &pem).expect("signing key");
    let per_package = content / PACKAGES as u64 + 1;
    let mut chunks: Vec<Vec<(PathBuf, u64)>> = vec![Vec::new()];
    let mut in_chunk = 0;
    for file in files {
        if in_chunk >= per_package && chunks.len() < PACKAGES {
            chunks.push(Vec::new());
            in_chunk = 0;
        }
        in_chunk += file.1;
        if let Some(chunk) = chunks.last_mut() {
            chunk.push(file);
        }
    }
    let repo = dir.join("repo/x86_64");
    std::fs::create_dir_all(&repo).expect("repo dir");
    // Two at a time: each package's files are in memory while it is built.
    let numbered: Vec<(usize, &Vec<(PathBuf, u64)>)> = chunks.iter().enumerate().collect();
    let repo_dir = &repo;
    let built: Vec<writer::BuiltPackage> = std::thread::scope(|scope| {
        let mut built = Vec::new();
        for pair in numbered.chunks(2) {
            let handles: Vec<_> = pair
                .iter()
                .map(|&(at, files)| {
                    scope.spawn(move || {
                        let spec = package_spec(&format!("content-{at:02}"), files);
                        let package = writer::build_package(&spec, None).expect("package");
                        std::fs::write(repo_dir.join(package.package.filename()), &package.bytes)
                            .expect("write package");
                        writer::BuiltPackage {
                            bytes: Vec::new(),
                            package: package.package,
                        }
                    })
                })
                .collect();
            built.extend(handles.into_iter().map(|h| h.join().expect("builder")));
        }
        built
    });
    let records: Vec<_> = built.iter().map(|p| p.package.clone()).collect();
    let index = writer::build_index(&records, "bench", &key).expect("index");
    std::fs::write(repo.join("APKINDEX.tar.gz"), index).expect("write index");
    std::fs::copy(
        key_dir.join("receipts-example.rsa.pub"),
        dir.join("receipts-example.rsa.pub"),
    )
    .expect("copy key");
    let names: Vec<&str> = records.iter().map(|p| p.name.as_str()).collect();
    std::fs::write(
        dir.join("apko.yaml"),
        format!(
            "contents:\n  keyring: [./receipts-example.rsa.pub]\n  repositories: [./repo]\n  packages: [{}]\narchs: [x86_64]\n",
            names.join(", ")
        ),
    )
    .expect("write apko.yaml");
    let package_bytes = records.iter().map(|p| p.size).sum();
    (content, package_bytes)
}

/// Seconds with two decimals.
pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
