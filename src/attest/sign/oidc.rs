//! The OIDC identity token keyless signing trades for a certificate: from `--identity-token`
//! (a token or a file holding one), `SIGSTORE_ID_TOKEN`, or GitHub Actions' ambient credentials
//! (`ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, audience `sigstore`), in
//! cosign's order; then read (not verified: Fulcio verifies it) so that an expired token or one
//! for another audience fails here, before anything is signed, with a message naming the claim.
//!
//! Not for: reading the environment (the caller passes [`Ambient`]), the certificate exchange
//! ([`super::fulcio`]).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::http::{self, Request};

/// The audience Fulcio accepts.
pub const SIGSTORE_AUDIENCE: &str = "sigstore";

/// Why no usable token was found.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No source gave a token.
    #[error(
        "keyless signing needs an OIDC identity token: pass --identity-token (a token or a file \
         holding one), set SIGSTORE_ID_TOKEN, or run in GitHub Actions with `permissions: \
         id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL); or sign with --key"
    )]
    Missing,
    /// The GitHub Actions token service failed.
    #[error(transparent)]
    Http(#[from] http::Error),
    /// The GitHub Actions token service refused.
    #[error("GitHub Actions token service at {url} refused: HTTP {status}: {message}")]
    Ambient {
        /// The request URL (without its token).
        url: String,
        /// The status.
        status: u16,
        /// Its message.
        message: String,
    },
    /// The token is not a JWT.
    #[error("the identity token from {source_name} is not a JWT: {reason}")]
    Malformed {
        /// Where it came from.
        source_name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The token has expired.
    #[error(
        "the identity token from {source_name} expired at {expired} (now {now}); get a fresh one"
    )]
    Expired {
        /// Where it came from.
        source_name: &'static str,
        /// Its `exp`.
        expired: i64,
        /// The current time.
        now: i64,
    },
    /// The token is for another audience.
    #[error(
        "the identity token from {source_name} is for audience {audience:?}, not {SIGSTORE_AUDIENCE:?}"
    )]
    Audience {
        /// Where it came from.
        source_name: &'static str,
        /// Its `aud`.
        audience: Vec<String>,
    },
}

/// What the environment offers.
#[derive(Debug, Clone, Default)]
pub struct Ambient {
    /// `SIGSTORE_ID_TOKEN`.
    pub sigstore_id_token: Option<String>,
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
    pub actions_request_url: Option<String>,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub actions_request_token: Option<String>,
}

/// A token with the claims signing needs.
#[derive(Debug, Clone)]
pub struct Token {
    /// The JWT as sent to Fulcio.
    pub jwt: String,
    /// `iss`.
    pub issuer: String,
    /// What Fulcio's proof of possession signs: `email` when present, else `sub`.
    pub subject: String,
    /// Where it came from, for messages.
    pub source_name: &'static str,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    iss: String,
    #[serde(default)]
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    aud: Option<Audience>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct ActionsAnswer {
    value: String,
}

/// Finds a token: `flag` (`--identity-token`, already read from a file when it named one),
/// then `SIGSTORE_ID_TOKEN`, then GitHub Actions; checks `exp` against `now` and `aud`.
pub fn token(flag: Option<&str>, ambient: &Ambient, now: i64) -> Result<Token, Error> {
    let (jwt, source_name) = if let Some(jwt) = flag {
        (jwt.trim().to_owned(), "--identity-token")
    } else if let Some(jwt) = &ambient.sigstore_id_token {
        (jwt.trim().to_owned(), "SIGSTORE_ID_TOKEN")
    } else if let (Some(url), Some(bearer)) =
        (&ambient.actions_request_url, &ambient.actions_request_token)
    {
        (github_actions(url, bearer)?, "GitHub Actions")
    } else {
        return Err(Error::Missing);
    };
    read(jwt, source_name, now)
}

/// Asks GitHub Actions' token service for a token with audience `sigstore`.
fn github_actions(url: &str, bearer: &str) -> Result<String, Error> {
    let separator = if url.contains('?') { '&' } else { '?' };
    let full = format!("{url}{separator}audience={SIGSTORE_AUDIENCE}");
    let answer = http::exchange(
        "GitHub Actions token service",
        Request {
            method: reqwest::Method::GET,
            url: &full,
            content_type: "application/json",
            body: Vec::new(),
            bearer: Some(bearer),
        },
    )?;
    if answer.status != 200 {
        return Err(Error::Ambient {
            url: full,
            status: answer.status,
            message: answer.excerpt(),
        });
    }
    serde_json::from_slice::<ActionsAnswer>(&answer.body)
        .map(|a| a.value)
        .map_err(|e| Error::Ambient {
            url: full,
            status: answer.status,
            message: format!("no token in the answer: {e}"),
        })
}

/// Reads the claims of `jwt` and checks expiry and audience.
pub fn read(jwt: String, source_name: &'static str, now: i64) -> Result<Token, Error> {
    let malformed = |reason: &str| Error::Malformed {
        source_name,
        reason: reason.to_owned(),
    };
    let mut parts = jwt.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("expected three dot-separated parts"));
    };
    let payload = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| malformed("the claims are not base64url"))?;
    let claims: Claims =
        serde_json::from_slice(&payload).map_err(|e| malformed(&format!("claims: {e}")))?;
    if let Some(expired) = claims.exp
        && expired <= now
    {
        return Err(Error::Expired {
            source_name,
            expired,
            now,
        });
    }
    let audience = match claims.aud {
        Some(Audience::One(one)) => vec![one],
        Some(Audience::Many(many)) => many,
        None => Vec::new(),
    };
    if !audience.iter().any(|a| a == SIGSTORE_AUDIENCE) {
        return Err(Error::Audience {
            source_name,
            audience,
        });
    }
    let subject = claims.email.unwrap_or(claims.sub);
    if subject.is_empty() {
        return Err(malformed("no sub or email claim"));
    }
    Ok(Token {
        jwt,
        issuer: claims.iss,
        subject,
        source_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn claims_are_checked_before_anything_is_signed() {
        let ok = jwt(r#"{"iss":"https://i","sub":"s","aud":"sigstore","exp":200}"#);
        let read_back = read(ok, "t", 100).unwrap();
        assert_eq!(
            (read_back.issuer.as_str(), read_back.subject.as_str()),
            ("https://i", "s")
        );
        let email = jwt(r#"{"sub":"s","email":"a@b","aud":["x","sigstore"]}"#);
        assert_eq!(read(email, "t", 100).unwrap().subject, "a@b");
        let expired = jwt(r#"{"sub":"s","aud":"sigstore","exp":100}"#);
        assert!(matches!(
            read(expired, "t", 100),
            Err(Error::Expired { .. })
        ));
        let audience = jwt(r#"{"sub":"s","aud":"other"}"#);
        assert!(matches!(
            read(audience, "t", 100),
            Err(Error::Audience { .. })
        ));
        assert!(matches!(
            read("x.y".into(), "t", 0),
            Err(Error::Malformed { .. })
        ));
        assert!(matches!(
            token(None, &Ambient::default(), 0),
            Err(Error::Missing)
        ));
    }
}
