//! Floor 0: encoders and decoders that must match Go's standard library byte for byte.
//!
//! Each submodule reproduces one Go codec whose output gets hashed or whose parsing decides
//! what is trusted: `archive/tar` ([`tar`]), `encoding/json` ([`json`]), `time.Time` printing
//! and parsing ([`time`]), `encoding/pem` ([`pem`]), shell-word splitting as apko's
//! `shlex` dependency does it ([`shlex`]) and `path.Match` ([`glob`]).
//!
//! Not for: anything that knows about packages, images or signatures. These modules depend on
//! nothing else in the crate (`tests/depcheck.rs` holds that), so every floor above may use them.

pub mod glob;
pub mod json;
pub mod pem;
pub mod shlex;
pub mod tar;
pub mod time;
