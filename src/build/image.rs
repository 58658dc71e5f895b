//! Image assembly: the config, manifest and index apko makes from built layers, byte for byte.
//!
//! [`assemble`] does what apko's `BuildImageFromLayers` does through go-containerregistry's
//! `mutate`: start from the base image (or ggcr's empty image), append one history entry and
//! one diff_id per layer, set the fields apko sets (author, architecture and variant, `created`,
//! `os`, Labels = annotations, Entrypoint and Cmd split like a shell, WorkingDir, Volumes, Env
//! with the defaults, User, StopSignal) and write the config and manifest as Go's `json.Marshal`
//! writes ggcr's structs. [`index`] does what `GenerateIndex` does: one descriptor per image in
//! the order of the architectures' names, with the platform and `artifactType`, annotated with
//! the latest creation time. [`write_layout`] lays everything out as ggcr's `layout.Write`;
//! [`image_set`] hands it to a registry.
//!
//! The configuration passed in is the one the root filesystem was built from: validated,
//! locked for the architecture, `accounts.run-as` resolved to a uid, command-line annotations
//! merged into `annotations` (apko merges them before the build, so they also reach
//! `/etc/apko.json`).
//!
//! Not for: building layers (`build::layer`, `build::layering`, `build::walk`), pushing to a
//! registry (`oci`). Reproduces reference/apko-format.md §10.2–§10.7 (apko
//! `pkg/build/oci/image.go` `BuildImageFromLayers`, `pkg/build/oci/index.go`
//! `generateIndexWithMediaType`; ggcr v0.21.9 `pkg/v1/mutate/image.go` `compute`,
//! `pkg/v1/mutate/index.go`, `pkg/v1/empty`, `pkg/v1/partial/with.go` `Descriptor`).

pub mod base;
pub mod layout;
pub mod time;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::build::layer::BuiltLayer;
use crate::codec::{json, shlex};
use crate::config::arch::Architecture;
use crate::config::image::ImageConfiguration;
use crate::oci::config::{ConfigFile, Empty, History, RootFs};
use crate::oci::media_type::{DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST};
use crate::oci::{self, Descriptor, Digest, Manifest};

pub use base::BaseImage;
pub use layout::{image_set, write_layout};
pub use time::{GoTime, Pinning, SourceDate};

/// Why an image, index or layout cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `entrypoint.command` or `cmd` does not split into words.
    #[error("{field} {text:?} cannot be split into arguments")]
    Split {
        /// `entrypoint.command` or `cmd`.
        field: &'static str,
        /// The text.
        text: String,
        /// The lexer's complaint.
        #[source]
        source: shlex::Error,
    },
    /// A document cannot be encoded.
    #[error("{document} cannot be encoded")]
    Encode {
        /// `config`, `manifest` or `index`.
        document: &'static str,
        /// The encoder's error.
        #[source]
        source: json::Error,
    },
    /// The layer format is not one this builder writes.
    #[error("layer format {format:?} is not supported (only tar)")]
    UnsupportedFormat {
        /// The configured format.
        format: String,
    },
    /// Two images of one index have the same architecture.
    #[error("two images for architecture {architecture}")]
    DuplicateArchitecture {
        /// The architecture.
        architecture: Architecture,
    },
    /// An OCI layout cannot be read (a base image) or written (the output).
    #[error("{dir}: OCI layout")]
    Layout {
        /// The layout directory.
        dir: PathBuf,
        /// The layout's error.
        #[source]
        source: crate::oci::layout::Error,
    },
    /// A JSON document in a base image cannot be decoded.
    #[error("{path}: not a valid {document}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// `index`, `manifest` or `config`.
        document: &'static str,
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// The base image has no image for the architecture.
    #[error("{layout}: no image for architecture {architecture}")]
    NoImageForArchitecture {
        /// The base image's layout directory.
        layout: PathBuf,
        /// The architecture looked for.
        architecture: Architecture,
    },
}

/// Where a layer's compressed bytes come from.
#[derive(Debug)]
enum Blob {
    /// Built for this image (a temporary file).
    Built(BuiltLayer),
    /// Inherited from the base image's layout.
    Base(PathBuf),
}

/// One layer of an assembled image: its manifest descriptor and its compressed bytes.
#[derive(Debug)]
pub struct ImageLayer {
    descriptor: Descriptor,
    blob: Blob,
}

impl ImageLayer {
    /// The layer's descriptor as the manifest lists it.
    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    /// The file holding the compressed layer.
    pub fn path(&self) -> &Path {
        match &self.blob {
            Blob::Built(layer) => layer.path(),
            Blob::Base(path) => path,
        }
    }
}

/// An assembled image: config and manifest bytes with their digests, and its layers.
#[derive(Debug)]
pub struct Image {
    architecture: Architecture,
    created: GoTime,
    config: Vec<u8>,
    config_digest: Digest,
    manifest: Vec<u8>,
    digest: Digest,
    artifact_type: String,
    layers: Vec<ImageLayer>,
}

impl Image {
    /// The architecture the image was built for.
    pub fn architecture(&self) -> &Architecture {
        &self.architecture
    }

    /// The creation time (the build date epoch).
    pub fn created(&self) -> GoTime {
        self.created
    }

    /// The config blob.
    pub fn config(&self) -> &[u8] {
        &self.config
    }

    /// The config blob's digest.
    pub fn config_digest(&self) -> Digest {
        self.config_digest
    }

    /// The manifest bytes.
    pub fn manifest(&self) -> &[u8] {
        &self.manifest
    }

    /// The manifest's digest: the image digest.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// The layers, base image layers first.
    pub fn layers(&self) -> &[ImageLayer] {
        &self.layers
    }
}

/// An image index: its bytes (`index.json` in a layout) and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The index as Go encodes it.
    pub bytes: Vec<u8>,
    /// Its digest: the digest of the multi-architecture image.
    pub digest: Digest,
    /// The creation time in its `created` annotation.
    pub created: GoTime,
}

/// The history comment apko writes on every layer it adds.
fn history_comment(annotations: &BTreeMap<String, String>, layer_count: usize) -> String {
    match (
        annotations.get("org.opencontainers.image.title"),
        annotations.get("org.opencontainers.image.vendor"),
    ) {
        (Some(title), Some(vendor)) => format!("{title} by {vendor}"),
        _ if layer_count > 1 => String::new(),
        _ => "This is an apko single-layer image".to_owned(),
    }
}

/// The configured annotations plus the source and revision of a `url@hash` VCS URL.
fn configured_annotations(configuration: &ImageConfiguration) -> BTreeMap<String, String> {
    let mut annotations = configuration.annotations.clone();
    if let Some((url, hash)) = configuration.vcs_url.split_once('@') {
        annotations.insert("org.opencontainers.image.source".to_owned(), url.to_owned());
        annotations.insert(
            "org.opencontainers.image.revision".to_owned(),
            hash.to_owned(),
        );
    }
    annotations
}

const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// The environment apko writes: configured variables plus the two defaults, `K=V`, sorted.
fn environment(configuration: &ImageConfiguration) -> Vec<String> {
    let mut env = configuration.environment.clone();
    for (key, value) in [
        (
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin",
        ),
        ("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"),
    ] {
        env.entry(key.to_owned())
            .or_insert_with(|| value.to_owned());
    }
    let mut entries: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    // Go sorts the joined strings, which differs from key order when a key is a prefix.
    entries.sort();
    entries
}

fn split(field: &'static str, text: &str) -> Result<Vec<String>, Error> {
    shlex::split(text).map_err(|source| Error::Split {
        field,
        text: text.to_owned(),
        source,
    })
}

/// What ggcr's `empty.Image` starts from: a config with only `rootfs.type`.
fn empty_config() -> ConfigFile {
    ConfigFile {
        rootfs: RootFs {
            kind: "layers".to_owned(),
            diff_ids: Vec::new(),
        },
        created: GoTime::ZERO,
        ..ConfigFile::default()
    }
}

/// `empty.Image`'s manifest: Docker media types, no layers (the config descriptor is replaced).
fn empty_manifest() -> Manifest {
    Manifest {
        schema_version: 2,
        media_type: Some(DOCKER_MANIFEST.to_owned()),
        config: Descriptor::new(
            "application/vnd.docker.container.image.v1+json",
            0,
            Digest::of(b""),
        ),
        layers: Vec::new(),
        annotations: BTreeMap::new(),
        subject: None,
        artifact_type: None,
    }
}

/// Builds one architecture's image from its layers (bottom first), as apko's
/// `BuildImageFromLayers` does, on top of `base` when given.
///
/// `created` is the build date epoch ([`SourceDate::build_date_epoch`]).
pub fn assemble(
    configuration: &ImageConfiguration,
    architecture: &Architecture,
    created: GoTime,
    layers: Vec<BuiltLayer>,
    base: Option<&BaseImage>,
) -> Result<Image, Error> {
    if !configuration.format.is_empty() && configuration.format != "tar" {
        return Err(Error::UnsupportedFormat {
            format: configuration.format.clone(),
        });
    }
    let (mut config, mut manifest) = match base {
        Some(base) => (base.config().clone(), base.manifest().clone()),
        None => (empty_config(), empty_manifest()),
    };
    let mut image_layers: Vec<ImageLayer> = match base {
        Some(base) => base
            .manifest()
            .layers
            .iter()
            .map(|descriptor| ImageLayer {
                descriptor: descriptor.clone(),
                blob: Blob::Base(base.blob_path(&descriptor.digest)),
            })
            .collect(),
        None => Vec::new(),
    };

    let comment = history_comment(&configuration.annotations, layers.len());
    for layer in &layers {
        config.history.push(History {
            author: "apko".to_owned(),
            created,
            created_by: "apko".to_owned(),
            comment: comment.clone(),
            empty_layer: false,
        });
        config.rootfs.diff_ids.push(layer.diff_id());
        manifest.layers.push(layer.descriptor());
    }
    image_layers.extend(layers.into_iter().map(|layer| ImageLayer {
        descriptor: layer.descriptor(),
        blob: Blob::Built(layer),
    }));

    let mut annotations = configured_annotations(configuration);
    annotations.insert(CREATED_ANNOTATION.to_owned(), created.rfc3339());
    configure(
        &mut config,
        configuration,
        architecture,
        created,
        &annotations,
    )?;
    let (config_bytes, manifest_bytes) = encode_image(&config, &mut manifest, annotations)?;
    Ok(Image {
        architecture: architecture.clone(),
        created,
        digest: Digest::of(&manifest_bytes),
        config_digest: manifest.config.digest,
        config: config_bytes,
        manifest: manifest_bytes,
        artifact_type: manifest.effective_artifact_type().to_owned(),
        layers: image_layers,
    })
}

/// Sets the config fields apko sets from the configuration: author, platform, `created`, `os`,
/// Labels = `annotations`, Entrypoint, Cmd, WorkingDir, Volumes, Env, User, StopSignal.
fn configure(
    config: &mut ConfigFile,
    configuration: &ImageConfiguration,
    architecture: &Architecture,
    created: GoTime,
    annotations: &BTreeMap<String, String>,
) -> Result<(), Error> {
    let platform = architecture.oci_platform();
    config.author = "github.com/chainguard-dev/apko".to_owned();
    config.architecture = platform.architecture;
    config.variant = platform.variant.unwrap_or_default();
    config.created = created;
    config.os = "linux".to_owned();
    config.config.labels = annotations.clone();
    let entrypoint = &configuration.entrypoint;
    if !entrypoint.shell_fragment.is_empty() {
        config.config.entrypoint = vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            entrypoint.shell_fragment.clone(),
        ];
    } else if !entrypoint.command.is_empty() {
        config.config.entrypoint = split("entrypoint.command", &entrypoint.command)?;
    }
    if !configuration.cmd.is_empty() {
        config.config.cmd = split("cmd", &configuration.cmd)?;
    }
    if !configuration.work_dir.is_empty() {
        config.config.working_dir = configuration.work_dir.clone();
    }
    // apko's copy of the configuration turns an empty list into nil, which leaves the base's.
    if !configuration.volumes.is_empty() {
        config.config.volumes = configuration
            .volumes
            .iter()
            .map(|volume| (volume.clone(), Empty))
            .collect();
    }
    config.config.env = environment(configuration);
    if !configuration.accounts.run_as.is_empty() {
        config.config.user = configuration.accounts.run_as.clone();
    }
    if !configuration.stop_signal.is_empty() {
        config.config.stop_signal = configuration.stop_signal.clone();
    }
    Ok(())
}

/// Encodes the config, points the manifest at it (OCI media types, the config's annotations
/// added, no subject, as ggcr's `mutate` computes it) and encodes the manifest.
fn encode_image(
    config: &ConfigFile,
    manifest: &mut Manifest,
    annotations: BTreeMap<String, String>,
) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let config_bytes = json::to_vec_go(config).map_err(|source| Error::Encode {
        document: "config",
        source,
    })?;
    manifest.media_type = Some(OCI_MANIFEST.to_owned());
    manifest.config.media_type = OCI_CONFIG.to_owned();
    manifest.config.digest = Digest::of(&config_bytes);
    manifest.config.size = config_bytes.len() as u64;
    if !manifest.config.data.is_empty() {
        manifest.config.data = config_bytes.clone();
    }
    manifest.annotations.extend(annotations);
    manifest.subject = None;
    let manifest_bytes = json::to_vec_go(&*manifest).map_err(|source| Error::Encode {
        document: "manifest",
        source,
    })?;
    Ok((config_bytes, manifest_bytes))
}

/// Builds the image index over one image per architecture, as apko's `GenerateIndex` does.
///
/// The index is created at the latest of `source_date`'s time and the images' creation times
/// (the same instant when `SOURCE_DATE_EPOCH` pins them).
pub fn index(
    configuration: &ImageConfiguration,
    images: &[Image],
    source_date: &SourceDate,
) -> Result<Index, Error> {
    let created = images
        .iter()
        .map(Image::created)
        .fold(source_date.time, time::latest);
    let mut annotations = configured_annotations(configuration);
    annotations.insert(CREATED_ANNOTATION.to_owned(), created.rfc3339());

    let mut ordered: Vec<&Image> = images.iter().collect();
    ordered.sort_by(|a, b| a.architecture.as_str().cmp(b.architecture.as_str()));
    if let Some(pair) = ordered
        .windows(2)
        .find(|pair| matches!(pair, [a, b] if a.architecture == b.architecture))
        && let Some(image) = pair.first()
    {
        return Err(Error::DuplicateArchitecture {
            architecture: image.architecture.clone(),
        });
    }
    let manifests = ordered
        .iter()
        .map(|image| Descriptor {
            platform: Some(image.architecture.oci_platform()),
            artifact_type: Some(image.artifact_type.clone()),
            ..Descriptor::new(OCI_MANIFEST, image.manifest.len() as u64, image.digest)
        })
        .collect();
    let index = oci::Index {
        schema_version: 2,
        media_type: Some(OCI_INDEX.to_owned()),
        manifests,
        annotations,
        subject: None,
        artifact_type: None,
    };
    let bytes = json::to_vec_go(&index).map_err(|source| Error::Encode {
        document: "index",
        source,
    })?;
    Ok(Index {
        digest: Digest::of(&bytes),
        bytes,
        created,
    })
}
