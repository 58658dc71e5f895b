//! `show-packages` output: apko's named formats and the subset of Go `text/template` they use —
//! literal text and the fields `{{.Name}}`, `{{.Version}}`, `{{.Source}}` (spaces inside the
//! braces allowed). Any other action (pipelines, functions, `{{-` trimming, comments) is refused
//! with the action named, rather than printed wrongly. Pure.
//!
//! Not for: resolving ([`super::Locker::resolve`]). Reproduces apko
//! `internal/cli/show-packages.go` (reference/apko-format.md §3.7).

use super::Error;
use crate::apk::solver::Resolved;

/// apko's named formats and their templates.
pub const FORMATS: [(&str, &str); 8] = [
    ("name-version", "{{ .Name }} {{ .Version }}"),
    (
        "name-version-source",
        "{{ .Name }} {{ .Version }} {{ .Source }}",
    ),
    ("name=version", "{{ .Name }}={{ .Version }}"),
    (
        "name=version-source",
        "{{ .Name }}={{ .Version }} {{ .Source }}",
    ),
    ("name-(version)", "{{ .Name }} ({{ .Version }})"),
    (
        "name-(version)-source",
        "{{ .Name }} ({{ .Version }}) {{ .Source }}",
    ),
    ("packagelock", "- {{ .Name }}={{ .Version }}"),
    (
        "packagelock-source",
        "- {{ .Name }}={{ .Version }} # {{ .Source }}",
    ),
];

/// The default format, `name-version`.
pub const DEFAULT_FORMAT: &str = "name-version";

/// A field a template can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `.Name`: the package name.
    Name,
    /// `.Version`: the package version.
    Version,
    /// `.Source`: the package URL, `<repository>/<arch>/<name>-<version>.apk`.
    Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Field),
}

/// A parsed `show-packages` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// A named format (see [`FORMATS`]), or else `format` read as a template, as apko does.
    pub fn from_format(format: &str) -> Result<Template, Error> {
        let text = FORMATS
            .iter()
            .find(|(name, _)| *name == format)
            .map_or(format, |(_, template)| template);
        Template::parse(text).map_err(|problem| Error::Format {
            format: format.to_owned(),
            problem,
        })
    }

    /// Parses template text; the error says which action is not supported.
    fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let (literal, after) = rest.split_at(open);
            if !literal.is_empty() {
                parts.push(Part::Text(literal.to_owned()));
            }
            let after = after.get(2..).unwrap_or_default();
            let close = after
                .find("}}")
                .ok_or_else(|| "unclosed action `{{`".to_owned())?;
            let (action, tail) = after.split_at(close);
            let field = match action.trim() {
                ".Name" => Field::Name,
                ".Version" => Field::Version,
                ".Source" => Field::Source,
                _ => {
                    return Err(format!(
                        "template action `{{{{{action}}}}}` is not supported (only {{{{.Name}}}}, {{{{.Version}}}} and {{{{.Source}}}})"
                    ));
                }
            };
            parts.push(Part::Field(field));
            rest = tail.get(2..).unwrap_or_default();
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template { parts })
    }

    /// The line for one package (without the newline apko prints after it).
    pub fn render(&self, name: &str, version: &str, source: &str) -> String {
        let mut line = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => line.push_str(text),
                Part::Field(Field::Name) => line.push_str(name),
                Part::Field(Field::Version) => line.push_str(version),
                Part::Field(Field::Source) => line.push_str(source),
            }
        }
        line
    }

    /// The lines for a resolution, each followed by a newline.
    pub fn render_all(&self, packages: &[Resolved<'_>]) -> String {
        let mut out = String::new();
        for resolved in packages {
            let package = resolved.package;
            out.push_str(&self.render(&package.name, &package.version, &resolved.url));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(format: &str) -> Result<String, Error> {
        Ok(
            Template::from_format(format)?.render(
                "curl",
                "8.0-r0",
                "./repo/x86_64/curl-8.0-r0.apk",
            ),
        )
    }

    #[test]
    fn named_formats_render_as_apko_documents_them() -> Result<(), Error> {
        assert_eq!(render("name-version")?, "curl 8.0-r0");
        assert_eq!(
            render("name-version-source")?,
            "curl 8.0-r0 ./repo/x86_64/curl-8.0-r0.apk"
        );
        assert_eq!(render("name=version")?, "curl=8.0-r0");
        assert_eq!(render("name-(version)")?, "curl (8.0-r0)");
        assert_eq!(render("packagelock")?, "- curl=8.0-r0");
        assert_eq!(
            render("packagelock-source")?,
            "- curl=8.0-r0 # ./repo/x86_64/curl-8.0-r0.apk"
        );
        Ok(())
    }

    #[test]
    fn templates_take_the_three_fields_and_literal_text() -> Result<(), Error> {
        assert_eq!(render("{{.Name}}\t{{ .Version }}}}")?, "curl\t8.0-r0}}");
        assert_eq!(render("plain")?, "plain");
        Ok(())
    }

    #[test]
    fn other_actions_are_refused_with_the_action_named() {
        for (format, needle) in [
            ("{{.Name | printf \"%q\"}}", "{{.Name | printf \"%q\"}}"),
            ("{{- .Name}}", "{{- .Name}}"),
            ("{{.Arch}}", "{{.Arch}}"),
            ("{{.Name", "unclosed action"),
        ] {
            let message = render(format)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains(needle), "{format}: {message}");
        }
    }
}
