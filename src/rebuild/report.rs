//! The audit's result: verdicts overall, per platform and per layer, every digest compared,
//! and the differences; rendered as short text or as JSON (schema in [`crate::rebuild`]).
//!
//! Pure: values in, text out.
//!
//! Not for: computing verdicts ([`super::compare`]) or differences ([`super::diff`]).

use std::fmt::Write as _;

use serde::Serialize;

use super::diff::{Difference, FileDiff};
use crate::oci::Digest;

/// Version of the JSON schema; bumped when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// How two images, platforms or layers compare, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The same bytes, hence the same digests.
    Identical,
    /// The same configs and uncompressed layers; only the compressed layer bytes (and the
    /// digests that name them) differ, and every compressed layer is strict gzip.
    Equivalent,
    /// Anything else.
    Different,
}

impl Verdict {
    /// `identical`, `equivalent` or `different`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Identical => "identical",
            Verdict::Equivalent => "equivalent",
            Verdict::Different => "different",
        }
    }

    /// Whether the image was reproduced (identical or equivalent).
    pub fn reproduced(self) -> bool {
        self != Verdict::Different
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One image compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subject {
    /// `rebuilt`, `published`, `a` or `b`: what this side is.
    pub role: String,
    /// The image as the user named it (or the store it was read from).
    pub image: String,
    /// The digest of its root (index or manifest).
    pub digest: Digest,
    /// The root's media type.
    #[serde(rename = "mediaType")]
    pub media_type: String,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// The overall verdict.
    pub verdict: Verdict,
    /// Side A (the rebuild in an audit: what the image should be).
    pub a: Subject,
    /// Side B (the published image in an audit).
    pub b: Subject,
    /// Who signed the attestation the rebuild came from (audits only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// Differences between the two roots (indexes, or an index and a manifest); empty when
    /// both roots are single manifests (their comparison is the platform's) or when only some
    /// platforms were compared.
    #[serde(rename = "rootDifferences")]
    pub root_differences: Vec<Difference>,
    /// Each platform compared, in side A's order, then platforms only B has.
    pub platforms: Vec<PlatformReport>,
}

/// One platform.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlatformReport {
    /// `os/architecture[/variant]`.
    pub platform: String,
    /// This platform's verdict.
    pub verdict: Verdict,
    /// Why it is not identical, in one sentence (absent when identical).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The two manifests.
    pub manifest: Compared,
    /// The two configs.
    pub config: Compared,
    /// Layer by layer.
    pub layers: Vec<LayerReport>,
}

/// Two JSON documents (manifests or configs) and where they differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Compared {
    /// Side A's digest (absent: the platform is only on side B).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a: Option<Digest>,
    /// Side B's digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b: Option<Digest>,
    /// Paths whose values differ (empty when the digests are equal).
    pub differences: Vec<Difference>,
}

/// One layer on one side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerSide {
    /// The compressed blob's digest.
    pub digest: Digest,
    /// The compressed blob's size.
    pub size: u64,
    /// The media type.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// The config's diff_id for this layer.
    #[serde(rename = "diffId", skip_serializing_if = "Option::is_none")]
    pub diff_id: Option<Digest>,
    /// SHA-256 of the blob strictly decompressed here (absent: not streamed, as for a trusted
    /// rebuilt layer, or not strict gzip).
    #[serde(rename = "decompressedDigest", skip_serializing_if = "Option::is_none")]
    pub decompressed_digest: Option<Digest>,
}

/// One layer position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerReport {
    /// Position in the manifest (0 is the base).
    pub index: usize,
    /// This layer's verdict.
    pub verdict: Verdict,
    /// Why it is not identical (absent when identical).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Side A's layer (absent: only B has a layer here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a: Option<LayerSide>,
    /// Side B's layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b: Option<LayerSide>,
    /// The file-tree differences, for a `different` layer whose trees could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<FileDiff>,
}

impl Report {
    /// The JSON report, indented, with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The text report: a summary line, one line per platform, then the details of what differs.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} {}@{} vs {} {}@{}",
            self.verdict,
            self.a.role,
            self.a.image,
            self.a.digest,
            self.b.role,
            self.b.image,
            self.b.digest
        );
        if let Some(signer) = &self.signer {
            let _ = writeln!(out, "  signed by {signer}");
        }
        for platform in &self.platforms {
            let _ = write!(out, "  {:<16} {}", platform.platform, platform.verdict);
            if let Some(reason) = &platform.reason {
                let _ = write!(out, ": {reason}");
            }
            out.push('\n');
        }
        let (a, b) = (&self.a.role, &self.b.role);
        if !self.root_differences.is_empty() {
            let _ = writeln!(out, "\nindex ({a} → {b}):");
            json_lines(&mut out, &self.root_differences);
        }
        for platform in &self.platforms {
            if platform.verdict == Verdict::Identical {
                continue;
            }
            let _ = writeln!(out, "\n{}:", platform.platform);
            if !platform.manifest.differences.is_empty() {
                let _ = writeln!(out, "  manifest ({a} → {b}):");
                json_lines(&mut out, &platform.manifest.differences);
            }
            if !platform.config.differences.is_empty() {
                let _ = writeln!(out, "  config ({a} → {b}):");
                json_lines(&mut out, &platform.config.differences);
            }
            for layer in &platform.layers {
                if layer.verdict == Verdict::Identical {
                    continue;
                }
                let _ = write!(out, "  layer {}: {}", layer.index, layer.verdict);
                if let Some(reason) = &layer.reason {
                    let _ = write!(out, ": {reason}");
                }
                out.push('\n');
                if let Some(files) = &layer.files {
                    file_lines(&mut out, files, a, b);
                }
            }
        }
        out
    }
}

fn json_lines(out: &mut String, differences: &[Difference]) {
    let show = |v: &Option<serde_json::Value>| match v {
        Some(v) => v.to_string(),
        None => "(absent)".to_owned(),
    };
    for d in differences {
        let path = if d.path.is_empty() { "/" } else { &d.path };
        let _ = writeln!(out, "    {path}: {} → {}", show(&d.a), show(&d.b));
    }
}

fn file_lines(out: &mut String, files: &FileDiff, a: &str, b: &str) {
    for entry in &files.added {
        let _ = writeln!(out, "    + {} ({}, only in {b})", entry.path, entry.kind);
    }
    for entry in &files.removed {
        let _ = writeln!(out, "    - {} ({}, only in {a})", entry.path, entry.kind);
    }
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".to_owned());
    for change in &files.changed {
        let fields: Vec<String> = change
            .fields
            .iter()
            .map(|f| format!("{} {} → {}", f.field, show(&f.a), show(&f.b)))
            .collect();
        let _ = writeln!(out, "    ~ {}: {}", change.path, fields.join(", "));
        for line in change.diff.iter().flat_map(|diff| diff.lines()) {
            let _ = writeln!(out, "      {line}");
        }
    }
    if files.is_empty() && files.order_differs {
        let _ = writeln!(out, "    same files, in a different order");
    }
}
