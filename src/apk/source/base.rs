//! `contents.baseimage`: the base image's OCI layout (found, not opened) and, per architecture,
//! its package list `<apkindex>/<arch>/APKINDEX`, read as the installed database apko's base
//! image reader takes it for and, for resolving, as an index.
//!
//! Not for: opening the layout (`build::image`) or pinning the base packages in the world
//! ([`super::Sources`]). Reproduces apko `pkg/baseimg/base_image.go` (the list is read with
//! `ParseInstalled`, so a last record without a final blank line is dropped; its index comes
//! last and is not signature-checked), reference/apko-format.md §6.3.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{Error, Indexed, Settings};
use crate::apk::installed::{self, Record};
use crate::config::ImageConfiguration;

/// One architecture's base image.
#[derive(Debug, Clone)]
pub struct BaseImage {
    /// The OCI layout directory, found in the working directory or an include path.
    pub layout: PathBuf,
    /// The APKINDEX file read.
    pub list: PathBuf,
    /// `contents.baseimage.apkindex` as configured, without a final `/`: where the list's
    /// packages say they come from (`<apkindex>/<arch>`).
    pub configured: String,
    /// The installed packages, in list order.
    pub records: Vec<Record>,
    bytes: Vec<u8>,
}

impl BaseImage {
    /// `name=version` of every installed package, as apko pins them in the world.
    pub fn pins(&self) -> Vec<String> {
        self.records
            .iter()
            .map(|record| format!("{}={}", record.package.name, record.package.version))
            .collect()
    }

    /// The installed package names.
    pub fn names(&self) -> BTreeSet<String> {
        self.records
            .iter()
            .map(|record| record.package.name.to_string())
            .collect()
    }

    /// The list read as a repository index for `apk_arch` (no repository: nothing to fetch).
    pub fn index(&self, apk_arch: &str) -> Result<Indexed, Error> {
        let packages =
            crate::apk::index::parse_text(&self.bytes).map_err(|source| Error::BaseImageIndex {
                path: self.list.clone(),
                source,
            })?;
        Ok(Indexed {
            url: format!("{}/{apk_arch}", self.configured),
            pin: None,
            repository: None,
            packages,
        })
    }
}

/// The base image of `configuration` for `apk_arch`, if it names one. Relative paths are found
/// as [`Settings::loader`] finds files.
pub fn read_base(
    configuration: &ImageConfiguration,
    apk_arch: &str,
    settings: &Settings,
) -> Result<Option<BaseImage>, Error> {
    let Some(base) = &configuration.contents.baseimage else {
        return Ok(None);
    };
    let loader = settings.loader();
    let find = |path: &str| {
        loader
            .find(path.as_ref())
            .ok_or_else(|| Error::BaseImageNotFound {
                path: path.to_owned(),
            })
    };
    let layout = find(&base.image)?;
    let list = find(&base.apkindex)?.join(apk_arch).join("APKINDEX");
    let bytes = std::fs::read(&list).map_err(|source| Error::BaseImageRead {
        path: list.clone(),
        source,
    })?;
    let records = installed::parse(&bytes).map_err(|source| Error::BaseImageInstalled {
        path: list.clone(),
        source,
    })?;
    Ok(Some(BaseImage {
        layout,
        list,
        configured: base.apkindex.trim_end_matches('/').to_owned(),
        records,
        bytes,
    }))
}
