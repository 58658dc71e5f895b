//! The package record shared by APKINDEX entries, `.PKGINFO` files and the solver.
//!
//! Its strings are [`Text`]s: an index's records share the decompressed text instead of owning
//! a copy of every field.
//!
//! Not for: parsing either format ([`super::index`], [`super::pkginfo`]) or reading `.apk` files
//! ([`super::archive`]). Mirrors apko `pkg/apk/types/package.go` `Package`.

use base64::Engine as _;

mod text;

pub use text::Text;

/// One package as a repository describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Package {
    /// `P:` / `pkgname`
    pub name: Text,
    /// `V:` / `pkgver`, kept as written (versions are compared through [`super::version`]).
    pub version: Text,
    /// `A:` / `arch`
    pub arch: Text,
    /// `T:` / `pkgdesc`
    pub description: Text,
    /// `L:` / `license`
    pub license: Text,
    /// `o:` / `origin`
    pub origin: Text,
    /// `m:` / `maintainer`
    pub maintainer: Text,
    /// `U:` / `url`
    pub url: Text,
    /// `C:`: SHA-1 of the package's control gzip member; empty when unknown.
    pub checksum: Vec<u8>,
    /// `D:` / `depend`
    pub dependencies: Vec<Text>,
    /// `p:` / `provides`
    pub provides: Vec<Text>,
    /// `i:` / `install_if`
    pub install_if: Vec<Text>,
    /// `S:`: size of the .apk file in bytes.
    pub size: u64,
    /// `I:` / `size`: installed size in bytes.
    pub installed_size: u64,
    /// `k:` / `provider_priority`
    pub provider_priority: u64,
    /// `t:` / `builddate`: build time, Unix seconds.
    pub build_time: i64,
    /// `c:` / `commit`
    pub commit: Text,
    /// `replaces` (only from `.PKGINFO`; apko does not read `r:` from indexes).
    pub replaces: Vec<String>,
    /// `datahash` (only from `.PKGINFO`): hex SHA-256 of the data gzip member.
    pub data_hash: String,
}

impl Package {
    /// `<name>-<version>.apk`, the file name inside a repository.
    pub fn filename(&self) -> String {
        format!("{}-{}.apk", self.name, self.version)
    }

    /// `Q1` + base64 of the control checksum, as written in `C:` lines.
    pub fn checksum_string(&self) -> String {
        format!(
            "Q1{}",
            base64::engine::general_purpose::STANDARD.encode(&self.checksum)
        )
    }
}
