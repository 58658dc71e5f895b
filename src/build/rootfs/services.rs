//! The s6 supervision tree for `entrypoint.services`.
//!
//! Not for: the entrypoint in the image config (`config`, `oci`).
//! Reproduces apko `pkg/s6/supervision_tree.go` (reference/apko-format.md §6.7 step 5).

use super::{Error, fs_error};
use crate::build::fs::{FileMode, Tree, path};
use std::collections::BTreeMap;

/// `/sv/<service>` (missing directories 0777) with a `run` script (0755) per service.
pub(super) fn write_supervision_tree(
    tree: &mut Tree,
    services: &BTreeMap<String, String>,
) -> Result<(), Error> {
    for (service, command) in services {
        let dir = path::join(&["sv", service]);
        tree.mkdir_all(&dir, FileMode(0o777))
            .map_err(fs_error(&dir))?;
        let run = path::join(&[&dir, "run"]);
        let script = format!("#!/bin/execlineb\n{command}\n");
        tree.write_file(&run, script.as_bytes(), FileMode(0o755))
            .map_err(fs_error(&run))?;
    }
    Ok(())
}
