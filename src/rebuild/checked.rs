//! Published layers checked ahead of the comparison: streamed from their store and
//! digest-checked on a thread of their own while the audit rebuilds, so that the comparison
//! afterwards only looks their results up. Only the digest is checked here: a layer whose
//! digest is the rebuild's is the rebuild's bytes and needs no decoding, and the comparison
//! decodes strictly any other (the rare case of a different or equivalent image), so the
//! thread costs a SHA-256 of the compressed bytes rather than a gunzip as well.
//!
//! One layer is in flight at a time, through [`super::stream`]'s bounded channel, so memory
//! stays at a few chunks whatever the image's size. A layer whose stream failed (or was stopped)
//! is left out: the comparison streams it again and reports that failure as it always has, so
//! checking ahead never changes a verdict or an error, only when the work is done.
//!
//! Not for: deciding what a decoded layer means ([`super::compare`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use super::compare::{Decoded, verify_until};
use super::image::{Image, Side};
use crate::oci::{Descriptor, Digest};

/// Checked layers by digest and media type (the media type decides how a blob is decoded).
#[derive(Debug, Default)]
pub(super) struct Checked {
    layers: HashMap<(Digest, String), Decoded>,
}

impl Checked {
    /// The result for the layer `descriptor` names, if it was checked.
    pub fn get(&self, descriptor: &Descriptor) -> Option<&Decoded> {
        self.layers
            .get(&(descriptor.digest, descriptor.media_type.clone()))
    }
}

/// Checks every layer of the untrusted image `side` (only `platforms`' when some are given),
/// until `stop` is set.
pub(super) fn check(side: Side<'_>, platforms: &[String], stop: &AtomicBool) -> Checked {
    let mut checked = Checked::default();
    if side.trusted {
        return checked;
    }
    let Ok(image) = Image::read(side.store, &side.root) else {
        return checked;
    };
    let wanted = image
        .platforms
        .iter()
        .filter(|p| platforms.is_empty() || platforms.contains(&p.key));
    for layer in wanted.flat_map(|p| &p.manifest.layers) {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let key = (layer.digest, layer.media_type.clone());
        if checked.layers.contains_key(&key) {
            continue;
        }
        if let Ok(decoded) = verify_until(side, layer, stop) {
            checked.layers.insert(key, decoded);
        }
    }
    checked
}
