//! Writing what `oras-lock` produces: the locked configuration as JSON (Go `MarshalIndent`
//! with two spaces, the form apko's lock file uses) or YAML, and files replaced atomically — a
//! temporary file in the target's directory, renamed over it — so an error never leaves a
//! truncated or half-written output.
//!
//! Not for: the lock file's bytes ([`crate::config::lock::Lock::to_json`]) or the Go JSON
//! encoder ([`crate::codec::json`]).

use std::io::Write as _;
use std::path::Path;

use super::Error;
use crate::codec::json;
use crate::config::ImageConfiguration;

/// How a locked configuration is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// apko's JSON form of the configuration, indented with two spaces, then a newline.
    #[default]
    Json,
    /// YAML, as apko reads configurations.
    Yaml,
}

impl Format {
    /// The format a file name asks for: `.yaml`/`.yml` → YAML, `.json` → JSON, else none.
    pub fn for_path(path: &Path) -> Option<Format> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Some(Format::Yaml),
            Some("json") => Some(Format::Json),
            _ => None,
        }
    }
}

/// The bytes of a locked configuration in `format`.
pub fn encode(configuration: &ImageConfiguration, format: Format) -> Result<Vec<u8>, Error> {
    match format {
        Format::Json => {
            let mut bytes = json::to_vec_go_pretty(configuration)
                .map_err(|source| Error::Encode(crate::config::Error::Encode(source)))?;
            bytes.push(b'\n');
            Ok(bytes)
        }
        Format::Yaml => serde_yaml_ng::to_string(configuration)
            .map(String::into_bytes)
            .map_err(Error::Yaml),
    }
}

/// File permissions of an output, before the umask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `0666`: an ordinary file.
    Regular,
    /// `0777`: what apko gives its lock file (`os.ModePerm`).
    LockFile,
}

/// Writes `bytes` to `path` atomically: into a temporary file beside it, flushed to disk, then
/// renamed over `path`. The file gets `mode` less the process's umask, as `open(2)` would.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: Mode) -> Result<(), Error> {
    let failed = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".oras-lock-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let bits = match mode {
            Mode::Regular => 0o666,
            Mode::LockFile => 0o777,
        };
        builder.permissions(std::fs::Permissions::from_mode(bits));
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut temporary = builder.tempfile_in(dir).map_err(failed)?;
    temporary.write_all(bytes).map_err(failed)?;
    temporary.as_file().sync_all().map_err(failed)?;
    temporary
        .persist(path)
        .map_err(|error| failed(error.error))?;
    Ok(())
}
