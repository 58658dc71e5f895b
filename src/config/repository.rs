//! Repository lines of a configuration: plain `URL` or pinned `@tag URL`.
//!
//! Configurations store repositories as the strings given (that is what apko hashes, locks and
//! writes); this type reads one the way the index loader does.
//!
//! Not for: fetching indexes (`apk`). Reproduces reference/apko-format.md §2.1 and §4.7.

use super::Error;

/// A repository line split into its optional pin tag and its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repository<'a> {
    /// The pin name without `@` (`testing` for `@testing https://…`), if pinned.
    pub tag: Option<&'a str>,
    /// The repository URL or local path.
    pub url: &'a str,
}

impl<'a> Repository<'a> {
    /// Splits a line as apko's index loader does: a line starting with `@` is split on
    /// whitespace and must have a URL after the tag (further words are ignored); any other line
    /// is a URL as a whole.
    pub fn parse(line: &'a str) -> Result<Self, Error> {
        if !line.starts_with('@') {
            return Ok(Self {
                tag: None,
                url: line,
            });
        }
        let mut words = line.split_whitespace();
        // The tag may be empty ("@ url"): apko takes whatever follows the "@" of the first word.
        match (words.next().and_then(|w| w.strip_prefix('@')), words.next()) {
            (Some(tag), Some(url)) => Ok(Self {
                tag: Some(tag),
                url,
            }),
            _ => Err(Error::RepositoryLine {
                line: line.to_owned(),
            }),
        }
    }
}

/// The repository with trailing `/` removed, as apko stores every repository after parsing.
pub fn trim_repository(repository: &str) -> &str {
    repository.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_pinned_and_plain_lines() -> Result<(), Error> {
        assert_eq!(
            Repository::parse("@testing https://example.com/edge/testing")?,
            Repository {
                tag: Some("testing"),
                url: "https://example.com/edge/testing"
            }
        );
        assert_eq!(
            Repository::parse("./packages")?,
            Repository {
                tag: None,
                url: "./packages"
            }
        );
        assert!(Repository::parse("@testing").is_err());
        assert_eq!(trim_repository("https://x/os//"), "https://x/os");
        Ok(())
    }
}
