//! Package constraints: `name`, `name=1.2`, `name>=1.2`, `name~1.2`, `name@pin`, `!name`.
//!
//! Takes a world entry, a dependency or a provide string; returns a [`Constraint`] that can test a
//! version. Pure.
//!
//! Not for: ordering versions ([`super::version`]) or choosing packages ([`super::solver`]).
//! Reproduces apko `ResolvePackageNameVersionPin` (reference/apko-format.md §4.3), including the
//! `so:` rewrite and the silent "any version" for unknown operators such as `><`.

use super::version::Version;

/// How a constraint compares a candidate's version with its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// No version requirement (also every operator apko does not know).
    Any,
    /// `=`
    Equal,
    /// `>`
    Greater,
    /// `<`
    Less,
    /// `>=`
    GreaterEqual,
    /// `<=`
    LessEqual,
    /// `~` or `=~`: the candidate lies within the named version.
    Fuzzy,
}

impl Operator {
    fn from_text(text: &str) -> Operator {
        match text {
            "=" => Operator::Equal,
            ">" => Operator::Greater,
            "<" => Operator::Less,
            ">=" => Operator::GreaterEqual,
            "<=" => Operator::LessEqual,
            "~" | "=~" => Operator::Fuzzy,
            _ => Operator::Any,
        }
    }

    /// The operator as written in a constraint (`""` for [`Operator::Any`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Any => "",
            Operator::Equal => "=",
            Operator::Greater => ">",
            Operator::Less => "<",
            Operator::GreaterEqual => ">=",
            Operator::LessEqual => "<=",
            Operator::Fuzzy => "~",
        }
    }

    /// Whether `actual` satisfies this operator against `required`.
    pub fn admits(self, actual: &Version, required: &Version) -> bool {
        match self {
            Operator::Any => true,
            Operator::Equal => actual == required,
            Operator::Greater => actual > required,
            Operator::Less => actual < required,
            Operator::GreaterEqual => actual >= required,
            Operator::LessEqual => actual <= required,
            Operator::Fuzzy => actual.fuzzy_matches(required),
        }
    }
}

/// A parsed constraint string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Constraint {
    /// The package or provided name (`so:libc.so.6`, `cmd:sh`, `busybox`).
    pub name: String,
    /// The version text after the operator, empty when unversioned. For `so:` names carrying a
    /// version without `-rN`, apko's `0.` prefix is already applied.
    pub version: String,
    /// The comparison.
    pub operator: Operator,
    /// The repository pin after `@`, empty when none.
    pub pin: String,
    /// A leading `!`: the named package must not be installed.
    pub conflict: bool,
}

impl Constraint {
    /// Parses a constraint as apko does; never fails (a string apko cannot split becomes a bare
    /// name, exactly as apko treats it).
    pub fn parse(text: &str) -> Constraint {
        let (conflict, text) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let rewritten;
        let text = match so_rewrite(text) {
            Some(new) => {
                rewritten = new;
                rewritten.as_str()
            }
            None => text,
        };
        let mut constraint = split(text).unwrap_or_else(|| Constraint {
            name: text.to_owned(),
            version: String::new(),
            operator: Operator::Any,
            pin: String::new(),
            conflict: false,
        });
        constraint.conflict = conflict;
        constraint
    }

    /// Whether a package or provide of `version` satisfies this constraint. An unversioned
    /// constraint admits anything; an unparsable required version admits nothing.
    pub fn admits(&self, version: &Version) -> bool {
        if self.version.is_empty() || self.operator == Operator::Any {
            return true;
        }
        match Version::parse(&self.version) {
            Ok(required) => self.operator.admits(version, &required),
            Err(_) => false,
        }
    }

    /// Whether a version requirement applies (a version and a known operator).
    pub fn is_versioned(&self) -> bool {
        !self.version.is_empty() && self.operator != Operator::Any
    }
}

// apko (after melange PR 1871): `so:x=6` means `so:x=0.6`, so unversioned soname provides sort
// below package-versioned ones; a version already ending in `-rN` is left alone.
fn so_rewrite(text: &str) -> Option<String> {
    if !text.starts_with("so:") {
        return None;
    }
    let (name, version) = text.split_once('=')?;
    if ends_with_release(version) {
        return None;
    }
    Some(format!("{name}=0.{version}"))
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

fn is_operator_char(c: char) -> bool {
    matches!(c, '=' | '>' | '<' | '~')
}

// The regex `^([^@=><~]+)(([=><~]+)([^@]+))?(@([a-zA-Z0-9]+))?$`, written out: the name stops at
// the first special character, the operator takes the longest run that still leaves a version.
fn split(text: &str) -> Option<Constraint> {
    let name_end = text
        .find(|c: char| c == '@' || is_operator_char(c))
        .unwrap_or(text.len());
    if name_end == 0 {
        return None;
    }
    let (name, mut rest) = text.split_at(name_end);
    let (mut operator, mut version) = ("", "");
    if rest.starts_with(is_operator_char) {
        let run = rest
            .find(|c: char| !is_operator_char(c))
            .unwrap_or(rest.len());
        let version_end = rest.find('@').unwrap_or(rest.len());
        // The version needs at least one character; give one back from the run when needed.
        let op_end = if run < version_end {
            run
        } else {
            version_end.checked_sub(1)?
        };
        if op_end == 0 {
            return None;
        }
        operator = &rest[..op_end];
        version = &rest[op_end..version_end];
        rest = &rest[version_end..];
    }
    let mut pin = "";
    if let Some(tail) = rest.strip_prefix('@') {
        if tail.is_empty() || !tail.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        pin = tail;
    } else if !rest.is_empty() {
        return None;
    }
    Some(Constraint {
        name: name.to_owned(),
        version: version.to_owned(),
        operator: Operator::from_text(operator),
        pin: pin.to_owned(),
        conflict: false,
    })
}
