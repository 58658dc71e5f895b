//! What to do about an error: one `hint:` line printed after the error chain.
//!
//! Library errors say what happened and to what (package, URL, key, file); what a person should
//! do next depends on the command line they typed, so the advice lives here, beside the flags
//! it names. The chain is searched from the outermost error to the innermost cause and the
//! innermost advice wins: it is the most specific. A value wrapped with
//! `#[error(transparent)]` never appears in a `source()` chain, only its causes do; a command
//! error that wraps a library error that way gets an arm in `one` (as `oras_lock::Error` has;
//! `cosign-rebuild`'s command errors have theirs in `command_hint`), or wraps it as a
//! `#[source]` instead.
//!
//! Not for: printing (`cli::print_chain`) or the errors themselves (each module's `Error`).

use std::error::Error;

use crate::apk::{keyring, repository, signed, solver, source};
use crate::attest::key;
use crate::config;
use crate::lock;
use crate::oci::{reference, registry};

/// The advice for `error`, if any of its causes is a mistake with a known remedy.
pub fn for_error(error: &(dyn Error + 'static)) -> Option<String> {
    let mut found = None;
    let mut level = Some(error);
    while let Some(error) = level {
        if let Some(hint) = one(error) {
            found = Some(hint);
        }
        level = error.source();
    }
    found
}

/// `error` as a `T`, also when a variant holds it boxed (`#[source] Box<T>`).
fn downcast<'a, T: Error + 'static>(error: &'a (dyn Error + 'static)) -> Option<&'a T> {
    error
        .downcast_ref::<T>()
        .or_else(|| error.downcast_ref::<Box<T>>().map(|boxed| &**boxed))
}

/// The advice for this error alone, looking through transparent wrappers (whose own value never
/// appears in a `source()` chain).
fn one(error: &(dyn Error + 'static)) -> Option<String> {
    if let Some(hint) = command_hint(error) {
        return hint;
    }
    if let Some(error) = downcast::<super::oras_lock::Error>(error) {
        return match error {
            super::oras_lock::Error::Lock(inner) => for_error(inner),
            super::oras_lock::Error::Registry(inner) => for_error(inner),
            _ => None,
        };
    }
    if let Some(error) = downcast::<crate::oci::store::Error>(error) {
        return match error {
            crate::oci::store::Error::Registry(inner) => for_error(inner),
            _ => None,
        };
    }
    if let Some(error) = downcast::<lock::Error>(error) {
        return lock_hint(error);
    }
    if let Some(error) = downcast::<crate::build::pipeline::Error>(error) {
        return build_hint(error);
    }
    if downcast::<crate::build::predicate::OrderMismatch>(error).is_some() {
        return Some(
            "build and attest each architecture on its own (--arch ARCH): each then has one \
             install order"
                .into(),
        );
    }
    if let Some(error) = downcast::<config::Error>(error) {
        return config_hint(error);
    }
    if let Some(error) = downcast::<repository::Error>(error) {
        return match error {
            repository::Error::Index(inner) => signed_hint(inner),
            other => repository_hint(other),
        };
    }
    if let Some(error) = downcast::<signed::Error>(error) {
        return signed_hint(error);
    }
    if let Some(keyring::Error::Read { path, .. }) = downcast::<keyring::Error>(error) {
        return Some(format!(
            "check contents.keyring: {} must exist (relative paths are read from the working \
             directory, as apko does)",
            path.display()
        ));
    }
    if let Some(error) = downcast::<key::Error>(error) {
        return match error {
            key::Error::Decrypt => Some(
                "give the password the key was created with (COSIGN_PASSWORD, as cosign reads \
                 it)"
                .into(),
            ),
            key::Error::Exists { .. } => Some(
                "keep using that key, or move it away before generating a new pair: an \
                 existing key is never replaced silently"
                    .into(),
            ),
            _ => None,
        };
    }
    if let Some(error) = downcast::<registry::Error>(error) {
        return registry_hint(error);
    }
    if let Some(error) = downcast::<crate::attest::fetch::Error>(error) {
        return fetch_hint(error);
    }
    if let Some(error) = downcast::<registry::auth::Error>(error) {
        return match error {
            registry::auth::Error::HelperMissing { program } => Some(format!(
                "install {program} on PATH, or remove its credHelpers/credsStore entry from the \
                 Docker config file"
            )),
            _ => None,
        };
    }
    if downcast::<reference::Error>(error).is_some() {
        return Some(
            "write an image as [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. \
             registry.example.com/team/app:1.0, or oci:DIR for an OCI layout"
                .into(),
        );
    }
    None
}

/// `cosign-rebuild`'s command errors: most wrap a library error transparently, so the library
/// error is reached here rather than through `source()`. `None` when `error` is none of them;
/// `Some(None)` when it is one without advice.
fn command_hint(error: &(dyn Error + 'static)) -> Option<Option<String>> {
    use super::cosign_rebuild::{self as cr, attest, audit, download, keys, verify};
    if let Some(error) = downcast::<cr::Error>(error) {
        return Some(match error {
            cr::Error::Build(inner) => for_error(inner),
            cr::Error::Attest(inner) => for_error(inner),
            cr::Error::Keys(inner) => for_error(inner),
            cr::Error::Initialize(inner) => for_error(inner),
            cr::Error::Download(inner) => for_error(inner),
            cr::Error::Verify(inner) => for_error(inner),
            cr::Error::Audit(inner) => for_error(inner),
            cr::Error::Diff(inner) => for_error(inner),
            cr::Error::Plugin(inner) => for_error(inner),
            cr::Error::Assets(inner) => for_error(inner),
            cr::Error::Catalog(_) => None,
            cr::Error::Gc(inner) => for_error(inner),
        });
    }
    // The audit's library error is transparent in the command's: its own hint is looked up here.
    if let Some(audit::Error::Audit(inner)) = downcast::<audit::Error>(error) {
        return Some(one(inner));
    }
    if let Some(error) = downcast::<attest::Error>(error) {
        return Some(match error {
            attest::Error::Password(inner) => for_error(inner),
            _ => None,
        });
    }
    if let Some(error) = downcast::<keys::Error>(error) {
        return Some(match error {
            keys::Error::Declined => Some(
                "keep using the existing key, or move it away before generating a new pair (the \
                 overwrite question is answered on standard input: y replaces it)"
                    .into(),
            ),
            keys::Error::Key(inner) => for_error(inner),
            _ => None,
        });
    }
    if let Some(error) = downcast::<download::Error>(error) {
        return Some(match error {
            download::Error::Store(inner) => for_error(inner),
            download::Error::Fetch(inner) => for_error(inner),
            _ => None,
        });
    }
    if let Some(error) = downcast::<verify::Error>(error) {
        return Some(match error {
            verify::Error::Store(inner) => for_error(inner),
            verify::Error::Image(inner) => for_error(inner),
            _ => None,
        });
    }
    if let Some(error) = downcast::<crate::attest::verify::image::Error>(error) {
        return Some(image_hint(error));
    }
    let key_needs_tlog = matches!(
        downcast::<audit::Error>(error),
        Some(audit::Error::KeyNeedsTlog { .. })
    ) || matches!(
        downcast::<crate::rebuild::audit::Error>(error),
        Some(crate::rebuild::audit::Error::KeyNeedsTlog { .. })
    );
    if key_needs_tlog {
        return Some(Some(
            "a key-signed attestation has no transparency-log entry unless it was uploaded: \
             pass --insecure-ignore-tlog (as with cosign verify-attestation --key)"
                .into(),
        ));
    }
    let platform_missing = matches!(
        downcast::<crate::rebuild::audit::Error>(error),
        Some(crate::rebuild::audit::Error::PlatformMissing { .. })
    ) || matches!(
        downcast::<crate::rebuild::Error>(error),
        Some(crate::rebuild::Error::PlatformMissing { .. })
    );
    if platform_missing {
        return Some(Some(
            "pass one of the platforms it has to --platform, or leave --platform out for all \
             of them"
                .into(),
        ));
    }
    None
}

fn image_hint(error: &crate::attest::verify::image::Error) -> Option<String> {
    use crate::attest::statement::APKO_IMAGE_CONFIGURATION;
    use crate::attest::verify::image::Error;
    match error {
        Error::Fetch(inner) => for_error(inner),
        Error::NoneFound { .. } => Some(format!(
            "attest the image first: cosign-rebuild attest IMAGE --predicate FILE --key \
             cosign.key (cosign attest works too); the audit needs a {APKO_IMAGE_CONFIGURATION} \
             attestation of the locked configuration"
        )),
        // Attested with --tlog-upload=false: no log entry (bundle) or Rekor bundle (legacy).
        Error::NoneVerified { errors }
            if errors.contains("has no transparency log entry")
                || errors.contains("offline verification failed") =>
        {
            Some(
                "the attestation was made without a transparency log entry (attest \
                 --tlog-upload=false): verify or audit it with --key and --insecure-ignore-tlog, \
                 or attest again with a Rekor log (--rekor-url or --signing-config)"
                    .into(),
            )
        }
        Error::NoneVerified { .. } => Some(
            "check that --key is the public key of the pair that signed the attestation \
             (keyless: that --certificate-identity and --certificate-oidc-issuer name its signer)"
                .into(),
        ),
        Error::PredicateType { wanted, .. } if wanted == APKO_IMAGE_CONFIGURATION => Some(format!(
            "attest the locked configuration as {wanted}: cosign-rebuild attest IMAGE \
             --predicate apko.locked.json --key cosign.key (cosign attest --type {wanted})"
        )),
        Error::PredicateType { .. } => Some(
            "pass --type with one of the types found, or attest the image with the type wanted"
                .into(),
        ),
    }
}

fn lock_hint(error: &lock::Error) -> Option<String> {
    match error {
        lock::Error::Source(inner) => source_hint(inner),
        _ => None,
    }
}

fn source_hint(error: &source::Error) -> Option<String> {
    match error {
        source::Error::Resolve { arch, source } => Some(match source.as_ref() {
            solver::Error::NothingProvides { name, .. } => format!(
                "check the spelling of {name:?} and that a repository in contents.repositories \
                 carries it for {arch}"
            ),
            solver::Error::Unsatisfiable { .. } => format!(
                "relax the version constraint, or add a repository carrying a matching version \
                 for {arch}"
            ),
            _ => "change the package list so that one version of each package can be chosen".into(),
        }),
        source::Error::Withdrawn { package, .. } => Some(format!(
            "lock again: the pinned version of {package} is no longer published"
        )),
        source::Error::Unify(inner) => for_error(inner),
        _ => None,
    }
}

fn build_hint(error: &crate::build::pipeline::Error) -> Option<String> {
    use crate::build::pipeline::Error;
    match error {
        Error::BaseImage { .. } => Some(
            "apko builds on a base image only from a lock file: this configuration needs \
             --lockfile FILE (oras-lock CONFIG --lockfile FILE writes one)"
                .into(),
        ),
        _ => None,
    }
}

fn config_hint(error: &config::Error) -> Option<String> {
    match error {
        config::Error::NotFound { .. } => Some(
            "check the file name: a relative path is looked up in the working directory, then \
             in each --include-paths DIR"
                .into(),
        ),
        config::Error::UnknownKey { key, .. } => Some(format!(
            "remove or correct `{key}`: apko rejects keys it does not know, so the image would \
             not build there either"
        )),
        _ => None,
    }
}

fn repository_hint(error: &repository::Error) -> Option<String> {
    match error {
        repository::Error::Offline { .. } => Some(
            "run once without --offline to fill the download cache, or point --cache-dir at a \
             filled one"
                .into(),
        ),
        repository::Error::NoCacheDir => Some("pass --cache-dir DIR".into()),
        repository::Error::Request { .. } => Some(
            "check the URL and the network (proxy, firewall); with a filled download cache, \
             --offline needs no network"
                .into(),
        ),
        repository::Error::Status { status: 404, .. } => Some(
            "check the repository URL in contents.repositories and that it serves this \
             architecture"
                .into(),
        ),
        repository::Error::Status {
            status: 401 | 403, ..
        } => Some(
            "the repository refused access: put the credentials in its URL \
             (https://USER:PASSWORD@host/…)"
                .into(),
        ),
        _ => None,
    }
}

fn signed_hint(error: &signed::Error) -> Option<String> {
    match error {
        signed::Error::Unsigned { .. } | signed::Error::SingleStream { .. } => Some(
            "sign the index (abuild-sign, melange sign-index): unsigned indexes are refused, as \
             apk and apko refuse them"
                .into(),
        ),
        signed::Error::NoKeys { .. } => {
            Some("list the repository's public key in contents.keyring".into())
        }
        signed::Error::UnknownKey { signatures, .. } => {
            let names: Vec<&str> = signatures
                .iter()
                .map(|entry| {
                    entry
                        .trim_start_matches(".SIGN.RSA256.")
                        .trim_start_matches(".SIGN.RSA.")
                })
                .collect();
            Some(format!(
                "add the signer's public key ({}) to contents.keyring",
                names.join(" or ")
            ))
        }
        signed::Error::BadSignature { .. } => Some(
            "the index was altered, or the keyring's key of that name is not the signer's: \
             fetch the repository's current public key"
                .into(),
        ),
        _ => None,
    }
}

fn fetch_hint(error: &crate::attest::fetch::Error) -> Option<String> {
    use crate::attest::fetch::Error;
    match error {
        Error::ImageNotFound { .. } => {
            Some("check the repository name and the tag or digest".into())
        }
        Error::Store { source, .. } => for_error(source).or_else(|| {
            Some(
                "the attestations could not be read, so nothing is known about them yet: \
                 check the registry, then run the command again"
                    .into(),
            )
        }),
        _ => None,
    }
}

fn registry_hint(error: &registry::Error) -> Option<String> {
    match error {
        registry::Error::GaveUp { .. } => Some(
            "the registry kept failing (see the causes): try again later; nothing was concluded \
             about the image or its attestations"
                .into(),
        ),
        registry::Error::RetryTooLate { seconds, .. } => Some(format!(
            "the registry is rate-limiting or busy: run the command again in {seconds} seconds"
        )),
        registry::Error::TooLarge { .. } => Some(
            "the registry answered with far more data than such a document needs: it is broken, \
             or not the registry meant; check the host"
                .into(),
        ),
        registry::Error::Denied {
            registry, scope, ..
        } => Some(format!(
            "log in to {registry} as a user granted {scope} (docker login {registry}), or pick a \
             repository those credentials may write to"
        )),
        registry::Error::TokenRefused { registry, .. } => Some(format!(
            "check the credentials for {registry} (docker login {registry}; an identitytoken in \
             the Docker config may have expired: log in again)"
        )),
        registry::Error::Unauthorized { registry, .. } => Some(format!(
            "log in (docker login {registry}, or oras login {registry}), or pass \
             --registry-username and --registry-password (oras-lock: -u and -p)"
        )),
        registry::Error::Request { .. } => Some(
            "check the registry's host and port and that it is running; a registry served over \
             plain HTTP needs --allow-http-registry (oras: --plain-http)"
                .into(),
        ),
        registry::Error::NotFound { .. } => {
            Some("check the repository name and the tag or digest".into())
        }
        registry::Error::Credentials { source, .. } => for_error(source),
        _ => None,
    }
}
