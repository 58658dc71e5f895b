//! OCI: references against ggcr's test tables; layouts against apko's golden layout, umoci and
//! skopeo; a real registry (Debian's distribution 2.8) for publishing, pulling, credentials and
//! referrers.

mod documents;
pub mod image;
mod layout;
mod reference;
mod referrers_api;
mod registry;
mod registry_auth;
