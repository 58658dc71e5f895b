//! The audit: verify a published image's image-configuration attestation, rebuild it from the
//! verified predicate, and compare the rebuild with the published image (identical, equivalent
//! or different), diffing manifests, configs and layer file trees, and report.
//!
//! [`audit()`] is the whole audit as one call ([`audit`](mod@audit) module: verification,
//! the rebuild with the published layers checked beside it, comparison, keeping and
//! publishing); the caller hands in the image, a verification policy with its trusted material
//! (loading keys and trusted roots is the caller's), and [`audit::Settings`], and gets a
//! [`Report`] with the verified signer.
//!
//! ```no_run
//! # fn demo(policy: &receipts::attest::verify::Policy) -> Result<(), Box<dyn std::error::Error>> {
//! use receipts::oci::Reference;
//! use receipts::rebuild::{self, audit};
//! let image = "registry.example/app:1";
//! let verification = audit::Verification::Policy { policy, trusted_root: None, key_name: None };
//! let audited = rebuild::audit(image, &Reference::parse(image)?, &verification,
//!                              &audit::Settings::default(), &|_event| {})?;
//! print!("{}", audited.report.to_text());
//! # Ok(()) }
//! ```
//!
//! Images are read through [`crate::oci::Store`] (a registry repository or an OCI layout), so
//! the same comparison serves a published image against a rebuild ([`compare_published`]) and
//! any two images ([`diff`]). Catalogue audits ([`catalog`]) run many audits on top of this.

//! Verdicts are defined in [`compare`]. Published blobs are always streamed and checked
//! against their digests, and their gzip decoded strictly unless they are byte for byte a
//! trusted rebuild's layer; nothing is extracted to disk.
//!
//! # Report schema (`--output json`, `schemaVersion` 1)
//!
//! ```text
//! {
//!   "schemaVersion": 1,
//!   "verdict": "identical" | "equivalent" | "different",
//!   "a": {"role": "rebuilt" | "a", "image": STRING, "digest": DIGEST, "mediaType": STRING},
//!   "b": {"role": "published" | "b", "image": STRING, "digest": DIGEST, "mediaType": STRING},
//!   "signer": STRING,                      // audits only, when known
//!   "rootDifferences": [DIFFERENCE],       // index vs index (or vs manifest); [] otherwise
//!   "platforms": [{
//!     "platform": "linux/amd64",           // os/architecture[/variant]
//!     "verdict": VERDICT,
//!     "reason": STRING,                    // absent when identical
//!     "manifest": {"a": DIGEST, "b": DIGEST, "differences": [DIFFERENCE]},
//!     "config":   {"a": DIGEST, "b": DIGEST, "differences": [DIFFERENCE]},
//!     "layers": [{
//!       "index": 0,
//!       "verdict": VERDICT,
//!       "reason": STRING,                  // absent when identical
//!       "a": LAYER, "b": LAYER,            // absent on the side that has no layer here
//!       "files": {                         // different layers only, when both tars read
//!         "added": [ENTRY], "removed": [ENTRY],
//!         "changed": [{"path": STRING, "fields": [{"field": STRING, "a": STRING, "b": STRING}],
//!                      "diff": STRING (optional: a unified diff of a small text file)}],
//!         "orderDiffers": BOOL
//!       }
//!     }]
//!   }]
//! }
//! DIFFERENCE = {"path": JSON-POINTER, "a": JSON, "b": JSON}   // a or b absent: not on that side
//! LAYER = {"digest": DIGEST, "size": N, "mediaType": STRING,
//!          "diffId": DIGEST,               // from that side's config
//!          "decompressedDigest": DIGEST}   // computed here (untrusted sides, strict gzip)
//! ENTRY = {"path", "type" (file|dir|symlink|hardlink|char|block|fifo), "size", "sha256",
//!          "mode" (octal), "uid", "gid", "uname", "gname", "mtime" (Unix seconds),
//!          "linkname", "device" ("major,minor"), "xattrs" {name: value}, "pax" {key: value}}
//! ```
//!
//! Fields are only added within a schema version; keys whose value would be empty or absent
//! are left out as noted. Changed-field names are those of ENTRY, with `xattr.<name>` and
//! `pax.<key>` for single attributes and records.
//!
//! Not for: building ([`crate::build`]), verifying attestations ([`crate::attest`]), loading
//! keys and trusted material, printing and exit statuses (the command line).

pub mod audit;
pub mod catalog;
mod checked;
pub mod compare;
pub mod diff;
mod image;
pub mod report;
mod stream;

pub use audit::audit;
pub use compare::{Named, Options};
pub use image::{Side, platform_key};
pub use report::{Report, Verdict};

use crate::oci::{Digest, manifest, store};

/// Why a comparison could not be made (a difference is a [`Report`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A manifest or config could not be read.
    #[error("{store}: reading {digest}")]
    Store {
        /// The store.
        store: String,
        /// What was read.
        digest: Digest,
        /// The store's error.
        #[source]
        source: Box<store::Error>,
    },
    /// A layer blob could not be streamed (or did not match its digest).
    #[error("{store}: streaming blob {digest}")]
    Blob {
        /// The store.
        store: String,
        /// The blob.
        digest: Digest,
        /// The store's error.
        #[source]
        source: Box<store::Error>,
    },
    /// The thread streaming a blob panicked.
    #[error("{store}: the thread streaming blob {digest} failed")]
    BlobThread {
        /// The store.
        store: String,
        /// The blob.
        digest: Digest,
    },
    /// A streamed blob could not be read to its end.
    #[error("{store}: reading blob {digest}")]
    Read {
        /// The store.
        store: String,
        /// The blob.
        digest: Digest,
        /// The reader's error.
        #[source]
        source: std::io::Error,
    },
    /// A manifest or index does not parse.
    #[error("{store}: {digest} is not a valid manifest")]
    Manifest {
        /// The store.
        store: String,
        /// The manifest.
        digest: Digest,
        /// The parser's error.
        #[source]
        source: manifest::Error,
    },
    /// A manifest or config is not JSON.
    #[error("{store}: {what} {digest} is not JSON")]
    Json {
        /// The store.
        store: String,
        /// The document.
        digest: Digest,
        /// `manifest` or `config`.
        what: &'static str,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A config lacks what the comparison needs.
    #[error("{store}: config {digest}: {what}")]
    Config {
        /// The store.
        store: String,
        /// The config.
        digest: Digest,
        /// What is wrong.
        what: &'static str,
    },
    /// An index lists another index.
    #[error("{store}: nested index {digest} is not supported")]
    NestedIndex {
        /// The store.
        store: String,
        /// The child index.
        digest: Digest,
    },
    /// A requested platform is not in an image.
    #[error("platform {platform} is not in the {role} image {image} (it has: {found})")]
    PlatformMissing {
        /// The platform asked for.
        platform: String,
        /// `published`, `rebuilt`, `a` or `b`.
        role: String,
        /// The image.
        image: String,
        /// The platforms it has.
        found: String,
    },
}

/// Compares a published image with a rebuild of it (the comparison step of [`audit()`]). Side A
/// is the rebuild (what the image should be; `rebuilt.trusted` when this process built it),
/// side B the published image (never trusted), so a file "added" is one the published image has
/// and the rebuild has not. The rebuilt image is named by its store.
pub fn compare_published(
    published: Side<'_>,
    published_name: &str,
    rebuilt: Side<'_>,
    options: &Options,
) -> Result<Report, Error> {
    compare_published_checked(
        published,
        published_name,
        rebuilt,
        options,
        &Default::default(),
    )
}

/// [`compare_published`], taking the published layers found in `checked` as already decoded
/// (the audit checks them while it rebuilds).
fn compare_published_checked(
    published: Side<'_>,
    published_name: &str,
    rebuilt: Side<'_>,
    options: &Options,
    checked: &checked::Checked,
) -> Result<Report, Error> {
    let rebuilt_name = rebuilt.store.name();
    compare::compare_checked(
        Named {
            side: rebuilt,
            role: "rebuilt",
            image: &rebuilt_name,
        },
        Named {
            side: published,
            role: "published",
            image: published_name,
        },
        options,
        checked,
    )
}

/// The platforms (`os/arch[/variant]`) of the image `root` in `store`, in its index's order.
pub fn platforms(store: &crate::oci::Store, root: &Digest) -> Result<Vec<String>, Error> {
    Ok(image::Image::read(store, root)?.keys())
}

/// Compares any two images, neither trusted: `(store, root digest, name)` for each.
pub fn diff(
    a: (&crate::oci::Store, Digest, &str),
    b: (&crate::oci::Store, Digest, &str),
    options: &Options,
) -> Result<Report, Error> {
    compare::compare(untrusted(a, "a"), untrusted(b, "b"), options)
}

fn untrusted<'a>(
    (store, root, image): (&'a crate::oci::Store, Digest, &'a str),
    role: &'a str,
) -> Named<'a> {
    Named {
        side: Side {
            store,
            root,
            trusted: false,
        },
        role,
        image,
    }
}
