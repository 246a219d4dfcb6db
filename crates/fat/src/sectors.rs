//! The fixed structures of a FAT volume: the boot sector with its BPB, the FAT32 FSInfo
//! sector, and the FAT's entries as bytes.

use crate::layout::{FatType, Geometry, SECTOR};
use crate::volume::Options;

/// The FAT's used entries as bytes.
pub(crate) fn encode_fat(fat: &[u32], t: FatType) -> Vec<u8> {
    match t {
        FatType::Fat32 => fat
            .iter()
            .flat_map(|e| (e & 0x0FFF_FFFF).to_le_bytes())
            .collect(),
        FatType::Fat16 => fat.iter().flat_map(|&e| (e as u16).to_le_bytes()).collect(),
        FatType::Fat12 => {
            let mut out = vec![0u8; (fat.len() * 3).div_ceil(2)];
            for (i, &e) in fat.iter().enumerate() {
                let at = i * 3 / 2;
                if i % 2 == 0 {
                    out[at] = e as u8;
                    out[at + 1] |= (e >> 8) as u8 & 0x0F;
                } else {
                    out[at] |= ((e & 0x0F) << 4) as u8;
                    out[at + 1] = (e >> 4) as u8;
                }
            }
            out
        }
    }
}

/// The FAT32 FSInfo sector: free cluster count and where to look for the next free one.
pub(crate) fn fs_info(free: u64, next_free: u64) -> [u8; 512] {
    let mut s = [0u8; 512];
    s[0..4].copy_from_slice(&0x4161_5252u32.to_le_bytes());
    s[484..488].copy_from_slice(&0x6141_7272u32.to_le_bytes());
    s[488..492].copy_from_slice(&(free as u32).to_le_bytes());
    s[492..496].copy_from_slice(&(next_free as u32).to_le_bytes());
    s[508..512].copy_from_slice(&0xAA55_0000u32.to_le_bytes());
    s
}

/// The boot sector: jump, BPB, extended BPB, boot code, signature.
pub(crate) fn boot_sector(g: &Geometry, opts: &Options, label: Option<&[u8; 11]>) -> [u8; 512] {
    let mut s = [0u8; 512];
    let fat32 = g.fat_type == FatType::Fat32;
    let code_at: usize = if fat32 { 90 } else { 62 };
    s[0] = 0xEB;
    s[1] = (code_at - 2) as u8;
    s[2] = 0x90;
    s[3..11].copy_from_slice(b"MSWIN4.1");
    s[11..13].copy_from_slice(&(SECTOR as u16).to_le_bytes());
    s[13] = g.cluster_sectors as u8;
    s[14..16].copy_from_slice(&(g.reserved as u16).to_le_bytes());
    s[16] = 2;
    s[17..19].copy_from_slice(&(g.root_entries as u16).to_le_bytes());
    if !fat32 && g.total_sectors < 0x10000 {
        s[19..21].copy_from_slice(&(g.total_sectors as u16).to_le_bytes());
    } else {
        s[32..36].copy_from_slice(&(g.total_sectors as u32).to_le_bytes());
    }
    s[21] = 0xF8;
    if !fat32 {
        s[22..24].copy_from_slice(&(g.fat_sectors as u16).to_le_bytes());
    }
    s[24..26].copy_from_slice(&63u16.to_le_bytes());
    s[26..28].copy_from_slice(&255u16.to_le_bytes());
    s[28..32].copy_from_slice(&opts.hidden_sectors.to_le_bytes());
    // The extended BPB: at 64 on FAT32 (after its own fields), at 36 on FAT12/16.
    let ext = if fat32 {
        s[36..40].copy_from_slice(&(g.fat_sectors as u32).to_le_bytes());
        s[44..48].copy_from_slice(&2u32.to_le_bytes()); // root directory cluster
        s[48..50].copy_from_slice(&1u16.to_le_bytes()); // FSInfo sector
        s[50..52].copy_from_slice(&6u16.to_le_bytes()); // backup boot sector
        64
    } else {
        36
    };
    s[ext] = 0x80;
    s[ext + 2] = 0x29;
    s[ext + 3..ext + 7].copy_from_slice(&opts.serial.to_le_bytes());
    s[ext + 7..ext + 18].copy_from_slice(label.unwrap_or(b"NO NAME    "));
    s[ext + 18..ext + 26].copy_from_slice(g.fat_type.label());
    // int 0x18 (try the next boot device), then jmp $.
    let default = [0xCD, 0x18, 0xEB, 0xFE];
    let code = opts.boot_code.as_deref().unwrap_or(&default);
    let n = code.len().min(510 - code_at); // checked in Volume::build
    s[code_at..code_at + n].copy_from_slice(&code[..n]);
    s[510] = 0x55;
    s[511] = 0xAA;
    s
}
