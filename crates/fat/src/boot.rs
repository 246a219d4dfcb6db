//! spindle's own BIOS boot code (x86 real mode), assembled from `crates/fat/boot/*.asm` by
//! nasm; the bytes are kept beside the source and a test checks that they are what the
//! source assembles to.
//!
//! - [`MBR`]: the disk's first 440 bytes. It chain-loads the active partition's boot sector
//!   to 0:7C00 (INT 13h extensions, LBA) with DL = the BIOS drive.
//! - [`FAT32_CODE`] and [`FAT32_SECTORS`]: the FAT32 boot sector's code area and a second
//!   stage in reserved sectors 2 to 5. Together they find `BOOTMGR` in the root directory,
//!   follow its cluster chain through the FAT, load it to 2000:0000 and jump there with DL =
//!   the BIOS drive: what Windows' boot sector does for its boot manager.

use crate::mbr::DiskOptions;
use crate::volume::Options;

/// The MBR boot code (440 bytes).
pub const MBR: &[u8] = include_bytes!("../boot/mbr.bin");

const FAT32: &[u8] = include_bytes!("../boot/fat32.bin");

/// The FAT32 boot sector's code area (420 bytes from offset 90).
pub const FAT32_CODE: &[u8] = FAT32.split_at(420).0;

/// The second stage, for reserved sectors 2 to 5 (2048 bytes).
pub const FAT32_SECTORS: &[u8] = FAT32.split_at(420).1;

/// `opts` and `disk` with spindle's BIOS boot code that loads `/BOOTMGR` (FAT32 only).
pub fn bootmgr(opts: &Options, disk: &DiskOptions) -> (Options, DiskOptions) {
    (
        Options {
            boot_code: Some(FAT32_CODE.to_vec()),
            boot_sectors: Some(FAT32_SECTORS.to_vec()),
            ..opts.clone()
        },
        DiskOptions {
            boot_code: Some(MBR.to_vec()),
            ..disk.clone()
        },
    )
}
