//! apk package versions: parsing and ordering with apko's rules.
//!
//! Takes a version string such as `1.2.3_rc1_p2-r4`; returns a [`Version`] whose `Ord` is apko's
//! `CompareVersions`. Pure.
//!
//! Not for: constraint strings like `name>=1.2` ([`super::constraint`]).
//! Reproduces apko `pkg/apk/apk/version.go` (reference/apko-format.md §4.4). apko parses numbers
//! as integers, so `1.01 == 1.1`, and accepts at most one pre- and one post-release suffix; both
//! differ from apk-tools on purpose.

use std::cmp::Ordering;

/// Why a version string is not an apko version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The string does not follow the version grammar.
    #[error("invalid version {version:?}: {what}")]
    Invalid {
        /// The rejected version string.
        version: String,
        /// What part of the grammar failed.
        what: &'static str,
    },
}

/// A pre-release suffix; absent sorts above every named one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PreSuffix {
    /// `_alpha`
    Alpha = 1,
    /// `_beta`
    Beta = 2,
    /// `_pre`
    Pre = 3,
    /// `_rc`
    Rc = 4,
    /// No pre-release suffix (a release).
    None = 1000,
}

/// A post-release suffix; absent sorts below every named one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PostSuffix {
    /// No post-release suffix.
    None = 0,
    /// `_cvs`
    Cvs = 1,
    /// `_svn`
    Svn = 2,
    /// `_git`
    Git = 3,
    /// `_hg`
    Hg = 4,
    /// `_p`
    P = 5,
}

/// A parsed apk version. Equality and order are apko's `CompareVersions`, so `1.01 == 1.1`.
#[derive(Debug, Clone)]
pub struct Version {
    numbers: Vec<u64>,
    letter: u8,
    pre: PreSuffix,
    pre_number: u64,
    post: PostSuffix,
    post_number: u64,
    revision: u64,
}

const PRE_SUFFIXES: [(&str, PreSuffix); 4] = [
    ("_alpha", PreSuffix::Alpha),
    ("_beta", PreSuffix::Beta),
    ("_pre", PreSuffix::Pre),
    ("_rc", PreSuffix::Rc),
];
const POST_SUFFIXES: [(&str, PostSuffix); 5] = [
    ("_cvs", PostSuffix::Cvs),
    ("_svn", PostSuffix::Svn),
    ("_git", PostSuffix::Git),
    ("_hg", PostSuffix::Hg),
    ("_p", PostSuffix::P),
];

impl Version {
    /// Parses `version` with apko's grammar
    /// `N(.N)*[a-z]?(_alpha|_beta|_pre|_rc)N?(_cvs|_svn|_git|_hg|_p)N?(-rN)?`.
    pub fn parse(version: &str) -> Result<Version, Error> {
        let invalid = |what| Error::Invalid {
            version: version.to_owned(),
            what,
        };
        let mut rest = version.as_bytes();
        let mut numbers = Vec::with_capacity(4);
        let first = take_digits(&mut rest);
        if first.is_empty() {
            return Err(invalid("does not start with a number"));
        }
        numbers.push(number(first).ok_or_else(|| invalid("number out of range"))?);
        while let [b'.', tail @ ..] = rest {
            let mut after = tail;
            let digits = take_digits(&mut after);
            if digits.is_empty() {
                return Err(invalid("a dot is not followed by a number"));
            }
            numbers.push(number(digits).ok_or_else(|| invalid("number out of range"))?);
            rest = after;
        }
        let mut letter = 0;
        if let [c @ b'a'..=b'z', tail @ ..] = rest {
            letter = *c;
            rest = tail;
        }
        let (mut pre, mut pre_number) = (PreSuffix::None, 0);
        if let Some((suffix, tail)) = strip_any(rest, &PRE_SUFFIXES) {
            rest = tail;
            pre = suffix;
            pre_number =
                optional_number(&mut rest).ok_or_else(|| invalid("number out of range"))?;
        }
        let (mut post, mut post_number) = (PostSuffix::None, 0);
        if let Some((suffix, tail)) = strip_any(rest, &POST_SUFFIXES) {
            rest = tail;
            post = suffix;
            post_number =
                optional_number(&mut rest).ok_or_else(|| invalid("number out of range"))?;
        }
        let mut revision = 0;
        if let [b'-', b'r', tail @ ..] = rest {
            rest = tail;
            let digits = take_digits(&mut rest);
            if digits.is_empty() {
                return Err(invalid("-r is not followed by a number"));
            }
            revision = number(digits).ok_or_else(|| invalid("number out of range"))?;
        }
        if !rest.is_empty() {
            return Err(invalid("unexpected trailing characters"));
        }
        Ok(Version {
            numbers,
            letter,
            pre,
            pre_number,
            post,
            post_number,
            revision,
        })
    }

    /// The dot-separated numeric components.
    pub fn numbers(&self) -> &[u64] {
        &self.numbers
    }

    /// The letter after the numbers, if any.
    pub fn letter(&self) -> Option<char> {
        (self.letter != 0).then_some(self.letter as char)
    }

    /// The pre-release suffix and its number.
    pub fn pre(&self) -> (PreSuffix, u64) {
        (self.pre, self.pre_number)
    }

    /// The post-release suffix and its number.
    pub fn post(&self) -> (PostSuffix, u64) {
        (self.post, self.post_number)
    }

    /// The `-rN` package revision (0 when absent).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// apko's `includesVersion`, the `~` operator: `self` is within `required`.
    ///
    /// The required numbers must prefix ours; with more numbers we match, otherwise every part
    /// the requirement names must be equal. Zero-valued parts count as unnamed, as in apko.
    pub fn fuzzy_matches(&self, required: &Version) -> bool {
        if self.numbers.len() < required.numbers.len()
            || self.numbers[..required.numbers.len()] != required.numbers[..]
        {
            return false;
        }
        if self.numbers.len() > required.numbers.len() {
            return true;
        }
        (required.letter == 0 || self.letter == required.letter)
            && (required.pre == PreSuffix::None || self.pre == required.pre)
            && (required.pre_number == 0 || self.pre_number == required.pre_number)
            && (required.post == PostSuffix::None || self.post == required.post)
            && (required.post_number == 0 || self.post_number == required.post_number)
            && (required.revision == 0 || self.revision == required.revision)
    }
}

fn take_digits<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    let end = rest
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (digits, tail) = rest.split_at(end);
    *rest = tail;
    digits
}

// Go's strconv.Atoi fails past i64::MAX; such a version is invalid there, so here too.
fn number(digits: &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    for &d in digits {
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    (value <= i64::MAX as u64).then_some(value)
}

fn optional_number(rest: &mut &[u8]) -> Option<u64> {
    let digits = take_digits(rest);
    if digits.is_empty() {
        Some(0)
    } else {
        number(digits)
    }
}

fn strip_any<'a, T: Copy>(rest: &'a [u8], table: &[(&str, T)]) -> Option<(T, &'a [u8])> {
    table.iter().find_map(|(text, value)| {
        rest.strip_prefix(text.as_bytes())
            .map(|tail| (*value, tail))
    })
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        // Pairwise numbers first; only then does the longer list win (apko, unlike lexical order).
        for (a, b) in self.numbers.iter().zip(&other.numbers) {
            match a.cmp(b) {
                Ordering::Equal => {}
                unequal => return unequal,
            }
        }
        self.numbers
            .len()
            .cmp(&other.numbers.len())
            .then(self.letter.cmp(&other.letter))
            .then(self.pre.cmp(&other.pre))
            .then(self.pre_number.cmp(&other.pre_number))
            .then(self.post.cmp(&other.post))
            .then(self.post_number.cmp(&other.post_number))
            .then(self.revision.cmp(&other.revision))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl std::str::FromStr for Version {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
    }
}
