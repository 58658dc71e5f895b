//! How much of a registry's answer is read: every body from the network has a limit, so a
//! hostile or broken registry cannot make the client hold more than a few of these in memory.
//!
//! A body whose `Content-Length` exceeds its limit is refused unread; one without a length is
//! read until it passes the limit and then refused ([`super::Error::TooLarge`], naming the URL
//! and the limit). Error bodies are different: they only explain a failure, so the first
//! [`ERROR_BODY`] bytes are kept and the rest is never read (as go-containerregistry does).
//! Blobs are streamed to their destination and verified by digest; only the small ones read
//! into memory ([`super::Registry::read_blob`]) have a limit, given by the caller.
//!
//! Not for: reading (the transport's `read_limited`).

/// A manifest or index (distribution itself refuses manifests over 4 MiB).
pub const MANIFEST: u64 = 16 << 20;
/// A referrers index from the referrers API.
pub const REFERRERS: u64 = 16 << 20;
/// One page of a tag list (a hundred thousand tags fit in 4 MiB).
pub const TAG_PAGE: u64 = 16 << 20;
/// A token server's answer (tokens are a few kilobytes).
pub const TOKEN: u64 = 1 << 20;
/// The part of an error body kept for the message; the rest is not read.
pub const ERROR_BODY: u64 = 64 << 10;
