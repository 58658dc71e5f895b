//! Running this process's share of a catalogue: select by shard, resolve each image to a
//! digest, skip those whose digest already has a verdict on record (unless forced), audit the
//! rest on `jobs` threads through the [`Auditor`], write each record atomically, and attach a
//! verification summary when an [`Attester`] is given.
//!
//! Memory stays bounded: nothing is kept per image past its record (the totals are counters),
//! and at most `jobs` audits run at once. A run killed at any point leaves finished records
//! complete and no half-written one; the next run resumes where it stopped.
//!
//! Not for: the audit of one image (the [`Auditor`]), the record format ([`super::record`]).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::record::{self, Attestation, Record, Status};
use super::vsa::{self, Summary};
use super::{Auditor, Catalogue, Entry, Shard, Target};
use crate::attest::key::PrivateKey;
use crate::attest::store::referrer::rfc3339_utc;
use crate::oci::registry::Settings;
use crate::oci::{Digest, Reference, Store};

/// Signs verification summaries.
pub struct Attester {
    /// The signing key.
    pub key: PrivateKey,
}

/// How to run.
pub struct Options<'a> {
    /// Where records go (created when missing; shared by every shard).
    pub report_dir: &'a Path,
    /// This process's share.
    pub shard: Shard,
    /// Audits at once (at least 1).
    pub jobs: usize,
    /// Audit even images whose digest already has a verdict on record.
    pub force: bool,
    /// How to reach registries (resolving tags, attaching summaries).
    pub registry: &'a Settings,
    /// Attach a signed verification summary to each image with a verdict.
    pub attester: Option<&'a Attester>,
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Entries of the catalogue.
    pub catalogue: usize,
    /// Entries this shard owns.
    pub selected: usize,
    /// Skipped: a verdict for the same digest was on record.
    pub skipped: usize,
    /// Audited: identical.
    pub identical: usize,
    /// Audited: equivalent.
    pub equivalent: usize,
    /// Audited: different.
    pub different: usize,
    /// No verdict.
    pub errors: usize,
    /// Summaries that could not be attached.
    pub attestation_errors: usize,
}

/// Progress, reported as it happens.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// Audit of `image` begins.
    Started {
        /// The image.
        image: &'a str,
    },
    /// `image` was skipped: its digest already has a verdict.
    Skipped {
        /// The image.
        image: &'a str,
    },
    /// `image` was audited and its record written.
    Recorded {
        /// The image.
        image: &'a str,
        /// The outcome.
        status: Status,
    },
}

/// Why a run stopped (one image failing is not this: it is recorded as `error`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `jobs` is 0.
    #[error("the number of audits run at once (jobs) must be at least 1")]
    NoJobs,
    /// A record cannot be written: results would be lost, so the run stops.
    #[error("cannot record the audit of {image}")]
    Record {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: record::Error,
    },
}

/// Runs `options.shard`'s share of `catalogue`.
pub fn run<A: Auditor>(
    catalogue: &Catalogue,
    auditor: &A,
    options: &Options<'_>,
    progress: &(dyn Fn(Event<'_>) + Sync),
) -> Result<Totals, Error> {
    if options.jobs == 0 {
        return Err(Error::NoJobs);
    }
    let selected: Vec<&Entry> = catalogue
        .entries
        .iter()
        .filter(|entry| options.shard.owns(&entry.image))
        .collect();
    let totals = Mutex::new(Totals {
        catalogue: catalogue.entries.len(),
        selected: selected.len(),
        ..Totals::default()
    });
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let policy_uri = policy_uri(&catalogue.path);
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.min(selected.len().max(1)) {
            scope.spawn(|| {
                loop {
                    if failure.lock().is_ok_and(|f| f.is_some()) {
                        return;
                    }
                    let Some(entry) = selected.get(next.fetch_add(1, Ordering::SeqCst)) else {
                        return;
                    };
                    let context = Context {
                        catalogue,
                        auditor,
                        options,
                        policy_uri: &policy_uri,
                        progress,
                    };
                    match context.one(entry) {
                        Ok(outcome) => {
                            if let Ok(mut totals) = totals.lock() {
                                totals.count(outcome);
                            }
                        }
                        Err(error) => {
                            if let Ok(mut failure) = failure.lock() {
                                failure.get_or_insert(error);
                            }
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(error) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(error);
    }
    Ok(totals.into_inner().unwrap_or_else(|e| e.into_inner()))
}

/// What happened to one entry.
enum Outcome {
    Skipped,
    Recorded {
        status: Status,
        attestation_failed: bool,
    },
}

impl Totals {
    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Skipped => self.skipped += 1,
            Outcome::Recorded {
                status,
                attestation_failed,
            } => {
                match status {
                    Status::Identical => self.identical += 1,
                    Status::Equivalent => self.equivalent += 1,
                    Status::Different => self.different += 1,
                    Status::Error => self.errors += 1,
                }
                self.attestation_errors += usize::from(attestation_failed);
            }
        }
    }
}

struct Context<'a, A> {
    catalogue: &'a Catalogue,
    auditor: &'a A,
    options: &'a Options<'a>,
    policy_uri: &'a str,
    progress: &'a (dyn Fn(Event<'_>) + Sync),
}

impl<A: Auditor> Context<'_, A> {
    fn one(&self, entry: &Entry) -> Result<Outcome, Error> {
        let path = record::path_in(self.options.report_dir, &entry.image);
        let started = SystemTime::now();
        let clock = Instant::now();
        let mut record = Record {
            schema_version: record::SCHEMA_VERSION,
            image: entry.image.clone(),
            digest: None,
            status: Status::Error,
            error: None,
            platforms: entry.platforms.clone(),
            shard: self.options.shard.to_string(),
            started_at: rfc3339_utc(seconds_since_epoch(started)),
            seconds: 0.0,
            audit: None,
            attestation: None,
        };
        let resolved = resolve(&entry.image, self.options.registry);
        let mut attestation_failed = false;
        match resolved {
            Err(message) => record.error = Some(message),
            Ok((reference, digest)) => {
                record.digest = Some(digest.to_string());
                if !self.options.force && has_verdict(&path, &digest) {
                    (self.progress)(Event::Skipped {
                        image: &entry.image,
                    });
                    return Ok(Outcome::Skipped);
                }
                (self.progress)(Event::Started {
                    image: &entry.image,
                });
                let target = Target {
                    entry,
                    digest,
                    pinned: super::pinned(&reference, digest).to_string(),
                };
                match self.auditor.audit(&target) {
                    Ok(audited) => {
                        record.status = audited.verdict.into();
                        record.audit = Some(audited.report);
                        if let Some(attester) = self.options.attester {
                            let attestation =
                                self.attest(attester, &reference, digest, audited.verdict);
                            attestation_failed = matches!(attestation, Attestation::Failed { .. });
                            record.attestation = Some(attestation);
                        }
                    }
                    Err(error) => record.error = Some(chain(&error)),
                }
            }
        }
        record.seconds = clock.elapsed().as_secs_f64();
        record.write(&path).map_err(|source| Error::Record {
            image: entry.image.clone(),
            source,
        })?;
        (self.progress)(Event::Recorded {
            image: &entry.image,
            status: record.status,
        });
        Ok(Outcome::Recorded {
            status: record.status,
            attestation_failed,
        })
    }

    fn attest(
        &self,
        attester: &Attester,
        reference: &Reference,
        digest: Digest,
        verdict: crate::rebuild::Verdict,
    ) -> Attestation {
        let time_verified = rfc3339_utc(seconds_since_epoch(SystemTime::now()));
        let summary = Summary {
            reference,
            digest,
            verdict,
            policy_uri: self.policy_uri,
            policy_digest: self.catalogue.digest,
            time_verified: &time_verified,
        };
        let attached = Store::open(reference, self.options.registry)
            .map_err(|source| chain(&source))
            .and_then(|store| {
                summary
                    .attach(&store, &attester.key)
                    .map_err(|error| chain(&error))
            });
        match attached {
            Ok(attached) => Attestation::Attached {
                predicate_type: vsa::PREDICATE_TYPE.to_owned(),
                verification_result: summary.result().to_owned(),
                manifest: attached.manifest.digest.to_string(),
            },
            Err(error) => Attestation::Failed { error },
        }
    }
}

/// The image's reference and digest: the digest it names, else its tag resolved now.
fn resolve(image: &str, settings: &Settings) -> Result<(Reference, Digest), String> {
    let reference = Reference::parse(image).map_err(|e| chain(&e))?;
    let named = match &reference {
        Reference::Remote(remote) => remote.digest().copied(),
        Reference::Local(local) => match local.selector() {
            crate::oci::Selector::Digest(digest) => Some(*digest),
            _ => None,
        },
    };
    if let Some(digest) = named {
        return Ok((reference, digest));
    }
    let store = Store::open(&reference, settings)
        .map_err(|e| format!("cannot open {image}\n  caused by: {}", chain(&e)))?;
    let descriptor = store
        .resolve(&reference)
        .map_err(|e| format!("cannot resolve {image}\n  caused by: {}", chain(&e)))?;
    Ok((reference, descriptor.digest))
}

/// Whether `path` holds a verdict (not an error) for `digest`.
fn has_verdict(path: &Path, digest: &Digest) -> bool {
    Record::read(path).is_ok_and(|record| {
        record.status != Status::Error
            && record.digest.as_deref() == Some(digest.to_string().as_str())
    })
}

/// An error and its causes, one per line, as the command line prints them.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str("\n  caused by: ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `file://` URL of the catalogue (absolute), or its path as given when it cannot be made one.
fn policy_uri(path: &Path) -> String {
    let absolute: PathBuf = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    reqwest::Url::from_file_path(&absolute)
        .map(|url| url.to_string())
        .unwrap_or_else(|()| path.display().to_string())
}

fn seconds_since_epoch(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
