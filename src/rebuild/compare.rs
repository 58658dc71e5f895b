//! Decides how two images compare — identical, equivalent or different — overall, per
//! platform and per layer, and gathers the differences when they are not identical.
//!
//! Rules (the audit's definition of "reproduced"):
//! - **identical**: same bytes, hence same digests. An untrusted side's layers are still
//!   streamed and their digests checked: a registry is never trusted to serve what a digest
//!   names. A layer with the trusted side's digest is its bytes, so it is not decoded again;
//!   any other is decoded strictly.
//! - **equivalent**: same config bytes (hence the same diff_ids), and each layer on an
//!   untrusted side decodes — strict gzip: one member, no FEXTRA/FNAME/FCOMMENT/FHCRC, CRC-32
//!   and size right, nothing after the trailer — to exactly the other side's tar; the manifests
//!   differ only at `/layers/N/digest` and `/layers/N/size`, the indexes only at
//!   `/manifests/N/digest` and `/manifests/N/size`.
//! - **different**: anything else, with a reason, the manifest and config differences as JSON
//!   paths, and for each different layer its file-tree differences (both layers streamed, not
//!   extracted).
//!
//! Not for: reading attestations or building (the caller hands in both images), rendering
//! ([`super::report`]).

use std::io::Read;
use std::sync::atomic::AtomicBool;

use super::Error;
use super::checked::Checked;
use super::diff::{Difference, FileDiff, Tree, json};
use super::image::{Image, PlatformImage, Side};
use super::report::{
    Compared, LayerReport, LayerSide, PlatformReport, Report, SCHEMA_VERSION, Subject, Verdict,
};
use super::stream::{with_blob, with_blob_until};
use crate::compress::strict;
use crate::oci::{Descriptor, Digest, Store};

/// What to compare and how deeply.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these platforms (`os/arch[/variant]`); empty: all of them, and the roots too.
    pub platforms: Vec<String>,
    /// Skip the file-tree diff of different layers (verdicts and reasons only).
    pub no_files: bool,
}

/// A side with its description for the report.
#[derive(Debug, Clone, Copy)]
pub struct Named<'a> {
    /// The image.
    pub side: Side<'a>,
    /// `published`, `rebuilt`, `a`, `b`: what the side is, in messages and the report.
    pub role: &'a str,
    /// The image as the user named it.
    pub image: &'a str,
}

/// Compares `a` with `b`.
pub fn compare(a: Named<'_>, b: Named<'_>, options: &Options) -> Result<Report, Error> {
    compare_checked(a, b, options, &Checked::default())
}

/// Compares `a` with `b`, taking the layers of an untrusted `b` found in `checked` as already
/// decoded (the audit checks the published layers while it rebuilds).
pub(super) fn compare_checked(
    a: Named<'_>,
    b: Named<'_>,
    options: &Options,
    checked: &Checked,
) -> Result<Report, Error> {
    let image_a = Image::read(a.side.store, &a.side.root)?;
    let image_b = Image::read(b.side.store, &b.side.root)?;
    let keys = platform_keys(&image_a, &image_b, a, b, options)?;
    let mut platforms = Vec::new();
    for key in &keys {
        let report = match (image_a.platform(key), image_b.platform(key)) {
            (Some(pa), Some(pb)) => compare_platform(key, (a, pa), (b, pb), (options, checked))?,
            (pa, pb) => one_sided(key, pa, pb, a, b),
        };
        platforms.push(report);
    }
    let worst = platforms
        .iter()
        .map(|p| p.verdict)
        .max()
        .unwrap_or(Verdict::Identical);
    let roots_compared = options.platforms.is_empty() && image_a.root.digest != image_b.root.digest;
    let (root_differences, verdict) = if !roots_compared {
        (Vec::new(), worst)
    } else if image_a.is_index || image_b.is_index {
        let differences = json::differences(&image_a.root_json, &image_b.root_json);
        let root = if image_a.is_index
            && image_b.is_index
            && differences
                .iter()
                .all(|d| only_digest_or_size(&d.path, "manifests"))
        {
            Verdict::Equivalent
        } else {
            Verdict::Different
        };
        (differences, worst.max(root))
    } else {
        (Vec::new(), worst)
    };
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        verdict,
        a: subject(a, &image_a),
        b: subject(b, &image_b),
        signer: None,
        root_differences,
        platforms,
    })
}

fn subject(named: Named<'_>, image: &Image) -> Subject {
    Subject {
        role: named.role.to_owned(),
        image: named.image.to_owned(),
        digest: image.root.digest,
        media_type: image.root.media_type.clone(),
    }
}

/// The platforms to compare: the requested ones (each must be on both sides), or all of A's
/// then those only B has.
fn platform_keys(
    image_a: &Image,
    image_b: &Image,
    a: Named<'_>,
    b: Named<'_>,
    options: &Options,
) -> Result<Vec<String>, Error> {
    if options.platforms.is_empty() {
        let mut keys = image_a.keys();
        for key in image_b.keys() {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        return Ok(keys);
    }
    for key in &options.platforms {
        // B first: in an audit it is the published image, whose platforms the rebuild follows.
        for (image, named) in [(image_b, b), (image_a, a)] {
            if image.platform(key).is_none() {
                return Err(Error::PlatformMissing {
                    platform: key.clone(),
                    role: named.role.to_owned(),
                    image: named.image.to_owned(),
                    found: image.keys().join(", "),
                });
            }
        }
    }
    Ok(options.platforms.clone())
}

fn one_sided(
    key: &str,
    pa: Option<&PlatformImage>,
    pb: Option<&PlatformImage>,
    a: Named<'_>,
    b: Named<'_>,
) -> PlatformReport {
    let role = if pa.is_some() { a.role } else { b.role };
    PlatformReport {
        platform: key.to_owned(),
        verdict: Verdict::Different,
        reason: Some(format!("only in the {role} image")),
        manifest: Compared {
            a: pa.map(|p| p.descriptor.digest),
            b: pb.map(|p| p.descriptor.digest),
            differences: Vec::new(),
        },
        config: Compared {
            a: pa.map(|p| p.manifest.config.digest),
            b: pb.map(|p| p.manifest.config.digest),
            differences: Vec::new(),
        },
        layers: Vec::new(),
    }
}

fn compare_platform(
    key: &str,
    (a, pa): (Named<'_>, &PlatformImage),
    (b, pb): (Named<'_>, &PlatformImage),
    how: (&Options, &Checked),
) -> Result<PlatformReport, Error> {
    let manifest_differences = if pa.descriptor.digest == pb.descriptor.digest {
        Vec::new()
    } else {
        json::differences(&pa.manifest_json, &pb.manifest_json)
    };
    let same_config = pa.manifest.config.digest == pb.manifest.config.digest;
    let config_differences = if same_config {
        Vec::new()
    } else {
        json::differences(&pa.config_json, &pb.config_json)
    };
    let count = pa.manifest.layers.len().max(pb.manifest.layers.len());
    let mut layers = Vec::new();
    for index in 0..count {
        let la = layer_at(pa, index);
        let lb = layer_at(pb, index);
        layers.push(compare_layer(index, (a, la), (b, lb), how)?);
    }
    let worst_layer = layers
        .iter()
        .map(|l| l.verdict)
        .max()
        .unwrap_or(Verdict::Identical);
    let verdict =
        if pa.descriptor.digest == pb.descriptor.digest && worst_layer == Verdict::Identical {
            Verdict::Identical
        } else if same_config
            && worst_layer.reproduced()
            && manifest_differences
                .iter()
                .all(|d| only_digest_or_size(&d.path, "layers"))
        {
            Verdict::Equivalent
        } else {
            Verdict::Different
        };
    let reason = match verdict {
        Verdict::Identical => None,
        Verdict::Equivalent => Some("only the compressed layer bytes differ".to_owned()),
        Verdict::Different => Some(platform_reason(
            &layers,
            &config_differences,
            &manifest_differences,
            a.role,
            b.role,
        )),
    };
    Ok(PlatformReport {
        platform: key.to_owned(),
        verdict,
        reason,
        manifest: Compared {
            a: Some(pa.descriptor.digest),
            b: Some(pb.descriptor.digest),
            differences: manifest_differences,
        },
        config: Compared {
            a: Some(pa.manifest.config.digest),
            b: Some(pb.manifest.config.digest),
            differences: config_differences,
        },
        layers,
    })
}

fn platform_reason(
    layers: &[LayerReport],
    config: &[Difference],
    manifest: &[Difference],
    role_a: &str,
    role_b: &str,
) -> String {
    let mut parts = Vec::new();
    if layers.iter().any(|l| l.a.is_none() || l.b.is_none()) {
        let count = |f: fn(&LayerReport) -> bool| layers.iter().filter(|l| f(l)).count();
        parts.push(format!(
            "{} layers in the {role_a} image, {} in the {role_b} image",
            count(|l| l.a.is_some()),
            count(|l| l.b.is_some())
        ));
    }
    let different: Vec<String> = layers
        .iter()
        .filter(|l| l.verdict == Verdict::Different && l.a.is_some() && l.b.is_some())
        .map(|l| l.index.to_string())
        .collect();
    if !different.is_empty() {
        parts.push(format!("layer {} differs", different.join(", ")));
    }
    if !config.is_empty() {
        let paths: Vec<&str> = config.iter().take(3).map(|d| d.path.as_str()).collect();
        parts.push(format!(
            "config differs at {}{}",
            paths.join(", "),
            if config.len() > 3 { ", …" } else { "" }
        ));
    }
    let other: Vec<&str> = manifest
        .iter()
        .filter(|d| !d.path.starts_with("/layers/") && !d.path.starts_with("/config/"))
        .map(|d| d.path.as_str())
        .collect();
    if !other.is_empty() {
        parts.push(format!("manifest differs at {}", other.join(", ")));
    }
    if parts.is_empty() {
        parts.push("the manifests differ".to_owned());
    }
    parts.join("; ")
}

/// Whether a JSON Pointer is `/<list>/<n>/digest` or `/<list>/<n>/size`.
fn only_digest_or_size(path: &str, list: &str) -> bool {
    let mut parts = path.split('/');
    parts.next() == Some("")
        && parts.next() == Some(list)
        && parts
            .next()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && matches!(parts.next(), Some("digest" | "size"))
        && parts.next().is_none()
}

/// A layer's descriptor and its diff_id from the config.
type LayerAt<'p> = Option<(&'p Descriptor, Option<Digest>)>;

fn layer_at(platform: &PlatformImage, index: usize) -> LayerAt<'_> {
    platform
        .manifest
        .layers
        .get(index)
        .map(|d| (d, platform.diff_ids.get(index).copied()))
}

/// What strictly decoding one side's layer showed.
#[derive(Debug, Clone)]
pub(super) enum Decoded {
    /// Not streamed: the side is trusted.
    Trusted,
    /// Strict gzip (or an uncompressed tar) that hashes to this digest.
    Strict(Digest),
    /// Not acceptable, and why.
    Rejected(String),
    /// Streamed and its digest checked, not decoded: enough when the other side is trusted and
    /// names the same digest, for then the bytes are the trusted side's own.
    Verified,
}

fn compare_layer(
    index: usize,
    (a, la): (Named<'_>, LayerAt<'_>),
    (b, lb): (Named<'_>, LayerAt<'_>),
    (options, checked): (&Options, &Checked),
) -> Result<LayerReport, Error> {
    let decoded_a = la.map(|l| decode(a.side, l.0)).transpose()?;
    let decoded_b = lb
        .map(|l| match (checked.get(l.0), la) {
            // Byte for byte the trusted rebuild's layer, whose tar hashes to its diff_id by
            // construction: decoding it again could only find what the rebuild wrote.
            (Some(Decoded::Verified), Some((da, Some(diff_a))))
                if a.side.trusted && !b.side.trusted && da.digest == l.0.digest =>
            {
                Ok(Decoded::Strict(diff_a))
            }
            (Some(Decoded::Verified), _) => decode(b.side, l.0),
            (Some(done), _) if !b.side.trusted => Ok(done.clone()),
            _ => decode(b.side, l.0),
        })
        .transpose()?;
    let side = |l: LayerAt<'_>, decoded: &Option<Decoded>| {
        l.map(|(d, diff_id)| LayerSide {
            digest: d.digest,
            size: d.size,
            media_type: d.media_type.clone(),
            diff_id,
            decompressed_digest: match decoded {
                Some(Decoded::Strict(digest)) => Some(*digest),
                _ => None,
            },
        })
    };
    let mut report = LayerReport {
        index,
        verdict: Verdict::Different,
        reason: None,
        a: side(la, &decoded_a),
        b: side(lb, &decoded_b),
        files: None,
    };
    let (Some((da, diff_a)), Some((db, diff_b)), Some(dec_a), Some(dec_b)) =
        (la, lb, &decoded_a, &decoded_b)
    else {
        let role = if la.is_some() { a.role } else { b.role };
        report.reason = Some(format!("only in the {role} image"));
        if !options.no_files {
            report.files = file_diff((a.side, la.map(|l| l.0)), (b.side, lb.map(|l| l.0)))?;
        }
        return Ok(report);
    };
    let problems: Vec<String> = [(a.role, da, diff_a, dec_a), (b.role, db, diff_b, dec_b)]
        .into_iter()
        .filter_map(|(role, d, diff_id, decoded)| problem(role, d, diff_id, decoded))
        .collect();
    if problems.is_empty() && da.digest == db.digest {
        report.verdict = Verdict::Identical;
        return Ok(report);
    }
    let content_a = content(dec_a, diff_a);
    let content_b = content(dec_b, diff_b);
    if problems.is_empty() && content_a.is_some() && content_a == content_b && diff_a == diff_b {
        report.verdict = Verdict::Equivalent;
        report.reason = Some(format!(
            "compressed bytes differ; both decompress to {}",
            content_a.map(|d| d.to_string()).unwrap_or_default()
        ));
        return Ok(report);
    }
    report.reason = Some(if problems.is_empty() {
        format!(
            "uncompressed content differs ({} diff_id {}, {} diff_id {})",
            a.role,
            show(content_a),
            b.role,
            show(content_b)
        )
    } else {
        problems.join("; ")
    });
    if !options.no_files {
        report.files = file_diff((a.side, Some(da)), (b.side, Some(db)))?;
    }
    Ok(report)
}

fn show(digest: Option<Digest>) -> String {
    digest.map_or_else(|| "unknown".to_owned(), |d| d.to_string())
}

/// The uncompressed tar's digest as far as it is known.
fn content(decoded: &Decoded, diff_id: Option<Digest>) -> Option<Digest> {
    match decoded {
        Decoded::Trusted => diff_id,
        Decoded::Strict(digest) => Some(*digest),
        // A checked-only layer is decoded or resolved before it is compared.
        Decoded::Rejected(_) | Decoded::Verified => None,
    }
}

/// Why one side's layer cannot count as reproduced, if it cannot.
fn problem(
    role: &str,
    descriptor: &Descriptor,
    diff_id: Option<Digest>,
    decoded: &Decoded,
) -> Option<String> {
    match (decoded, diff_id) {
        (Decoded::Rejected(why), _) => Some(format!(
            "the {role} layer {} is not acceptable: {why}",
            descriptor.digest
        )),
        (_, None) => Some(format!(
            "the {role} config has no diff_id for layer {}",
            descriptor.digest
        )),
        (Decoded::Strict(actual), Some(expected)) if *actual != expected => Some(format!(
            "the {role} layer {} decompresses to {actual}, but its config's diff_id is {expected}",
            descriptor.digest
        )),
        _ => None,
    }
}

/// Whether a layer's media type says gzip, an uncompressed tar, or something else.
fn compression(media_type: &str) -> Option<bool> {
    if media_type.ends_with("+gzip") || media_type.ends_with(".tar.gzip") {
        Some(true)
    } else if media_type.ends_with(".tar") {
        Some(false)
    } else {
        None
    }
}

/// Streams an untrusted side's layer: digest checked by the store, gzip decoded strictly.
fn decode(side: Side<'_>, descriptor: &Descriptor) -> Result<Decoded, Error> {
    decode_until(side, descriptor, &AtomicBool::new(false))
}

/// [`decode`], stopped (an error) as soon as `stop` is set.
fn decode_until(
    side: Side<'_>,
    descriptor: &Descriptor,
    stop: &AtomicBool,
) -> Result<Decoded, Error> {
    if side.trusted {
        return Ok(Decoded::Trusted);
    }
    match compression(&descriptor.media_type) {
        Some(true) => {
            let task = crate::progress::task(
                crate::progress::Kind::Compare,
                descriptor.digest,
                descriptor.size,
            );
            let result = with_blob_until(side.store, &descriptor.digest, stop, |reader| {
                strict::Reader::new(task.reader(reader)).finish()
            })?;
            Ok(match result {
                Ok(verified) => Decoded::Strict(Digest::from_bytes(verified.digest_sha256)),
                Err(error) => Decoded::Rejected(format!("not strict gzip: {error}")),
            })
        }
        Some(false) => {
            // An uncompressed tar is its own content: checking its digest is decoding it.
            verify_until(side, descriptor, stop)?;
            Ok(Decoded::Strict(descriptor.digest))
        }
        None => Ok(Decoded::Rejected(format!(
            "unsupported layer media type {}",
            descriptor.media_type
        ))),
    }
}

/// Streams an untrusted side's layer and checks its digest, without decoding it (until `stop`
/// is set, an error then).
pub(super) fn verify_until(
    side: Side<'_>,
    descriptor: &Descriptor,
    stop: &AtomicBool,
) -> Result<Decoded, Error> {
    if side.trusted {
        return Ok(Decoded::Trusted);
    }
    let task = crate::progress::task(
        crate::progress::Kind::Compare,
        descriptor.digest,
        descriptor.size,
    );
    with_blob_until(side.store, &descriptor.digest, stop, |reader| {
        std::io::copy(&mut task.reader(reader), &mut std::io::sink())
    })?
    .map_err(|source| Error::Read {
        store: side.store.name(),
        digest: descriptor.digest,
        source,
    })?;
    Ok(Decoded::Verified)
}

/// The file-tree differences between two layers (a missing layer is an empty tree); `None`
/// when a layer's tar cannot be read (the layer's reason already says why).
fn file_diff(
    (store_a, a): (Side<'_>, Option<&Descriptor>),
    (store_b, b): (Side<'_>, Option<&Descriptor>),
) -> Result<Option<FileDiff>, Error> {
    let (Some(tree_a), Some(tree_b)) = (tree(store_a.store, a)?, tree(store_b.store, b)?) else {
        return Ok(None);
    };
    Ok(Some(tree_a.diff(&tree_b)))
}

fn tree(store: &Store, descriptor: Option<&Descriptor>) -> Result<Option<Tree>, Error> {
    let Some(descriptor) = descriptor else {
        return Ok(Some(Tree::default()));
    };
    let Some(gzip) = compression(&descriptor.media_type) else {
        return Ok(None);
    };
    let tree = with_blob(store, &descriptor.digest, |reader| {
        if gzip {
            // Lenient: a layer rejected for its header fields still shows its files.
            Tree::read(strict::Reader::lenient(reader))
        } else {
            Tree::read(reader as &mut dyn Read)
        }
    })?;
    Ok(tree.ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_paths_are_exactly_digest_and_size_of_a_list_item() {
        assert!(only_digest_or_size("/layers/0/digest", "layers"));
        assert!(only_digest_or_size("/layers/12/size", "layers"));
        assert!(!only_digest_or_size("/layers/0/mediaType", "layers"));
        assert!(!only_digest_or_size("/layers/0", "layers"));
        assert!(!only_digest_or_size("/layers/x/digest", "layers"));
        assert!(!only_digest_or_size("/config/digest", "layers"));
        assert!(!only_digest_or_size("/layers/0/digest/x", "layers"));
        assert!(only_digest_or_size("/manifests/1/digest", "manifests"));
    }
}
