//! One architecture's image from its plan: packages read, root filesystem assembled (on a
//! base image's packages when there is one), layers written, config and manifest made; every
//! architecture on its own thread.
//!
//! Not for: the plan ([`super::plan`]), reading packages ([`super::packages`]), the steps
//! themselves (`build::rootfs`, `build::walk`, `build::layering`, `build::image`). Reproduces
//! apko `internal/cli/build.go` `buildImageComponents` and `pkg/build/build_implementation.go`
//! (reference/apko-format.md §1, §3.5).

use std::path::Path;
use std::sync::Mutex;

use super::packages::{self, Fetch};
use super::plan::ArchPlan;
use super::{Error, Progress};
use crate::build::image::{self, Image, SourceDate, time::Pinning};
use crate::build::layer::{BuiltLayer, LayerSink};
use crate::build::rootfs::{self, BuildDate, PackageSource, Plan};
use crate::build::{layering, walk};
use crate::codec::tar::Timestamp;
use crate::config::ImageConfiguration;

/// What every architecture's build shares.
pub(super) struct ArchBuilder<'a> {
    pub source_date: &'a SourceDate,
    pub temp_dir: &'a Path,
    pub readers: Option<usize>,
    /// Shared by every architecture's readers.
    pub budget: &'a crate::parallel::Budget,
    pub progress: &'a (dyn Fn(Progress<'_>) + Sync),
    pub name: &'a str,
}

/// Builds every architecture, in parallel; images in plan order.
pub(super) fn build_all(
    builder: &ArchBuilder<'_>,
    plans: Vec<ArchPlan>,
    fetch: &Fetch<'_>,
) -> Result<Vec<Image>, Error> {
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for plan in plans {
            let handle = std::thread::Builder::new()
                .name(format!("build-{}", plan.arch.to_apk()))
                .spawn_scoped(scope, move || builder.build(plan, fetch))
                .map_err(Error::Thread)?;
            handles.push(handle);
        }
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

impl ArchBuilder<'_> {
    fn build(&self, plan: ArchPlan, fetch: &Fetch<'_>) -> Result<Image, Error> {
        let arch = plan.arch.clone();
        let apk_arch = arch.to_apk();
        (self.progress)(Progress::Resolved {
            arch: &arch,
            packages: plan.packages.len(),
        });
        let mut locked = plan.locked.clone();
        locked.validate().map_err(|source| Error::Invalid {
            config: self.name.to_owned(),
            source,
        })?;
        let packages = packages::read_all(
            &plan.packages,
            fetch,
            self.temp_dir,
            self.readers,
            self.budget,
        )?;
        let (built, run_as) = self.rootfs(&plan, &locked, packages)?;
        // A base image's packages count towards the build date too.
        let base_times = plan
            .base
            .iter()
            .flat_map(|base| base.records.iter().map(|r| r.package.build_time));
        let created = self.source_date.build_date_epoch(
            built
                .packages()
                .iter()
                .map(|p| p.build_time)
                .chain(base_times),
        );
        let layers = self.layers(&built, &locked, &apk_arch)?;
        drop(built);
        let mut image_configuration = locked;
        image_configuration.accounts.run_as = run_as;
        let base = match &plan.base {
            Some(base) => Some(image::BaseImage::open(&base.layout, &arch)?),
            None => None,
        };
        let image = image::assemble(&image_configuration, &arch, created, layers, base.as_ref())?;
        (self.progress)(Progress::Image {
            arch: &arch,
            digest: image.digest(),
            layer_bytes: image.layers().iter().map(|l| l.descriptor().size).sum(),
        });
        Ok(image)
    }

    /// The root filesystem of `plan` with `packages` installed, and the run-as user it
    /// resolved (on a base image: as configured, the accounts step being skipped).
    fn rootfs(
        &self,
        plan: &ArchPlan,
        locked: &ImageConfiguration,
        packages: Vec<PackageSource>,
    ) -> Result<(rootfs::Rootfs, String), Error> {
        let mut rootfs_plan = Plan::from_configuration(locked, &plan.arch, plan.keyring.clone());
        rootfs_plan.source_date_epoch =
            Timestamp::from_seconds(self.source_date.time.unix_seconds());
        rootfs_plan.build_date = match self.source_date.pinning {
            Pinning::Environment => BuildDate::SourceDateEpoch,
            Pinning::Unpinned => BuildDate::LatestPackage,
        };
        let rootfs_error = |source| Error::Rootfs {
            arch: plan.arch.to_apk(),
            source: Box::new(source),
        };
        let Some(base) = &plan.base else {
            let run_as = Mutex::new(String::new());
            let built = rootfs::build(&rootfs_plan, packages, |resolved| {
                if let Ok(mut slot) = run_as.lock() {
                    resolved.clone_into(&mut slot);
                }
                let mut json = locked.clone();
                json.accounts.run_as = resolved.to_owned();
                json.to_apko_json_file()
            })
            .map_err(rootfs_error)?;
            let run_as = run_as
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            return Ok((built, run_as));
        };
        // apko's world on a base image also pins every base package; its accounts step is
        // skipped, so run-as stays as configured.
        rootfs_plan.world.extend(base.pins());
        let mut built = rootfs::Rootfs::init(&rootfs_plan).map_err(rootfs_error)?;
        built
            .record_base_packages(&base.records)
            .map_err(rootfs_error)?;
        built.install(packages).map_err(rootfs_error)?;
        let json = locked.to_apko_json_file().map_err(|source| {
            rootfs_error(rootfs::Error::ApkoJson {
                source: Box::new(source),
            })
        })?;
        built.write_apko_json(&json).map_err(rootfs_error)?;
        built.finish(&rootfs_plan).map_err(rootfs_error)?;
        Ok((built, locked.accounts.run_as.clone()))
    }

    /// The layers of `built`: one, or `layering`'s groups.
    fn layers(
        &self,
        built: &rootfs::Rootfs,
        configuration: &ImageConfiguration,
        apk_arch: &str,
    ) -> Result<Vec<BuiltLayer>, Error> {
        let layer_error = |source| Error::Layer {
            arch: apk_arch.to_owned(),
            source: Box::new(source),
        };
        let walk_error = |source| Error::Walk {
            arch: apk_arch.to_owned(),
            source: Box::new(source),
        };
        let split_error = |source| Error::Split {
            arch: apk_arch.to_owned(),
            source: Box::new(source),
        };
        let layering_error = |source| Error::Layering {
            arch: apk_arch.to_owned(),
            source: Box::new(source),
        };
        let options = crate::compress::Options::apko();
        let Some(budget) = layering::budget(configuration).map_err(layering_error)? else {
            let sink = LayerSink::create_in(self.temp_dir, options).map_err(layer_error)?;
            let (sink, hashed) = walk::write_layer(built.tree(), sink).map_err(walk_error)?;
            return Ok(vec![sink.finish(hashed).map_err(layer_error)?]);
        };
        let groups =
            layering::group_by_origin(&built.packages(), budget).map_err(layering_error)?;
        let mut splitter =
            layering::Splitter::create_in(self.temp_dir, options, built.group_records(&groups))
                .map_err(split_error)?;
        walk::split_layers(built.tree(), &groups, &mut splitter).map_err(walk_error)?;
        splitter.finish().map_err(split_error)
    }
}
