//! `--type` of `cosign attest`: short names to predicate type URIs, anything else checked the
//! way Go's `url.ParseRequestURI` accepts it and used verbatim.
//!
//! Not for: the predicate itself ([`super::Predicate`]). Reproduces
//! reference/cosign-attestations.md §5.6 (cosign `cmd/cosign/cli/options/predicate.go`).

use super::Error;

/// Short names and the predicate types they stand for.
pub const SHORT_NAMES: [(&str, &str); 10] = [
    ("custom", "https://cosign.sigstore.dev/attestation/v1"),
    ("slsaprovenance", "https://slsa.dev/provenance/v0.2"),
    ("slsaprovenance02", "https://slsa.dev/provenance/v0.2"),
    ("slsaprovenance1", "https://slsa.dev/provenance/v1"),
    ("spdx", "https://spdx.dev/Document"),
    ("spdxjson", "https://spdx.dev/Document"),
    ("cyclonedx", "https://cyclonedx.org/bom"),
    ("link", "https://in-toto.io/Link/v1"),
    ("vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"),
    ("openvex", "https://openvex.dev/ns"),
];

/// The predicate type a `--type` value names: a short name's URI, or the value itself when it
/// is an absolute URI (`scheme:…`) or an absolute path, as `url.ParseRequestURI` requires.
pub fn from_flag(value: &str) -> Result<String, Error> {
    if let Some((_, uri)) = SHORT_NAMES.iter().find(|(name, _)| *name == value) {
        return Ok((*uri).to_owned());
    }
    let bad = |what| Error::PredicateType {
        value: value.to_owned(),
        what,
    };
    if value.is_empty() {
        return Err(bad("is empty"));
    }
    if value.chars().any(|c| c.is_control() || c == ' ') {
        return Err(bad("contains spaces or control characters"));
    }
    if value.starts_with('/') {
        return Ok(value.to_owned());
    }
    let scheme = value
        .split_once(':')
        .map(|(scheme, _)| scheme)
        .unwrap_or("");
    let valid_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_scheme {
        return Err(bad("is neither a known short name nor an absolute URI"));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_and_uris() {
        assert_eq!(
            from_flag("custom").unwrap(),
            "https://cosign.sigstore.dev/attestation/v1"
        );
        assert_eq!(
            from_flag("slsaprovenance1").unwrap(),
            "https://slsa.dev/provenance/v1"
        );
        assert_eq!(
            from_flag("https://apko.dev/image-configuration").unwrap(),
            "https://apko.dev/image-configuration"
        );
        assert_eq!(from_flag("urn:example:x").unwrap(), "urn:example:x");
        assert_eq!(from_flag("/just/a/path").unwrap(), "/just/a/path");
        for bad in ["", "sbom", "1http://x", "https://a b"] {
            assert!(from_flag(bad).is_err(), "{bad:?}");
        }
    }
}
