//! `oras-lock`: argument definitions and the glue between them and [`crate::lock`].
//!
//! Parses (no I/O), builds [`lock::Settings`], calls the library, prints data to stdout and
//! warnings and errors to stderr, and maps the outcome to the documented exit status.
//!
//! Not for: locking itself ([`crate::lock`]).

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand, ValueEnum};

use super::progress::{Progress, Style};

use crate::config::{Architecture, ImageConfiguration, Lock};
use crate::lock::{self, Locker, Template, check, output};

const EXIT_STATUS: &str = "\
Exit status:
  0  success (for `check`: nothing would change)
  1  `check` only: a fresh lock would change something
  2  error (invalid arguments, unreadable configuration, unresolvable packages, …)

Called as `oras-lock lock …` (the way a plugin shim calls it), the leading word `lock` is
dropped. A configuration file literally named `lock`, `check`, `show-packages`, `shim` or
`plugin-metadata` must therefore be given with a directory, e.g. `./lock`.
`oras-lock shim bash` prints a shell function that makes `oras lock …` run oras-lock and every
other `oras …` the real oras.";

/// Lock an apko configuration at release time: resolve every architecture, pin every package
/// `name=version`, and write the locked configuration (the object an
/// `https://apko.dev/image-configuration` attestation carries) and, on request, apko's
/// `apko.lock.json`.
///
/// Keys are taken from `contents.keyring` only: apko's network key discovery (Alpine releases,
/// Chainguard JWKS) is not performed.
#[derive(Debug, Parser)]
#[command(
    name = "oras-lock",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_long_help = EXIT_STATUS
)]
pub struct Args {
    /// Another command instead of locking.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Locking options.
    #[command(flatten)]
    pub lock: LockArgs,
    /// Print no progress on stderr (errors and warnings still are).
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
}

/// `oras-lock`'s commands besides locking.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the packages and versions a configuration resolves to, per architecture (sorted),
    /// in install order.
    ///
    /// With several architectures, `packages for <arch>` precedes each block on stderr.
    #[command(after_long_help = EXIT_STATUS)]
    ShowPackages(ShowArgs),
    /// Compare a locked configuration or an apko.lock.json with a fresh resolution of CONFIG,
    /// and list per architecture every package that would be added, removed, upgraded,
    /// downgraded or rebuilt.
    ///
    /// Against a lock file, each architecture is compared, plus the configuration checksum,
    /// keys and repositories; against a locked configuration, its package list is compared with
    /// a fresh index list (shown as architecture `index`) and the rest of the configuration
    /// with a fresh locked copy. `--format json` prints one stable JSON object: `changed`
    /// (bool), `settings` (`{"setting", "old", "new"}` for checksum, keyring, repositories,
    /// configuration) and `architectures` (`{"arch", "changes": [{"package", "change", "old",
    /// "new"}]}`, change one of added, removed, upgraded, downgraded, changed, rebuilt).
    #[command(after_long_help = EXIT_STATUS)]
    Check(CheckArgs),
    /// Print a shell function that makes `oras lock …` run oras-lock (and every other
    /// `oras …` the real oras): `eval "$(oras-lock shim bash)"`.
    Shim(super::plugin::ShimArgs),
    /// Print docker-style CLI plugin metadata as JSON (for plugin managers).
    #[command(hide = true)]
    PluginMetadata,
}

/// Options of every command that resolves packages: the shared resolution options and
/// oras's registry options.
#[derive(Debug, Clone, clap::Args)]
pub struct OrasResolveArgs {
    /// Resolution options (shared with `cosign-rebuild build`).
    #[command(flatten)]
    pub packages: super::resolve::ResolveArgs,
    /// Registry options. Locking reads no registry today; they are accepted so that
    /// `oras lock` takes the same options as every other oras command.
    #[command(flatten)]
    pub registry: super::registry::OrasRegistryArgs,
}

/// `oras-lock CONFIG`.
#[derive(Debug, Clone, clap::Args)]
pub struct LockArgs {
    /// The apko configuration to lock.
    #[arg(value_name = "CONFIG", required = true)]
    pub config: Option<String>,
    /// Write the locked configuration to OUT (replaced atomically) instead of stdout. Its
    /// extension picks the format: `.yaml`/`.yml` YAML, otherwise JSON, unless --format says.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Also write apko's apko.lock.json (v1) to FILE. Every resolved package is downloaded to
    /// record its byte ranges and checksums.
    #[arg(long, value_name = "FILE")]
    pub lockfile: Option<PathBuf>,
    /// Format of the locked configuration.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ConfigFormat>,
    /// Resolution options.
    #[command(flatten)]
    pub resolve: OrasResolveArgs,
}

/// Formats of the locked configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConfigFormat {
    /// YAML.
    Yaml,
    /// apko's JSON form, indented with two spaces.
    Json,
}

/// `oras-lock show-packages CONFIG`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// The apko configuration.
    #[arg(value_name = "CONFIG")]
    pub config: String,
    /// One of name-version (default), name-version-source, name=version, name=version-source,
    /// name-(version), name-(version)-source, packagelock, packagelock-source; or a template
    /// using {{.Name}}, {{.Version}} and {{.Source}} (no other template actions).
    #[arg(long, value_name = "FORMAT", default_value = lock::show::DEFAULT_FORMAT)]
    pub format: String,
    /// What stdout carries: `text` (default), one line per package in the --format chosen,
    /// with a `packages for <arch>` heading on stderr per architecture when there are several;
    /// `json`, one object `{"architectures": [{"arch", "packages": [{"name", "version",
    /// "source"}]}]}` (packages in install order), with no headings.
    #[arg(long, value_enum, value_name = "OUTPUT", default_value = "text")]
    pub output: ReportFormat,
    /// Resolution options.
    #[command(flatten)]
    pub resolve: OrasResolveArgs,
}

/// `oras-lock check CONFIG`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("earlier").required(true).args(["locked", "lockfile"])))]
pub struct CheckArgs {
    /// The apko configuration (floating) to resolve afresh.
    #[arg(value_name = "CONFIG")]
    pub config: String,
    /// A locked configuration written by `oras-lock` (YAML for `.yaml`/`.yml`, else JSON).
    #[arg(long, value_name = "FILE")]
    pub locked: Option<PathBuf>,
    /// An apko.lock.json.
    #[arg(long, value_name = "FILE")]
    pub lockfile: Option<PathBuf>,
    /// Report format (`--output` is oras's spelling).
    #[arg(
        long,
        visible_alias = "output",
        value_enum,
        value_name = "FORMAT",
        default_value = "text"
    )]
    pub format: ReportFormat,
    /// Resolution options.
    #[command(flatten)]
    pub resolve: OrasResolveArgs,
}

/// Formats of the drift report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One line per change.
    Text,
    /// The JSON report.
    Json,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The library's error.
    #[error(transparent)]
    Lock(#[from] lock::Error),
    /// `check` was given neither `--locked` nor `--lockfile`.
    #[error("check needs --locked FILE or --lockfile FILE")]
    NothingToCheck,
    /// Standard output cannot be written (other than a closed pipe, which is not an error).
    #[error("cannot write to standard output")]
    Stdout(#[source] std::io::Error),
    /// `shim` or `plugin-metadata` failed.
    #[error(transparent)]
    Plugin(#[from] super::plugin::Error),
    /// The `show-packages --output json` report cannot be encoded.
    #[error("cannot encode the package report")]
    EncodeReport(#[source] serde_json::Error),
    /// The registry options are inconsistent.
    #[error(transparent)]
    Registry(#[from] super::registry::Error),
    /// `--arch` names an architecture apko does not know.
    #[error(
        "unknown architecture {name:?}; use one of: all, host, {}",
        known.join(", ")
    )]
    UnknownArch {
        /// The name given.
        name: String,
        /// The known names, apko's and APK's spellings.
        known: Vec<String>,
    },
}

/// How a successful run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The command did its work.
    Done,
    /// `check`: a fresh lock would change something.
    Drift,
}

impl Args {
    /// Parses the command line; a leading `lock` (plugin dispatch, `oras lock …`) is dropped.
    /// Invalid arguments print clap's message and exit with status 2.
    pub fn parse_plugin<I: IntoIterator<Item = OsString>>(args: I) -> Args {
        let args = without_plugin_word(args);
        Args::parse_from(super::quiet_after_subcommand(args, &Args::command()))
    }
}

/// The arguments with a first `lock` removed.
pub fn without_plugin_word<I: IntoIterator<Item = OsString>>(args: I) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|word| word == "lock") {
        args.remove(1);
    }
    args
}

/// Runs the command.
pub fn run(args: Args) -> Result<Outcome, Error> {
    match args.command {
        Some(Command::ShowPackages(show)) => show_packages(&show),
        Some(Command::Check(check)) => check_drift(&check, &Progress::new(args.quiet)),
        Some(Command::Shim(shim)) => {
            super::plugin::print_shim(&super::plugin::ORAS_LOCK, &shim)?;
            Ok(Outcome::Done)
        }
        Some(Command::PluginMetadata) => {
            super::plugin::print_metadata(&super::plugin::ORAS_LOCK)?;
            Ok(Outcome::Done)
        }
        None => lock_configuration(&args.lock, &Progress::new(args.quiet)),
    }
}

/// Prints an error chain and maps the outcome to the exit status in the long help.
pub fn exit(result: Result<Outcome, Error>) -> ExitCode {
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Drift) => ExitCode::from(1),
        Err(error) => {
            super::print_chain(&error);
            ExitCode::from(2)
        }
    }
}

/// The library settings; also checks what the library would accept but cannot succeed with:
/// unknown `--arch` names (apko keeps them and then finds no index) and incomplete registry
/// credentials.
fn settings(resolve: &OrasResolveArgs) -> Result<lock::Settings, Error> {
    check_archs(&resolve.packages.archs)?;
    resolve.registry.settings()?;
    Ok(resolve.packages.settings())
}

fn check_archs(names: &[String]) -> Result<(), Error> {
    if let [only] = names
        && (only == "all" || only == "host")
    {
        return Ok(());
    }
    let known = Architecture::all();
    match names
        .iter()
        .find(|name| !known.contains(&Architecture::parse(name)))
    {
        None => Ok(()),
        Some(name) => Err(Error::UnknownArch {
            name: name.clone(),
            known: known
                .iter()
                .map(|arch| match arch.to_apk() {
                    apk if apk == arch.as_str() => apk,
                    apk => format!("{arch} ({apk})"),
                })
                .collect(),
        }),
    }
}

fn open(config: &str, resolve: &OrasResolveArgs, progress: &Progress) -> Result<Locker, Error> {
    progress.step(format_args!("reading {config} and its package indexes"));
    let locker = Locker::open(config, &settings(resolve)?)?;
    for path in locker.missing_indexes() {
        progress.warn(format_args!("{}: no such index, skipped", path.display()));
    }
    progress.step(format_args!(
        "resolving packages for {}",
        locker
            .archs()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(locker)
}

fn lock_configuration(args: &LockArgs, progress: &Progress) -> Result<Outcome, Error> {
    let config = args.config.as_deref().unwrap_or_default();
    let locker = open(config, &args.resolve, progress)?;
    let locked = locker.locked_configuration()?;
    for (arch, packages) in &locked.missing {
        progress.warn(format_args!(
            "{arch}: not pinned in the locked configuration (versions differ across architectures): {}",
            packages.join(", ")
        ));
    }
    let format = match (args.format, &args.output) {
        (Some(ConfigFormat::Yaml), _) => output::Format::Yaml,
        (Some(ConfigFormat::Json), _) => output::Format::Json,
        (None, Some(path)) => output::Format::for_path(path).unwrap_or_default(),
        (None, None) => output::Format::Json,
    };
    let bytes = output::encode(&locked.index, format)?;
    // Everything is computed before anything is written, so an error writes nothing.
    let lock_bytes = match &args.lockfile {
        Some(path) => Some((
            path,
            {
                progress.step(format_args!(
                    "downloading every resolved package to record it in {}",
                    path.display()
                ));
                &locker
            }
            .lock_file()?
            .to_json()
            .map_err(lock::Error::EncodeLock)?,
        )),
        None => None,
    };
    if let Some((path, lock_bytes)) = lock_bytes {
        output::write_atomically(path, &lock_bytes, output::Mode::LockFile)?;
    }
    progress.finish();
    match &args.output {
        Some(path) => output::write_atomically(path, &bytes, output::Mode::Regular)?,
        None => print(&bytes)?,
    }
    exit_soon(locker);
    Ok(Outcome::Done)
}

fn show_packages(args: &ShowArgs) -> Result<Outcome, Error> {
    let template = Template::from_format(&args.format)?;
    // Its stderr carries the `packages for <arch>` headings: steps would mix with them.
    let locker = open(
        &args.config,
        &args.resolve,
        &Progress::with_style(Style::Quiet),
    )?;
    if args.output == ReportFormat::Json {
        let report = packages_report(&locker)?;
        print(&report)?;
        exit_soon(locker);
        return Ok(Outcome::Done);
    }
    let several = locker.archs().len() != 1;
    for (arch, lines) in locker.show_packages(&template)? {
        if several {
            eprintln!("packages for {arch}");
        }
        print(lines.as_bytes())?;
    }
    exit_soon(locker);
    Ok(Outcome::Done)
}

fn check_drift(args: &CheckArgs, progress: &Progress) -> Result<Outcome, Error> {
    // Read the earlier lock first: a missing file should not cost a resolution.
    let earlier = match (&args.lockfile, &args.locked) {
        (Some(path), _) => {
            Earlier::LockFile(Lock::read(path).map_err(|source| lock::Error::LockFile {
                path: path.clone(),
                source,
            })?)
        }
        (None, Some(path)) => Earlier::Configuration(read_locked(path)?),
        // clap's argument group requires one of the two; built by hand, Args may lack both.
        (None, None) => return Err(Error::NothingToCheck),
    };
    let locker = open(&args.config, &args.resolve, progress)?;
    progress.step("comparing");
    let drift = match &earlier {
        Earlier::LockFile(old) => check::against_lock_file(&locker, old)?,
        Earlier::Configuration(old) => check::against_locked_configuration(&locker, old)?,
    };
    match args.format {
        ReportFormat::Text => print(drift.to_text().as_bytes())?,
        ReportFormat::Json => print(&drift.to_json()?)?,
    }
    Ok(if drift.changed {
        Outcome::Drift
    } else {
        Outcome::Done
    })
}

/// `show-packages --output json`: the resolution `show-packages` prints, as data.
fn packages_report(locker: &Locker) -> Result<Vec<u8>, Error> {
    #[derive(serde::Serialize)]
    struct Report {
        architectures: Vec<ArchPackages>,
    }
    #[derive(serde::Serialize)]
    struct ArchPackages {
        arch: String,
        packages: Vec<PackageLine>,
    }
    #[derive(serde::Serialize)]
    struct PackageLine {
        name: String,
        version: String,
        source: String,
    }
    let architectures = locker
        .resolve(lock::Scope::Together)?
        .into_iter()
        .map(|resolution| ArchPackages {
            arch: resolution.arch.to_string(),
            packages: resolution
                .packages
                .iter()
                .map(|resolved| PackageLine {
                    name: resolved.package.name.to_string(),
                    version: resolved.package.version.to_string(),
                    source: resolved.url.clone(),
                })
                .collect(),
        })
        .collect();
    let mut json =
        serde_json::to_vec_pretty(&Report { architectures }).map_err(Error::EncodeReport)?;
    json.push(b'\n');
    Ok(json)
}

enum Earlier {
    LockFile(Lock),
    Configuration(Box<ImageConfiguration>),
}

fn read_locked(path: &PathBuf) -> Result<Box<ImageConfiguration>, Error> {
    let failed = |source| lock::Error::LockedConfiguration {
        path: path.clone(),
        source,
    };
    let bytes = std::fs::read(path)
        .map_err(|source| crate::config::Error::Read {
            path: path.clone(),
            source,
        })
        .map_err(failed)?;
    let configuration = match output::Format::for_path(path) {
        Some(output::Format::Yaml) => {
            ImageConfiguration::from_yaml(&bytes, &path.display().to_string())
        }
        _ => ImageConfiguration::from_json(&bytes),
    }
    .map_err(failed)?;
    Ok(Box::new(configuration))
}

/// Leaves the locker's memory to the operating system: the process ends right after, and
/// freeing every parsed package of every index one by one takes longer than resolving them.
fn exit_soon(locker: Locker) {
    std::mem::forget(locker);
}

/// Writes to stdout; a closed pipe (`oras-lock show-packages … | head`) ends output quietly.
fn print(bytes: &[u8]) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(Error::Stdout),
    }
}
