//! `cosign-rebuild generate-key-pair`: write `cosign.key` and `cosign.pub` as
//! `cosign generate-key-pair` does, and the key password rules `attest` shares.
//!
//! Passwords, as cosign reads them: `COSIGN_PASSWORD` when set (even empty); else a prompt on
//! the terminal (twice when creating a key); else everything piped into stdin. An existing
//! key file is replaced only after `y` to cosign's "Are you sure you would like to continue?".
//!
//! Not for: the key formats ([`crate::attest::key`]).

use std::io::{BufRead as _, IsTerminal as _, Read as _};
use std::path::PathBuf;

use zeroize::Zeroizing;

use super::Outcome;
use crate::attest::key::{self, Overwrite};

/// The environment variable cosign reads key passwords from.
pub const PASSWORD_VARIABLE: &str = "COSIGN_PASSWORD";

/// Options of this command.
#[derive(Debug, Clone, clap::Args)]
pub struct GenerateKeyPairArgs {
    /// Write PREFIX.key and PREFIX.pub.
    #[arg(
        long = "output-key-prefix",
        value_name = "PREFIX",
        default_value = "cosign"
    )]
    pub output_key_prefix: PathBuf,
}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The password could not be read.
    #[error("cannot read the key password")]
    Password(#[source] std::io::Error),
    /// The two passwords typed differ.
    #[error("passwords do not match")]
    PasswordMismatch,
    /// The answer to the overwrite question could not be read.
    #[error("cannot read the answer to the overwrite question")]
    Answer(#[source] std::io::Error),
    /// The user did not answer `y`.
    #[error("user declined the prompt")]
    Declined,
    /// The answer was neither `y` nor `n`.
    #[error("invalid input {got:?} (allowed values y, n)")]
    InvalidAnswer {
        /// What was typed.
        got: String,
    },
    /// Generating or writing the keys failed.
    #[error(transparent)]
    Key(#[from] key::Error),
}

/// Reads a key password the way cosign does; `confirm` asks twice on a terminal.
pub fn read_password(confirm: bool) -> Result<Zeroizing<Vec<u8>>, Error> {
    if let Some(password) = std::env::var_os(PASSWORD_VARIABLE) {
        return Ok(Zeroizing::new(password.into_encoded_bytes()));
    }
    if std::io::stdin().is_terminal() {
        let first = Zeroizing::new(
            rpassword::prompt_password("Enter password for private key: ")
                .map_err(Error::Password)?,
        );
        if confirm {
            let again = Zeroizing::new(
                rpassword::prompt_password("Enter password for private key again: ")
                    .map_err(Error::Password)?,
            );
            if *first != *again {
                return Err(Error::PasswordMismatch);
            }
        }
        return Ok(Zeroizing::new(first.as_bytes().to_vec()));
    }
    // Piped passwords are taken whole, trailing newline included, as cosign does.
    let mut piped = Zeroizing::new(Vec::new());
    std::io::stdin()
        .read_to_end(&mut piped)
        .map_err(Error::Password)?;
    Ok(piped)
}

/// cosign's confirmation: `y` continues; empty or `n` declines; anything else is invalid.
fn confirm_overwrite(path: &std::path::Path) -> Result<(), Error> {
    eprintln!(
        "WARNING: File {} already exists. Overwrite?",
        path.display()
    );
    eprint!("Are you sure you would like to continue? [y/N] ");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(Error::Answer)?;
    let answer = line.trim_end_matches(['\r', '\n']);
    match answer.to_lowercase().as_str() {
        "y" => Ok(()),
        "" | "n" => Err(Error::Declined),
        _ => Err(Error::InvalidAnswer {
            got: answer.to_owned(),
        }),
    }
}

/// Runs the command.
/// Runs the command; `quiet` silences the lines naming the files written.
pub fn run(args: &GenerateKeyPairArgs, quiet: bool) -> Result<Outcome, Error> {
    let password = read_password(true)?;
    let pair = key::generate_key_pair(&password)?;
    let with_extension = |extension: &str| {
        let mut name = args.output_key_prefix.as_os_str().to_owned();
        name.push(extension);
        PathBuf::from(name)
    };
    // cosign asks about the private key only; a lone public key is asked about too, since
    // replacing it silently would orphan whatever was signed with its private half.
    let existing = [with_extension(".key"), with_extension(".pub")]
        .into_iter()
        .find(|path| path.symlink_metadata().is_ok());
    let overwrite = match existing {
        Some(path) => {
            confirm_overwrite(&path)?;
            Overwrite::Replace
        }
        None => Overwrite::Refuse,
    };
    let paths = key::write_key_pair(&pair, &args.output_key_prefix, overwrite)?;
    if !quiet {
        eprintln!("Private key written to {}", paths.private_key.display());
        eprintln!("Public key written to {}", paths.public_key.display());
    }
    Ok(Outcome::Done)
}
