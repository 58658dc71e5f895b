//! What makes the two binaries usable as subcommands of their hosts: the docker-shaped
//! `plugin-metadata` answer and the shell functions (`shim`) that route `cosign rebuild …` and
//! `oras lock …` to them.
//!
//! Neither cosign nor oras dispatches to plugins (reference/registry-and-plugins.md §1.1, §1.2),
//! so a shell function stands in for the host: it runs `<host>-<word>` with the remaining
//! arguments when the first one is `<word>`, and the real host otherwise. The descriptions here
//! must agree with `plugin.yaml` at the top of the repository (a test checks).
//!
//! Not for: parsing either binary's arguments (`cli::cosign_rebuild`, `cli::oras_lock`).

use std::io::Write as _;

/// The host tool, the word under it, and this project's binary for that word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plugin {
    /// The host command: `cosign` or `oras`.
    pub host: &'static str,
    /// The subcommand word under the host: `rebuild` or `lock`.
    pub word: &'static str,
    /// The binary: `<host>-<word>`.
    pub binary: &'static str,
    /// One line for `plugin-metadata`'s `ShortDescription`.
    pub short_description: &'static str,
}

/// `cosign rebuild`, served by `cosign-rebuild`.
pub const COSIGN_REBUILD: Plugin = Plugin {
    host: "cosign",
    word: "rebuild",
    binary: "cosign-rebuild",
    short_description: "Rebuild an apko image from its attested locked config and verify the digest",
};

/// `oras lock`, served by `oras-lock`.
pub const ORAS_LOCK: Plugin = Plugin {
    host: "oras",
    word: "lock",
    binary: "oras-lock",
    short_description: "Lock an apko image config to exact package versions",
};

/// Who publishes the plugins (`Vendor`, and `vendor` in `plugin.yaml`).
pub const VENDOR: &str = "receipts-dev";

/// Docker CLI plugin metadata (`docker/cli cli-plugins/metadata/metadata.go`): Go field names
/// as JSON keys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Metadata {
    /// Always `0.1.0`.
    pub schema_version: String,
    /// [`VENDOR`].
    pub vendor: String,
    /// The crate version.
    pub version: String,
    /// [`Plugin::short_description`].
    pub short_description: String,
    /// The project's home page.
    #[serde(rename = "URL")]
    pub url: String,
}

impl Plugin {
    /// This plugin's metadata.
    pub fn metadata(&self) -> Metadata {
        Metadata {
            schema_version: "0.1.0".into(),
            vendor: VENDOR.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            short_description: self.short_description.into(),
            url: env!("CARGO_PKG_REPOSITORY").into(),
        }
    }

    /// The shell function that makes `<host> <word> …` run this binary, for `shell`.
    pub fn shim(&self, shell: Shell) -> String {
        let Plugin {
            host, word, binary, ..
        } = self;
        match shell {
            Shell::Bash | Shell::Zsh => format!(
                "# `{host} {word} …` runs {binary}; every other `{host} …` runs {host}.\n\
                 {host}() {{ if [ \"${{1-}}\" = {word} ]; then shift; command {binary} \"$@\"; \
                 else command {host} \"$@\"; fi; }}\n"
            ),
            Shell::Fish => format!(
                "# `{host} {word} …` runs {binary}; every other `{host} …` runs {host}.\n\
                 function {host}\n    \
                 if test (count $argv) -gt 0; and test \"$argv[1]\" = {word}\n        \
                 command {binary} $argv[2..-1]\n    \
                 else\n        \
                 command {host} $argv\n    \
                 end\n\
                 end\n"
            ),
        }
    }
}

/// Shells a shim can be printed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// bash (`eval "$(… shim bash)"` in ~/.bashrc).
    Bash,
    /// zsh (`eval "$(… shim zsh)"` in ~/.zshrc).
    Zsh,
    /// fish (`… shim fish | source` in config.fish).
    Fish,
}

/// Options of `shim`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShimArgs {
    /// The shell to print the function for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// Why printing failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Standard output cannot be written.
    #[error("cannot write to standard output")]
    Stdout(#[source] std::io::Error),
    /// The metadata cannot be encoded (not expected: every field is a string).
    #[error("cannot encode the plugin metadata")]
    Encode(#[source] serde_json::Error),
}

/// Prints `plugin`'s metadata as one line of JSON.
pub fn print_metadata(plugin: &Plugin) -> Result<(), Error> {
    let mut json = serde_json::to_vec(&plugin.metadata()).map_err(Error::Encode)?;
    json.push(b'\n');
    print(&json)
}

/// Prints `plugin`'s shell function.
pub fn print_shim(plugin: &Plugin, args: &ShimArgs) -> Result<(), Error> {
    print(plugin.shim(args.shell).as_bytes())
}

fn print(bytes: &[u8]) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(Error::Stdout),
    }
}
