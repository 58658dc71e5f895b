//! Shell completions and man pages for both binaries, rendered from their clap definitions.
//!
//! `cosign-rebuild generate-assets DIR` (hidden; run by `scripts/generate-assets`) writes
//! `DIR/completions/` (bash, zsh and fish files per binary) and `DIR/man/` (one page per binary
//! and one per visible subcommand). The output depends only on the definitions and the crate
//! version (no date), so a test can regenerate and compare with the committed files.
//!
//! Not for: the definitions themselves (`cli::cosign_rebuild`, `cli::oras_lock`).

use std::path::{Path, PathBuf};

use clap::CommandFactory as _;
use clap_complete::{Generator as _, Shell};

/// Options of `generate-assets`.
#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {
    /// Directory that receives `completions/` and `man/` (usually the repository's top).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A page or completion file cannot be rendered.
    #[error("cannot render {name}")]
    Render {
        /// The file being rendered.
        name: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A file cannot be written.
    #[error("cannot write {path}", path = path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

/// The two binaries' command definitions, as their parsers see them.
pub fn commands() -> Vec<clap::Command> {
    vec![
        super::cosign_rebuild::Args::command(),
        super::oras_lock::Args::command(),
    ]
}

/// Every asset: its path relative to the output directory, and its bytes.
pub fn render() -> Result<Vec<(PathBuf, Vec<u8>)>, Error> {
    let mut files = Vec::new();
    for command in commands() {
        let name = command.get_name().to_string();
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut bytes = Vec::new();
            clap_complete::generate(shell, &mut command.clone(), &name, &mut bytes);
            files.push((Path::new("completions").join(shell.file_name(&name)), bytes));
        }
        let mut command = command.disable_help_subcommand(true);
        command.build();
        man_pages(command, &mut files)?;
    }
    Ok(files)
}

/// Renders `command`'s page and those of its visible subcommands, as `clap_mangen::generate_to`
/// names them (`cosign-rebuild-build.1`), in memory.
fn man_pages(command: clap::Command, files: &mut Vec<(PathBuf, Vec<u8>)>) -> Result<(), Error> {
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        man_pages(sub.clone(), files)?;
    }
    let man = clap_mangen::Man::new(command);
    let name = man.get_filename();
    let mut bytes = Vec::new();
    man.render(&mut bytes).map_err(|source| Error::Render {
        name: name.clone(),
        source,
    })?;
    files.push((Path::new("man").join(name), bytes));
    Ok(())
}

/// Writes every asset under `args.dir`, each file replaced atomically.
pub fn run(args: &GenerateArgs) -> Result<(), Error> {
    for (relative, bytes) in render()? {
        let path = args.dir.join(relative);
        write_atomically(&path, &bytes).map_err(|source| Error::Write { path, source })?;
    }
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.flush()?;
    // Installed as documentation: readable by everyone, unlike a temporary file's 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}
