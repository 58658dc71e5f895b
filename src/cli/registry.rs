//! Registry options shared by both binaries, in both hosts' spellings, and their translation
//! into [`crate::oci::registry::Settings`].
//!
//! Two dialects, one meaning: [`RegistryArgs`] speaks cosign's (`--allow-http-registry`,
//! `--allow-insecure-registry`, `--registry-username`, `--registry-password`) and accepts
//! oras's long names as aliases; [`OrasRegistryArgs`] speaks oras's (`--plain-http`,
//! `--insecure`, `-u/--username`, `-p/--password`, `--password-stdin`) and accepts cosign's.
//! Both take `--registry-config`, then `DOCKER_CONFIG`, then `~/.docker/config.json` (with
//! `credHelpers`, `credsStore` and `auths`). Loopback registries use plain HTTP whatever the
//! flags (reference/registry-and-plugins.md §2.5, §3.1, §3.4).
//!
//! Not for: talking to registries ([`crate::oci::registry`]) or reading credential files
//! ([`crate::oci::registry::auth`]).

use std::ffi::OsString;
use std::io::BufRead;
use std::path::PathBuf;

use crate::oci::registry::{PlainHttp, Settings, Tls, auth};

const HEADING: &str = "Registry options";

/// How to reach registries, in cosign's spelling: flattened into every `cosign-rebuild` command
/// that talks to one.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = HEADING)]
pub struct RegistryArgs {
    /// Reach every registry over plain HTTP (loopback registries always are).
    #[arg(long = "allow-http-registry", visible_alias = "plain-http")]
    pub plain_http: bool,
    /// Accept any TLS certificate from registries.
    #[arg(long = "allow-insecure-registry", visible_alias = "insecure")]
    pub insecure: bool,
    /// Docker-format credentials file consulted before DOCKER_CONFIG and ~/.docker/config.json
    /// (repeatable; missing files are skipped).
    #[arg(long = "registry-config", value_name = "FILE")]
    pub registry_config: Vec<PathBuf>,
    /// User name for every registry (with --registry-password).
    #[arg(long = "registry-username", value_name = "USER", requires = "password")]
    pub username: Option<String>,
    /// Password for every registry (with --registry-username).
    #[arg(
        long = "registry-password",
        value_name = "PASSWORD",
        requires = "username",
        env = "RECEIPTS_REGISTRY_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
}

/// How to reach registries, in oras's spelling: flattened into every `oras-lock` command.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = HEADING)]
pub struct OrasRegistryArgs {
    /// Reach every registry over plain HTTP (loopback registries always are).
    #[arg(long = "plain-http", visible_alias = "allow-http-registry")]
    pub plain_http: bool,
    /// Accept any TLS certificate from registries.
    #[arg(long = "insecure", visible_alias = "allow-insecure-registry")]
    pub insecure: bool,
    /// Docker-format credentials file consulted before DOCKER_CONFIG and ~/.docker/config.json
    /// (repeatable; missing files are skipped).
    #[arg(long = "registry-config", value_name = "FILE")]
    pub registry_config: Vec<PathBuf>,
    /// User name for every registry (with --password or --password-stdin).
    #[arg(
        short = 'u',
        long = "username",
        visible_alias = "registry-username",
        value_name = "USER"
    )]
    pub username: Option<String>,
    /// Password for every registry (with --username).
    #[arg(
        short = 'p',
        long = "password",
        visible_alias = "registry-password",
        value_name = "PASSWORD",
        requires = "username",
        conflicts_with = "password_stdin",
        env = "RECEIPTS_REGISTRY_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// Read the password for --username from the first line of standard input.
    #[arg(long = "password-stdin", requires = "username")]
    pub password_stdin: bool,
}

/// The parts of the process environment that registry settings depend on.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// `DOCKER_CONFIG`: the directory holding `config.json`.
    pub docker_config: Option<PathBuf>,
    /// `HOME`, for `~/.docker/config.json`.
    pub home: Option<PathBuf>,
    /// Where `docker-credential-*` helpers are searched (`None`: the process's `PATH`).
    pub helper_path: Option<OsString>,
}

impl Environment {
    /// This process's environment.
    pub fn current() -> Self {
        Environment {
            docker_config: std::env::var_os("DOCKER_CONFIG").map(PathBuf::from),
            home: std::env::var_os("HOME").map(PathBuf::from),
            helper_path: None,
        }
    }
}

/// Why the registry options cannot be turned into settings.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--username` was given without a password.
    #[error("--username {username} needs a password: pass --password or --password-stdin")]
    NoPassword {
        /// The user name.
        username: String,
    },
    /// `--password-stdin` found nothing to read.
    #[error(
        "--password-stdin: standard input is empty; pipe the password in, e.g. `printf '%s' \"$PASSWORD\" | oras-lock --username USER --password-stdin …`"
    )]
    EmptyStdin,
    /// Standard input cannot be read.
    #[error("--password-stdin: cannot read standard input")]
    Stdin(#[source] std::io::Error),
}

impl RegistryArgs {
    /// The client settings these options describe, with credential sources from this process's
    /// environment.
    pub fn settings(&self) -> Settings {
        self.settings_in(&Environment::current())
    }

    /// The client settings these options describe, in `env`.
    pub fn settings_in(&self, env: &Environment) -> Settings {
        let explicit = match (&self.username, &self.password) {
            (Some(username), Some(password)) => Some(basic(username, password)),
            _ => None,
        };
        settings(
            self.plain_http,
            self.insecure,
            &self.registry_config,
            explicit,
            env,
        )
    }
}

impl OrasRegistryArgs {
    /// The client settings these options describe, with credential sources from this process's
    /// environment; `--password-stdin` reads standard input.
    pub fn settings(&self) -> Result<Settings, Error> {
        self.settings_in(&Environment::current(), &mut std::io::stdin().lock())
    }

    /// The client settings these options describe, in `env`, reading `--password-stdin`'s
    /// password from `stdin`.
    pub fn settings_in(
        &self,
        env: &Environment,
        stdin: &mut dyn BufRead,
    ) -> Result<Settings, Error> {
        let explicit = match (&self.username, &self.password, self.password_stdin) {
            (Some(username), Some(password), _) => Some(basic(username, password)),
            (Some(username), None, true) => Some(basic(username, &read_password(stdin)?)),
            (Some(username), None, false) => {
                return Err(Error::NoPassword {
                    username: username.clone(),
                });
            }
            (None, _, _) => None,
        };
        Ok(settings(
            self.plain_http,
            self.insecure,
            &self.registry_config,
            explicit,
            env,
        ))
    }
}

fn basic(username: &str, password: &str) -> auth::Credential {
    auth::Credential::Basic {
        username: username.to_string(),
        password: password.to_string(),
    }
}

/// The first line of `stdin` without its line ending, as `docker login --password-stdin` reads.
fn read_password(stdin: &mut dyn BufRead) -> Result<String, Error> {
    let mut line = String::new();
    stdin.read_line(&mut line).map_err(Error::Stdin)?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err(Error::EmptyStdin);
    }
    Ok(password.to_string())
}

fn settings(
    plain_http: bool,
    insecure: bool,
    config_files: &[PathBuf],
    explicit: Option<auth::Credential>,
    env: &Environment,
) -> Settings {
    Settings {
        plain_http: if plain_http {
            PlainHttp::Everywhere
        } else {
            PlainHttp::Loopback
        },
        tls: if insecure {
            Tls::SkipVerification
        } else {
            Tls::Verify
        },
        credentials: auth::Sources {
            explicit,
            config_files: config_files.to_vec(),
            docker_config: env.docker_config.clone(),
            home: env.home.clone(),
            helper_path: env.helper_path.clone(),
        },
        ..Settings::default()
    }
}
