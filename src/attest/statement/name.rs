//! The subject name cosign writes into an attestation: the image's repository, normalised as
//! go-containerregistry's `Repository.String()`.
//!
//! Not for: resolving or contacting registries (later OCI modules). Reproduces ggcr
//! `pkg/name` (`ParseReference`, `NewTag`, `NewDigest`, `NewRepository`, `NewRegistry`, weak
//! validation, as cosign calls them) per reference/cosign-attestations.md §5.2: Docker Hub names
//! are expanded (`alpine` → `index.docker.io/library/alpine`), `docker.io` becomes
//! `index.docker.io`, ports are kept, tags and digests are dropped.

use super::Error;

const DEFAULT_REGISTRY: &str = "index.docker.io";
const DOCKER_HUB_ALIAS: &str = "docker.io";
const REPOSITORY_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789_-./";
const TAG_CHARS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";

/// The `name` of an in-toto subject as cosign writes it, e.g. `index.docker.io/library/alpine`
/// or `127.0.0.1:5000/repo`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubjectName(String);

impl SubjectName {
    /// Normalises an image reference (`alpine`, `alpine:3.20`, `ghcr.io/a/b@sha256:…`,
    /// `localhost:5000/x:tag@sha256:…`) the way cosign does before attesting it.
    pub fn from_reference(reference: &str) -> Result<Self, Error> {
        let bad = |what: &'static str| Error::Reference {
            reference: reference.to_owned(),
            what,
        };
        // ggcr tries a tag reference first, then a digest reference.
        if let Some(repository) = tag_repository(reference) {
            return Ok(SubjectName(repository));
        }
        let (base, digest) = reference
            .split_once('@')
            .ok_or(bad("not a valid repository, tag or digest"))?;
        if digest.contains('@') {
            return Err(bad("more than one '@'"));
        }
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or(bad("digest algorithm is not sha256"))?;
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad("digest is not 64 lower-case hex digits"));
        }
        // `repo:tag@digest`: the tag is dropped.
        if let Some(repository) = tag_repository(base) {
            return Ok(SubjectName(repository));
        }
        repository(base)
            .map(SubjectName)
            .ok_or(bad("not a valid repository"))
    }

    /// The name for an image that exists only as a local OCI layout directory, which cosign
    /// cannot attest. This crate's choice: `oci:` followed by the directory as given, without
    /// trailing slashes (the skopeo transport syntax), so the statement records where the image
    /// came from without the builder's absolute paths. Verifiers compare only the subject digest
    /// (reference/cosign-attestations.md §5.2); prefer [`SubjectName::from_reference`] with the
    /// repository the image will be pushed to when it is known.
    pub fn for_layout(directory: &str) -> Result<Self, Error> {
        let trimmed = directory.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() && !directory.is_empty() {
            "/"
        } else {
            trimmed
        };
        if trimmed.is_empty() || trimmed.chars().any(char::is_control) {
            return Err(Error::Reference {
                reference: directory.to_owned(),
                what: "not a layout directory",
            });
        }
        Ok(SubjectName(format!("oci:{trimmed}")))
    }

    /// Wraps a name read from an existing statement, unchanged.
    pub fn from_statement(name: String) -> Self {
        SubjectName(name)
    }

    /// The name as written into the statement.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SubjectName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// ggcr `NewTag(name).Repository.Name()`, or `None` where `NewTag` fails.
fn tag_repository(name: &str) -> Option<String> {
    let base = match name.rsplit_once(':') {
        // A last part without '/' is a tag, not a registry port.
        Some((base, tag)) if !tag.contains('/') => {
            if !valid_element(tag, TAG_CHARS, 1, 128) {
                return None;
            }
            base
        }
        _ => name,
    };
    repository(base)
}

/// ggcr `NewRepository(name).Name()`, or `None` where it fails.
fn repository(name: &str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    let (registry, path) = match name.split_once('/') {
        // The first component names a registry only if it looks like a host: '.' or ':'.
        Some((first, rest)) if first.contains('.') || first.contains(':') => (first, rest),
        _ => ("", name),
    };
    if !valid_element(path, REPOSITORY_CHARS, 2, 255) || !valid_registry(registry) {
        return None;
    }
    let registry = match registry {
        "" | DOCKER_HUB_ALIAS => DEFAULT_REGISTRY,
        other => other,
    };
    if registry == DEFAULT_REGISTRY && !path.contains('/') {
        return Some(format!("{registry}/library/{path}"));
    }
    Some(format!("{registry}/{path}"))
}

fn valid_element(element: &str, allowed: &str, min: usize, max: usize) -> bool {
    let count = element.chars().count();
    (min..=max).contains(&count) && element.chars().all(|c| allowed.contains(c))
}

/// ggcr `checkRegistry`: Go's `url.Parse("//" + name)` must yield exactly `name` as the host.
fn valid_registry(name: &str) -> bool {
    if name.contains(['@', '?', '#', '/']) {
        return false;
    }
    let host_chars_ok = name.chars().all(|c| {
        !c.is_ascii() || c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:[]<>\"%".contains(c)
    });
    if !host_chars_ok {
        return false;
    }
    // Outside an IPv6 literal, whatever follows the last ':' is a port: digits only.
    let after_bracket = name.rsplit_once(']').map_or(name, |(_, rest)| rest);
    match after_bracket.rsplit_once(':') {
        Some((_, port)) => port.bytes().all(|b| b.is_ascii_digit()),
        None => true,
    }
}
