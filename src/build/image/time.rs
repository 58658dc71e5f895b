//! apko's build date: the `SourceDateEpoch` option and the rule that picks the creation time
//! from it and the installed packages' build times.
//!
//! Pure: no clock, no environment (the caller reads `SOURCE_DATE_EPOCH` and hands it in).
//!
//! Not for: printing or parsing times ([`crate::codec::time`]), choosing which packages count
//! (the root filesystem). Reproduces reference/apko-format.md §8 (apko `pkg/build/build.go`
//! `New`, `GetBuildDateEpoch`; `internal/cli/build.go` multi-arch maximum).

pub use crate::codec::time::{GoTime, latest};

/// Why the build date cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `SOURCE_DATE_EPOCH` is set to something that is not an integer.
    #[error("SOURCE_DATE_EPOCH {value:?} is not an integer number of seconds")]
    SourceDateEpoch {
        /// The variable's value.
        value: String,
        /// The integer parser's complaint.
        #[source]
        source: std::num::ParseIntError,
    },
}

/// Whether the build date was pinned through the `SOURCE_DATE_EPOCH` environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pinning {
    /// `SOURCE_DATE_EPOCH` is set (even to blanks): the image is created at [`SourceDate`]'s
    /// time whatever the packages say.
    Environment,
    /// Not set: packages built later than [`SourceDate`]'s time move the creation time.
    Unpinned,
}

/// apko's `SourceDateEpoch` option together with how it was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceDate {
    /// The time: the epoch, `--build-date`, or `SOURCE_DATE_EPOCH`.
    pub time: GoTime,
    /// Whether `SOURCE_DATE_EPOCH` was set.
    pub pinning: Pinning,
}

impl SourceDate {
    /// Resolves the option as apko's `build.New` does: `SOURCE_DATE_EPOCH` (the variable's
    /// value, `None` when unset) wins when it is not blank and must then be an integer;
    /// otherwise `build_date` (`--build-date`), otherwise 1970-01-01T00:00:00Z. A set but
    /// blank variable still pins the creation time.
    pub fn resolve(environment: Option<&str>, build_date: Option<GoTime>) -> Result<Self, Error> {
        let mut time = build_date.unwrap_or(GoTime::from_unix(0));
        let pinning = match environment {
            None => Pinning::Unpinned,
            Some(value) => {
                if !value.trim().is_empty() {
                    // Go parses the untrimmed value, so surrounding blanks are an error.
                    let seconds: i64 = value.parse().map_err(|source| Error::SourceDateEpoch {
                        value: value.to_owned(),
                        source,
                    })?;
                    time = GoTime::from_unix(seconds);
                }
                Pinning::Environment
            }
        };
        Ok(SourceDate { time, pinning })
    }

    /// apko's `GetBuildDateEpoch`: the pinned time, or the latest of this time and the
    /// installed packages' build times (Unix seconds, `.PKGINFO` `builddate` / `t:`; a base
    /// image's packages count too).
    pub fn build_date_epoch(&self, package_build_times: impl IntoIterator<Item = i64>) -> GoTime {
        if self.pinning == Pinning::Environment {
            return self.time;
        }
        package_build_times
            .into_iter()
            .map(GoTime::from_unix)
            .fold(self.time, latest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_date_follows_source_date_epoch() -> Result<(), Error> {
        let unpinned = SourceDate::resolve(None, None)?;
        assert_eq!(
            unpinned.build_date_epoch([5, 1_700_000_000, 3]),
            GoTime::from_unix(1_700_000_000)
        );
        assert_eq!(unpinned.build_date_epoch([]), GoTime::from_unix(0));
        let pinned = SourceDate::resolve(Some("1750000000"), None)?;
        assert_eq!(
            pinned.build_date_epoch([1_800_000_000]),
            GoTime::from_unix(1_750_000_000)
        );
        let blank = SourceDate::resolve(Some("  "), Some(GoTime::from_unix(9)))?;
        assert_eq!(
            blank.build_date_epoch([1_800_000_000]),
            GoTime::from_unix(9)
        );
        assert!(SourceDate::resolve(Some(" 1"), None).is_err());
        Ok(())
    }
}
