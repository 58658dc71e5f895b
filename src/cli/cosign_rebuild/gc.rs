//! `cosign-rebuild gc oci:DIR`: remove the blobs of an OCI layout that nothing reachable from
//! its `index.json` names (tags, the default image, attestations and other referrers are kept),
//! and the scratch files of writers that died. Removes by default, as the distribution
//! registry's `garbage-collect` does; `--dry-run` only reports.
//!
//! Not for: deciding what is reachable ([`crate::oci::layout::gc`]).

use std::io::Write as _;

use super::Outcome;
use crate::oci::layout::gc::Mode;
use crate::oci::layout::{self, Layout};
use crate::oci::reference::{Reference, Selector};

/// Options of this command.
#[derive(Debug, Clone, clap::Args)]
pub struct GcArgs {
    /// The layout: `oci:DIR` (no tag or digest: the whole layout is collected).
    #[arg(value_name = "LAYOUT")]
    pub layout: String,
    /// Report what would be removed; remove nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// LAYOUT does not parse.
    #[error(transparent)]
    Reference(#[from] crate::cli::image::InvalidImage),
    /// LAYOUT names a registry or a tag, not a whole layout.
    #[error("{layout}: gc collects a whole OCI layout; give it as oci:DIR")]
    NotALayout {
        /// The argument.
        layout: String,
    },
    /// Reading or collecting the layout failed.
    #[error(transparent)]
    Layout(#[from] layout::Error),
    /// The report could not be printed.
    #[error("writing to stdout")]
    Stdout(#[source] std::io::Error),
}

/// Collects the layout; prints each unreachable blob (`DIGEST SIZE`) and each abandoned scratch
/// file on stdout, and a summary on stderr.
pub fn run(args: &GcArgs, quiet: bool) -> Result<Outcome, Error> {
    let reference = crate::cli::image::parse(&args.layout)?;
    let Reference::Local(local) = &reference else {
        return Err(Error::NotALayout {
            layout: args.layout.clone(),
        });
    };
    if *local.selector() != Selector::Default {
        return Err(Error::NotALayout {
            layout: args.layout.clone(),
        });
    }
    let layout = Layout::open(local.dir())?;
    let mode = if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Remove
    };
    let garbage = layout.collect_garbage(mode)?;
    let mut stdout = std::io::stdout().lock();
    for (digest, size) in &garbage.blobs {
        writeln!(stdout, "{digest} {size}").map_err(Error::Stdout)?;
    }
    for path in &garbage.scratch {
        writeln!(stdout, "{}", path.display()).map_err(Error::Stdout)?;
    }
    stdout.flush().map_err(Error::Stdout)?;
    if !quiet {
        let verb = if args.dry_run {
            "would remove"
        } else {
            "removed"
        };
        eprintln!(
            "{verb} {} unreachable blob(s), {} bytes, and {} abandoned scratch file(s)",
            garbage.blobs.len(),
            garbage.blob_bytes(),
            garbage.scratch.len()
        );
    }
    Ok(Outcome::Done)
}
