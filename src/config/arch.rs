//! CPU architectures as apko names them: OCI-style names (`amd64`, `arm/v7`) with the APK and
//! OCI platform mappings, and the list parsing of `--arch`.
//!
//! Not for: APK package architectures inside indexes (`apk`), which use the APK names this module
//! maps to; the platform document itself (`oci::Platform`). Reproduces reference/apko-format.md §2.5.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::oci::Platform;

/// An architecture in apko's canonical (OCI-style) spelling once normalised.
///
/// Decoding does not normalise by itself: apko normalises when it decodes YAML but keeps JSON
/// values verbatim, so the loaders call [`Architecture::normalised`] where apko does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Architecture(String);

/// One architecture's canonical name and its APK name; the order is apko's `AllArchs`.
const KNOWN: [(&str, &str); 9] = [
    ("386", "x86"),
    ("amd64", "x86_64"),
    ("arm64", "aarch64"),
    ("arm/v6", "armhf"),
    ("arm/v7", "armv7"),
    ("loong64", "loongarch64"),
    ("ppc64le", "ppc64le"),
    ("riscv64", "riscv64"),
    ("s390x", "s390x"),
];

impl Architecture {
    /// apko's `ParseArchitecture`: maps APK spellings (`x86_64`, `aarch64`, `armhf`, `armv7`,
    /// `x86`, `loongarch64`) to canonical ones; anything else is kept as given.
    pub fn parse(name: &str) -> Self {
        let canonical = match name {
            "x86" => "386",
            "x86_64" | "amd64" => "amd64",
            "aarch64" | "arm64" => "arm64",
            "armhf" => "arm/v6",
            "armv7" => "arm/v7",
            "loong64" | "loongarch64" => "loong64",
            other => other,
        };
        Self(canonical.to_owned())
    }

    /// This architecture passed through [`Architecture::parse`].
    pub fn normalised(&self) -> Self {
        Self::parse(&self.0)
    }

    /// The name as stored (canonical after normalisation).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// apko's `ToAPK`: `amd64` → `x86_64`, `arm/v6` → `armhf`, …; unknown names pass through.
    pub fn to_apk(&self) -> String {
        let canonical = self.normalised();
        KNOWN
            .iter()
            .find(|(oci, _)| *oci == canonical.0)
            .map_or(canonical.0.clone(), |(_, apk)| (*apk).to_owned())
    }

    /// apko's `ToOCIPlatform`: `os` is `linux`; 32-bit arm becomes `arm` plus a variant.
    pub fn oci_platform(&self) -> Platform {
        let canonical = self.normalised();
        let (architecture, variant) = match canonical.0.as_str() {
            "arm/v6" => ("arm".to_owned(), Some("v6".to_owned())),
            "arm/v7" => ("arm".to_owned(), Some("v7".to_owned())),
            other => (other.to_owned(), None),
        };
        Platform {
            os: "linux".to_owned(),
            architecture,
            variant,
            ..Platform::default()
        }
    }

    /// apko's `AllArchs`, in its (unsorted) order.
    pub fn all() -> Vec<Self> {
        KNOWN
            .iter()
            .map(|(oci, _)| Self((*oci).to_owned()))
            .collect()
    }

    /// The build machine's architecture, spelled as Go's `runtime.GOARCH` (what `host` means).
    pub fn host() -> Self {
        let goarch = match std::env::consts::ARCH {
            "x86" => "386",
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "arm" => "arm",
            "loongarch64" => "loong64",
            "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
            "powerpc64" => "ppc64",
            other => other,
        };
        Self::parse(goarch)
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// apko's `ParseArchitectures` (the `--arch` list): a sole `all` gives [`Architecture::all`]
/// unsorted; a sole `host` means the build machine; otherwise names are normalised,
/// de-duplicated and sorted bytewise (so `arm/v6` sorts before `arm64`).
pub fn parse_architectures<S: AsRef<str>>(names: &[S]) -> Vec<Architecture> {
    match names {
        [only] if only.as_ref() == "all" => return Architecture::all(),
        [only] if only.as_ref() == "host" => return vec![Architecture::host()],
        _ => {}
    }
    let mut archs: Vec<Architecture> = names
        .iter()
        .map(|name| Architecture::parse(name.as_ref()))
        .collect();
    archs.sort();
    archs.dedup();
    archs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_is_a_known_architecture_here() {
        let host = Architecture::host();
        assert!(Architecture::all().contains(&host), "{host}");
    }
}
