//! `spindle boot`: the El Torito boot catalog of an image, and its boot images.
//!
//! `-o` writes each boot image whole when the ISO 9660 filesystem names a file whose extent
//! starts at the image's load block (as xorriso extracts them: `isolinux.bin`, `efi.img`),
//! else the bytes the catalog declares (its 512-byte sector count, the floppy size, or the
//! hard disk's partitions); it says which.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The image.
    image: PathBuf,
    /// Write each boot image into this folder (boot-NN-PLATFORM.img): the whole file the
    /// filesystem names at the boot image's block, else the catalog's size.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let disc = super::open(&a.image)?;
    let (dev, base) = spindle_image::disc_device(&disc)?;
    let entries = match spindle_fs::boot_entries(dev.as_ref(), base) {
        Ok(e) => e,
        // A UDF-only disc (or one with no filesystem) has no place for a boot record.
        Err(spindle_fs::FsError::NotFound(_)) => {
            println!(
                "{}: no El Torito boot record (no ISO 9660 volume)",
                a.image.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("reading the boot catalog of {}", a.image.display()));
        }
    };
    if entries.is_empty() {
        println!("{}: no El Torito boot record", a.image.display());
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>3}  {:<8} {:<9} {:<16} {:>9} {:>9} {:>10}  id",
        "#", "platform", "bootable", "emulation", "load RBA", "sectors", "bytes"
    );
    for (i, e) in entries.iter().enumerate() {
        println!(
            "{:>3}  {:<8} {:<9} {:<16} {:>9} {:>9} {:>10}  {}",
            i + 1,
            e.platform_name(),
            if e.bootable { "yes" } else { "no" },
            e.emulation.name(),
            e.load_rba,
            e.sector_count,
            e.load_size,
            e.section_id
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or("-")
        );
        let file = spindle_image::iso_file_at(dev.as_ref(), base, e.load_rba);
        if let Some(f) = &file {
            println!("     file {} ({} bytes)", f.path, f.size);
        }
        if let Some(dir) = &a.output {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let path = dir.join(format!(
                "boot-{:02}-{}.img",
                i + 1,
                e.platform_name().to_lowercase().replace(' ', "-")
            ));
            let (entry, what) = match &file {
                Some(f) => (
                    spindle_fs::BootEntry {
                        load_size: f.size,
                        ..e.clone()
                    },
                    format!("the whole file {}", f.path),
                ),
                None => (
                    e.clone(),
                    "the size the boot catalog declares: no file starts at its block".to_string(),
                ),
            };
            let bytes = spindle_fs::read_boot_image(dev.as_ref(), &entry).with_context(|| {
                format!("reading boot image {} of {}", i + 1, a.image.display())
            })?;
            write_whole(&path, &bytes)?;
            println!(
                "     wrote {} ({} bytes: {what})",
                path.display(),
                bytes.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to `path` through a temporary file beside it (a new, unpredictable name
/// made with `O_EXCL`, so nothing already in the folder, a symlink included, is written
/// through), synced and then renamed: the file appears only when complete.
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let ctx = || format!("writing {}", path.display());
    let mut tmp = tempfile::Builder::new()
        .prefix(".spindle-boot-")
        .tempfile_in(dir)
        .with_context(ctx)?;
    // A temporary file is made 0600; a written boot image is an ordinary file (0644).
    use std::os::unix::fs::PermissionsExt;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .with_context(ctx)?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(ctx)?;
    tmp.persist(path).map_err(|e| e.error).with_context(ctx)?;
    Ok(())
}
