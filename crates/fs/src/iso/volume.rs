//! The volume descriptor set (ECMA-119 §8): primary, supplementary (Joliet), boot record and
//! terminator, plus the UDF volume recognition sequence that may follow it and the High Sierra
//! variant (`CDROM` at byte 9).

use crate::api::{FsError, Result};
use crate::iso::joliet::{decode_ucs2, joliet_level};
use crate::iso::record::le32;
use spindle_bytes::ByteSource;

/// Bytes per logical block of an ISO 9660 volume on a CD, DVD or BD (ECMA-119 allows
/// other sizes; discs use 2048).
pub const SECTOR: u64 = 2048;
/// Most descriptors read before giving up on a terminator.
const MAX_DESCRIPTORS: u32 = 64;

/// Where the descriptors of one volume are.
#[derive(Clone, Debug, Default)]
pub struct Descriptors {
    /// Byte offset of the primary volume descriptor.
    pub primary: Option<u64>,
    /// The descriptor is High Sierra (`CDROM`) rather than ISO 9660.
    pub high_sierra: bool,
    /// Byte offset and UCS-2 level of the first Joliet SVD.
    pub joliet: Option<(u64, u8)>,
    /// Block of the El Torito boot catalog, from the boot record.
    pub boot_catalog: Option<u32>,
    /// An `NSR02`/`NSR03` descriptor follows the set: the disc also carries UDF.
    pub udf_marker: bool,
}

fn trim_label(s: &str) -> String {
    s.trim_end_matches([' ', '\0']).to_string()
}

/// The volume identifier of a PVD (bytes 40..72), or of a High Sierra one (48..80).
pub fn primary_label(pvd: &[u8], high_sierra: bool) -> String {
    let r = if high_sierra { 48..80 } else { 40..72 };
    trim_label(&String::from_utf8_lossy(&pvd[r]))
}

/// The volume identifier of a Joliet SVD.
pub fn joliet_label(svd: &[u8]) -> String {
    trim_label(&decode_ucs2(&svd[40..72]))
}

/// Reads the descriptor set that starts at block `base_lba + 16`.
pub fn scan(dev: &dyn ByteSource, base_lba: u32) -> Result<Descriptors> {
    let mut d = Descriptors::default();
    let mut buf = [0u8; SECTOR as usize];
    let first = base_lba as u64 + 16;
    let mut block = first;
    let mut terminated = false;
    while block < first + MAX_DESCRIPTORS as u64 {
        if (block + 1) * SECTOR > dev.len() {
            break;
        }
        dev.read_exact_at(&mut buf, block * SECTOR)?;
        let off = block * SECTOR;
        block += 1;
        if &buf[1..6] == b"CD001" {
            match buf[0] {
                0 if &buf[7..30] == b"EL TORITO SPECIFICATION" => {
                    d.boot_catalog.get_or_insert(le32(&buf[71..75]));
                }
                1 => {
                    d.primary.get_or_insert(off);
                }
                2 if d.joliet.is_none() => {
                    d.joliet = joliet_level(&buf[88..120]).map(|level| (off, level));
                }
                255 => {
                    terminated = true;
                    break;
                }
                _ => {}
            }
        } else if &buf[9..14] == b"CDROM" {
            match buf[8] {
                1 if d.primary.is_none() => {
                    d.primary = Some(off);
                    d.high_sierra = true;
                }
                255 => {
                    terminated = true;
                    break;
                }
                _ => {}
            }
        } else if block - 1 == first {
            return Err(FsError::NotFound("ISO 9660"));
        } else {
            // A set without terminator: keep what was found.
            break;
        }
    }
    if terminated {
        // The UDF volume recognition sequence (ECMA-167 2/9) follows: BEA01, NSR0x, TEA01.
        for b in block..block + 16 {
            if (b + 1) * SECTOR > dev.len() {
                break;
            }
            dev.read_exact_at(&mut buf, b * SECTOR)?;
            match &buf[1..6] {
                b"NSR02" | b"NSR03" => {
                    d.udf_marker = true;
                    break;
                }
                b"BEA01" | b"BOOT2" | b"CD001" | b"CDW02" => {}
                _ => break,
            }
        }
    }
    if d.primary.is_none() {
        return Err(FsError::NotFound("ISO 9660"));
    }
    Ok(d)
}
