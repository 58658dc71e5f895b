//! Writes an image index and its images as an OCI image layout, as ggcr's `layout.Write` lays
//! it out: `oci-layout`, `blobs/sha256/<hex>` for every layer, config and manifest, and the
//! index bytes themselves as `index.json`.
//!
//! Every file is written to a temporary name in its directory and renamed into place; blobs
//! go first and `index.json` last, so a reader never finds an index naming a missing or partial
//! blob. A blob already present with the right size is kept (ggcr skips existing blobs too).
//!
//! Not for: reading layouts (`base`), pushing to registries (`oci`). Reproduces
//! reference/apko-format.md §10.6 (ggcr v0.21.9 `pkg/v1/layout/write.go` `Write`,
//! `layoutFile`).

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use super::{Error, Image, Index};

/// `oci-layout` exactly as ggcr writes it: 37 bytes, no trailing newline.
pub const OCI_LAYOUT: &[u8] = b"{\n    \"imageLayoutVersion\": \"1.0.0\"\n}";

/// Writes `index` and `images` (with all their blobs) into the layout directory `dir`,
/// creating it when missing.
pub fn write_layout(dir: &Path, index: &Index, images: &[Image]) -> Result<(), Error> {
    let blobs = dir.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs).map_err(|source| Error::Write {
        path: blobs.clone(),
        source,
    })?;
    for image in images {
        for layer in image.layers() {
            let target = blobs.join(layer.descriptor().digest.hex());
            if !present(&target, layer.descriptor().size) {
                let mut source = File::open(layer.path()).map_err(|source| Error::Read {
                    path: layer.path().to_path_buf(),
                    source,
                })?;
                write_atomically(&target, |out| io::copy(&mut source, out).map(drop))?;
            }
        }
        for (digest, bytes) in [
            (image.config_digest(), image.config()),
            (image.digest(), image.manifest()),
        ] {
            let target = blobs.join(digest.hex());
            if !present(&target, i64::try_from(bytes.len()).unwrap_or(i64::MAX)) {
                write_atomically(&target, |out| out.write_all(bytes))?;
            }
        }
    }
    write_atomically(&dir.join("oci-layout"), |out| out.write_all(OCI_LAYOUT))?;
    write_atomically(&dir.join("index.json"), |out| out.write_all(&index.bytes))
}

fn present(path: &Path, size: i64) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && i64::try_from(meta.len()).ok() == Some(size))
}

/// Writes a file under a temporary name beside `target`, then renames it into place.
fn write_atomically(
    target: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), Error> {
    let failed = |source| Error::Write {
        path: target.to_path_buf(),
        source,
    };
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(failed)?;
    fill(temp.as_file_mut()).map_err(failed)?;
    temp.as_file().sync_all().map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(failed)?;
    }
    temp.persist(target).map_err(|e| failed(e.error))?;
    Ok(())
}
