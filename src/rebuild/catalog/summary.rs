//! One merged report from a directory of records (every shard's): a JSON summary, JUnit XML
//! (one test case per image and platform; `different` a failure, `error` an error) and one
//! static HTML page (a table of image × platform × verdict, the differences of `different`
//! images in `<details>`; inline style, no script, no external asset).
//!
//! Pure apart from reading the directory ([`Summary::read`]); rendering is values in, text out.
//!
//! Not for: writing records ([`super::record`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::record::{self, Record, Status};

/// At most this many files per list (added, removed, changed) are shown per layer in HTML.
const FILES_SHOWN: usize = 200;

/// Every record of a report directory, sorted by image.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The records.
    pub records: Vec<Record>,
}

/// One row: an image on one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row<'a> {
    /// The image.
    pub image: &'a str,
    /// Its digest, when resolved.
    pub digest: Option<&'a str>,
    /// `os/arch[/variant]`, or `*` for an image with no per-platform verdict (errors).
    pub platform: String,
    /// `identical`, `equivalent`, `different` or `error`.
    pub verdict: String,
    /// Why (not for identical).
    pub reason: Option<String>,
}

/// Why a report directory cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory cannot be listed.
    #[error("cannot list the report directory {dir}", dir = dir.display())]
    List {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is not a record.
    #[error(transparent)]
    Record(#[from] record::Error),
}

impl Summary {
    /// Reads every `*.json` record in `dir` (temporary files of running audits are skipped).
    pub fn read(dir: &Path) -> Result<Summary, Error> {
        let list = |source| Error::List {
            dir: dir.to_owned(),
            source,
        };
        let mut records = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(list)? {
            let path = entry.map_err(list)?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            records.push(Record::read(&path)?);
        }
        records.sort_by(|a, b| a.image.cmp(&b.image));
        Ok(Summary { records })
    }

    /// Images per status.
    pub fn count(&self, status: Status) -> usize {
        self.records.iter().filter(|r| r.status == status).count()
    }

    /// Every row, image by image, platforms in each audit's order.
    pub fn rows(&self) -> Vec<Row<'_>> {
        let mut rows = Vec::new();
        for record in &self.records {
            let platforms = record
                .audit
                .as_ref()
                .and_then(|audit| audit.get("platforms"))
                .and_then(Value::as_array);
            match platforms {
                Some(platforms) if record.status != Status::Error => {
                    for platform in platforms {
                        rows.push(Row {
                            image: &record.image,
                            digest: record.digest.as_deref(),
                            platform: text(platform, "platform"),
                            verdict: text(platform, "verdict"),
                            reason: platform
                                .get("reason")
                                .and_then(Value::as_str)
                                .map(str::to_owned),
                        });
                    }
                }
                _ => rows.push(Row {
                    image: &record.image,
                    digest: record.digest.as_deref(),
                    platform: if record.platforms.is_empty() {
                        "*".to_owned()
                    } else {
                        record.platforms.join(", ")
                    },
                    verdict: record.status.as_str().to_owned(),
                    reason: record.error.clone(),
                }),
            }
        }
        rows
    }

    /// The JSON summary: totals, then one object per image with its platforms.
    pub fn to_json(&self) -> String {
        let images: Vec<Value> = self
            .records
            .iter()
            .map(|record| {
                let platforms: Vec<Value> = self
                    .rows()
                    .into_iter()
                    .filter(|row| row.image == record.image)
                    .map(|row| json!({"platform": row.platform, "verdict": row.verdict}))
                    .collect();
                let mut image = json!({
                    "image": record.image,
                    "digest": record.digest,
                    "status": record.status,
                    "platforms": platforms,
                    "shard": record.shard,
                    "seconds": record.seconds,
                });
                if let Some(error) = &record.error {
                    image["error"] = json!(error);
                }
                if let Some(attestation) = &record.attestation {
                    image["attestation"] = json!(attestation);
                }
                image
            })
            .collect();
        let summary = json!({
            "schemaVersion": 1,
            "totals": {
                "images": self.records.len(),
                "identical": self.count(Status::Identical),
                "equivalent": self.count(Status::Equivalent),
                "different": self.count(Status::Different),
                "error": self.count(Status::Error),
            },
            "images": images,
        });
        let mut text = serde_json::to_string_pretty(&summary).unwrap_or_default();
        text.push('\n');
        text
    }

    /// JUnit XML: one `<testcase>` per row, classname the image, name the platform.
    pub fn to_junit(&self) -> String {
        let rows = self.rows();
        let failures = rows.iter().filter(|r| r.verdict == "different").count();
        let errors = rows.iter().filter(|r| r.verdict == "error").count();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            xml,
            "<testsuites name=\"cosign-rebuild catalog\" tests=\"{n}\" failures=\"{failures}\" errors=\"{errors}\">\n  <testsuite name=\"catalog audit\" tests=\"{n}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\">",
            n = rows.len()
        );
        for row in &rows {
            let seconds = self
                .records
                .iter()
                .find(|r| r.image == row.image)
                .map_or(0.0, |r| r.seconds);
            let _ = write!(
                xml,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{seconds:.3}\"",
                escape(row.image),
                escape(&row.platform)
            );
            let reason = escape(row.reason.as_deref().unwrap_or(""));
            match row.verdict.as_str() {
                "different" => {
                    let _ = writeln!(
                        xml,
                        ">\n      <failure type=\"different\" message=\"rebuilt, but different\">{reason}</failure>\n    </testcase>"
                    );
                }
                "error" => {
                    let _ = writeln!(
                        xml,
                        ">\n      <error type=\"error\" message=\"no verdict\">{reason}</error>\n    </testcase>"
                    );
                }
                verdict => {
                    let _ = writeln!(
                        xml,
                        ">\n      <system-out>{}</system-out>\n    </testcase>",
                        escape(verdict)
                    );
                }
            }
        }
        xml.push_str("  </testsuite>\n</testsuites>\n");
        xml
    }

    /// The static HTML page.
    pub fn to_html(&self) -> String {
        let mut html = String::from(HEAD);
        let _ = writeln!(
            html,
            "<p class=\"totals\">{} images: {} identical, {} equivalent, {} different, {} error</p>",
            self.records.len(),
            self.count(Status::Identical),
            self.count(Status::Equivalent),
            self.count(Status::Different),
            self.count(Status::Error)
        );
        html.push_str(
            "<table>\n<thead><tr><th>image</th><th>platform</th><th>verdict</th><th>details</th></tr></thead>\n<tbody>\n",
        );
        for row in self.rows() {
            let _ = write!(
                html,
                "<tr class=\"{v}\" data-image=\"{i}\" data-platform=\"{p}\" data-verdict=\"{v}\"><td>{i}<br><code>{d}</code></td><td>{p}</td><td class=\"verdict\">{v}</td><td>",
                i = escape(row.image),
                d = escape(row.digest.unwrap_or("unresolved")),
                p = escape(&row.platform),
                v = escape(&row.verdict)
            );
            if row.verdict == "different" {
                html.push_str(&self.differences_html(&row));
            } else if let Some(reason) = &row.reason {
                let _ = write!(html, "<pre>{}</pre>", escape(reason));
            }
            html.push_str("</td></tr>\n");
        }
        html.push_str("</tbody>\n</table>\n</body>\n</html>\n");
        html
    }

    /// The `<details>` of a different platform: its reason, manifest and config differences,
    /// and the files added, removed and changed in each different layer.
    fn differences_html(&self, row: &Row<'_>) -> String {
        let platform = self
            .records
            .iter()
            .find(|r| r.image == row.image)
            .and_then(|r| r.audit.as_ref())
            .and_then(|audit| audit.get("platforms"))
            .and_then(Value::as_array)
            .and_then(|ps| ps.iter().find(|p| text(p, "platform") == row.platform));
        let mut out = String::from("<details><summary>");
        out.push_str(&escape(row.reason.as_deref().unwrap_or("differences")));
        out.push_str("</summary>\n");
        let Some(platform) = platform else {
            out.push_str("</details>");
            return out;
        };
        for part in ["manifest", "config"] {
            let differences = platform
                .get(part)
                .and_then(|p| p.get("differences"))
                .and_then(Value::as_array);
            for difference in differences.into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "<div class=\"difference\">{part} <code>{}</code>: <code>{}</code> → <code>{}</code></div>",
                    escape(&text(difference, "path")),
                    escape(&compact(difference.get("a"))),
                    escape(&compact(difference.get("b")))
                );
            }
        }
        let layers = platform.get("layers").and_then(Value::as_array);
        for layer in layers.into_iter().flatten() {
            let Some(files) = layer.get("files") else {
                continue;
            };
            let _ = writeln!(
                out,
                "<div class=\"layer\">layer {}: {}</div>",
                layer.get("index").and_then(Value::as_u64).unwrap_or(0),
                escape(&text(layer, "reason"))
            );
            for (list, label) in [
                ("added", "added (only published)"),
                ("removed", "removed (only rebuilt)"),
                ("changed", "changed"),
            ] {
                let entries = files.get(list).and_then(Value::as_array);
                let entries: Vec<&Value> = entries.into_iter().flatten().collect();
                if entries.is_empty() {
                    continue;
                }
                let _ = write!(out, "<div class=\"files {list}\">{label}:<ul>");
                for entry in entries.iter().take(FILES_SHOWN) {
                    let _ = write!(
                        out,
                        "<li class=\"file\">{}</li>",
                        escape(&text(entry, "path"))
                    );
                }
                if entries.len() > FILES_SHOWN {
                    let _ = write!(out, "<li>… {} more</li>", entries.len() - FILES_SHOWN);
                }
                out.push_str("</ul></div>\n");
            }
        }
        out.push_str("</details>");
        out
    }
}

const HEAD: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<title>cosign-rebuild catalogue audit</title>\n<style>\n\
body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;width:100%}\n\
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}\n\
tr.identical .verdict,tr.equivalent .verdict{color:#176317}tr.different .verdict{color:#a15c00}\n\
tr.error .verdict{color:#b00020}code{font-size:.85em}pre{white-space:pre-wrap;margin:0}\n\
</style>\n</head>\n<body>\n<h1>Catalogue audit</h1>\n";

/// A string field of a JSON object, or empty.
fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn compact(value: Option<&Value>) -> String {
    value.map_or_else(|| "(absent)".to_owned(), Value::to_string)
}

/// Escapes text for HTML and XML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}
