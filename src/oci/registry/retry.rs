//! When and how long to wait before sending a failed registry request again.
//!
//! A request is retried when its failure may pass on its own: no response or a broken one
//! (connection refused or reset, a timeout, a body cut short) and HTTP 5xx, 408 and 429, as
//! go-containerregistry's `remote` retries them for crane, cosign and apko. Only idempotent
//! steps are retried as they are: GET, HEAD, PUT of content-addressed blobs and manifests,
//! completing an upload, token fetches. Starting an upload session (POST) is not idempotent,
//! so a failed upload is restarted from that POST (see `blobs`).
//!
//! Waits grow exponentially (`first_delay`, doubled per attempt, at most `max_delay`) with
//! jitter (a uniform pick in the upper half of the wait), so that clients failing together do
//! not come back together. A `Retry-After` of delta-seconds (RFC 9110 §10.2.3) replaces the
//! computed wait; an HTTP-date there is treated as absent. Attempts and the total time are both
//! bounded.
//!
//! Not for: sending requests ([`super::transport`]) or deciding what a status means to an
//! operation (the operation modules).

use std::time::Duration;

/// How failed idempotent requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Attempts in all, the first included (1: never retry).
    pub attempts: u32,
    /// The wait before the second attempt.
    pub first_delay: Duration,
    /// The longest wait between two attempts (a `Retry-After` may ask for more, within
    /// `total`).
    pub max_delay: Duration,
    /// The longest time all attempts of one request may take, waits included.
    pub total: Duration,
}

impl Default for Policy {
    /// Six attempts over at most five minutes, waits from 250 ms up to 8 s.
    fn default() -> Self {
        Self {
            attempts: 6,
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            total: Duration::from_secs(300),
        }
    }
}

impl Policy {
    /// The wait after failed attempt number `attempt` (1-based), without a `Retry-After`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self
            .first_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let ceiling = doubled.min(self.max_delay);
        // Uniform in [ceiling/2, ceiling].
        let half = ceiling / 2;
        let spread = half.as_nanos() as u64;
        if spread == 0 {
            return ceiling;
        }
        half + Duration::from_nanos(random() % (spread + 1))
    }
}

/// Whether an HTTP status is worth retrying: any 5xx, 408 Request Timeout, 429 Too Many
/// Requests.
pub fn transient_status(status: u16) -> bool {
    (500..600).contains(&status) || status == 408 || status == 429
}

/// The wait a `Retry-After` header asks for, when it is delta-seconds.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Randomness for jitter; a clock-derived value when the system has none to give.
fn random() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        return u64::from(nanos) ^ u64::from(std::process::id()).rotate_left(32);
    }
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_stay_within_bounds_and_jitter() {
        let policy = Policy::default();
        for attempt in 1..=12 {
            let ceiling = (policy.first_delay * (1 << (attempt - 1).min(20))).min(policy.max_delay);
            let waits: Vec<Duration> = (0..50).map(|_| policy.backoff(attempt)).collect();
            for wait in &waits {
                assert!(
                    *wait >= ceiling / 2 && *wait <= ceiling,
                    "{attempt}: {wait:?}"
                );
            }
            assert!(
                waits.iter().any(|w| *w != waits[0]),
                "no jitter at {attempt}"
            );
        }
    }

    #[test]
    fn transient_statuses() {
        for status in [500, 502, 503, 504, 408, 429] {
            assert!(transient_status(status), "{status}");
        }
        for status in [200, 201, 400, 401, 403, 404, 405, 409, 416] {
            assert!(!transient_status(status), "{status}");
        }
    }

    #[test]
    fn retry_after_seconds_only() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
