//! El Torito: the boot record volume descriptor, the boot catalog and the boot info table
//! (El Torito 1.0; the info table as isolinux and `mkisofs -boot-info-table` define it).
//! Every boot image is a file of the tree, booted without emulation.

use crate::error::{Error, Result};
use crate::layout::SECTOR;
use crate::tree::{Kind, Tree};
use std::path::PathBuf;

/// Which firmware a boot entry is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// PC BIOS (platform id 0).
    Bios,
    /// UEFI (platform id 0xEF): the file is an EFI system partition image.
    Efi,
}

impl Platform {
    fn id(self) -> u8 {
        match self {
            Platform::Bios => 0,
            Platform::Efi => 0xEF,
        }
    }
}

/// A boot entry to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Boot {
    /// The boot image: a path inside the tree (`isolinux/isolinux.bin`).
    pub path: String,
    /// The firmware it is for.
    pub platform: Platform,
    /// Patch a boot info table into the image's copy (bytes 8-63), as isolinux needs.
    pub info_table: bool,
}

/// A boot entry resolved against the tree.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The entry.
    pub boot: Boot,
    /// Its file ([`Tree::files`] index).
    pub file: u32,
    /// Bytes.
    pub size: u64,
}

/// Finds each boot image in the tree.
pub fn resolve(tree: &Tree, boots: &[Boot]) -> Result<Vec<Resolved>> {
    boots
        .iter()
        .map(|b| {
            let bad = |what: &str| Error::Source {
                path: PathBuf::from(&b.path),
                what: format!("boot image: {what}"),
            };
            let mut at = 0u32;
            for part in b.path.split('/').filter(|p| !p.is_empty()) {
                let Kind::Dir(ch) = &tree.nodes[at as usize].kind else {
                    return Err(bad("a path component is not a folder of the tree"));
                };
                at = *ch
                    .iter()
                    .find(|&&c| tree.nodes[c as usize].name == part)
                    .ok_or_else(|| bad("no such file in the tree"))?;
            }
            let Kind::File(f) = tree.nodes[at as usize].kind else {
                return Err(bad("not a regular file"));
            };
            let size = tree.files[f as usize].size;
            if b.info_table && size < 64 {
                return Err(bad(&format!(
                    "{size} bytes: too short for a boot info table (64 at least)"
                )));
            }
            if size == 0 {
                return Err(bad("empty"));
            }
            Ok(Resolved {
                boot: b.clone(),
                file: f,
                size,
            })
        })
        .collect()
}

/// The boot record volume descriptor pointing at the catalog.
pub fn boot_record(catalog: u32) -> Vec<u8> {
    let mut v = vec![0u8; SECTOR as usize];
    v[1..6].copy_from_slice(b"CD001");
    v[6] = 1;
    v[7..30].copy_from_slice(b"EL TORITO SPECIFICATION");
    v[71..75].copy_from_slice(&catalog.to_le_bytes());
    v
}

fn entry(r: &Resolved, lba: u32) -> [u8; 32] {
    let mut e = [0u8; 32];
    e[0] = 0x88; // bootable
    e[1] = 0; // no emulation
    // Load segment 0 (the default, 0x7C0), system type 0.
    let count = match r.boot.platform {
        // What isolinux and `-boot-load-size 4` load: one CD sector.
        Platform::Bios => 4,
        Platform::Efi => r.size.div_ceil(512).min(0xFFFF) as u16,
    };
    e[6..8].copy_from_slice(&count.to_le_bytes());
    e[8..12].copy_from_slice(&lba.to_le_bytes());
    e
}

/// The boot catalog: validation entry, default entry (the first boot image), then a section
/// per run of entries of one platform.
pub fn catalog(entries: &[Resolved], lba_of: impl Fn(u32) -> u32) -> Vec<u8> {
    let mut c = vec![0u8; SECTOR as usize];
    let first = &entries[0];
    c[0] = 1;
    c[1] = first.boot.platform.id();
    c[30] = 0x55;
    c[31] = 0xAA;
    let sum = c[..32].chunks(2).fold(0u16, |s, w| {
        s.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
    });
    c[28..30].copy_from_slice(&0u16.wrapping_sub(sum).to_le_bytes());
    c[32..64].copy_from_slice(&entry(first, lba_of(first.file)));
    let rest = &entries[1..];
    let mut groups: Vec<&[Resolved]> = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        let p = rest[i].boot.platform;
        let n = rest[i..]
            .iter()
            .take_while(|r| r.boot.platform == p)
            .count();
        groups.push(&rest[i..i + n]);
        i += n;
    }
    let mut pos = 64;
    for (g, group) in groups.iter().enumerate() {
        c[pos] = if g + 1 < groups.len() { 0x90 } else { 0x91 };
        c[pos + 1] = group[0].boot.platform.id();
        c[pos + 2..pos + 4].copy_from_slice(&(group.len() as u16).to_le_bytes());
        pos += 32;
        for r in group.iter() {
            c[pos..pos + 32].copy_from_slice(&entry(r, lba_of(r.file)));
            pos += 32;
        }
    }
    c
}

/// Most boot entries: one catalog sector holds 64 slots of 32 bytes (validation, default,
/// and for each further entry at worst a section header and the entry).
pub const MAX_ENTRIES: usize = 32;

/// The patch the boot info table makes to file `file`'s copy in the image: (offset, bytes),
/// computed from the source file; `None` for a file without one.
pub fn patch_for(
    tree: &Tree,
    boots: &[Resolved],
    file_lba: &[u32],
    file: u32,
) -> Result<Option<(u64, Vec<u8>)>> {
    let Some(r) = boots.iter().find(|r| r.file == file && r.boot.info_table) else {
        return Ok(None);
    };
    let src = &tree.files[file as usize].source;
    let data = std::fs::read(src).map_err(crate::error::read_err(src))?;
    if data.len() as u64 != r.size {
        return Err(Error::Source {
            path: src.clone(),
            what: format!("changed while the image was written (was {} bytes)", r.size),
        });
    }
    let t = info_table(file_lba[file as usize], r.size, &data[64..]);
    Ok(Some((8, t.to_vec())))
}

/// The boot info table for a boot file at `lba` whose content from byte 64 on is `tail`:
/// the primary descriptor's sector, the file's, its length and the 32-bit sum of its
/// little-endian words from byte 64.
pub fn info_table(lba: u32, size: u64, tail: &[u8]) -> [u8; 56] {
    let mut sum = 0u32;
    for w in tail.chunks(4) {
        let mut b = [0u8; 4];
        b[..w.len()].copy_from_slice(w);
        sum = sum.wrapping_add(u32::from_le_bytes(b));
    }
    let mut t = [0u8; 56];
    t[0..4].copy_from_slice(&16u32.to_le_bytes());
    t[4..8].copy_from_slice(&lba.to_le_bytes());
    t[8..12].copy_from_slice(&(size as u32).to_le_bytes());
    t[12..16].copy_from_slice(&sum.to_le_bytes());
    t
}

/// Bytes of MBR boot code kept from `--mbr` (the rest of the sector is ours).
pub const MBR_CODE: usize = 432;
/// The fake disk geometry of hybrid images: 64 heads, 32 sectors (1 MiB cylinders).
const HEADS: u64 = 64;
const SECTORS: u64 = 32;
/// Sectors of 2048 bytes in one fake cylinder: hybrid images are padded to a multiple.
pub const CYLINDER_SECTORS: u64 = HEADS * SECTORS * 512 / SECTOR;

/// The isolinux hybrid signature at byte 64 of `isolinux.bin`, which the MBR code checks.
pub const ISOLINUX_HYBRID_SIGNATURE: [u8; 4] = [0xFB, 0xC0, 0x78, 0x70];

/// The hybrid MBR (isohybrid's layout): `code` (up to 432 bytes), the default boot image's
/// sector in 512-byte units at 432, the disk id at 440, one active partition of type 0x17
/// from sector 0 over the whole (padded) image, and the 0x55AA signature.
pub fn hybrid_mbr(code: &[u8], boot_lba: u32, image_sectors: u64, id: u32) -> [u8; 512] {
    let mut m = [0u8; 512];
    let n = code.len().min(MBR_CODE);
    m[..n].copy_from_slice(&code[..n]);
    m[432..436].copy_from_slice(&(boot_lba * 4).to_le_bytes());
    m[440..444].copy_from_slice(&id.to_le_bytes());
    let blocks = image_sectors * (SECTOR / 512);
    let cylinders = blocks / (HEADS * SECTORS);
    let last = cylinders.clamp(1, 1024) - 1;
    let p = &mut m[446..462];
    p[0] = 0x80;
    p[1] = 0; // start: head 0, sector 1, cylinder 0
    p[2] = 1;
    p[3] = 0;
    p[4] = 0x17;
    p[5] = (HEADS - 1) as u8;
    p[6] = (SECTORS as u8) | (((last & 0x300) >> 2) as u8);
    p[7] = (last & 0xFF) as u8;
    p[8..12].copy_from_slice(&0u32.to_le_bytes());
    p[12..16].copy_from_slice(&(blocks.min(u64::from(u32::MAX)) as u32).to_le_bytes());
    m[510] = 0x55;
    m[511] = 0xAA;
    m
}

/// A disk id derived from the image's metadata (FNV-1a), never 0: the same tree gives the
/// same id, another tree almost surely another.
pub fn disk_id(metadata: &[u8]) -> u32 {
    let h = metadata.iter().fold(0x811C_9DC5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    h.max(1)
}
