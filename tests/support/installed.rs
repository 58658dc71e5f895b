//! Helpers for the tar and installed-database tests: golden OCI layouts, gzip members of
//! `.apk` files, `.PKGINFO` lines. Independent of the library's readers on purpose (flate2 and
//! the `tar` crate), so that the tests check our code against another implementation.

use sha2::Digest as _;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One layer of a golden OCI layout.
pub struct Layer {
    /// `<layout>/<platform>/<short digest>`, for messages.
    pub label: String,
    /// The decompressed tar.
    pub tar: Vec<u8>,
    /// The diff_id the image config lists for it, as lower-case hex.
    pub diff_id: String,
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    let bytes = read(&layout.join("blobs/sha256").join(hex));
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&bytes)),
        hex,
        "blob {digest} in {} does not match its name",
        layout.display()
    );
    bytes
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("JSON blob")
}

/// Every layer of every image in an OCI layout, in index order, decompressed.
pub fn golden_layers(layout: &Path) -> Vec<Layer> {
    let index = json(&read(&layout.join("index.json")));
    let mut pending: Vec<serde_json::Value> =
        index["manifests"].as_array().expect("manifests").clone();
    pending.reverse();
    let mut layers = Vec::new();
    while let Some(descriptor) = pending.pop() {
        let digest = descriptor["digest"].as_str().expect("digest");
        let manifest = json(&blob(layout, digest));
        if let Some(children) = manifest["manifests"].as_array() {
            pending.extend(children.iter().rev().cloned());
            continue;
        }
        let platform = descriptor["platform"]["architecture"]
            .as_str()
            .unwrap_or("?")
            .to_owned();
        let config = json(&blob(
            layout,
            manifest["config"]["digest"].as_str().expect("config"),
        ));
        let diff_ids = config["rootfs"]["diff_ids"].as_array().expect("diff_ids");
        let entries = manifest["layers"].as_array().expect("layers");
        assert_eq!(diff_ids.len(), entries.len());
        for (layer, diff_id) in entries.iter().zip(diff_ids) {
            let digest = layer["digest"].as_str().expect("layer digest");
            let mut tar = Vec::new();
            flate2::read::MultiGzDecoder::new(&blob(layout, digest)[..])
                .read_to_end(&mut tar)
                .expect("gzip layer");
            layers.push(Layer {
                label: format!(
                    "{}/{platform}/{}",
                    layout.display(),
                    digest.get(7..19).unwrap_or(digest)
                ),
                tar,
                diff_id: diff_id
                    .as_str()
                    .and_then(|d| d.strip_prefix("sha256:"))
                    .expect("diff_id")
                    .to_owned(),
            });
        }
    }
    layers
}

/// The golden layouts made by apko: the upstream golden and the derived builds.
pub fn golden_layouts() -> Vec<PathBuf> {
    let mut layouts = vec![super::data(
        "chainguard-dev/apko/internal/cli/testdata/golden",
    )];
    for case in ["features", "layering", "cacerts"] {
        layouts.push(super::data(&format!(
            "derived/apko/goldens/{case}/expected"
        )));
    }
    layouts
}

/// A file's content as a named regular file inside a tar, via the `tar` crate.
pub fn tar_file(tar: &[u8], name: &str) -> Option<Vec<u8>> {
    let mut archive = ::tar::Archive::new(tar);
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        if &*entry.path_bytes() == name.as_bytes() {
            let mut content = Vec::new();
            entry.read_to_end(&mut content).expect("tar content");
            return Some(content);
        }
    }
    None
}

/// One gzip member of a file: its compressed bytes and what they decompress to.
pub struct Member {
    /// The member's bytes as stored.
    pub raw: Vec<u8>,
    /// The decompressed bytes.
    pub data: Vec<u8>,
}

/// The gzip members of a concatenated stream (an `.apk` has two or three).
pub fn gzip_members(mut bytes: &[u8]) -> Vec<Member> {
    let mut members = Vec::new();
    while !bytes.is_empty() {
        let before = bytes;
        let mut decoder = flate2::bufread::GzDecoder::new(bytes);
        let mut data = Vec::new();
        decoder.read_to_end(&mut data).expect("gzip member");
        bytes = decoder.into_inner();
        let used = before.len() - bytes.len();
        members.push(Member {
            raw: before[..used].to_vec(),
            data,
        });
    }
    members
}

/// An `.apk` split the way apko splits it.
pub struct Apk {
    /// Size of the whole file (`S:`).
    pub size: u64,
    /// The control member as stored (its SHA-1 is `C:`).
    pub control: Member,
    /// The data member.
    pub data: Member,
    /// The signature member, when the package is signed.
    pub signature: Option<Member>,
}

/// Reads an `.apk`: two members (unsigned) or three (signed).
pub fn read_apk(path: &Path) -> Apk {
    let bytes = read(path);
    let mut members = gzip_members(&bytes);
    let data = members.pop().expect("data member");
    let control = members.pop().expect("control member");
    Apk {
        size: bytes.len() as u64,
        control,
        data,
        signature: members.pop(),
    }
}

/// `key = value` lines of the `.PKGINFO` in a control tar, in order (comments skipped).
pub fn pkginfo(control_tar: &[u8]) -> Vec<(String, String)> {
    let text = tar_file(control_tar, ".PKGINFO").expect(".PKGINFO in control tar");
    let text = String::from_utf8(text).expect("UTF-8 .PKGINFO");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').expect("key = value");
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect()
}

/// The package record apko builds from an `.apk` (`PackageInfo.AsPackage`): `.PKGINFO`
/// fields, the control member's SHA-1 and the file size. Also returns the `triggers` values.
pub fn package_from_apk(apk: &Apk) -> (receipts::apk::Package, Vec<String>) {
    let mut package = receipts::apk::Package {
        checksum: sha1::Sha1::digest(&apk.control.raw).to_vec(),
        size: apk.size,
        ..Default::default()
    };
    let mut triggers = Vec::new();
    for (key, value) in pkginfo(&apk.control.data) {
        let number = || value.parse().expect("numeric .PKGINFO value");
        match key.as_str() {
            "pkgname" => package.name = value.into(),
            "pkgver" => package.version = value.into(),
            "arch" => package.arch = value.into(),
            "pkgdesc" => package.description = value.into(),
            "license" => package.license = value.into(),
            "origin" => package.origin = value.into(),
            "maintainer" => package.maintainer = value.into(),
            "url" => package.url = value.into(),
            "commit" => package.commit = value.into(),
            "datahash" => package.data_hash = value,
            "size" => package.installed_size = number(),
            "provider_priority" => package.provider_priority = number(),
            "builddate" => package.build_time = value.parse().expect("builddate"),
            "depend" => package.dependencies.push(value.into()),
            "provides" => package.provides.push(value.into()),
            "install_if" => package.install_if.push(value.into()),
            "replaces" => package.replaces.push(value),
            "triggers" => triggers.push(value),
            _ => {}
        }
    }
    (package, triggers)
}

/// The data tar's entries as the installed database sees them, read with the `tar` crate;
/// leading hidden top-level entries are skipped as apko skips them.
pub fn data_entries(apk: &Apk) -> Vec<receipts::apk::installed::FileEntry> {
    use receipts::apk::installed::{CHECKSUM_RECORD, EntryKind, FileEntry};
    let mut archive = ::tar::Archive::new(&apk.data.data[..]);
    let mut entries = Vec::new();
    let mut started = false;
    for entry in archive.entries().expect("data entries") {
        let mut entry = entry.expect("data entry");
        let path = String::from_utf8(entry.path_bytes().into_owned()).expect("UTF-8 path");
        if !started && path.starts_with('.') && !path.contains('/') {
            continue;
        }
        started = true;
        let mut checksum = None;
        if let Some(extensions) = entry.pax_extensions().expect("pax") {
            for extension in extensions {
                let extension = extension.expect("pax record");
                if extension.key_bytes() == CHECKSUM_RECORD.as_bytes() {
                    checksum =
                        Some(String::from_utf8(extension.value_bytes().to_vec()).expect("UTF-8"));
                }
            }
        }
        let header = entry.header();
        entries.push(FileEntry {
            path,
            kind: if header.entry_type().is_dir() {
                EntryKind::Directory
            } else {
                EntryKind::File
            },
            mode: i64::from(header.mode().expect("mode")),
            uid: header.uid().expect("uid") as i64,
            gid: header.gid().expect("gid") as i64,
            checksum,
        });
    }
    entries
}

/// Packages from one directory of the test data, each as apko's record input.
pub fn support_dir_apks(
    dir: &str,
    files: &[&str],
) -> Vec<(
    receipts::apk::Package,
    Vec<receipts::apk::installed::FileEntry>,
)> {
    let dir = super::data(dir);
    files
        .iter()
        .map(|file| {
            let apk = read_apk(&dir.join(file));
            (package_from_apk(&apk).0, data_entries(&apk))
        })
        .collect()
}
