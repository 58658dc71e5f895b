//! `cosign-rebuild catalog audit CATALOG --report-dir DIR` and `cosign-rebuild catalog report
//! DIR`: argument definitions and glue for catalogue audits ([`crate::rebuild::catalog`]).
//!
//! The seam: the library runs the catalogue through its one-method
//! [`catalog::Auditor`](crate::rebuild::catalog::Auditor) trait, and this file implements it
//! with [`InProcessAuditor`], which runs the audit command's own work
//! ([`rebuild::audit()`](crate::rebuild::audit()) with the entry's policy as its signer flags)
//! on the runner's `--jobs` threads, so a record says exactly what `cosign-rebuild rebuild
//! IMAGE@DIGEST --output json` would have printed.
//!
//! The shard is `--shard INDEX/COUNT`, else `JOB_COMPLETION_INDEX` (set by Kubernetes in the
//! pods of an Indexed Job) with `JOB_COMPLETIONS` (set by the Job's pod template to its
//! `completions`), else the whole catalogue.
//!
//! Not for: catalogue parsing, sharding, records or summaries ([`crate::rebuild::catalog`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::Outcome;
use super::diff::Output;
use super::verify::SignerArgs;
use super::{audit, keys};
use crate::attest::key;
use crate::cli::progress::Progress;
use crate::cli::registry::RegistryArgs;
use crate::rebuild::catalog::run::{Error as RunError, Event};
use crate::rebuild::catalog::{
    self, Attester, Audited, Catalogue, Shard, Signer, Target, file, shard, summary,
};

/// The environment variable Kubernetes sets to a pod's index in an Indexed Job.
pub const INDEX_VARIABLE: &str = "JOB_COMPLETION_INDEX";
/// The environment variable holding the number of shards (the Job's `completions`).
pub const COUNT_VARIABLE: &str = "JOB_COMPLETIONS";

/// `catalog`'s subcommands.
#[derive(Debug, clap::Args)]
pub struct CatalogArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: CatalogCommand,
}

/// Catalogue commands.
#[derive(Debug, clap::Subcommand)]
pub enum CatalogCommand {
    /// Audit every image of a catalogue (this shard's share), one JSON record per image in
    /// --report-dir; images whose digest already has a verdict there are skipped.
    Audit(Box<AuditArgs>),
    /// Merge a report directory into a JSON summary, JUnit XML and a static HTML page.
    Report(ReportArgs),
}

/// Options of `catalog audit`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AUDIT_HELP)]
pub struct AuditArgs {
    /// The catalogue (YAML: `defaults:` and `images:`).
    #[arg(value_name = "CATALOG")]
    pub catalog: PathBuf,
    /// Directory of per-image records (shared by every shard; created when missing).
    #[arg(long = "report-dir", value_name = "DIR")]
    pub report_dir: PathBuf,
    /// Audits run at once.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub jobs: usize,
    /// This process's share: shard INDEX of COUNT (default: JOB_COMPLETION_INDEX of
    /// JOB_COMPLETIONS when set, else the whole catalogue).
    #[arg(long, value_name = "INDEX/COUNT")]
    pub shard: Option<String>,
    /// Audit again images whose digest already has a verdict on record.
    #[arg(long)]
    pub force: bool,
    /// Sign a SLSA verification summary (https://slsa.dev/verification_summary/v1) of each
    /// verdict with --key and attach it to the image, as `cosign attest` does.
    #[arg(long = "attest-result", requires = "key")]
    pub attest_result: bool,
    /// The signing key for --attest-result (cosign's encrypted format or PKCS#8; password
    /// from COSIGN_PASSWORD).
    #[arg(long, value_name = "KEY", requires = "attest_result")]
    pub key: Option<PathBuf>,
    /// Package download cache shared by every audit (overrides the catalogue's `cache-dir`;
    /// safe to share between processes and machines).
    #[arg(long = "cache-dir", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Registry options (added to the catalogue's `defaults:`).
    #[command(flatten)]
    pub registry: RegistryArgs,
}

const AUDIT_HELP: &str = "\
Exit status: 0 every image of the share reproduced (or skipped), 3 some rebuilt but different,
1 some could not be audited (their records say why) or the run failed. Records are written
atomically; a killed run resumes where it stopped.";

/// Options of `catalog report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The report directory written by `catalog audit` (every shard's).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Write the JSON summary to FILE (without --json, --junit or --html: to stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write JUnit XML to FILE (one test case per image and platform).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write one static HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Why a catalogue command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The catalogue is refused.
    #[error(transparent)]
    Catalogue(#[from] file::Error),
    /// The shard is refused.
    #[error(transparent)]
    Shard(#[from] shard::Error),
    /// `JOB_COMPLETION_INDEX` is set but the shard count is not.
    #[error(
        "{INDEX_VARIABLE}={index} is set but {COUNT_VARIABLE} is not: set it to the Job's completions, or pass --shard"
    )]
    NoCount {
        /// The index.
        index: String,
    },
    /// The signing key cannot be read.
    #[error("cannot load the signing key {path}", path = path.display())]
    Key {
        /// The key.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The run stopped.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Some images have no verdict.
    #[error("{errors} of {audited} images audited could not be audited; their records in {dir} say why", dir = dir.display())]
    Images {
        /// Images with status error.
        errors: usize,
        /// Images audited.
        audited: usize,
        /// The report directory.
        dir: PathBuf,
    },
    /// The report directory cannot be read.
    #[error(transparent)]
    Summary(#[from] summary::Error),
    /// An output cannot be written.
    #[error("cannot write {path}", path = path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Runs `catalog …`.
pub fn run(args: &CatalogArgs, quiet: bool) -> Result<Outcome, Error> {
    match &args.command {
        CatalogCommand::Audit(audit) => run_audit(audit, quiet),
        CatalogCommand::Report(report) => run_report(report),
    }
}

fn run_audit(args: &AuditArgs, quiet: bool) -> Result<Outcome, Error> {
    let mut catalogue = Catalogue::load(&args.catalog)?;
    let shard = shard_from(args.shard.as_deref(), &|name| std::env::var(name).ok())?;
    if let Some(dir) = &args.cache_dir {
        catalogue.build.cache_dir = Some(dir.clone());
    }
    let mut registry = args.registry.clone();
    registry.plain_http |= catalogue.registry.allow_http_registry;
    registry.insecure |= catalogue.registry.allow_insecure_registry;
    registry
        .registry_config
        .extend(catalogue.registry.registry_config.iter().cloned());
    let attester = match (&args.key, args.attest_result) {
        (Some(path), true) => Some(load_attester(path)?),
        _ => None,
    };
    let auditor = InProcessAuditor {
        build: catalogue.build.clone(),
        registry: registry.clone(),
    };
    let settings = registry.settings();
    let options = catalog::Options {
        report_dir: &args.report_dir,
        shard,
        jobs: args.jobs,
        force: args.force,
        registry: &settings,
        attester: attester.as_ref(),
    };
    let progress = |event: Event<'_>| {
        if quiet {
            return;
        }
        match event {
            Event::Started { image } => eprintln!("auditing {image}"),
            Event::Skipped { image } => {
                eprintln!("skipping {image}: its digest already has a verdict")
            }
            Event::Recorded { image, status } => eprintln!("{image}: {}", status.as_str()),
        }
    };
    let totals = catalog::run(&catalogue, &auditor, &options, &progress)?;
    let audited = totals.selected - totals.skipped;
    if !quiet {
        eprintln!(
            "shard {shard}: {} of {} images; {} skipped, {} identical, {} equivalent, {} different, {} error",
            totals.selected,
            totals.catalogue,
            totals.skipped,
            totals.identical,
            totals.equivalent,
            totals.different,
            totals.errors
        );
    }
    if totals.errors > 0 || totals.attestation_errors > 0 {
        return Err(Error::Images {
            errors: totals.errors.max(totals.attestation_errors),
            audited,
            dir: args.report_dir.clone(),
        });
    }
    Ok(if totals.different > 0 {
        Outcome::Different
    } else {
        Outcome::Done
    })
}

/// The shard: `--shard`, else `JOB_COMPLETION_INDEX`/`JOB_COMPLETIONS` from `env`, else all.
pub fn shard_from(
    flag: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Shard, Error> {
    if let Some(text) = flag {
        return Ok(Shard::parse(text)?);
    }
    match (env(INDEX_VARIABLE), env(COUNT_VARIABLE)) {
        (Some(index), Some(count)) => Ok(Shard::parse(&format!("{index}/{count}"))?),
        (Some(index), None) => Err(Error::NoCount { index }),
        (None, _) => Ok(Shard::ALL),
    }
}

fn load_attester(path: &Path) -> Result<Attester, Error> {
    let key_error = |source: Box<dyn std::error::Error + Send + Sync>| Error::Key {
        path: path.to_owned(),
        source,
    };
    let text = std::fs::read(path).map_err(|e| key_error(Box::new(e)))?;
    let encrypted = String::from_utf8_lossy(&text).contains("-----BEGIN ENCRYPTED ");
    let password = if encrypted {
        keys::read_password(false).map_err(|e| key_error(Box::new(e)))?
    } else {
        Default::default()
    };
    let key = key::load_private_key(&text, &password).map_err(|e| key_error(Box::new(e)))?;
    Ok(Attester { key })
}

fn run_report(args: &ReportArgs) -> Result<Outcome, Error> {
    let summary = summary::Summary::read(&args.dir)?;
    let outputs = [
        (&args.json, summary.to_json()),
        (&args.junit, summary.to_junit()),
        (&args.html, summary.to_html()),
    ];
    if outputs.iter().all(|(path, _)| path.is_none()) {
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(summary.to_json().as_bytes())
            .and_then(|()| stdout.flush())
            .map(|()| Outcome::Done)
            .map_err(|source| Error::Write {
                path: PathBuf::from("standard output"),
                source,
            });
    }
    for (path, text) in outputs {
        if let Some(path) = path {
            write_atomically(path, text.as_bytes()).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
        }
    }
    Ok(Outcome::Done)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    // A report is for others to read (a web server, CI): not tempfile's 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut temporary = builder.tempfile_in(dir)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Audits one image in this process: the audit command's own work ([`audit::audit`]), quiet,
/// with the entry's policy as its signer flags. Each audit runs on one of the runner's `--jobs`
/// threads; an error is recorded as the command line would print it (its causes and hint).
///
/// Process isolation bought nothing the runner needs: the audit does not panic on input, keeps
/// no global state but the package cache (safe to share between processes, hence threads), and
/// its memory is bounded per audit; a panic all the same is caught and recorded.
pub struct InProcessAuditor {
    build: file::Build,
    registry: RegistryArgs,
}

/// Why an audit in this process reached no verdict.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The entry's signer names both an exact value and a regular expression for one field.
    #[error("the signer of {image} gives both {first} and {second}")]
    Conflict {
        /// The image.
        image: String,
        /// The one field.
        first: &'static str,
        /// The other.
        second: &'static str,
    },
    /// The audit failed: its error, causes and hint as the command line prints them.
    #[error("{message}")]
    Failed {
        /// The rendered error.
        message: String,
    },
    /// The audit panicked (a bug): recorded, and the other images go on.
    #[error("the audit of {image} stopped on an internal error")]
    Panicked {
        /// The image.
        image: String,
    },
}

impl InProcessAuditor {
    /// The audit command's options for `target`: its pinned reference, the entry's policy and
    /// platforms, and the run's cache and registry options.
    fn arguments(&self, target: &Target<'_>) -> Result<audit::AuditArgs, AuditError> {
        let policy = &target.entry.policy;
        let mut signer = SignerArgs {
            key: None,
            certificate_identity: None,
            certificate_identity_regexp: None,
            certificate_oidc_issuer: None,
            certificate_oidc_issuer_regexp: None,
            github_workflow_trigger: None,
            github_workflow_sha: None,
            github_workflow_name: None,
            github_workflow_repository: None,
            github_workflow_ref: None,
        };
        match &policy.signer {
            Signer::Key(key) => signer.key = Some(key.clone()),
            Signer::Certificate {
                identity,
                identity_regexp,
                oidc_issuer,
                oidc_issuer_regexp,
            } => {
                // The audit's flags of these names conflict: refused as the command line would.
                let conflict = |first, second| AuditError::Conflict {
                    image: target.entry.image.clone(),
                    first,
                    second,
                };
                if identity.is_some() && identity_regexp.is_some() {
                    return Err(conflict(
                        "certificate-identity",
                        "certificate-identity-regexp",
                    ));
                }
                if oidc_issuer.is_some() && oidc_issuer_regexp.is_some() {
                    return Err(conflict(
                        "certificate-oidc-issuer",
                        "certificate-oidc-issuer-regexp",
                    ));
                }
                signer.certificate_identity = identity.clone();
                signer.certificate_identity_regexp = identity_regexp.clone();
                signer.certificate_oidc_issuer = oidc_issuer.clone();
                signer.certificate_oidc_issuer_regexp = oidc_issuer_regexp.clone();
            }
        }
        Ok(audit::AuditArgs {
            image: Some(target.pinned.clone()),
            insecure_skip_verify: false,
            old_insecure_skip_verify: false,
            signer: Box::new(signer),
            trusted_root: policy.trusted_root.clone(),
            insecure_ignore_tlog: policy.insecure_ignore_tlog,
            insecure_ignore_sct: policy.insecure_ignore_sct,
            platforms: target.entry.platforms.clone(),
            publish: None,
            keep: None,
            output: Output::Json,
            offline: self.build.offline,
            cache_dir: self.build.cache_dir.clone(),
            registry: self.registry.clone(),
        })
    }
}

impl catalog::Auditor for InProcessAuditor {
    type Error = AuditError;

    fn audit(&self, target: &Target<'_>) -> Result<Audited, AuditError> {
        let args = self.arguments(target)?;
        let quiet = Progress::new(true);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            audit::audit(&args, &target.pinned, &quiet)
        }));
        match run {
            Ok(Ok(audited)) => {
                let report = &audited.report;
                Ok(Audited {
                    verdict: report.verdict,
                    // The record holds the report as `--output json` prints it.
                    report: serde_json::from_str(&report.to_json()).unwrap_or_default(),
                })
            }
            Ok(Err(error)) => {
                let rendered = crate::cli::render_chain(&super::Error::Audit(error));
                Err(AuditError::Failed {
                    message: rendered.trim().trim_start_matches("error: ").to_owned(),
                })
            }
            Err(_) => Err(AuditError::Panicked {
                image: target.entry.image.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shard_comes_from_the_flag_then_the_indexed_job() {
        let env = |index: Option<&'static str>, count: Option<&'static str>| {
            move |name: &str| match name {
                INDEX_VARIABLE => index.map(str::to_owned),
                COUNT_VARIABLE => count.map(str::to_owned),
                _ => None,
            }
        };
        let shard = |flag, index, count| shard_from(flag, &env(index, count));
        assert_eq!(shard(None, None, None).unwrap(), Shard::ALL);
        assert_eq!(
            shard(None, Some("2"), Some("4")).unwrap(),
            Shard::new(2, 4).unwrap()
        );
        assert_eq!(
            shard(Some("1/3"), Some("2"), Some("4")).unwrap(),
            Shard::new(1, 3).unwrap()
        );
        assert!(matches!(
            shard(None, Some("2"), None),
            Err(Error::NoCount { .. })
        ));
        assert!(shard(None, Some("4"), Some("4")).is_err());
    }
}
