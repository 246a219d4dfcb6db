//! `--efi-dir`: the EFI system partition image built from a host folder with the project's
//! FAT writer (spindle-fat), FAT12 or FAT16 as its size asks, sized to fit, its volume
//! serial derived from its content (the same folder gives the same bytes).

use crate::error::{Error, Result, read_err};
use crate::exclude::Exclude;
use crate::tree::{Kind, Tree};
use spindle_bytes::{ByteSource, MemSource};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The name the built image gets at the root of the ISO tree.
pub const EFI_IMAGE_NAME: &str = "efi.img";

/// The EFI image built for `--efi-dir`, in a temporary folder of its own (removed on drop):
/// give [`EfiImage::root`] to [`Tree::scan`] as one more source folder, and
/// [`EFI_IMAGE_NAME`] as a UEFI boot path.
pub struct EfiImage {
    dir: tempfile::TempDir,
    /// The image's bytes.
    pub bytes: u64,
    /// The FAT type chosen (`FAT12` or `FAT16`).
    pub fat: &'static str,
    /// The volume serial (derived from the content).
    pub serial: u32,
}

impl EfiImage {
    /// The folder holding only the image, as [`EFI_IMAGE_NAME`].
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The image file.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join(EFI_IMAGE_NAME)
    }
}

/// Builds the EFI system partition image of folder `src` (which must hold an
/// `EFI/BOOT/BOOT*.EFI` loader, any case): every file and folder, times kept, in name
/// order. The image file gets mode 0644 and the newest modification time in `src`.
pub fn build(src: &Path) -> Result<EfiImage> {
    let bad = |path: &Path, what: String| Error::Source {
        path: path.to_path_buf(),
        what,
    };
    let tree = Tree::scan(&[src.to_path_buf()], &Exclude::new::<&str>([]))?;
    let mut fat = spindle_fat::Tree::new(tree.nodes[0].mtime.secs);
    let mut data_bytes = 0u64;
    let mut loader = false;
    for (i, node) in tree.nodes.iter().enumerate().skip(1) {
        let path = tree.path_of(i as u32);
        let fat_err = |e: spindle_fat::FatError| bad(&tree.paths[i], format!("EFI image: {e}"));
        match &node.kind {
            Kind::Dir(_) => {
                fat.add_dir(&path, node.mtime.secs).map_err(fat_err)?;
                data_bytes += 4096;
            }
            Kind::File(f) => {
                let source = &tree.files[*f as usize].source;
                let data = std::fs::read(source).map_err(read_err(source))?;
                data_bytes += (data.len() as u64).next_multiple_of(4096);
                let up = path.to_ascii_uppercase();
                loader |= up.starts_with("/EFI/BOOT/BOOT") && up.ends_with(".EFI");
                let data: Arc<dyn ByteSource> = Arc::new(MemSource::new(data, source.clone()));
                fat.add_file(&path, data, node.mtime.secs)
                    .map_err(fat_err)?;
            }
            Kind::Symlink(_) => {
                return Err(bad(
                    &tree.paths[i],
                    "a symbolic link cannot go on the FAT EFI image".into(),
                ));
            }
        }
    }
    if !loader {
        return Err(bad(
            src,
            "holds no EFI/BOOT/BOOT<arch>.EFI (e.g. EFI/BOOT/BOOTX64.EFI): not an EFI boot folder"
                .into(),
        ));
    }
    let (volume, serial) =
        fit(&fat, data_bytes).map_err(|e| bad(src, format!("EFI image: {e}")))?;
    let dir = tempfile::Builder::new()
        .prefix("spindle-efi-")
        .tempdir()
        .map_err(read_err(Path::new("temporary folder")))?;
    let out = dir.path().join(EFI_IMAGE_NAME);
    let werr = |source| Error::Write {
        path: out.clone(),
        source,
    };
    let file = std::fs::File::create(&out).map_err(werr)?;
    file.set_len(volume.len()).map_err(werr)?;
    spindle_fat::write_to(&volume, &file, 0, 0, true).map_err(werr)?;
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .map_err(werr)?;
    let t = tree.newest_mtime();
    let time = std::fs::FileTimes::new()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.secs.max(0) as u64));
    file.set_times(time).map_err(werr)?;
    Ok(EfiImage {
        dir,
        bytes: volume.len(),
        fat: volume.geometry.fat_type.name(),
        serial,
    })
}

/// The smallest image (in 64 KiB steps, growing by an eighth) that holds `fat`, built twice:
/// with serial 0, then with the FNV-1a hash of those bytes as its serial.
fn fit(
    fat: &spindle_fat::Tree,
    data_bytes: u64,
) -> spindle_fat::Result<(spindle_fat::Volume, u32)> {
    const STEP: u64 = 64 << 10;
    let mut size = (data_bytes + 4 * STEP).next_multiple_of(STEP);
    let mut tries = 0;
    let volume = loop {
        let opts = spindle_fat::Options::default();
        match spindle_fat::Volume::build(fat, &opts, size) {
            Ok(v) => break v,
            Err(e) if tries >= 64 || size >= 1 << 32 => return Err(e),
            Err(_) => {
                tries += 1;
                size = (size + size / 8).next_multiple_of(STEP);
            }
        }
    };
    let mut bytes = vec![0u8; volume.len() as usize];
    volume
        .read_exact_at(&mut bytes, 0)
        .map_err(|e| spindle_fat::FatError::Geometry {
            size,
            reason: format!("reading the built volume back: {e}"),
        })?;
    let serial = crate::eltorito::disk_id(&bytes);
    let opts = spindle_fat::Options {
        serial,
        ..Default::default()
    };
    Ok((spindle_fat::Volume::build(fat, &opts, size)?, serial))
}
