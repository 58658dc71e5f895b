//! Registry credentials: where they come from and what they are.
//!
//! Sources, in order, the first that yields a credential wins:
//!
//! 1. an explicit credential (`--username`/`--password`, `--registry-token`), for every registry;
//! 2. each `--registry-config` file, in the order given (oras);
//! 3. `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
//!
//! Inside one Docker config file the Docker CLI's rules apply: a `credHelpers` entry for the
//! registry, else `credsStore`, else `auths` (exact key, then keys reduced to their host). A
//! helper is `docker-credential-<name> get` with the server address on stdin, answering
//! `{"Username": …, "Secret": …}`; a username of `<token>` means an identity token; a helper
//! that reports "credentials not found" yields nothing, and the next source is tried. Docker
//! Hub's server address is `https://index.docker.io/v1/`. Missing files are skipped, as oras
//! does. The caller passes every input as a plain value (file list, `DOCKER_CONFIG`, `HOME`,
//! helper search path): nothing here reads the environment.
//!
//! Not for: sending credentials or exchanging tokens (the transport, on oci-client). The
//! `docker_credential` crate is not used: it drops the causes of its errors, gives `auths`
//! precedence over `credsStore` unlike Docker, and turns a helper's "not found" into an error.
//! Reproduces docker/cli `cli/config/configfile/file.go` and `credentials/native_store.go` as
//! ggcr's default keychain uses them (reference/registry-and-plugins.md §2.5, §5.4).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;

use crate::oci::reference::DOCKER_HUB;

/// The key Docker uses for Docker Hub in `auths` and with credential helpers.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// Why credentials cannot be looked up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config file exists but cannot be read.
    #[error("{path}: cannot read", path = path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A config file is not a Docker config.
    #[error("{path}: not a valid Docker config file", path = path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// An `auths` entry's `auth` field is not base64 of `user:password`.
    #[error("{path}: auths entry {key:?}: the auth field is not base64 of user:password", path = path.display())]
    BadAuth {
        /// The file.
        path: PathBuf,
        /// The `auths` key.
        key: String,
    },
    /// The credential helper program is not on the search path.
    #[error("credential helper {program} not found")]
    HelperMissing {
        /// `docker-credential-<name>`.
        program: String,
    },
    /// The credential helper cannot be run.
    #[error("credential helper {program} cannot be run")]
    HelperSpawn {
        /// `docker-credential-<name>`.
        program: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The credential helper failed.
    #[error("credential helper {program} failed ({status}): {output}")]
    HelperFailed {
        /// `docker-credential-<name>`.
        program: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed (stderr, else stdout), trimmed.
        output: String,
    },
    /// The credential helper printed something other than `{"Username", "Secret"}`.
    #[error("credential helper {program} printed malformed JSON")]
    HelperOutput {
        /// `docker-credential-<name>`.
        program: String,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
}

/// A credential for one registry. `Debug` never shows secrets.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Credential {
    /// No credential: anonymous access.
    #[default]
    Anonymous,
    /// User name and password (HTTP basic, or exchanged for a bearer token).
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken`, or a helper's `<token>` user).
    IdentityToken(String),
    /// A bearer token to send as is (`registrytoken`, `--registry-token`).
    RegistryToken(String),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Anonymous => write!(f, "Anonymous"),
            Self::Basic { username, .. } => write!(f, "Basic({username:?}, <redacted>)"),
            Self::IdentityToken(_) => write!(f, "IdentityToken(<redacted>)"),
            Self::RegistryToken(_) => write!(f, "RegistryToken(<redacted>)"),
        }
    }
}

/// Where a credential came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// No source had one.
    Nowhere,
    /// Given explicitly (command line).
    Explicit,
    /// An `auths` entry of a config file.
    Auths {
        /// The config file.
        file: PathBuf,
        /// The entry's key.
        key: String,
    },
    /// A credential helper named by a config file (`credHelpers` or `credsStore`).
    Helper {
        /// The config file.
        file: PathBuf,
        /// `docker-credential-<name>`.
        program: String,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nowhere => write!(f, "no credentials found"),
            Self::Explicit => write!(f, "credentials given explicitly"),
            Self::Auths { file, key } => {
                write!(f, "credentials from auths {key:?} in {}", file.display())
            }
            Self::Helper { file, program } => {
                write!(
                    f,
                    "credentials from {program} (named in {})",
                    file.display()
                )
            }
        }
    }
}

/// A credential and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The credential (possibly anonymous).
    pub credential: Credential,
    /// Its source.
    pub origin: Origin,
}

/// Where to look for credentials. Every field is a plain value the caller resolved.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Used for every registry when set.
    pub explicit: Option<Credential>,
    /// Docker-format config files consulted first, in order (`--registry-config`).
    pub config_files: Vec<PathBuf>,
    /// The value of `DOCKER_CONFIG`: the directory holding `config.json`.
    pub docker_config: Option<PathBuf>,
    /// The value of `HOME`, for `~/.docker/config.json` when `docker_config` is unset.
    pub home: Option<PathBuf>,
    /// Directories searched for `docker-credential-*` (a `PATH` value); `None` lets the
    /// operating system search the process's `PATH`.
    pub helper_path: Option<OsString>,
}

impl Sources {
    /// The credential for `registry` (`host[:port]`, Docker Hub as `index.docker.io`).
    pub fn lookup(&self, registry: &str) -> Result<Found, Error> {
        if let Some(credential) = &self.explicit {
            return Ok(Found {
                credential: credential.clone(),
                origin: Origin::Explicit,
            });
        }
        let default_file = match (&self.docker_config, &self.home) {
            (Some(dir), _) => Some(dir.join("config.json")),
            (None, Some(home)) => Some(home.join(".docker").join("config.json")),
            (None, None) => None,
        };
        for file in self.config_files.iter().chain(&default_file) {
            if let Some(found) = self.lookup_in(file, registry)? {
                return Ok(found);
            }
        }
        Ok(Found {
            credential: Credential::Anonymous,
            origin: Origin::Nowhere,
        })
    }

    fn lookup_in(&self, file: &Path, registry: &str) -> Result<Option<Found>, Error> {
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Read {
                    path: file.into(),
                    source,
                });
            }
        };
        let config: DockerConfig =
            serde_json::from_slice(&bytes).map_err(|source| Error::Json {
                path: file.into(),
                source,
            })?;
        let server = server_address(registry);
        let helper = config
            .cred_helpers
            .get(server)
            .or_else(|| config.cred_helpers.get(registry))
            .filter(|name| !name.is_empty())
            .or(config.creds_store.as_ref().filter(|name| !name.is_empty()));
        if let Some(name) = helper {
            let program = format!("docker-credential-{name}");
            let credential = run_helper(&program, server, self.helper_path.as_ref())?;
            return Ok(credential.map(|credential| Found {
                credential,
                origin: Origin::Helper {
                    file: file.into(),
                    program,
                },
            }));
        }
        let entry = config.auths.get_key_value(server).or_else(|| {
            config
                .auths
                .iter()
                .find(|(key, _)| host_of_key(key) == host_of_key(server))
        });
        let Some((key, entry)) = entry else {
            return Ok(None);
        };
        let credential = entry.credential().ok_or_else(|| Error::BadAuth {
            path: file.into(),
            key: key.clone(),
        })?;
        Ok(credential.map(|credential| Found {
            credential,
            origin: Origin::Auths {
                file: file.into(),
                key: key.clone(),
            },
        }))
    }
}

/// What Docker calls the server address of a registry: its host, or Docker Hub's legacy URL.
pub fn server_address(registry: &str) -> &str {
    if registry == DOCKER_HUB {
        DOCKER_HUB_KEY
    } else {
        registry
    }
}

/// An `auths` key reduced to its host, Docker Hub's aliases to one name (docker/cli
/// `ConvertToHostname`, plus the aliases ggcr and the docker_credential crate accept).
fn host_of_key(key: &str) -> &str {
    let stripped = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"));
    let host = match stripped {
        Some(rest) => rest.split('/').next().unwrap_or(rest),
        None => key,
    };
    match host {
        "docker.io" | "registry-1.docker.io" => DOCKER_HUB,
        other => other,
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(serde::Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
}

impl AuthEntry {
    /// The entry's credential (`None` inside when it is empty); the outer `None` means a
    /// malformed `auth` field.
    fn credential(&self) -> Option<Option<Credential>> {
        let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        if let Some(token) = non_empty(&self.identitytoken) {
            return Some(Some(Credential::IdentityToken(token)));
        }
        if let Some(token) = non_empty(&self.registrytoken) {
            return Some(Some(Credential::RegistryToken(token)));
        }
        let (username, password) = match non_empty(&self.auth) {
            Some(auth) => decode_auth(&auth)?,
            None => (
                self.username.clone().unwrap_or_default(),
                self.password.clone().unwrap_or_default(),
            ),
        };
        if username.is_empty() && password.is_empty() {
            return Some(None);
        }
        Some(Some(Credential::Basic { username, password }))
    }
}

fn decode_auth(auth: &str) -> Option<(String, String)> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let decoded = engine.decode(auth.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (username, password) = text.split_once(':')?;
    Some((username.to_owned(), password.to_owned()))
}

/// Runs `program get` with `server` on stdin. `None` when the helper has no credential.
fn run_helper(
    program: &str,
    server: &str,
    search_path: Option<&OsString>,
) -> Result<Option<Credential>, Error> {
    let executable = match search_path {
        Some(path) => std::env::split_paths(path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
            .ok_or_else(|| Error::HelperMissing {
                program: program.into(),
            })?,
        None => PathBuf::from(program),
    };
    let spawn_error = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::HelperMissing {
                program: program.into(),
            }
        } else {
            Error::HelperSpawn {
                program: program.into(),
                source,
            }
        }
    };
    let mut child = Command::new(&executable)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_error)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading its input is judged by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    let output = child.wait_with_output().map_err(spawn_error)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        // docker-credential-helpers' ErrCredentialsNotFound: anonymous, not a failure.
        if stdout.contains("credentials not found") {
            return Ok(None);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let text = if stderr.trim().is_empty() {
            stdout.trim()
        } else {
            stderr.trim()
        };
        return Err(Error::HelperFailed {
            program: program.into(),
            status: output.status,
            output: text.chars().take(512).collect(),
        });
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        #[serde(default)]
        username: String,
        #[serde(default)]
        secret: String,
    }
    let answer: Answer =
        serde_json::from_slice(&output.stdout).map_err(|source| Error::HelperOutput {
            program: program.into(),
            source,
        })?;
    Ok(match (answer.username.as_str(), answer.secret) {
        (_, secret) if secret.is_empty() && answer.username.is_empty() => None,
        ("<token>", secret) => Some(Credential::IdentityToken(secret)),
        (_, secret) => Some(Credential::Basic {
            username: answer.username,
            password: secret,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auths_keys_reduce_to_hosts() {
        assert_eq!(
            host_of_key("https://index.docker.io/v1/"),
            "index.docker.io"
        );
        assert_eq!(host_of_key("docker.io"), "index.docker.io");
        assert_eq!(host_of_key("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
        assert_eq!(host_of_key("ghcr.io"), "ghcr.io");
        assert_eq!(server_address("index.docker.io"), DOCKER_HUB_KEY);
        assert_eq!(server_address("127.0.0.1:5000"), "127.0.0.1:5000");
    }

    #[test]
    fn auth_field_wins_over_username_and_password() {
        let entry = AuthEntry {
            auth: Some("dXNlcjpwYTpzcw==".into()), // user:pa:ss
            username: Some("other".into()),
            password: Some("x".into()),
            ..AuthEntry::default()
        };
        assert_eq!(
            entry.credential(),
            Some(Some(Credential::Basic {
                username: "user".into(),
                password: "pa:ss".into()
            }))
        );
        let unpadded = AuthEntry {
            auth: Some("dXNlcjpwYTpzcw".into()),
            ..AuthEntry::default()
        };
        assert!(matches!(
            unpadded.credential(),
            Some(Some(Credential::Basic { .. }))
        ));
        let broken = AuthEntry {
            auth: Some("not base64!".into()),
            ..AuthEntry::default()
        };
        assert_eq!(broken.credential(), None);
        assert_eq!(AuthEntry::default().credential(), Some(None));
    }

    #[test]
    fn debug_redacts_secrets() {
        let basic = Credential::Basic {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{basic:?}").contains("hunter2"));
        assert!(!format!("{:?}", Credential::IdentityToken("tok".into())).contains("tok"));
    }
}
