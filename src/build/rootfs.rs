//! Assembles an image's root filesystem as apko does, step by step and in apko's order.
//!
//! 1. [`Rootfs::init`]: InitDB (base directories, database files, devices, an empty
//!    `scripts.tar`), the keyring, the build-time `/etc/apk/repositories` and `/etc/apk/world`.
//! 2. [`Rootfs::install`]: each package in the given (lock or solver) order: its files into the
//!    tree, its scripts into `scripts.tar`, its triggers; then the installed-database records
//!    (files another package overwrote or already had dropped) and the `/lib/apk` link.
//! 3. [`Rootfs::mutate_accounts`]: `/etc/group`, `/etc/passwd`, `/etc/shadow`, home
//!    directories; the resolved run-as user for `/etc/apko.json`.
//! 4. [`Rootfs::write_apko_json`]: the locked configuration as the caller encoded it.
//! 5. [`Rootfs::finish`]: path mutations, certificates, CA checksum sidecars, the runtime
//!    keyring, the s6 supervision tree, busybox links, character devices, `/etc/ld.so.cache`
//!    and the runtime `/etc/apk/repositories`.
//!
//! [`build`] runs all five. The result's [`Tree`] is written as a layer by `build::walk`; for
//! multi-layer images, `build::layering::group_by_origin` groups [`Rootfs::packages`],
//! [`Rootfs::group_records`] gives each group's installed-database records and
//! `build::walk::split_layers` splits the tree along the groups.
//!
//! Not for: resolving or fetching packages (`apk`), the configuration model and its JSON
//! (`config`), the layer tar (`build::walk`), the tree's own rules (`build::fs`).
//! Reproduces reference/apko-format.md §6.2–§6.8 and §8 (apko `pkg/build/build_implementation.go`
//! `buildImage`, `pkg/build/apk.go`, `pkg/apk/apk/implementation.go` `InitDB`, `InitKeyring`,
//! `InstallPackages`, `resolveApkDB`).

mod accounts;
mod base;
mod busybox;
mod certificates;
mod elf;
mod glob;
mod initdb;
mod ldso;
mod packages;
pub mod passwd;
mod paths;
mod services;
mod sort;
mod source;

pub use ldso::{CacheEntry, cache_entries, dl_cache_libcmp, library_dirs, write_cache};

use crate::apk::Package;
use crate::apk::installed;
use crate::build::fs::{self, FileMode, PackageData, Tree};
use crate::codec::tar::Timestamp;
use crate::config::{
    Accounts, Architecture, Certificates, ImageConfiguration, NamedContent, PathMutation,
};
use std::collections::BTreeMap;

/// Everything about one architecture's image that the root filesystem depends on.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The APK architecture (`x86_64`, `aarch64`, …), written to `/etc/apk/arch`.
    pub arch: String,
    /// Keys installed into `/etc/apk/keys` before the packages.
    pub keyring: Vec<KeyFile>,
    /// Build-time repositories: `build_repositories`, `repositories` and command-line
    /// repositories together (sorted and deduplicated here).
    pub build_repositories: Vec<String>,
    /// Runtime repositories: `repositories`, `runtime_repositories` and command-line runtime
    /// repositories together (sorted and deduplicated here).
    pub runtime_repositories: Vec<String>,
    /// The world: the locked (pinned) package list (sorted and deduplicated here).
    pub world: Vec<String>,
    /// Accounts to add.
    pub accounts: Accounts,
    /// Path mutations, in configuration order.
    pub paths: Vec<PathMutation>,
    /// `certificates`, when configured.
    pub certificates: Option<Certificates>,
    /// `contents.runtime_keyring`.
    pub runtime_keyring: Vec<NamedContent>,
    /// `entrypoint.services`: s6 service name → command.
    pub services: BTreeMap<String, String>,
    /// apko's `SourceDateEpoch` (epoch by default).
    pub source_date_epoch: Timestamp,
    /// Where the build date comes from.
    pub build_date: BuildDate,
}

impl Plan {
    /// The plan for one architecture of `configuration`, the locked and validated
    /// configuration apko builds (packages pinned, home directories defaulted). `keyring` holds
    /// the configured keys' contents. Command-line repositories, the source date epoch and the
    /// build-date rule are left for the caller to add.
    pub fn from_configuration(
        configuration: &ImageConfiguration,
        arch: &Architecture,
        keyring: Vec<KeyFile>,
    ) -> Plan {
        let contents = &configuration.contents;
        let mut build_repositories = contents.build_repositories.clone();
        build_repositories.extend(contents.repositories.iter().cloned());
        let mut runtime_repositories = contents.repositories.clone();
        runtime_repositories.extend(contents.runtime_repositories.iter().cloned());
        Plan {
            arch: arch.to_apk(),
            keyring,
            build_repositories,
            runtime_repositories,
            world: configuration.world::<&str>(&[]),
            accounts: configuration.accounts.clone(),
            paths: configuration.paths.clone(),
            certificates: configuration.certificates.clone(),
            runtime_keyring: contents.runtime_keyring.clone(),
            services: configuration.entrypoint.services.clone(),
            source_date_epoch: Timestamp::default(),
            build_date: BuildDate::default(),
        }
    }
}

/// A key file for `/etc/apk/keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    /// The file name (apko uses the base name of the configured path or URL).
    pub name: String,
    /// The key's bytes.
    pub content: Vec<u8>,
}

/// Where apko's build date ("build date epoch") comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuildDate {
    /// The environment variable `SOURCE_DATE_EPOCH` is set (even empty): the build date is
    /// [`Plan::source_date_epoch`].
    SourceDateEpoch,
    /// Otherwise: the later of [`Plan::source_date_epoch`] and the newest installed package's
    /// build time.
    #[default]
    LatestPackage,
}

/// One package to install, as its `.apk` provides it.
#[derive(Debug, Clone)]
pub struct PackageSource {
    /// The record from `.PKGINFO`, with the control checksum (`C:`) and the `.apk` size (`S:`).
    pub package: Package,
    /// `.PKGINFO` `triggers` values.
    pub triggers: Vec<String>,
    /// The decompressed control tar (scripts are copied from it).
    pub control_tar: Vec<u8>,
    /// The spooled data tar.
    pub data: PackageData,
}

/// Why the root filesystem cannot be assembled.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A filesystem operation on a path failed.
    #[error("{path}")]
    Filesystem {
        /// The path apko was working on.
        path: String,
        /// The filesystem error.
        #[source]
        source: Box<fs::Error>,
    },
    /// Installing a package's files failed (conflicts included).
    #[error("installing {package}")]
    Install {
        /// The package.
        package: String,
        /// The filesystem error.
        #[source]
        source: Box<fs::Error>,
    },
    /// An `.apk` cannot be read or fails apko's checks.
    #[error("reading package {package}")]
    Archive {
        /// The package.
        package: String,
        /// The archive error.
        #[source]
        source: Box<crate::apk::archive::Error>,
    },
    /// A package's database record, scripts or triggers cannot be written.
    #[error("installed database for {package}")]
    Installed {
        /// The package.
        package: String,
        /// The database error.
        #[source]
        source: installed::Error,
    },
    /// The installed database cannot be read back.
    #[error("reading the installed database")]
    InstalledRead {
        /// The database error.
        #[source]
        source: installed::Error,
    },
    /// `SetRepositories` with nothing to write.
    #[error("{which} repositories: must provide at least one repository")]
    NoRepositories {
        /// `build` or `runtime`.
        which: &'static str,
    },
    /// `/lib/apk` holds something apko refuses to replace.
    #[error("/lib/apk: {reason}")]
    LibApk {
        /// What is in the way.
        reason: String,
    },
    /// An account file does not parse.
    #[error("{file}")]
    AccountFile {
        /// `etc/passwd`, `etc/group` or `etc/shadow`.
        file: &'static str,
        /// The parse error.
        #[source]
        source: passwd::Error,
    },
    /// The caller could not encode `/etc/apko.json`.
    #[error("encoding /etc/apko.json")]
    ApkoJson {
        /// The encoding error.
        #[source]
        source: Box<crate::config::Error>,
    },
    /// A user's home directory exists but is not a directory.
    #[error("{user} home directory {home} exists, but is not a directory")]
    HomeNotADirectory {
        /// The user.
        user: String,
        /// The home directory.
        home: String,
    },
    /// A path mutation has an unknown type.
    #[error("path {path}: unsupported path mutation type {kind:?}")]
    PathMutationType {
        /// The path.
        path: String,
        /// The type.
        kind: String,
    },
    /// A path mutation would create something that exists.
    #[error("mutating path {path:?}: file already exists")]
    PathConflict {
        /// The path.
        path: String,
    },
    /// An inline certificate is rejected.
    #[error("certificate {name}: {reason}")]
    Certificate {
        /// The certificate's name.
        name: String,
        /// Why.
        reason: String,
    },
    /// Adding certificates needs a Java truststore update, which is not implemented.
    #[error(
        "certificates: the Java truststore {path} would have to be updated, which is not supported"
    )]
    JavaTruststore {
        /// The truststore's path.
        path: String,
    },
    /// A runtime keyring entry is rejected.
    #[error("runtime keyring entry {name:?}: {reason}")]
    RuntimeKey {
        /// The entry's name.
        name: String,
        /// Why.
        reason: String,
    },
    /// Busybox links cannot be determined.
    #[error("busybox: {reason}")]
    Busybox {
        /// Why.
        reason: String,
    },
    /// `ld.so.conf` has a line longer than Go's scanner reads, or includes itself endlessly.
    #[error("{path}: unreadable line or include loop")]
    LdsoConf {
        /// The configuration file.
        path: String,
    },
    /// A library for `ld.so.cache` is for a machine apko does not know.
    #[error("{path}: unknown machine type {machine}")]
    LibraryMachine {
        /// The library.
        path: String,
        /// The ELF `e_machine` value.
        machine: u16,
    },
}

/// A filesystem error on `path`.
fn fs_error(path: &str) -> impl FnOnce(fs::Error) -> Error + '_ {
    move |source| Error::Filesystem {
        path: path.to_owned(),
        source: Box::new(source),
    }
}

/// A root filesystem under construction, and what the installation recorded.
#[derive(Debug)]
pub struct Rootfs {
    tree: Tree,
    installed: Vec<InstalledPackage>,
    source_date_epoch: Timestamp,
    build_date: BuildDate,
}

/// One installed package and the record it added to the installed database.
#[derive(Debug, Clone)]
pub struct InstalledPackage {
    /// The package's id in the tree (which files it owns).
    pub id: fs::PackageId,
    /// The package (from `.PKGINFO`).
    pub package: Package,
    /// The bytes its installation appended to `usr/lib/apk/db/installed` (apko's
    /// `InstalledDiff`, which multi-layer images split by).
    pub record: Vec<u8>,
}

impl Rootfs {
    /// InitDB, keyring, build-time repositories and world.
    pub fn init(plan: &Plan) -> Result<Rootfs, Error> {
        let mut tree = Tree::new();
        initdb::init_db(&mut tree, &plan.arch)?;
        initdb::init_keyring(&mut tree, &plan.keyring)?;
        initdb::set_repositories(&mut tree, &plan.build_repositories, "build")?;
        initdb::set_world(&mut tree, &plan.world)?;
        Ok(Rootfs {
            tree,
            installed: Vec::new(),
            source_date_epoch: plan.source_date_epoch,
            build_date: plan.build_date,
        })
    }

    /// Records a base image's packages (its APKINDEX-format list, parsed) in the installed
    /// database, as apko does before installing anything on a base image.
    pub fn record_base_packages(&mut self, records: &[installed::Record]) -> Result<(), Error> {
        base::record_base_packages(&mut self.tree, records)
    }

    /// Installs `packages` in order, then writes their installed-database records and links
    /// `/lib/apk`.
    pub fn install(&mut self, packages: Vec<PackageSource>) -> Result<(), Error> {
        let installed = packages::install(&mut self.tree, packages, self.source_date_epoch)?;
        self.installed.extend(installed);
        Ok(())
    }

    /// Adds the configured groups and users; returns the run-as value apko keeps (the user's
    /// numeric uid when `run_as` names a user in the final `/etc/passwd`).
    pub fn mutate_accounts(&mut self, accounts: &Accounts) -> Result<String, Error> {
        accounts::mutate(&mut self.tree, accounts)
    }

    /// Writes `/etc/apko.json` (mode 0444): `json` is the locked configuration as Go's JSON
    /// encoder writes it, final newline included.
    pub fn write_apko_json(&mut self, json: &[u8]) -> Result<(), Error> {
        let path = "/etc/apko.json";
        self.tree
            .write_file(path, json, FileMode(0o644))
            .map_err(fs_error(path))?;
        self.tree
            .chmod(path, FileMode(0o444))
            .map_err(fs_error(path))
    }

    /// The steps after `/etc/apko.json`, in apko's order, ending with the runtime
    /// repositories.
    pub fn finish(&mut self, plan: &Plan) -> Result<(), Error> {
        paths::mutate(&mut self.tree, &plan.paths)?;
        let records = self.installed_records()?;
        let build_date = self.build_date(&records);
        if let Some(certs) = &plan.certificates {
            certificates::install(&mut self.tree, certs, &records, build_date)?;
        }
        certificates::write_checksums(&mut self.tree, build_date)?;
        certificates::install_runtime_keyring(&mut self.tree, &plan.runtime_keyring, build_date)?;
        services::write_supervision_tree(&mut self.tree, &plan.services)?;
        busybox::install_links(&mut self.tree, &records)?;
        initdb::install_char_devices(&mut self.tree)?;
        ldso::update_cache(&mut self.tree)?;
        initdb::set_repositories(&mut self.tree, &plan.runtime_repositories, "runtime")
    }

    /// apko's `GetBuildDateEpoch`, from the installed database.
    pub fn build_date_epoch(&self) -> Result<Timestamp, Error> {
        Ok(self.build_date(&self.installed_records()?))
    }

    fn build_date(&self, records: &[installed::Record]) -> Timestamp {
        match self.build_date {
            BuildDate::SourceDateEpoch => self.source_date_epoch,
            BuildDate::LatestPackage => records
                .iter()
                .map(|r| Timestamp::from_seconds(r.package.build_time))
                .fold(self.source_date_epoch, Timestamp::max),
        }
    }

    /// apko's `GetInstalled`: the installed database as it is in the tree now.
    fn installed_records(&self) -> Result<Vec<installed::Record>, Error> {
        let path = "usr/lib/apk/db/installed";
        let text = self.tree.read_file(path).map_err(fs_error(path))?;
        installed::parse(&text).map_err(|source| Error::InstalledRead { source })
    }

    /// The filesystem so far.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The filesystem, to change between steps (a base image's files, a test's fixtures).
    pub fn tree_mut(&mut self) -> &mut Tree {
        &mut self.tree
    }

    /// The installed packages in installation order, with their database records.
    pub fn installed(&self) -> &[InstalledPackage] {
        &self.installed
    }

    /// The installed packages' records (what `build::layering::group_by_origin` groups).
    pub fn packages(&self) -> Vec<Package> {
        self.installed.iter().map(|p| p.package.clone()).collect()
    }

    /// For each group, the installed-database records of its packages concatenated in the
    /// group's order (what each group layer's partial database holds).
    pub fn group_records(&self, groups: &[crate::build::layering::Group]) -> Vec<Vec<u8>> {
        groups
            .iter()
            .map(|group| {
                group
                    .packages
                    .iter()
                    .flat_map(|name| {
                        self.installed
                            .iter()
                            .filter(move |p| p.package.name == *name)
                            .flat_map(|p| p.record.iter().copied())
                    })
                    .collect()
            })
            .collect()
    }

    /// The filesystem.
    pub fn into_tree(self) -> Tree {
        self.tree
    }
}

/// All of it: [`Rootfs::init`], [`Rootfs::install`], [`Rootfs::mutate_accounts`],
/// [`Rootfs::write_apko_json`] with the bytes `apko_json` returns for the resolved run-as
/// value (typically the locked configuration with that run-as, through
/// `ImageConfiguration::to_apko_json_file`), and [`Rootfs::finish`].
pub fn build(
    plan: &Plan,
    packages: Vec<PackageSource>,
    apko_json: impl FnOnce(&str) -> Result<Vec<u8>, crate::config::Error>,
) -> Result<Rootfs, Error> {
    let mut rootfs = Rootfs::init(plan)?;
    rootfs.install(packages)?;
    let run_as = rootfs.mutate_accounts(&plan.accounts)?;
    let json = apko_json(&run_as).map_err(|source| Error::ApkoJson {
        source: Box::new(source),
    })?;
    rootfs.write_apko_json(&json)?;
    rootfs.finish(plan)?;
    Ok(rootfs)
}
