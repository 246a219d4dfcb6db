//! The plan of an image: every structure's sector, computed from the tree alone.

use crate::eltorito::{self, Boot, Resolved};
use crate::error::{Error, Result};
use crate::layout::{self, CeAlloc, Dir, SECTOR};
use crate::tree::{Stamp, Tree};

/// What to write besides the tree.
#[derive(Clone, Debug)]
pub struct Options {
    /// The volume label (ISO 9660 and Joliet volume identifiers).
    pub label: String,
    /// Write a Joliet tree too (the default).
    pub joliet: bool,
    /// The volume dates; `None`: the newest modification time in the tree (the CLI passes
    /// `SOURCE_DATE_EPOCH` when it is set).
    pub volume_time: Option<Stamp>,
    /// The most sectors the medium holds (`None`: only ISO 9660's own limit).
    pub max_sectors: Option<u64>,
    /// El Torito boot entries (the first is the default one).
    pub boot: Vec<Boot>,
    /// Make the image bootable from a disk too: the MBR boot code (e.g. syslinux's
    /// `isohdpfx.bin`; its first 432 bytes are used) for the default BIOS entry.
    pub hybrid_mbr: Option<Vec<u8>>,
    /// Make the image bootable from a disk (implied by `hybrid_mbr`): with an EFI boot
    /// image, a GPT whose EFI System Partition is that image; with `hybrid_mbr`, the MBR.
    pub hybrid: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            label: "CDROM".into(),
            joliet: true,
            volume_time: None,
            max_sectors: None,
            boot: Vec::new(),
            hybrid_mbr: None,
            hybrid: false,
        }
    }
}

/// Where everything goes.
#[derive(Debug)]
pub struct Plan {
    /// The Rock Ridge/ISO 9660 directories, in path-table order.
    pub primary: Vec<Dir>,
    /// The Joliet directories (empty without Joliet).
    pub joliet: Vec<Dir>,
    /// First sector of the Rock Ridge continuation areas.
    pub ce_start: u32,
    /// Path tables: primary L, primary M, Joliet L, Joliet M (first sectors).
    pub path_tables: [u32; 4],
    /// Path table sizes in bytes: primary, Joliet.
    pub path_table_bytes: [u64; 2],
    /// First sector of each file's content ([`Tree::files`] order; 0 for empty files).
    pub file_lba: Vec<u32>,
    /// First sector of the file contents.
    pub data_start: u32,
    /// Sectors in the image.
    pub sectors: u32,
    /// The volume dates.
    pub volume_time: Stamp,
    /// The El Torito boot images, resolved (empty: not bootable).
    pub boot: Vec<Resolved>,
    /// The boot catalog's sector (0 when not bootable).
    pub catalog: u32,
    /// The options planned with.
    pub options: Options,
}

impl Plan {
    /// Bytes of the image.
    pub fn bytes(&self) -> u64 {
        u64::from(self.sectors) * SECTOR
    }

    /// Whether the image is made bootable from a disk too.
    pub fn hybrid(&self) -> bool {
        self.options.hybrid || self.options.hybrid_mbr.is_some()
    }

    /// The EFI image a hybrid image's GPT points at: the first UEFI entry.
    pub fn esp(&self) -> Option<&Resolved> {
        self.boot
            .iter()
            .find(|r| r.boot.platform == eltorito::Platform::Efi)
            .filter(|_| self.hybrid())
    }
}

/// Plans the image of `tree`.
pub fn plan(tree: &Tree, options: &Options) -> Result<Plan> {
    if options.boot.len() > eltorito::MAX_ENTRIES {
        return Err(Error::Source {
            path: options.boot[eltorito::MAX_ENTRIES].path.clone().into(),
            what: format!(
                "more than {} boot entries (what one boot catalog sector holds)",
                eltorito::MAX_ENTRIES
            ),
        });
    }
    let boot = eltorito::resolve(tree, &options.boot)?;
    let hybrid = options.hybrid || options.hybrid_mbr.is_some();
    let esp = hybrid
        && boot
            .iter()
            .any(|r| r.boot.platform == eltorito::Platform::Efi);
    if options.hybrid_mbr.is_some() {
        hybrid_ready(tree, &boot)?;
    } else if hybrid && !esp {
        return Err(Error::Source {
            path: "--hybrid".into(),
            what: "needs an EFI boot image (for the GPT) or --mbr with a BIOS boot image".into(),
        });
    }
    let mut ce = CeAlloc::default();
    let mut primary = layout::namespace(tree, false, &mut ce)?;
    let mut joliet = if options.joliet {
        layout::namespace(tree, true, &mut CeAlloc::default())?
    } else {
        Vec::new()
    };
    let limit = options
        .max_sectors
        .unwrap_or(u64::from(u32::MAX))
        .min(u64::from(u32::MAX));
    // Descriptors: primary, boot record, Joliet, terminator; then the boot catalog.
    let bootable = !boot.is_empty();
    let mut next: u64 = 16 + 1 + u64::from(bootable) + u64::from(options.joliet) + 1;
    let catalog = if bootable {
        next += 1;
        next as u32 - 1
    } else {
        0
    };
    let mut tables = [0u32; 4];
    let pt_bytes = [
        layout::path_table_bytes(&primary),
        layout::path_table_bytes(&joliet),
    ];
    for (i, t) in tables.iter_mut().enumerate() {
        let bytes = pt_bytes[i / 2];
        if i >= 2 && !options.joliet {
            break;
        }
        *t = next as u32;
        next += bytes.div_ceil(SECTOR);
    }
    for d in primary.iter_mut() {
        d.lba = next as u32;
        next += d.size / SECTOR;
    }
    let ce_start = next as u32;
    next += u64::from(ce.sectors);
    for d in joliet.iter_mut() {
        d.lba = next as u32;
        next += d.size / SECTOR;
    }
    let too_big = |path: &std::path::Path, end: u64| Error::TooBig {
        path: path.to_path_buf(),
        what: format!(
            "the image would need {end} sectors of 2048 bytes ({:.1} MB); the medium holds {limit}",
            end as f64 * 2048.0 / 1e6
        ),
    };
    if next > limit {
        return Err(too_big(&tree.paths[0], next));
    }
    let data_start = next as u32;
    let mut file_lba = Vec::with_capacity(tree.files.len());
    for f in &tree.files {
        if f.size == 0 {
            file_lba.push(0);
            continue;
        }
        file_lba.push(next as u32);
        next += f.size.div_ceil(SECTOR);
        if next > limit {
            return Err(too_big(&f.source, next));
        }
    }
    if esp {
        // Room for the backup GPT after the last file.
        next += crate::gpt::TAIL_SECTORS;
    }
    if hybrid {
        // Whole fake cylinders, as BIOSes that read the partition table expect.
        next = next.next_multiple_of(eltorito::CYLINDER_SECTORS);
        if next > limit {
            return Err(too_big(&tree.paths[0], next));
        }
    }
    Ok(Plan {
        primary,
        joliet,
        ce_start,
        path_tables: tables,
        path_table_bytes: pt_bytes,
        file_lba,
        data_start,
        sectors: next as u32,
        volume_time: options.volume_time.unwrap_or_else(|| tree.newest_mtime()),
        boot,
        catalog,
        options: options.clone(),
    })
}

/// A hybrid image boots the default entry from a disk: it must be a BIOS image carrying
/// isolinux's hybrid signature (what the MBR code jumps to), with a boot info table.
fn hybrid_ready(tree: &Tree, boot: &[Resolved]) -> Result<()> {
    let bad = |path: &str, what: &str| Error::Source {
        path: path.into(),
        what: what.into(),
    };
    let Some(first) = boot.first() else {
        return Err(bad("--hybrid", "needs a BIOS boot image (--boot-bios)"));
    };
    if first.boot.platform != eltorito::Platform::Bios || !first.boot.info_table {
        return Err(bad(
            &first.boot.path,
            "the default boot entry of a hybrid image must be a BIOS image with a boot info table",
        ));
    }
    let src = &tree.files[first.file as usize].source;
    let mut sig = [0u8; 4];
    let f = std::fs::File::open(src).map_err(crate::error::read_err(src))?;
    std::os::unix::fs::FileExt::read_exact_at(&f, &mut sig, 64)
        .map_err(crate::error::read_err(src))?;
    if sig != eltorito::ISOLINUX_HYBRID_SIGNATURE {
        return Err(bad(
            &first.boot.path,
            "has no isolinux hybrid signature at byte 64 (the MBR code checks it)",
        ));
    }
    Ok(())
}
