//! The audit's comparison, diff and report over real apko layouts (upstream's golden build),
//! changed the ways a rebuild can differ: a layer re-compressed by real gzip (equivalent),
//! gzip with a file name or trailing bytes (different, reason stated), a file added to a layer
//! (different, the diff names it); in layouts and through a real registry; and the whole audit as
//! a library call (`library`).

mod audit;
mod cli;
mod compare;
pub(crate) mod fixture;
mod library;
mod registry;
