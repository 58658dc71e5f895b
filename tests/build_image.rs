//! Tests for image assembly: configs, manifests, indexes and OCI layouts made from apko's
//! golden layers are byte-identical to the goldens apko wrote; layering groups and splits a
//! walk into apko's exact layers.
//!
//! What is taken from a golden as input: its layer blobs (decompressed, the tars are what the
//! root filesystem will build; recompressed here, they must give the golden blobs again), the
//! user table in the layer's `etc/passwd` (for `run-as`), and for the base-image case the base
//! layout. Everything else comes from the configuration, the lock file, the packages and the
//! environment the golden README states.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::support;
use receipts::apk::archive;
use receipts::build::image::{self, BaseImage, Image, SourceDate, write_layout};
use receipts::build::layer::{BuiltLayer, LayerSink};
use receipts::build::layering::{self, Destination, Splitter};
use receipts::codec::tar::{EntryType, Format, HashingWriter, Header, Reader};
use receipts::compress;
use receipts::config::arch::Architecture;
use receipts::config::image::ImageConfiguration;
use receipts::config::load::Loader;
use receipts::config::lock::Lock;
use receipts::oci::Digest;
use receipts::oci::{ConfigFile, Index, Manifest};

const CLI: &str = "chainguard-dev/apko/internal/cli";
const GOLDENS: &str = "derived/apko/goldens";

/// One golden build: where apko ran, with what, and what it wrote.
struct Case {
    /// apko's working directory.
    work_dir: PathBuf,
    /// The configuration, relative to `work_dir`.
    config: &'static str,
    /// The lock file naming the installed packages (relative to `work_dir`).
    lock: &'static str,
    /// The OCI layout apko wrote.
    golden: PathBuf,
    /// `SOURCE_DATE_EPOCH` as the build saw it (`None`: unset).
    source_date_epoch: Option<&'static str>,
    /// `--annotations` given on the command line.
    annotations: &'static [(&'static str, &'static str)],
    /// The base image layout, for `contents.baseimage`.
    base: Option<PathBuf>,
    /// The index digest the golden's README or apko's test states.
    index_digest: &'static str,
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn blob(layout: &Path, digest: &Digest) -> Vec<u8> {
    read(&layout.join("blobs/sha256").join(digest.hex()))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The entries of a tar, with content, headers as a walk would make them (no format asked).
fn entries(tar: &[u8]) -> Vec<(Header, Vec<u8>)> {
    let mut reader = Reader::new(tar);
    let mut out = Vec::new();
    while let Some(mut header) = reader.next_header().expect("tar header") {
        let mut content = Vec::new();
        reader.read_to_end(&mut content).expect("tar content");
        header.format = Format::Unknown;
        out.push((header, content));
    }
    out
}

fn gunzip(gz: &[u8]) -> Vec<u8> {
    compress::strict::decompress(gz).expect("gzip layer").0
}

/// Recompresses a golden layer's tar through our layer sink; it must give the golden blob.
fn rebuilt_layer(gz: &[u8], expected: &Digest, dir: &Path) -> BuiltLayer {
    let tar = gunzip(gz);
    let sink = LayerSink::create_in(dir, compress::Options::apko()).expect("layer sink");
    let mut hashing = HashingWriter::new(sink);
    hashing.write_all(&tar).expect("write tar");
    let (sink, hashed) = hashing.finish();
    let layer = sink.finish(hashed).expect("finish layer");
    assert_eq!(layer.digest(), *expected, "recompressed layer");
    assert_eq!(layer.size(), gz.len() as u64);
    assert_eq!(layer.diff_id(), Digest::of(&tar));
    assert_eq!(layer.uncompressed_size(), tar.len() as u64);
    assert_eq!(read(layer.path()), gz);
    layer
}

/// The uid of `user` in the layer's `etc/passwd` (apko's `mutateAccounts` resolves `run-as`
/// against the image's final user table).
fn uid_in_passwd(tar: &[u8], user: &str) -> Option<String> {
    let (_, passwd) = entries(tar)
        .into_iter()
        .find(|(header, _)| header.name == b"etc/passwd")?;
    text(&passwd).lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&user))
            .then(|| fields.get(2).map(|uid| (*uid).to_owned()))
            .flatten()
    })
}

/// The configuration as apko builds it: loaded, validated, command-line annotations merged.
fn configuration(case: &Case) -> ImageConfiguration {
    let mut configuration = Loader::new()
        .working_dir(&case.work_dir)
        .load(case.config)
        .expect("configuration")
        .configuration;
    configuration.validate().expect("valid configuration");
    for (key, value) in case.annotations {
        configuration
            .annotations
            .insert((*key).to_owned(), (*value).to_owned());
    }
    configuration
}

/// Build times of the packages installed for `arch`: the lock's packages (from their
/// `.PKGINFO`) and the base image's (`t:` of its APKINDEX-style file).
fn build_times(case: &Case, arch: &Architecture) -> Vec<i64> {
    let lock = Lock::read(case.work_dir.join(case.lock)).expect("lock file");
    let mut times = Vec::new();
    for package in lock.installable(arch).expect("locked packages") {
        let bytes = read(&case.work_dir.join(&package.url));
        let apk = archive::read_package(&bytes, &package.name).expect("package");
        times.push(apk.pkginfo.package.build_time);
    }
    if let Some(base) = &case.base {
        let index = base.join("metadata").join(arch.to_apk()).join("APKINDEX");
        for record in receipts::apk::installed::parse(&read(&index)).expect("apkindex") {
            times.push(record.package.build_time);
        }
    }
    times
}

/// The golden's images in index order: architecture, manifest bytes and manifest.
fn golden_images(golden: &Path) -> Vec<(Architecture, Vec<u8>, Manifest)> {
    let index: Index =
        serde_json::from_slice(&read(&golden.join("index.json"))).expect("golden index");
    index
        .manifests
        .iter()
        .map(|descriptor| {
            let platform = descriptor.platform.as_ref().expect("platform");
            let bytes = blob(golden, &descriptor.digest);
            let manifest: Manifest = serde_json::from_slice(&bytes).expect("golden manifest");
            (Architecture::parse(&platform.architecture), bytes, manifest)
        })
        .collect()
}

/// Every file of a layout (relative path → bytes), SBOMs left out.
fn layout_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("layout directory") {
            let path = entry.expect("directory entry").path();
            let relative = path
                .strip_prefix(dir)
                .expect("inside the layout")
                .to_string_lossy()
                .into_owned();
            if relative == "sboms" {
                continue;
            }
            if crate::support::is_real_dir(&path) {
                pending.push(path);
            } else {
                files.insert(relative, read(&path));
            }
        }
    }
    files
}

/// Builds every image of the case from the golden layers and checks config, manifest, index
/// and the written layout against the golden byte for byte.
fn check(case: &Case) {
    let temp = tempfile::tempdir().expect("temp dir");
    let configuration = configuration(case);
    let source_date = SourceDate::resolve(case.source_date_epoch, None).expect("source date");
    let mut images: Vec<Image> = Vec::new();
    for (arch, golden_manifest, manifest) in golden_images(&case.golden) {
        let base = case
            .base
            .as_ref()
            .map(|layout| BaseImage::open(layout, &arch).expect("base image"));
        let inherited = base.as_ref().map_or(0, |b| b.manifest().layers.len());
        let own = manifest.layers.get(inherited..).expect("golden layers");
        let tars: Vec<Vec<u8>> = own
            .iter()
            .map(|d| gunzip(&blob(&case.golden, &d.digest)))
            .collect();
        let layers: Vec<BuiltLayer> = own
            .iter()
            .map(|d| rebuilt_layer(&blob(&case.golden, &d.digest), &d.digest, temp.path()))
            .collect();
        // The diff_ids the golden config lists are the SHA-256 of the decompressed layers.
        let golden_config: ConfigFile =
            serde_json::from_slice(&blob(&case.golden, &manifest.config.digest)).expect("config");
        let own_diff_ids = golden_config.rootfs.diff_ids.get(inherited..);
        let built_diff_ids: Vec<Digest> = layers.iter().map(BuiltLayer::diff_id).collect();
        assert_eq!(
            own_diff_ids,
            Some(built_diff_ids.as_slice()),
            "{arch} diff_ids"
        );
        let mut arch_configuration = configuration.clone();
        let run_as = arch_configuration.accounts.run_as.clone();
        if !run_as.is_empty()
            && let Some(uid) = tars.last().and_then(|tar| uid_in_passwd(tar, &run_as))
        {
            arch_configuration.accounts.run_as = uid;
        }
        let created = source_date.build_date_epoch(build_times(case, &arch));
        let image = image::assemble(&arch_configuration, &arch, created, layers, base.as_ref())
            .expect("assemble");
        let golden_config = blob(&case.golden, &manifest.config.digest);
        assert_eq!(text(image.config()), text(&golden_config), "{arch} config");
        assert_eq!(image.config_digest(), manifest.config.digest);
        assert_eq!(
            text(image.manifest()),
            text(&golden_manifest),
            "{arch} manifest"
        );
        images.push(image);
    }
    let index = image::index(&configuration, &images, &source_date).expect("index");
    assert_eq!(
        text(&index.bytes),
        text(&read(&case.golden.join("index.json"))),
        "index"
    );
    assert_eq!(index.digest.to_string(), case.index_digest);

    let out = temp.path().join("layout");
    let root = write_layout(&out, &index, &images).expect("write layout");
    assert_eq!(root.digest, index.digest);
    let written = layout_files(&out);
    let golden = layout_files(&case.golden);
    assert_eq!(
        written.keys().collect::<Vec<_>>(),
        golden.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &golden {
        assert!(written.get(name) == Some(bytes), "{name} differs");
    }
    assert_eq!(written.get("oci-layout").map(Vec::len), Some(37));
}

fn derived(case: &str) -> PathBuf {
    support::data(&format!("{GOLDENS}/{case}"))
}

#[test]
fn apko_cli_golden_is_rebuilt_byte_for_byte() {
    let work_dir = support::data(CLI);
    check(&Case {
        golden: work_dir.join("testdata/golden"),
        work_dir,
        config: "testdata/apko.yaml",
        lock: "testdata/apko.lock.json",
        source_date_epoch: None,
        annotations: &[
            ("org.opencontainers.image.vendor", "Vendor"),
            ("org.opencontainers.image.title", "Title"),
        ],
        base: None,
        index_digest: "sha256:b5f05e6fc882c97d61c1daee566954ae6fc09924f8e152293e2b97a06092069f",
    });
}

#[test]
fn image_on_a_base_image_is_rebuilt_byte_for_byte() {
    let work_dir = support::data(CLI);
    check(&Case {
        golden: work_dir.join("testdata/top_image"),
        base: Some(work_dir.join("testdata/base_image")),
        work_dir,
        config: "testdata/image_on_top.apko.yaml",
        lock: "testdata/image_on_top.apko.lock.json",
        source_date_epoch: None,
        annotations: &[],
        index_digest: "sha256:c05b35bf9653dd6b5cef6b5c0239a1400a8faa6fb4e63830aecbb68b27bea056",
    });
}

#[test]
fn features_golden_is_rebuilt_byte_for_byte() {
    let work_dir = derived("features");
    check(&Case {
        golden: work_dir.join("expected"),
        work_dir,
        config: "apko.yaml",
        lock: "apko.lock.json",
        source_date_epoch: None,
        annotations: &[],
        base: None,
        index_digest: "sha256:4c249d74f7e9355ad5ffb16619e1c4202961e092f11f6acef7382628a73c5b1a",
    });
}

#[test]
fn cacerts_golden_with_source_date_epoch_is_rebuilt_byte_for_byte() {
    let work_dir = derived("cacerts");
    let env: BTreeMap<String, String> =
        serde_json::from_slice(&read(&work_dir.join("env.json"))).expect("env.json");
    assert_eq!(
        env.get("SOURCE_DATE_EPOCH").map(String::as_str),
        Some("1750000000")
    );
    check(&Case {
        golden: work_dir.join("expected"),
        work_dir,
        config: "apko.yaml",
        lock: "apko.lock.json",
        source_date_epoch: Some("1750000000"),
        annotations: &[],
        base: None,
        index_digest: "sha256:fc9d33807e8286beac00afad81237f19fa9bb6c50e55890f4ecbdb4f043fa84e",
    });
}

#[test]
fn layering_golden_is_rebuilt_byte_for_byte() {
    let work_dir = derived("layering");
    check(&Case {
        golden: work_dir.join("expected"),
        work_dir,
        config: "apko.yaml",
        lock: "apko.lock.json",
        source_date_epoch: None,
        annotations: &[],
        base: None,
        index_digest: "sha256:dc2ca77df8126c0b275353addd589df1f87956cc95815c14cfbfe290b4218ffa",
    });
}

/// The layering case's installed packages with the non-directory paths of their data.
fn layering_packages(work_dir: &Path) -> Vec<(receipts::apk::Package, BTreeSet<Vec<u8>>)> {
    let lock = Lock::read(work_dir.join("apko.lock.json")).expect("lock file");
    lock.installable(&Architecture::parse("x86_64"))
        .expect("locked packages")
        .into_iter()
        .map(|locked| {
            let apk = archive::read_package(&read(&work_dir.join(&locked.url)), &locked.name)
                .expect("package");
            let files = apk
                .files
                .iter()
                .filter(|entry| entry.header.typeflag != EntryType::DIRECTORY)
                .map(|entry| entry.header.name.clone())
                .collect();
            (apk.pkginfo.package, files)
        })
        .collect()
}

#[test]
fn layering_groups_follow_origins_and_sizes() {
    let work_dir = derived("layering");
    let configuration = Loader::new()
        .working_dir(&work_dir)
        .load("apko.yaml")
        .expect("configuration")
        .configuration;
    let budget = layering::budget(&configuration)
        .expect("layering configuration")
        .expect("layering configured");
    let packages = layering_packages(&work_dir);
    let records: Vec<_> = packages.iter().map(|(p, _)| p.clone()).collect();
    let groups = layering::group_by_origin(&records, budget).expect("groups");
    let names: Vec<Vec<&str>> = groups
        .iter()
        .map(|g| g.packages.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        names,
        [vec!["libd"], vec!["libc"], vec!["app", "liba", "libb"]]
    );

    let golden = work_dir.join("expected");
    let [(_, _, manifest)] = golden_images(&golden).try_into().expect("one image");
    assert_eq!(
        manifest.layers.len(),
        groups.len() + 1,
        "groups plus the top layer"
    );
    let files_of = |name: &str| -> BTreeSet<Vec<u8>> {
        packages
            .iter()
            .find(|(p, _)| p.name == name)
            .map(|(_, files)| files.clone())
            .unwrap_or_default()
    };
    for (index, descriptor) in manifest.layers.iter().enumerate() {
        let layer_files: BTreeSet<Vec<u8>> = entries(&gunzip(&blob(&golden, &descriptor.digest)))
            .into_iter()
            .filter(|(h, _)| h.typeflag != EntryType::DIRECTORY)
            .map(|(h, _)| h.name)
            .collect();
        match groups.get(index) {
            Some(group) => {
                let mut expected: BTreeSet<Vec<u8>> = group
                    .packages
                    .iter()
                    .flat_map(|name| files_of(name))
                    .collect();
                expected.insert(b"usr/lib/apk/db/installed".to_vec());
                assert_eq!(layer_files, expected, "layer {index}");
            }
            None => {
                for (_, files) in &packages {
                    assert!(
                        layer_files.is_disjoint(files),
                        "top layer has package files"
                    );
                }
            }
        }
    }
}

/// Depth-first, children in byte order: the order of apko's walk.
fn walk_key(name: &[u8]) -> Vec<&[u8]> {
    name.split(|&b| b == b'/').collect()
}

/// Records of an installed database by package name (each with its closing blank line).
fn installed_records(db: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let text = text(db);
    text.split_inclusive("\n\n")
        .filter_map(|record| {
            let name = record.lines().find_map(|line| line.strip_prefix("P:"))?;
            Some((name.to_owned(), record.as_bytes().to_vec()))
        })
        .collect()
}

#[test]
fn layering_splitter_writes_apkos_layers_from_one_walk() {
    let work_dir = derived("layering");
    let golden = work_dir.join("expected");
    let configuration = Loader::new()
        .working_dir(&work_dir)
        .load("apko.yaml")
        .expect("configuration")
        .configuration;
    let budget = layering::budget(&configuration)
        .expect("layering configuration")
        .expect("layering configured");
    let packages = layering_packages(&work_dir);
    let records: Vec<_> = packages.iter().map(|(p, _)| p.clone()).collect();
    let groups = layering::group_by_origin(&records, budget).expect("groups");
    let [(arch, golden_manifest, manifest)] = golden_images(&golden).try_into().expect("image");
    let layer_entries: Vec<Vec<(Header, Vec<u8>)>> = manifest
        .layers
        .iter()
        .map(|d| entries(&gunzip(&blob(&golden, &d.digest))))
        .collect();

    // The full filesystem's walk: the top layer has every directory and every entry no package
    // owns; each package file comes from its group's layer.
    let mut owner: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for (index, group) in groups.iter().enumerate() {
        for (package, files) in &packages {
            if group.packages.iter().any(|g| *g == package.name) {
                owner.extend(files.iter().map(|f| (f.clone(), index)));
            }
        }
    }
    let (top, group_layers) = layer_entries.split_last().expect("layers");
    let mut walk: Vec<(Header, Vec<u8>)> = top.clone();
    for entries in group_layers {
        walk.extend(
            entries
                .iter()
                .filter(|(h, _)| owner.contains_key(&h.name))
                .cloned(),
        );
    }
    walk.sort_by(|(a, _), (b, _)| walk_key(&a.name).cmp(&walk_key(&b.name)));

    let (_, db) = top
        .iter()
        .find(|(h, _)| h.name == b"usr/lib/apk/db/installed")
        .expect("installed database");
    let by_name = installed_records(db);
    let installed: Vec<Vec<u8>> = groups
        .iter()
        .map(|g| {
            g.packages
                .iter()
                .flat_map(|name| by_name.get(name).cloned().unwrap_or_default())
                .collect()
        })
        .collect();

    let temp = tempfile::tempdir().expect("temp dir");
    let mut splitter =
        Splitter::create_in(temp.path(), compress::Options::apko(), installed).expect("splitter");
    for (header, content) in &walk {
        let destination = owner
            .get(&header.name)
            .map_or(Destination::Top, |&group| Destination::Group(group));
        splitter
            .append(header, content.as_slice(), destination)
            .expect("append");
    }
    let layers = splitter.finish().expect("layers");
    let built: Vec<(Digest, u64)> = layers.iter().map(|l| (l.digest(), l.size())).collect();
    let expected: Vec<(Digest, u64)> = manifest.layers.iter().map(|d| (d.digest, d.size)).collect();
    assert_eq!(built, expected);

    let source_date = SourceDate::resolve(None, None).expect("source date");
    let case = Case {
        golden: golden.clone(),
        work_dir: work_dir.clone(),
        config: "apko.yaml",
        lock: "apko.lock.json",
        source_date_epoch: None,
        annotations: &[],
        base: None,
        index_digest: "",
    };
    let created = source_date.build_date_epoch(build_times(&case, &arch));
    let image = image::assemble(&configuration, &arch, created, layers, None).expect("assemble");
    assert_eq!(text(image.manifest()), text(&golden_manifest));
}

#[test]
fn annotations_vcs_and_entrypoints_follow_apko() {
    let temp = tempfile::tempdir().expect("temp dir");
    let mut configuration = ImageConfiguration {
        vcs_url: "https://example.test/repo@abc123".to_owned(),
        ..ImageConfiguration::default()
    };
    configuration.entrypoint.shell_fragment = "echo <hi> & bye".to_owned();
    configuration.entrypoint.command = "ignored".to_owned();
    configuration.cmd = "a 'b c'".to_owned();
    configuration
        .environment
        .insert("PATH".to_owned(), "/bin".to_owned());
    configuration
        .environment
        .insert("A_B".to_owned(), "1".to_owned());
    configuration
        .environment
        .insert("A".to_owned(), "2".to_owned());
    let sink = LayerSink::create_in(temp.path(), compress::Options::apko()).expect("sink");
    let mut hashing = HashingWriter::new(sink);
    hashing.write_all(&[0u8; 1024]).expect("empty tar");
    let (sink, hashed) = hashing.finish();
    let layer = sink.finish(hashed).expect("layer");
    let arch = Architecture::parse("armv7");
    let created = receipts::build::image::GoTime::from_unix(86_400);
    let image = image::assemble(&configuration, &arch, created, vec![layer], None).expect("image");
    let config: serde_json::Value = serde_json::from_slice(image.config()).expect("config json");
    assert_eq!(config["architecture"], "arm");
    assert_eq!(config["variant"], "v7");
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(["/bin/sh", "-c", "echo <hi> & bye"])
    );
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["a", "b c"]));
    // Go sorts the joined `K=V` strings: `A=2` < `A_B=1` (`=` sorts before `_`).
    assert_eq!(
        config["config"]["Env"],
        serde_json::json!([
            "A=2",
            "A_B=1",
            "PATH=/bin",
            "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"
        ])
    );
    assert_eq!(
        config["config"]["Labels"],
        serde_json::json!({
            "org.opencontainers.image.created": "1970-01-02T00:00:00Z",
            "org.opencontainers.image.revision": "abc123",
            "org.opencontainers.image.source": "https://example.test/repo"
        })
    );
    assert!(text(image.config()).contains(r#""echo \u003chi\u003e \u0026 bye""#));

    let source_date = SourceDate::resolve(None, None).expect("source date");
    let index = image::index(&configuration, &[image], &source_date).expect("index");
    let index_json: serde_json::Value = serde_json::from_slice(&index.bytes).expect("index json");
    assert_eq!(
        index_json["manifests"][0]["platform"],
        serde_json::json!({"architecture": "arm", "os": "linux", "variant": "v7"})
    );
    assert_eq!(
        index_json["annotations"]["org.opencontainers.image.created"],
        "1970-01-02T00:00:00Z"
    );

    let mut bad = configuration.clone();
    bad.cmd = "unclosed 'quote".to_owned();
    let sink = LayerSink::create_in(temp.path(), compress::Options::apko()).expect("sink");
    let (sink, hashed) = HashingWriter::new(sink).finish();
    let layer = sink.finish(hashed).expect("layer");
    assert!(matches!(
        image::assemble(&bad, &arch, created, vec![layer], None),
        Err(image::Error::Split { field: "cmd", .. })
    ));
}
