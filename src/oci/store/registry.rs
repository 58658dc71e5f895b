//! A registry repository as a [`Source`] and [`Sink`]: the registry client bound to one
//! repository (go-containerregistry's `remote`).
//!
//! Not for: the wire protocol, retries and authentication ([`crate::oci::registry`]).

use std::io::Write;

use super::{Error, SMALL_BLOB_LIMIT, Sink, Source, unreachable_tag};
use crate::oci::descriptor::Descriptor;
use crate::oci::digest::Digest;
use crate::oci::image_set::{Blob, ImageSet, RawManifest};
use crate::oci::reference::{Reference, Remote, Repository};
use crate::oci::registry::{self, Registry, Settings};

/// One repository of a registry, reached through a client.
pub struct RegistryRepository {
    /// The client (boxed: it carries a runtime).
    client: Box<Registry>,
    repository: Repository,
}

impl std::fmt::Debug for RegistryRepository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RegistryRepository({})", self.repository)
    }
}

impl RegistryRepository {
    /// A client with `settings` for `repository`. Nothing is contacted until the first call.
    pub fn new(settings: &Settings, repository: &Repository) -> Result<Self, Error> {
        Ok(Self {
            client: Box::new(Registry::new(settings.clone())?),
            repository: repository.clone(),
        })
    }

    /// The repository.
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The client.
    pub fn client(&self) -> &Registry {
        &self.client
    }

    fn at_tag(&self, tag: &str) -> Result<Remote, Error> {
        Remote::at_tag(self.repository.clone(), tag).map_err(|_| unreachable_tag(tag))
    }

    fn at_digest(&self, digest: Digest) -> Remote {
        Remote::at_digest(self.repository.clone(), digest)
    }
}

impl Source for RegistryRepository {
    fn name(&self) -> String {
        self.repository.to_string()
    }

    fn resolve(&self, reference: &Reference) -> Result<Descriptor, Error> {
        let remote = match reference {
            Reference::Remote(remote) => remote.clone(),
            // A layout reference against a registry store: only `latest` makes sense.
            Reference::Local(_) => self
                .at_tag("latest")
                .map_err(|_| unreachable_tag(&self.name()))?,
        };
        Ok(self.client.resolve(&remote)?)
    }

    fn resolve_tag(&self, tag: &str) -> Result<Option<Descriptor>, Error> {
        match self.client.resolve(&self.at_tag(tag)?) {
            Ok(descriptor) => Ok(Some(descriptor)),
            Err(registry::Error::NotFound { .. }) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    fn fetch_manifest(&self, digest: &Digest) -> Result<RawManifest, Error> {
        Ok(self.client.get_manifest(&self.at_digest(*digest))?)
    }

    fn fetch_tagged(&self, tag: &str) -> Result<Option<RawManifest>, Error> {
        match self.client.get_manifest(&self.at_tag(tag)?) {
            Ok(raw) => Ok(Some(raw)),
            Err(registry::Error::NotFound { .. }) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    fn copy_blob(&self, digest: &Digest, out: &mut dyn Write) -> Result<u64, Error> {
        Ok(self.client.get_blob(&self.repository, digest, out)?)
    }

    fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, Error> {
        // From a registry, a small blob is bounded: one over the limit is refused unread.
        Ok(self
            .client
            .read_blob(&self.repository, digest, SMALL_BLOB_LIMIT)?)
    }

    fn referrers(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, Error> {
        Ok(self
            .client
            .referrers(&self.repository, subject, artifact_type)?
            .manifests)
    }

    fn tags(&self) -> Result<Vec<String>, Error> {
        Ok(self.client.list_tags(&self.repository)?)
    }
}

impl Sink for RegistryRepository {
    fn put_blob(&self, blob: &Blob) -> Result<(), Error> {
        self.client.push_blob(&self.repository, blob)?;
        Ok(())
    }

    fn put_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        tag: Option<&str>,
    ) -> Result<Descriptor, Error> {
        let target = match tag {
            Some(tag) => self.at_tag(tag)?,
            None => self.at_digest(Digest::of(bytes)),
        };
        Ok(self.client.put_manifest(&target, bytes, media_type)?)
    }

    fn publish(&self, set: &ImageSet, tag: Option<&str>) -> Result<Descriptor, Error> {
        let root = set.root().map(|r| r.descriptor.digest);
        let target = match (tag, root) {
            (Some(tag), _) => self.at_tag(tag)?,
            (None, Some(digest)) => self.at_digest(digest),
            (None, None) => self.at_tag("latest")?,
        };
        Ok(self.client.publish(&target, set)?.root)
    }

    fn has_referrers_api(&self, subject: &Digest) -> Result<bool, Error> {
        Ok(self.client.has_referrers_api(&self.repository, subject)?)
    }
}
