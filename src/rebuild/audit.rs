//! The audit as one library call: resolve a published image, verify its image-configuration
//! attestation, rebuild every platform from the verified predicate as apko would, compare the
//! rebuild with the published image, and (when asked) keep or publish the rebuild.
//!
//! ```no_run
//! # fn demo(policy: &receipts::attest::verify::Policy) -> Result<(), Box<dyn std::error::Error>> {
//! use receipts::oci::Reference;
//! use receipts::rebuild::audit::{self, Settings, Verification};
//! let image = "registry.example/app:1";
//! let verification = Verification::Policy { policy, trusted_root: None, key_name: None };
//! let audited = audit::audit(image, &Reference::parse(image)?, &verification,
//!                            &Settings::default(), &|_event| {})?;
//! print!("{}", audited.report.to_text());
//! # Ok(()) }
//! ```
//!
//! The steps, in order, each failing with an [`Error`] naming its subject: open and resolve the
//! image; check the platforms asked for; refuse a non-empty directory to keep the rebuild in;
//! verify the attestation ([`Verification`]; nothing is fetched for the rebuild before it
//! passes); rebuild while a thread checks the published layers beside it (streamed and
//! digest-checked: `rebuild::checked`; the comparison decodes strictly any whose digest is not
//! the rebuild's), so the audit costs about the rebuild rather than the rebuild plus the pull;
//! compare; publish.
//!
//! The creation time is not in the predicate: the rebuild first lets apko's rule pick it (the
//! newest package build time) and, when that does not reproduce the published manifests and the
//! published index carries `org.opencontainers.image.created`, builds again pinned to that time,
//! as `SOURCE_DATE_EPOCH` would have ([`crate::build::predicate::rebuild`]).
//!
//! Not for: loading keys, identities and trusted roots (the caller hands in a policy and trusted
//! material), the verdict rules ([`super::compare`]), rendering ([`super::report`]), printing or
//! exit statuses (the command line).

mod attestation;
mod error;
mod published;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

pub use attestation::Verification;
pub use error::Error;

use super::checked::{self, Checked};
use super::{Options, Report, Side};
use crate::apk::repository;
use crate::build::pipeline::{self, Built};
use crate::oci::{self, Digest, Reference, Store};
use attestation::Verified;
use published::Published;

/// The predicate type an audit rebuilds from.
pub const PREDICATE_TYPE: &str = "https://apko.dev/image-configuration";

/// How the audit's scratch directory (the rebuilt layout) is named (`audit-<pid>-<random>`).
pub const SCRATCH_PREFIX: &str = "audit-";

/// What to rebuild and compare, and where things go.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Rebuild and compare only these platforms (`os/arch[/variant]`); empty: every platform.
    pub platforms: Vec<String>,
    /// The directory the predicate's relative paths (local repositories, keys) are read from,
    /// as apko reads them from its working directory; empty: the process's.
    pub working_dir: PathBuf,
    /// Package downloads: the cache and whether the network may be used.
    pub fetch: repository::Settings,
    /// Where the rebuilt layout and the build's scratch files go (default: the system's
    /// temporary directory).
    pub scratch_dir: Option<PathBuf>,
    /// Leave the rebuilt image in this directory (new or empty) as an OCI layout.
    pub keep: Option<PathBuf>,
    /// Push the rebuilt image here.
    pub publish: Option<Target>,
    /// How registries are reached (the image, and the publishing target).
    pub registry: oci::registry::Settings,
}

/// Where a rebuild is published.
#[derive(Debug, Clone)]
pub struct Target {
    /// The reference.
    pub reference: Reference,
    /// The reference as the user wrote it, for messages.
    pub name: String,
}

/// Progress of an audit, for a caller that reports it; called from the rebuild's threads too.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// The attestation of `image` (resolved to `root`) is about to be verified.
    Verifying {
        /// The image.
        image: &'a str,
        /// Its digest.
        root: &'a Digest,
    },
    /// The attestation is read WITHOUT verification ([`Verification::Unverified`]).
    Unverified {
        /// The image.
        image: &'a str,
    },
    /// The rebuild from the verified predicate begins.
    Rebuilding {
        /// The image.
        image: &'a str,
    },
    /// The rebuild's own progress.
    Build(pipeline::Progress<'a>),
    /// The rebuild is being compared with the published image.
    Comparing {
        /// The image.
        image: &'a str,
    },
    /// The rebuild is being pushed to `target`.
    Publishing {
        /// The target as written.
        target: &'a str,
    },
}

/// What an audit found.
#[derive(Debug)]
pub struct Audited {
    /// The comparison, with the verified signer.
    pub report: Report,
    /// The digest the rebuild was published under, when [`Settings::publish`] asked for it.
    pub published: Option<Digest>,
}

/// Audits `image` (parsed as `reference`): verify, rebuild, compare (see the module
/// documentation). A rebuild that differs is an [`Audited`] whose verdict says so, not an error.
pub fn audit(
    image: &str,
    reference: &Reference,
    verification: &Verification<'_>,
    settings: &Settings,
    progress: &(dyn Fn(Event<'_>) + Sync),
) -> Result<Audited, Error> {
    let store_error = |what, source| Error::Store {
        what,
        image: image.to_owned(),
        source: Box::new(source),
    };
    let store =
        Store::open(reference, &settings.registry).map_err(|e| store_error("cannot open", e))?;
    let root = store
        .resolve(reference)
        .map_err(|e| store_error("cannot resolve", e))?
        .digest;
    let archs = published::archs(&settings.platforms)?;
    let scratch = settings
        .scratch_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    // Checked before anything is verified or built.
    let temp;
    let dir: &Path = match &settings.keep {
        Some(dir) => {
            if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
                return Err(Error::KeepNotEmpty { dir: dir.clone() });
            }
            dir
        }
        None => {
            std::fs::create_dir_all(&scratch).map_err(Error::TempDir)?;
            temp =
                crate::scratch::Dir::create_in(&scratch, SCRATCH_PREFIX).map_err(Error::TempDir)?;
            temp.path()
        }
    };
    published::check_platforms(&store, image, &root, &settings.platforms)?;
    progress(Event::Verifying { image, root: &root });
    if let Verification::Unverified = verification {
        progress(Event::Unverified { image });
    }
    let verified = attestation::predicate(verification, image, &store, reference, &root)?;
    let published = Side {
        store: &store,
        root,
        trusted: false,
    };
    let rebuild = Rebuild {
        image,
        verified: &verified,
        archs,
        scratch,
        settings,
        progress,
    };
    let (built, checked) = rebuild.beside_check(published)?;
    let mut report = compare(image, published, &built, dir, &checked, settings, progress)?;
    report.signer = Some(verified.signer);
    let published = match &settings.publish {
        Some(target) => Some(publish(&built, target, settings, progress)?),
        None => None,
    };
    Ok(Audited { report, published })
}

/// The rebuild of a verified predicate.
struct Rebuild<'a> {
    image: &'a str,
    verified: &'a Verified,
    archs: Vec<String>,
    scratch: PathBuf,
    settings: &'a Settings,
    progress: &'a (dyn Fn(Event<'_>) + Sync),
}

impl Rebuild<'_> {
    /// Rebuilds while a thread checks the published layers; the check is stopped when the
    /// rebuild fails. A check that did not finish only leaves layers for the comparison to
    /// stream itself.
    fn beside_check(self, published: Side<'_>) -> Result<(Built, Checked), Error> {
        let stop = AtomicBool::new(false);
        let platforms = &self.settings.platforms;
        std::thread::scope(|scope| {
            let checker = std::thread::Builder::new()
                .name("audit-check".into())
                .spawn_scoped(scope, || checked::check(published, platforms, &stop));
            let built = self.run(published.store, &published.root);
            if built.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            let checked = match checker {
                Ok(handle) => handle.join().unwrap_or_default(),
                // No thread to be had: the comparison checks every layer itself.
                Err(_) => Checked::default(),
            };
            built.map(|built| (built, checked))
        })
    }

    /// Rebuilds the predicate as `build::predicate::rebuild` does (the path its package order
    /// names; the published creation time pinned when apko's rule does not reproduce the image).
    fn run(&self, store: &Store, root: &Digest) -> Result<Built, Error> {
        let published = Published::read(store, root);
        let settings = crate::lock::Settings {
            working_dir: self.settings.working_dir.clone(),
            archs: self.archs.clone(),
            fetch: self.settings.fetch.clone(),
            ..crate::lock::Settings::default()
        };
        let progress = self.progress;
        progress(Event::Rebuilding { image: self.image });
        crate::build::predicate::rebuild(
            self.image,
            &self.verified.configuration,
            settings,
            Some(self.scratch.clone()),
            published.created,
            &|built: &Built| {
                built
                    .images
                    .iter()
                    .all(|rebuilt| published.manifests.contains(&rebuilt.digest()))
            },
            &|event| progress(Event::Build(event)),
        )
        .map_err(|source| Error::Build {
            image: self.image.to_owned(),
            source: Box::new(source),
        })
    }
}

/// Writes the rebuild into `dir` and compares it with the published image.
fn compare(
    image: &str,
    published: Side<'_>,
    built: &Built,
    dir: &Path,
    checked: &Checked,
    settings: &Settings,
    progress: &(dyn Fn(Event<'_>) + Sync),
) -> Result<Report, Error> {
    built.write_layout(dir).map_err(|source| Error::Layout {
        dir: dir.to_owned(),
        source: Box::new(source),
    })?;
    let layout = oci::layout::Layout::open(dir).map_err(|source| Error::Store {
        what: "cannot open the rebuilt layout",
        image: dir.display().to_string(),
        source: Box::new(source.into()),
    })?;
    let rebuilt_store = Store::from(layout);
    let options = Options {
        platforms: settings.platforms.clone(),
        ..Options::default()
    };
    progress(Event::Comparing { image });
    let rebuilt = Side {
        store: &rebuilt_store,
        root: built.digest(),
        trusted: true,
    };
    super::compare_published_checked(published, image, rebuilt, &options, checked).map_err(
        |source| Error::Compare {
            image: image.to_owned(),
            source: Box::new(source),
        },
    )
}

/// Pushes the rebuild to `target` (under its tag, when it names one); returns its digest.
fn publish(
    built: &Built,
    target: &Target,
    settings: &Settings,
    progress: &(dyn Fn(Event<'_>) + Sync),
) -> Result<Digest, Error> {
    let publish_error = |source| Error::Store {
        what: "cannot publish the rebuild to",
        image: target.name.clone(),
        source: Box::new(source),
    };
    let store = Store::create(&target.reference, &settings.registry).map_err(publish_error)?;
    let tag = match &target.reference {
        Reference::Remote(remote) => remote.tag().map(str::to_owned),
        Reference::Local(local) => match local.selector() {
            oci::Selector::Tag(tag) => Some(tag.clone()),
            _ => None,
        },
    };
    progress(Event::Publishing {
        target: &target.name,
    });
    let published = store
        .publish(&built.image_set(), tag.as_deref())
        .map_err(publish_error)?;
    Ok(published.digest)
}
