//! `cosign-rebuild build`: build an apko configuration into an OCI layout or a registry, print
//! the image index digest.
//!
//! The glue only: options become a [`pipeline::Request`], [`pipeline::build`] does the work,
//! and the result goes to the output through [`oci::Store`] (an untagged `oci:DIR` is written
//! as apko writes it, `index.json` being the index). Progress goes to stderr, the digest to
//! stdout. Nothing is written before the whole build succeeded; a registry receives blobs, then
//! manifests, then the tag.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;

use super::Outcome;
use crate::build::image::{SourceDate, time};
use crate::build::pipeline::{self, Packages, Progress, Request};
use crate::cli::registry::RegistryArgs;
use crate::cli::resolve::ResolveArgs;
use crate::config::Lock;
use crate::lock::output;
use crate::oci::{self, Reference, Selector, Store};

/// Options of this command.
#[derive(Debug, Clone, clap::Args)]
pub struct BuildArgs {
    /// The apko configuration to build.
    #[arg(value_name = "CONFIG")]
    pub config: String,
    /// Install exactly the packages of this apko.lock.json (its configuration checksum must
    /// match CONFIG) instead of resolving.
    #[arg(long, value_name = "FILE")]
    pub lockfile: Option<PathBuf>,
    /// Where to put the image: `oci:DIR` (an OCI layout as apko writes it: `index.json` is the
    /// image index), `oci:DIR:TAG` (added to the layout under TAG), or `HOST/REPO[:TAG]` (pushed).
    #[arg(long, short = 'o', value_name = "OUTPUT")]
    pub output: String,
    /// Annotations for the index and images, over the configured ones (repeatable or
    /// comma-separated).
    #[arg(long = "annotations", value_name = "KEY=VALUE", value_delimiter = ',')]
    pub annotations: Vec<String>,
    /// Pin the creation time to these Unix seconds, as the `SOURCE_DATE_EPOCH` environment
    /// variable does (which is read when this option is absent).
    #[arg(long = "source-date-epoch", value_name = "SECONDS")]
    pub source_date_epoch: Option<String>,
    /// Also write the locked configuration the build used (the image-configuration predicate)
    /// to FILE: YAML for `.yaml`/`.yml`, otherwise JSON.
    #[arg(long = "locked-out", value_name = "FILE")]
    pub locked_out: Option<PathBuf>,
    /// What stdout reports: `text`, the image index digest; `json`, an object with the index
    /// digest (`index`), `output`, each platform's image (`images`: `platform`,
    /// `architecture`, `digest`) and `locked_out` (the file written, or null). (`--output` is
    /// the destination, as for apko.)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Report::Text)]
    pub format: Report,
    /// Resolution options.
    #[command(flatten)]
    pub resolve: ResolveArgs,
    /// Registry options.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// What a command that writes something reports on stdout (`build`, `attest`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Report {
    /// The command's usual text.
    #[default]
    Text,
    /// One JSON object describing what was written.
    Json,
}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--output` is not a reference.
    #[error("--output {output:?}")]
    Output {
        /// The value.
        output: String,
        /// Why.
        #[source]
        source: Box<oci::reference::Error>,
    },
    /// `--output oci:DIR@DIGEST`: a digest cannot be written to.
    #[error("--output {output}: a layout output takes a tag, not a digest")]
    OutputDigest {
        /// The value.
        output: String,
    },
    /// An annotation is not `KEY=VALUE`.
    #[error("--annotations {annotation:?}: expected KEY=VALUE")]
    Annotation {
        /// The value.
        annotation: String,
    },
    /// The source date epoch is not an integer.
    #[error("source date epoch")]
    SourceDate(#[source] Box<time::Error>),
    /// The configuration cannot be read.
    #[error("cannot load configuration {config}")]
    Config {
        /// The configuration as given.
        config: String,
        /// Why.
        #[source]
        source: Box<crate::config::Error>,
    },
    /// The lock file cannot be read.
    #[error("cannot read lock file {path}", path = path.display())]
    LockFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<crate::config::lock::Error>,
    },
    /// The build failed.
    #[error("cannot build {config}")]
    Build {
        /// The configuration as given.
        config: String,
        /// Why.
        #[source]
        source: Box<pipeline::Error>,
    },
    /// The output cannot be opened or written.
    #[error("cannot write the image to {output}")]
    Store {
        /// The output.
        output: String,
        /// Why.
        #[source]
        source: Box<oci::store::Error>,
    },
    /// No one predicate reproduces this build (a lock file whose architectures install
    /// different lists); nothing was written.
    #[error("--locked-out {path}: nothing was written", path = path.display())]
    Predicate {
        /// The file asked for.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<crate::build::predicate::OrderMismatch>,
    },
    /// The locked configuration cannot be encoded or written.
    #[error(transparent)]
    LockedOut(#[from] Box<crate::lock::Error>),
    /// Standard output cannot be written.
    #[error("cannot write to standard output")]
    Stdout(#[source] std::io::Error),
}

/// What is wrong with the command line before anything runs (exit 2): an `--output` without a
/// registry host or `oci:` (`--output out2`), which would otherwise mean Docker Hub's
/// `library/out2`.
pub fn usage_error(args: &BuildArgs) -> Option<String> {
    let output = &args.output;
    if output.starts_with("oci:") || output.contains('/') {
        return None;
    }
    let name = output.split([':', '@']).next().unwrap_or(output);
    Some(format!(
        "--output {output} names no registry\n\nhint: write oci:{output} for an OCI layout \
         directory, or docker.io/library/{name} to push to Docker Hub"
    ))
}

/// Runs the command.
pub fn run(args: &BuildArgs, quiet: bool) -> Result<Outcome, Error> {
    let progress = crate::cli::progress::Progress::new(quiet);
    let output = Reference::parse(&args.output).map_err(|source| Error::Output {
        output: args.output.clone(),
        source: Box::new(source),
    })?;
    if let Reference::Local(local) = &output
        && matches!(local.selector(), Selector::Digest(_))
    {
        return Err(Error::OutputDigest {
            output: args.output.clone(),
        });
    }
    let request = request(args)?;
    progress.step(format_args!("building {}", args.config));
    let built = pipeline::build(&request, &|event| report(&progress, event)).map_err(|source| {
        Error::Build {
            config: args.config.clone(),
            source: Box::new(source),
        }
    })?;
    // Encoded before anything is written: a failure here leaves no output behind.
    let locked = match &args.locked_out {
        Some(path) => {
            let format = output::Format::for_path(path).unwrap_or_default();
            let predicate = built.predicate().map_err(|source| Error::Predicate {
                path: path.clone(),
                source: Box::new(source),
            })?;
            Some((path, output::encode(predicate, format).map_err(Box::new)?))
        }
        None => None,
    };
    publish(args, &output, &built, &progress)?;
    if let Some((path, bytes)) = locked {
        output::write_atomically(path, &bytes, output::Mode::Regular).map_err(Box::new)?;
    }
    progress.finish();
    let report = match args.format {
        Report::Text => built.digest().to_string(),
        Report::Json => json_report(args, &built).to_string(),
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{report}")
        .and_then(|()| stdout.flush())
        .map_err(Error::Stdout)?;
    Ok(Outcome::Done)
}

/// The library request the options describe: annotations, the source date (the option, else
/// `SOURCE_DATE_EPOCH`), the configuration loaded, the lock file read.
fn request(args: &BuildArgs) -> Result<Request, Error> {
    let annotations = annotations(&args.annotations)?;
    let environment = match &args.source_date_epoch {
        Some(value) => Some(value.clone()),
        None => std::env::var_os("SOURCE_DATE_EPOCH").map(|v| v.to_string_lossy().into_owned()),
    };
    let source_date = SourceDate::resolve(environment.as_deref(), None)
        .map_err(|e| Error::SourceDate(Box::new(e)))?;
    let settings = args.resolve.settings();
    let configuration = settings
        .loader()
        .load(&args.config)
        .map_err(|source| Error::Config {
            config: args.config.clone(),
            source: Box::new(source),
        })?;
    let packages = match &args.lockfile {
        Some(path) => Packages::Locked(Box::new(Lock::read(path).map_err(|source| {
            Error::LockFile {
                path: path.clone(),
                source: Box::new(source),
            }
        })?)),
        None => Packages::Resolve,
    };
    Ok(Request {
        name: args.config.clone(),
        configuration,
        packages,
        annotations,
        source_date,
        settings,
        temp_dir: Some(crate::cli::resolve::scratch_area(
            args.resolve.cache_dir.as_deref(),
        )),
        readers: None,
        read_budget: None,
    })
}

/// Writes the built image to `output`: an untagged layout as apko writes it, a tag into a
/// layout, or a push.
fn publish(
    args: &BuildArgs,
    output: &Reference,
    built: &pipeline::Built,
    progress: &crate::cli::progress::Progress,
) -> Result<(), Error> {
    let store_error = |source| Error::Store {
        output: args.output.clone(),
        source: Box::new(source),
    };
    match output {
        Reference::Local(local) if *local.selector() == Selector::Default => {
            built
                .write_layout(local.dir())
                .map_err(|source| Error::Build {
                    config: args.config.clone(),
                    source: Box::new(source),
                })?;
        }
        Reference::Local(local) => {
            let Selector::Tag(tag) = local.selector() else {
                return Err(Error::OutputDigest {
                    output: args.output.clone(),
                });
            };
            let store = Store::create(output, &args.registry.settings()).map_err(store_error)?;
            store
                .publish(&built.image_set(), Some(tag))
                .map_err(store_error)?;
        }
        Reference::Remote(remote) => {
            let store = Store::create(output, &args.registry.settings()).map_err(store_error)?;
            progress.step(format_args!("pushing to {}", store.name()));
            store
                .publish(&built.image_set(), remote.tag())
                .map_err(store_error)?;
        }
    }
    Ok(())
}

/// The `--format json` report.
fn json_report(args: &BuildArgs, built: &pipeline::Built) -> serde_json::Value {
    let images: Vec<serde_json::Value> = built
        .images
        .iter()
        .map(|image| {
            let platform = image.architecture().oci_platform();
            let mut name = format!("{}/{}", platform.os, platform.architecture);
            if let Some(variant) = &platform.variant {
                name.push('/');
                name.push_str(variant);
            }
            serde_json::json!({
                "platform": name,
                "architecture": image.architecture().to_apk(),
                "digest": image.digest().to_string(),
            })
        })
        .collect();
    serde_json::json!({
        "index": built.digest().to_string(),
        "output": args.output,
        "images": images,
        "locked_out": args.locked_out.as_ref().map(|path| path.display().to_string()),
    })
}

fn annotations(values: &[String]) -> Result<BTreeMap<String, String>, Error> {
    values
        .iter()
        .map(|value| {
            value
                .split_once('=')
                .filter(|(key, _)| !key.is_empty())
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .ok_or_else(|| Error::Annotation {
                    annotation: value.clone(),
                })
        })
        .collect()
}

fn report(progress: &crate::cli::progress::Progress, event: Progress<'_>) {
    match event {
        Progress::Resolved { arch, packages } => {
            progress.step(format_args!("{arch}: installing {packages} packages"));
        }
        Progress::Image {
            arch,
            digest,
            layer_bytes,
        } => progress.step(format_args!(
            "{arch}: image {digest} ({layer_bytes} bytes of layers)"
        )),
        Progress::Repinned { .. } => {}
    }
}
