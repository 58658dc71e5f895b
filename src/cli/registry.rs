//! Registry options shared by both binaries, in both hosts' spellings, and their translation
//! into [`crate::oci::registry::Settings`].
//!
//! cosign's names are primary here (`--allow-http-registry`, `--allow-insecure-registry`,
//! `--registry-username`, `--registry-password`); oras's (`--plain-http`, `--insecure`) are
//! accepted as aliases. Loopback registries use plain HTTP whatever the flags.
//!
//! Not for: talking to registries ([`crate::oci::registry`]) or reading credential files
//! ([`crate::oci::registry::auth`]).

use std::path::PathBuf;

use crate::oci::registry::{PlainHttp, Settings, Tls, auth};

/// How to reach registries: flattened into every command that talks to one.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegistryArgs {
    /// Reach every registry over plain HTTP (loopback registries always are).
    #[arg(long = "allow-http-registry", visible_alias = "plain-http")]
    pub plain_http: bool,
    /// Accept any TLS certificate from registries.
    #[arg(long = "allow-insecure-registry", visible_alias = "insecure")]
    pub insecure: bool,
    /// Docker-format credentials file consulted before DOCKER_CONFIG and ~/.docker/config.json
    /// (repeatable).
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

impl RegistryArgs {
    /// The client settings these options describe; credential sources come from the
    /// environment (`DOCKER_CONFIG`, `HOME`).
    pub fn settings(&self) -> Settings {
        let explicit = match (&self.username, &self.password) {
            (Some(username), Some(password)) => Some(auth::Credential::Basic {
                username: username.clone(),
                password: password.clone(),
            }),
            _ => None,
        };
        Settings {
            plain_http: if self.plain_http {
                PlainHttp::Everywhere
            } else {
                PlainHttp::Loopback
            },
            tls: if self.insecure {
                Tls::SkipVerification
            } else {
                Tls::Verify
            },
            credentials: auth::Sources {
                explicit,
                config_files: self.registry_config.clone(),
                docker_config: std::env::var_os("DOCKER_CONFIG").map(PathBuf::from),
                home: std::env::var_os("HOME").map(PathBuf::from),
                helper_path: None,
            },
            ..Settings::default()
        }
    }
}
