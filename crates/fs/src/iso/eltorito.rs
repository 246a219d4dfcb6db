//! El Torito (bootable CD-ROM format specification 1.0): the boot record volume descriptor
//! points at the boot catalog, whose validation entry (checksum, key `55 AA`), default entry,
//! and section headers with section entries list the boot images.
//!
//! [`parse_catalog`] is pure over the catalog bytes (fuzzable); [`boot_entries`] finds and
//! reads the catalog on a device; [`read_boot_image`] reads an entry's load bytes.

use crate::api::{FsError, Result};
use crate::iso::record::{le16, le32};
use crate::iso::volume::{SECTOR, scan};
use spindle_bytes::ByteSource;

/// Platform ID of 80x86 BIOS machines (platform IDs: El Torito §2.1 and the UEFI
/// specification §12.3.2.1).
pub const PLATFORM_X86: u8 = 0x00;
/// Platform ID of PowerPC.
pub const PLATFORM_POWERPC: u8 = 0x01;
/// Platform ID of the Mac.
pub const PLATFORM_MAC: u8 = 0x02;
/// Platform ID of UEFI (from the UEFI specification, not El Torito 1.0).
pub const PLATFORM_EFI: u8 = 0xEF;

/// How the firmware presents a boot image (the low nibble of an entry's boot media type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emulation {
    /// The image is loaded into memory as is and run (media type 0).
    NoEmulation,
    /// The image is a 1.2 MB floppy (media type 1).
    Floppy1200,
    /// The image is a 1.44 MB floppy (media type 2).
    Floppy1440,
    /// The image is a 2.88 MB floppy (media type 3).
    Floppy2880,
    /// The image is a hard disk with an MBR (media type 4).
    HardDisk,
    /// Media type values 5..15 are undefined.
    Unknown(u8),
}

impl Emulation {
    fn from_media(m: u8) -> Emulation {
        match m & 0x0F {
            0 => Emulation::NoEmulation,
            1 => Emulation::Floppy1200,
            2 => Emulation::Floppy1440,
            3 => Emulation::Floppy2880,
            4 => Emulation::HardDisk,
            n => Emulation::Unknown(n),
        }
    }
    /// The emulated floppy's size in bytes.
    pub fn floppy_size(self) -> Option<u64> {
        match self {
            Emulation::Floppy1200 => Some(1_228_800),
            Emulation::Floppy1440 => Some(1_474_560),
            Emulation::Floppy2880 => Some(2_949_120),
            _ => None,
        }
    }
    /// A short name for listings (`none`, `1.44M floppy`, `hard disk`...).
    pub fn name(self) -> &'static str {
        match self {
            Emulation::NoEmulation => "none",
            Emulation::Floppy1200 => "1.2M floppy",
            Emulation::Floppy1440 => "1.44M floppy",
            Emulation::Floppy2880 => "2.88M floppy",
            Emulation::HardDisk => "hard disk",
            Emulation::Unknown(_) => "unknown",
        }
    }
}

/// One boot image of the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootEntry {
    /// Platform of the section (the validation entry's for the default entry).
    pub platform: u8,
    /// Boot indicator 0x88.
    pub bootable: bool,
    /// How the image is presented to the firmware.
    pub emulation: Emulation,
    /// Real-mode segment to load at (0 means the traditional 0x7C0).
    pub load_segment: u16,
    /// System type (the partition type byte for hard disk emulation).
    pub system_type: u8,
    /// Virtual 512-byte sectors to load.
    pub sector_count: u16,
    /// Block (2048 bytes) where the image starts.
    pub load_rba: u32,
    /// Bytes of the boot image: `sector_count × 512` for no emulation, the floppy size for
    /// floppy emulation, the end of the last MBR partition for hard disk emulation (from
    /// [`boot_entries`]; [`parse_catalog`] alone gives `sector_count × 512`). For no emulation
    /// many tools extract more (the whole file at `load_rba`); find the file by `load_rba`
    /// for that.
    pub load_size: u64,
    /// Section header ID string (trailing NULs/spaces trimmed), for section entries.
    pub section_id: Option<String>,
    /// Selection criteria bytes of a section entry.
    pub selection: Vec<u8>,
}

impl BootEntry {
    /// A short name of the platform (`BIOS`, `PPC`, `Mac`, `UEFI`, or `unknown`).
    pub fn platform_name(&self) -> &'static str {
        match self.platform {
            PLATFORM_X86 => "BIOS",
            PLATFORM_POWERPC => "PPC",
            PLATFORM_MAC => "Mac",
            PLATFORM_EFI => "UEFI",
            _ => "unknown",
        }
    }
}

fn corrupt(what: String) -> FsError {
    FsError::Corrupt {
        fs: "El Torito",
        what,
    }
}

/// Most catalog bytes read (the catalog is normally one block).
pub const MAX_CATALOG: usize = 16 * SECTOR as usize;

fn entry(e: &[u8], platform: u8, section_id: Option<String>) -> BootEntry {
    let emulation = Emulation::from_media(e[1]);
    let sector_count = le16(&e[6..8]);
    let load_size = emulation.floppy_size().unwrap_or(sector_count as u64 * 512);
    BootEntry {
        platform,
        bootable: e[0] == 0x88,
        emulation,
        load_segment: le16(&e[2..4]),
        system_type: e[4],
        sector_count,
        load_rba: le32(&e[8..12]),
        load_size,
        section_id,
        selection: if e[12] != 0 {
            e[13..32].to_vec()
        } else {
            Vec::new()
        },
    }
}

/// Parses a boot catalog: validation entry (checked), default entry, then sections until the
/// final header (0x91) or an entry that is neither header nor boot entry.
pub fn parse_catalog(cat: &[u8]) -> Result<Vec<BootEntry>> {
    if cat.len() < 64 {
        return Err(corrupt(format!("boot catalog of {} bytes", cat.len())));
    }
    let v = &cat[..32];
    if v[0] != 1 || v[30] != 0x55 || v[31] != 0xAA {
        return Err(corrupt(
            "boot catalog validation entry missing (header 01, key 55 AA)".into(),
        ));
    }
    let sum = v.chunks_exact(2).fold(0u16, |s, c| s.wrapping_add(le16(c)));
    if sum != 0 {
        return Err(corrupt(format!(
            "boot catalog validation entry checksum is off by {sum:#06x}"
        )));
    }
    let mut out = vec![entry(&cat[32..64], v[1], None)];
    let mut pos = 64;
    while pos + 32 <= cat.len() {
        let h = &cat[pos..pos + 32];
        if h[0] != 0x90 && h[0] != 0x91 {
            break;
        }
        let last = h[0] == 0x91;
        let platform = h[1];
        let count = le16(&h[2..4]) as usize;
        let id = String::from_utf8_lossy(&h[4..32])
            .trim_end_matches(['\0', ' '])
            .to_string();
        pos += 32;
        let mut n = 0;
        while n < count && pos + 32 <= cat.len() {
            let e = &cat[pos..pos + 32];
            pos += 32;
            if e[0] == 0x44 {
                continue; // extension entry of the previous one
            }
            out.push(entry(e, platform, Some(id.clone())));
            n += 1;
        }
        if last {
            break;
        }
    }
    Ok(out)
}

/// The boot catalog block of the volume at `base_lba`, if it is bootable.
pub fn catalog_lba(dev: &dyn ByteSource, base_lba: u32) -> Result<Option<u32>> {
    Ok(scan(dev, base_lba)?.boot_catalog)
}

/// The boot images of the volume whose descriptors start at `base_lba + 16`. An empty list
/// when there is no boot record.
pub fn boot_entries(dev: &dyn ByteSource, base_lba: u32) -> Result<Vec<BootEntry>> {
    let Some(lba) = catalog_lba(dev, base_lba)? else {
        return Ok(Vec::new());
    };
    let start = lba as u64 * SECTOR;
    if start >= dev.len() {
        return Err(corrupt(format!(
            "boot catalog at block {lba} lies past the end of the device"
        )));
    }
    let len = (dev.len() - start).min(MAX_CATALOG as u64) as usize;
    let mut cat = vec![0u8; len];
    dev.read_exact_at(&mut cat, start)?;
    let mut entries = parse_catalog(&cat)?;
    for e in entries
        .iter_mut()
        .filter(|e| e.emulation == Emulation::HardDisk)
    {
        if let Some(size) = hard_disk_size(dev, e.load_rba)? {
            e.load_size = size;
        }
    }
    Ok(entries)
}

/// The size of a hard disk emulation image: the end of its furthest MBR partition (El Torito
/// §3.3: the image is a disk with one partition; the BIOS emulates a disk of that size).
/// `None` when the image has no valid MBR.
pub fn hard_disk_size(dev: &dyn ByteSource, load_rba: u32) -> Result<Option<u64>> {
    let start = load_rba as u64 * SECTOR;
    if start + 512 > dev.len() {
        return Ok(None);
    }
    let mut mbr = [0u8; 512];
    dev.read_exact_at(&mut mbr, start)?;
    if mbr[510..512] != [0x55, 0xAA] {
        return Ok(None);
    }
    let end = (0..4)
        .map(|i| &mbr[446 + i * 16..462 + i * 16])
        .filter(|p| p[4] != 0)
        .map(|p| le32(&p[8..12]) as u64 + le32(&p[12..16]) as u64)
        .max();
    Ok(end.filter(|&e| e > 0).map(|e| e * 512))
}

/// The bytes the firmware loads for `entry` (`load_size` bytes at `load_rba`).
pub fn read_boot_image(dev: &dyn ByteSource, entry: &BootEntry) -> Result<Vec<u8>> {
    let start = entry.load_rba as u64 * SECTOR;
    if start + entry.load_size > dev.len() {
        return Err(corrupt(format!(
            "boot image at block {} ({} bytes) runs past the end of the device",
            entry.load_rba, entry.load_size
        )));
    }
    let mut buf = vec![0u8; entry.load_size as usize];
    dev.read_exact_at(&mut buf, start)?;
    Ok(buf)
}
