//! Go's `time.Time` as far as printing and parsing go.
//!
//! [`GoTime`] keeps what a Go time prints from: the instant, the nanoseconds and the UTC offset
//! it was parsed or created with. It formats as `time.RFC3339` (the `created` annotation and
//! label) and as `MarshalJSON` does (RFC 3339 with nanoseconds, trailing zeros dropped: the
//! config's `created` and history times), and parses RFC 3339 as `UnmarshalJSON` does (base
//! image configs, trusted roots, signing configs).
//!
//! Pure: no clock, no environment.
//!
//! Not for: tar header times ([`crate::codec::tar::Timestamp`]), apko's build-date rule
//! (`build::image::time`). Reproduces reference/apko-format.md §10.1 (Go `time.Time.Format`,
//! `MarshalJSON`, `UnmarshalJSON`).

use std::cmp::Ordering;
use std::fmt::Write as _;

/// Why a time cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A time is not RFC 3339 as Go reads it.
    #[error("{text:?} is not an RFC 3339 time: {reason}")]
    Rfc3339 {
        /// The text.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Go's `MarshalJSON` refuses years outside 0..=9999.
    #[error("time {seconds}s after the epoch has a year outside 0..=9999")]
    YearOutOfRange {
        /// The instant, in Unix seconds.
        seconds: i64,
    },
    /// The instant plus its offset leaves the representable range.
    #[error("time {seconds}s after the epoch is out of range")]
    OutOfRange {
        /// The instant, in Unix seconds.
        seconds: i64,
    },
}

/// A Go `time.Time` as far as printing goes: instant, nanoseconds and UTC offset.
///
/// Equality compares all three, as printing differs when the offset does; use
/// [`GoTime::cmp_instant`] to compare instants (Go's `After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GoTime {
    seconds: i64,
    nanos: u32,
    offset: i32,
}

const SECONDS_PER_DAY: i64 = 86_400;
/// Unix seconds of Go's zero time, 0001-01-01T00:00:00Z.
const GO_ZERO_UNIX: i64 = -62_135_596_800;

impl GoTime {
    /// Go's zero `time.Time` (January 1, year 1, UTC): what a missing or `null` JSON time
    /// decodes to.
    pub const ZERO: GoTime = GoTime {
        seconds: GO_ZERO_UNIX,
        nanos: 0,
        offset: 0,
    };

    /// `time.Unix(seconds, 0).UTC()`.
    pub fn from_unix(seconds: i64) -> GoTime {
        GoTime {
            seconds,
            nanos: 0,
            offset: 0,
        }
    }

    /// An instant with nanoseconds (clamped below one billion) in UTC.
    pub fn from_unix_nanos(seconds: i64, nanos: u32) -> GoTime {
        GoTime {
            seconds,
            nanos: nanos.min(999_999_999),
            offset: 0,
        }
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// Nanoseconds within the second.
    pub fn nanos(&self) -> u32 {
        self.nanos
    }

    /// Seconds east of UTC this time prints in.
    pub fn offset_seconds(&self) -> i32 {
        self.offset
    }

    /// Orders by instant only, ignoring the offset (Go's `Before`/`After`).
    pub fn cmp_instant(&self, other: &GoTime) -> Ordering {
        (self.seconds, self.nanos).cmp(&(other.seconds, other.nanos))
    }

    /// `Format(time.RFC3339)`: whole seconds, `Z` or `±hh:mm`. Never fails, as in Go.
    pub fn rfc3339(&self) -> String {
        let mut out = String::with_capacity(25);
        self.write(&mut out, Fraction::None);
        out
    }

    /// `MarshalJSON`'s text (without quotes): RFC 3339 with up to nine fractional digits,
    /// trailing zeros dropped; years outside 0..=9999 are refused as Go refuses them.
    pub fn rfc3339_nano(&self) -> Result<String, Error> {
        let year = self.civil()?.0;
        if !(0..=9999).contains(&year) {
            return Err(Error::YearOutOfRange {
                seconds: self.seconds,
            });
        }
        let mut out = String::with_capacity(35);
        self.write(&mut out, Fraction::Trimmed);
        Ok(out)
    }

    /// Parses RFC 3339 as Go's `Time.UnmarshalJSON` does (without the quotes): four-digit
    /// year, optional fraction (digits past the ninth ignored), `Z` or `±hh:mm`.
    pub fn parse_rfc3339(text: &str) -> Result<GoTime, Error> {
        let fail = |reason| Error::Rfc3339 {
            text: text.to_owned(),
            reason,
        };
        let bytes = text.as_bytes();
        let digits = |from: usize, len: usize| -> Result<i64, Error> {
            let field = bytes
                .get(from..from + len)
                .ok_or_else(|| fail("too short"))?;
            field.iter().try_fold(0i64, |acc, b| match b {
                b'0'..=b'9' => Ok(acc * 10 + i64::from(b - b'0')),
                _ => Err(fail("digit expected")),
            })
        };
        let literal = |at: usize, want: u8| -> Result<(), Error> {
            match bytes.get(at) {
                Some(b) if *b == want => Ok(()),
                _ => Err(fail("separator expected")),
            }
        };
        let year = digits(0, 4)?;
        literal(4, b'-')?;
        let month = digits(5, 2)?;
        literal(7, b'-')?;
        let day = digits(8, 2)?;
        literal(10, b'T')?;
        let hour = digits(11, 2)?;
        literal(13, b':')?;
        let minute = digits(14, 2)?;
        literal(16, b':')?;
        let second = digits(17, 2)?;
        if !(1..=12).contains(&month) {
            return Err(fail("month out of range"));
        }
        if day < 1 || day > days_in_month(year, month) {
            return Err(fail("day out of range"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(fail("clock out of range"));
        }
        let mut at = 19;
        let mut nanos: u32 = 0;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            if at == start {
                return Err(fail("fraction without digits"));
            }
            let fraction = bytes.get(start..at).unwrap_or_default();
            let mut scale = 100_000_000u32;
            for b in fraction.iter().take(9) {
                nanos += u32::from(b - b'0') * scale;
                scale /= 10;
            }
        }
        let offset = match bytes.get(at) {
            Some(b'Z') if at + 1 == bytes.len() => 0,
            Some(sign @ (b'+' | b'-')) if at + 6 == bytes.len() => {
                let hours = digits(at + 1, 2)?;
                literal(at + 3, b':')?;
                let minutes = digits(at + 4, 2)?;
                if hours > 23 || minutes > 59 {
                    return Err(fail("offset out of range"));
                }
                let magnitude = i32::try_from(hours * 3600 + minutes * 60)
                    .map_err(|_| fail("offset out of range"))?;
                if *sign == b'-' { -magnitude } else { magnitude }
            }
            _ => return Err(fail("zone expected at the end")),
        };
        let local = days_from_civil(year, month, day) * SECONDS_PER_DAY
            + hour * 3600
            + minute * 60
            + second;
        Ok(GoTime {
            seconds: local - i64::from(offset),
            nanos,
            offset,
        })
    }

    /// (year, month, day, seconds of day) in this time's offset.
    fn civil(&self) -> Result<(i64, i64, i64, i64), Error> {
        let local = self
            .seconds
            .checked_add(i64::from(self.offset))
            .ok_or(Error::OutOfRange {
                seconds: self.seconds,
            })?;
        let days = local.div_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Ok((year, month, day, local.rem_euclid(SECONDS_PER_DAY)))
    }

    fn write(&self, out: &mut String, fraction: Fraction) {
        // Only an offset pushing i64::MAX over the edge fails; print the UTC instant then.
        let (year, month, day, clock) = self.civil().unwrap_or_else(|_| {
            let (y, m, d) = civil_from_days(self.seconds.div_euclid(SECONDS_PER_DAY));
            (y, m, d, self.seconds.rem_euclid(SECONDS_PER_DAY))
        });
        // Go's appendInt(b, year, 4): sign, then at least four digits.
        if year < 0 {
            out.push('-');
        }
        let _ = write!(
            out,
            "{:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            year.unsigned_abs(),
            clock / 3600,
            clock / 60 % 60,
            clock % 60
        );
        if let Fraction::Trimmed = fraction
            && self.nanos != 0
        {
            let digits = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(digits.trim_end_matches('0'));
        }
        if self.offset == 0 {
            out.push('Z');
        } else {
            let magnitude = self.offset.unsigned_abs();
            out.push(if self.offset < 0 { '-' } else { '+' });
            let _ = write!(out, "{:02}:{:02}", magnitude / 3600, magnitude / 60 % 60);
        }
    }
}

enum Fraction {
    None,
    Trimmed,
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days.saturating_add(719_468);
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400;
    (if month <= 2 { year + 1 } else { year }, month, day)
}

/// The later of two times, keeping `current` on a tie (Go's `if t.After(current)`); the index
/// takes this over the per-architecture build dates.
pub fn latest(current: GoTime, candidate: GoTime) -> GoTime {
    if candidate.cmp_instant(&current) == Ordering::Greater {
        candidate
    } else {
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() -> Result<(), Error> {
        assert_eq!(GoTime::from_unix(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            GoTime::from_unix(1_700_000_000).rfc3339(),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            GoTime::from_unix(1_750_000_000).rfc3339(),
            "2025-06-15T15:06:40Z"
        );
        assert_eq!(GoTime::ZERO.rfc3339_nano()?, "0001-01-01T00:00:00Z");
        assert_eq!(
            GoTime::from_unix_nanos(951_782_400, 120_000_000).rfc3339_nano()?,
            "2000-02-29T00:00:00.12Z"
        );
        assert_eq!(
            GoTime::from_unix_nanos(951_782_400, 120_000_000).rfc3339(),
            "2000-02-29T00:00:00Z"
        );
        assert!(GoTime::from_unix(253_402_300_800).rfc3339_nano().is_err());
        Ok(())
    }

    #[test]
    fn parses_and_keeps_offsets() -> Result<(), Error> {
        let t = GoTime::parse_rfc3339("2024-03-01T01:30:00.500+02:00")?;
        assert_eq!(t.unix_seconds(), 1_709_249_400);
        assert_eq!(t.rfc3339_nano()?, "2024-03-01T01:30:00.5+02:00");
        let utc = GoTime::parse_rfc3339("1970-01-01T00:00:00+00:00")?;
        assert_eq!(utc, GoTime::from_unix(0));
        assert_eq!(GoTime::parse_rfc3339("0001-01-01T00:00:00Z")?, GoTime::ZERO);
        for bad in [
            "1970-01-01 00:00:00Z",
            "1970-13-01T00:00:00Z",
            "1970-02-30T00:00:00Z",
            "1970-01-01T00:00:00",
            "1970-01-01T00:00:00.Z",
        ] {
            assert!(GoTime::parse_rfc3339(bad).is_err(), "{bad}");
        }
        Ok(())
    }
}
