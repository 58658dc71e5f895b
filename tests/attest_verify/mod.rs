//! Attestation verification: cosign's real OCI attestation bundle with the pinned public-good
//! root, the sigstore-conformance bundle cases, discovery in registries and layouts, and a private
//! CA and Rekor key minted in the tests.

mod conformance;
mod fixture;
mod key_details;
mod multiarch;
mod oci;
mod pipeline;
mod pipeline_failures;
mod pipeline_tuf;
mod pipeline_v2;
pub mod pki;
mod private;
mod roundtrip;
mod tsa;

use receipts::attest::verify::{Expected, GithubClaims, Identity, Matcher, Policy, TrustedRoot};

use crate::support;

pub const FIXTURE: &str = "sigstore/cosign/pkg/cosign/testdata/oci-attestation.sigstore.json";
pub const PGI_ROOT: &str = "sigstore/cosign/pkg/cosign/testdata/trusted_root_pgi.json";
pub const FIXTURE_DIGEST_HEX: &str =
    "732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";
pub const FIXTURE_SAN: &str = "cody@soyland.com";
pub const FIXTURE_ISSUER: &str = "https://github.com/login/oauth";

pub fn read(relative: &str) -> Vec<u8> {
    std::fs::read(support::data(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

pub fn pgi_root() -> TrustedRoot {
    TrustedRoot::from_file(&support::data(PGI_ROOT)).expect("trusted_root_pgi.json")
}

pub fn identity(san: &str, issuer: &str) -> Policy {
    Policy {
        expected: Expected::Identity(Identity {
            subject: Matcher::Exact(san.to_owned()),
            issuer: Matcher::Exact(issuer.to_owned()),
            github: GithubClaims::default(),
        }),
        ignore_tlog: false,
        ignore_sct: false,
    }
}

pub fn digest_bytes(hex_text: &str) -> [u8; 32] {
    hex::decode(hex_text)
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}
