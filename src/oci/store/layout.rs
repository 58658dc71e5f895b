//! An OCI layout directory as a [`Source`] and [`Sink`] (go-containerregistry's `layout`).
//!
//! Not for: the layout's files, tags and locking themselves ([`crate::oci::layout`]).

use std::io::Write;

use super::{Error, Sink, Source, WriteLock};
use crate::oci::descriptor::Descriptor;
use crate::oci::digest::Digest;
use crate::oci::image_set::{Blob, ImageSet, RawManifest};
use crate::oci::layout::{self, Layout};
use crate::oci::reference::{Reference, Selector};

impl Source for Layout {
    fn name(&self) -> String {
        format!("oci:{}", self.dir().display())
    }

    fn resolve(&self, reference: &Reference) -> Result<Descriptor, Error> {
        let selector = match reference {
            Reference::Local(local) => local.selector().clone(),
            // A registry reference against a layout: its digest, else its tag.
            Reference::Remote(remote) => match (remote.digest(), remote.tag()) {
                (Some(digest), _) => Selector::Digest(*digest),
                (None, Some(tag)) => Selector::Tag(tag.to_owned()),
                (None, None) => Selector::Default,
            },
        };
        Ok(Layout::resolve(self, &selector)?)
    }

    fn resolve_tag(&self, tag: &str) -> Result<Option<Descriptor>, Error> {
        match Layout::resolve(self, &Selector::Tag(tag.to_owned())) {
            Ok(descriptor) => Ok(Some(descriptor)),
            Err(layout::Error::UnknownTag { .. }) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    fn fetch_manifest(&self, digest: &Digest) -> Result<RawManifest, Error> {
        let descriptor = Layout::resolve(self, &Selector::Digest(*digest))?;
        let bytes = self.read_manifest(&descriptor)?;
        Ok(RawManifest { descriptor, bytes })
    }

    fn fetch_tagged(&self, tag: &str) -> Result<Option<RawManifest>, Error> {
        let Some(descriptor) = Source::resolve_tag(self, tag)? else {
            return Ok(None);
        };
        let bytes = self.read_manifest(&descriptor)?;
        Ok(Some(RawManifest { descriptor, bytes }))
    }

    fn copy_blob(&self, digest: &Digest, out: &mut dyn Write) -> Result<u64, Error> {
        Ok(Layout::copy_blob(self, digest, out)?)
    }

    fn referrers(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, Error> {
        Ok(Layout::referrers(self, subject, artifact_type)?)
    }

    fn tags(&self) -> Result<Vec<String>, Error> {
        Ok(Layout::tags(self)?.into_keys().collect())
    }
}

impl Sink for Layout {
    fn put_blob(&self, blob: &Blob) -> Result<(), Error> {
        let mut set = ImageSet::new();
        set.add_blob(blob.descriptor.clone(), blob.content.clone());
        self.store_blobs_of(&set)?;
        Ok(())
    }

    fn put_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        tag: Option<&str>,
    ) -> Result<Descriptor, Error> {
        self.write_blob(bytes)?;
        let descriptor = Descriptor::of(media_type, bytes);
        if let Some(tag) = tag {
            self.tag(tag, &descriptor)?;
        }
        Ok(descriptor)
    }

    fn publish(&self, set: &ImageSet, tag: Option<&str>) -> Result<Descriptor, Error> {
        // The free function, not the method: it creates a planned layout on its first write.
        Ok(layout::publish(self.dir(), set, tag)?)
    }

    fn lock(&self) -> Result<Option<WriteLock>, Error> {
        Ok(Some(WriteLock::Layout(Layout::lock(self)?)))
    }
}
