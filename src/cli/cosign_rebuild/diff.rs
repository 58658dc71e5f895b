//! `cosign-rebuild diff A B`: compare any two images (registry references or `oci:DIR`
//! layouts) and print how they differ — the audit's comparison without verification or build.
//!
//! Exit 0 when identical or equivalent, 3 when different.
//!
//! Not for: the comparison itself ([`crate::rebuild`]).

use super::Outcome;
use crate::cli::registry::RegistryArgs;
use crate::oci::{Store, store};
use crate::rebuild::{self, Options};

/// How the result is printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// A summary line, one line per platform, then the differences.
    #[default]
    Text,
    /// The report as JSON (schema in the `rebuild` module and the README).
    Json,
}

/// Options of this command.
#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {
    /// The first image: `REGISTRY/REPO[:TAG|@DIGEST]` or `oci:DIR[:TAG|@DIGEST]`.
    #[arg(value_name = "IMAGE_A")]
    pub a: String,
    /// The second image.
    #[arg(value_name = "IMAGE_B")]
    pub b: String,
    /// Compare only this platform (`os/arch[/variant]`; repeatable).
    #[arg(long = "platform", value_name = "OS/ARCH")]
    pub platforms: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Registry options.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// IMAGE does not parse.
    #[error(transparent)]
    Reference(#[from] crate::cli::image::InvalidImage),
    /// An image cannot be opened or resolved.
    #[error("cannot resolve {image}")]
    Resolve {
        /// The argument.
        image: String,
        /// The store's error.
        #[source]
        source: Box<store::Error>,
    },
    /// The comparison failed.
    #[error("comparing {a} with {b}")]
    Compare {
        /// The first image.
        a: String,
        /// The second image.
        b: String,
        /// Why.
        #[source]
        source: Box<rebuild::Error>,
    },
}

/// Runs the command.
pub fn run(args: &DiffArgs, quiet: bool) -> Result<Outcome, Error> {
    let progress = crate::cli::progress::Progress::new(quiet);
    let settings = args.registry.settings();
    let (store_a, root_a) = open(&args.a, &settings)?;
    let (store_b, root_b) = open(&args.b, &settings)?;
    let options = Options {
        platforms: args.platforms.clone(),
        ..Options::default()
    };
    progress.step(format_args!("comparing {} with {}", args.a, args.b));
    let report = rebuild::diff(
        (&store_a, root_a, &args.a),
        (&store_b, root_b, &args.b),
        &options,
    )
    .map_err(|source| Error::Compare {
        a: args.a.clone(),
        b: args.b.clone(),
        source: Box::new(source),
    })?;
    progress.finish();
    match args.output {
        Output::Text => print!("{}", report.to_text()),
        Output::Json => print!("{}", report.to_json()),
    }
    Ok(if report.verdict.reproduced() {
        Outcome::Done
    } else {
        Outcome::Different
    })
}

/// Opens the store an image argument names and resolves it to its root digest.
pub fn open(
    image: &str,
    settings: &crate::oci::registry::Settings,
) -> Result<(Store, crate::oci::Digest), Error> {
    let reference = crate::cli::image::parse(image).map_err(Error::from)?;
    let resolve = |source| Error::Resolve {
        image: image.to_owned(),
        source: Box::new(source),
    };
    let store = Store::open(&reference, settings).map_err(resolve)?;
    let root = store.resolve(&reference).map_err(resolve)?;
    Ok((store, root.digest))
}
