//! One constraint string as the solver reads it: apko's `ParsedConstraint`, parsed once and
//! borrowing from the index text where it can.
//!
//! Not for: the constraint grammar itself ([`crate::apk::constraint`], which this agrees with and
//! falls back on) or choosing packages ([`super::walk`]). Reproduces apko
//! `ResolvePackageNameVersionPin` (reference/apko-format.md §4.3) as `cachedResolvePackageNameVersionPin`
//! serves it to `pkg/apk/apk/repo.go`.

use std::borrow::Cow;

use super::table::{FastMap, NameId};
use crate::apk::constraint::{Constraint, Operator};
use crate::apk::version::{self, Version};

/// One parsed constraint string (a world entry, a dependency, a provide), as apko's
/// `cachedResolvePackageNameVersionPin` sees it. Borrows from the string where it can.
#[derive(Debug)]
pub(super) struct Term<'t> {
    /// The name as written (after the `!` of a conflict).
    pub name_text: Cow<'t, str>,
    /// The interned name, `None` when no package has or provides it.
    pub name: Option<NameId>,
    /// The version text (with the `so:` rewrite applied), empty when none.
    pub version_text: Cow<'t, str>,
    /// The comparison (apko's `dep`).
    pub op: Operator,
    /// The `@pin`, empty when none.
    pub pin: Cow<'t, str>,
    /// A leading `!`.
    pub conflict: bool,
    /// `version_text` parsed; `None` when it is empty.
    pub version: Option<Result<Version, version::Error>>,
}

impl<'t> Term<'t> {
    pub(super) fn parse(text: &'t str, names: &FastMap<&str, NameId>) -> Term<'t> {
        let (name_text, version_text, op, pin, conflict) = match split_simple(text) {
            Some((conflict, name, op, version)) => (
                Cow::Borrowed(name),
                version,
                op,
                Cow::Borrowed(""),
                conflict,
            ),
            None => {
                let Constraint {
                    name,
                    version,
                    operator,
                    pin,
                    conflict,
                } = Constraint::parse(text);
                (
                    Cow::Owned(name),
                    Cow::Owned(version),
                    operator,
                    Cow::Owned(pin),
                    conflict,
                )
            }
        };
        let version = (!version_text.is_empty()).then(|| Version::parse(&version_text));
        Term {
            name: names.get(name_text.as_ref()).copied(),
            name_text,
            version_text,
            op,
            pin,
            conflict,
            version,
        }
    }

    /// The same term, owning its text.
    pub(super) fn into_owned(self) -> Term<'static> {
        Term {
            name_text: Cow::Owned(self.name_text.into_owned()),
            name: self.name,
            version_text: Cow::Owned(self.version_text.into_owned()),
            op: self.op,
            pin: Cow::Owned(self.pin.into_owned()),
            conflict: self.conflict,
            version: self.version,
        }
    }

    /// The parsed version, when there is one and it is valid.
    pub(super) fn valid_version(&self) -> Option<&Version> {
        match &self.version {
            Some(Ok(version)) => Some(version),
            _ => None,
        }
    }
}

fn is_special(c: u8) -> bool {
    matches!(c, b'@' | b'=' | b'>' | b'<' | b'~')
}

/// The common shapes `[!]name` and `[!]name<op>version` without a pin, split without copying:
/// `(conflict, name, operator, version)`. Anything else (pins, odd operator runs, `so:` versions
/// apko rewrites under an operator other than `=`) is left to [`Constraint::parse`], whose
/// results these agree with.
fn split_simple(text: &str) -> Option<(bool, &str, Operator, Cow<'_, str>)> {
    let (conflict, body) = match text.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let bytes = body.as_bytes();
    let Some(at) = bytes.iter().position(|&c| is_special(c)) else {
        return (!body.is_empty()).then_some((conflict, body, Operator::Any, Cow::Borrowed("")));
    };
    if at == 0 {
        return None;
    }
    let (name, rest) = body.split_at(at);
    let run = rest
        .bytes()
        .position(|c| !matches!(c, b'=' | b'>' | b'<' | b'~'))
        .unwrap_or(rest.len());
    let (operator, version) = rest.split_at(run);
    if version.is_empty() || version.bytes().any(is_special) {
        return None;
    }
    let op = match operator {
        "=" => Operator::Equal,
        ">" => Operator::Greater,
        "<" => Operator::Less,
        ">=" => Operator::GreaterEqual,
        "<=" => Operator::LessEqual,
        "~" => Operator::Fuzzy,
        _ => return None,
    };
    if name.starts_with("so:") && operator.contains('=') {
        if operator != "=" {
            return None;
        }
        if !ends_with_release(version) {
            return Some((conflict, name, op, Cow::Owned(format!("0.{version}"))));
        }
    }
    Some((conflict, name, op, Cow::Borrowed(version)))
}

fn ends_with_release(version: &str) -> bool {
    match version.rfind("-r") {
        Some(at) => {
            let digits = &version[at + 2..];
            !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::table::FastMap;
    use super::Term;
    use crate::apk::constraint::Constraint;

    #[test]
    fn fast_split_agrees_with_the_constraint_parser() {
        let names = FastMap::default();
        let cases = [
            "so:libc.so.6=6",
            "so:x=1.2-r3",
            "so:x>=1",
            "so:x=~1",
            "so:x<2",
            "so:x~1",
            "foo=1.2",
            "foo>=1",
            "foo<=1",
            "foo>1",
            "foo<1",
            "foo~1.2",
            "foo=~1.2",
            "foo><1",
            "foo@edge",
            "foo=1@edge",
            "!foo",
            "!foo>2",
            "!so:x=1",
            "foo=",
            "=1",
            "",
            "!",
            "foo=1=2",
            "foo==1",
            "cmd:sh",
            "/bin/sh",
            "pc:x>=1.0",
            "foo=1.0~beta",
            "so:x=1-r",
        ];
        for text in cases {
            let term = Term::parse(text, &names);
            let c = Constraint::parse(text);
            assert_eq!(term.name_text, c.name, "{text}");
            assert_eq!(term.version_text, c.version, "{text}");
            assert_eq!(term.op, c.operator, "{text}");
            assert_eq!(term.pin, c.pin, "{text}");
            assert_eq!(term.conflict, c.conflict, "{text}");
        }
    }
}
