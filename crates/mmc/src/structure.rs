//! READ DISC STRUCTURE answers (MMC-6 §6.23): a 4-byte header (data length, 2 reserved)
//! then the structure. DVD formats 0x00 physical format information, 0x01 copyright, 0x03
//! BCA, 0x04 disc manufacturing information; BD format 0x00 disc information.

use crate::error::{ParseError, need};

/// Format codes.
pub mod format {
    /// DVD 0x00: physical format information (2048 bytes).
    pub const PHYSICAL: u8 = 0x00;
    /// DVD 0x01: copyright information.
    pub const COPYRIGHT: u8 = 0x01;
    /// DVD 0x03: burst cutting area.
    pub const BCA: u8 = 0x03;
    /// DVD 0x04: disc manufacturing information (2048 bytes).
    pub const MANUFACTURING: u8 = 0x04;
    /// BD 0x00 (media type 1): disc information.
    pub const BD_DISC_INFORMATION: u8 = 0x00;
    /// 0xFF: the list of structures the drive can return.
    pub const LIST: u8 = 0xFF;
}

/// Media type field of the CDB.
pub const MEDIA_DVD: u8 = 0;
/// Media type field of the CDB for BD.
pub const MEDIA_BD: u8 = 1;

/// Wraps a structure in its answer header.
pub fn wrap(data: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(4 + data.len());
    let len = (data.len() + 2).min(0xFFFF) as u16;
    b.extend_from_slice(&len.to_be_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(data);
    b
}

/// The structure bytes of an answer (header removed, cut to the data length).
pub fn unwrap(b: &[u8]) -> Result<&[u8], ParseError> {
    need("disc structure header", b, 4)?;
    let len = (u16::from_be_bytes([b[0], b[1]]) as usize).saturating_sub(2);
    Ok(&b[4..(4 + len).min(b.len())])
}

/// The fields of a DVD physical format information block a ripper and a drive care about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhysicalFormat {
    /// Book type (0 DVD-ROM, 1 DVD-RAM, 2 DVD-R, 3 DVD-RW, 9 DVD+RW, 0xA DVD+R...).
    pub book_type: u8,
    /// Part version (byte 0 bits 3-0).
    pub part_version: u8,
    /// 0: 120 mm, 1: 80 mm.
    pub disc_size: u8,
    /// Maximum rate code (2: 10.08 Mbit/s, 0xF: not specified).
    pub max_rate: u8,
    /// Number of layers, 1 or 2 (byte 2 bits 6-5 hold this minus 1).
    pub layers: u8,
    /// Opposite track path (dual layer).
    pub opposite_track_path: bool,
    /// Layer type bits (1 embossed, 2 recordable, 4 rewritable).
    pub layer_type: u8,
    /// Linear density code (byte 3 bits 7-4; 0 = 0.267 µm/bit).
    pub linear_density: u8,
    /// Track density code (byte 3 bits 3-0; 0 = 0.74 µm/track).
    pub track_density: u8,
    /// Physical sector numbers.
    pub data_start: u32,
    /// Last physical sector number of the data area.
    pub data_end: u32,
    /// Last physical sector number of layer 0 (opposite track path), 0 otherwise.
    pub layer0_end: u32,
    /// BCA flag (byte 16 bit 7): the disc has a burst cutting area.
    pub bca_present: bool,
}

/// First physical sector number of a DVD's data area.
pub const DVD_DATA_START_PSN: u32 = 0x30000;

impl PhysicalFormat {
    /// What a single-layer pressed DVD-ROM of `sectors` user sectors reports.
    pub fn dvd_rom(sectors: u32) -> PhysicalFormat {
        PhysicalFormat {
            book_type: 0,
            part_version: 1,
            disc_size: 0,
            max_rate: 2,
            layers: 1,
            opposite_track_path: false,
            layer_type: 1,
            linear_density: 0,
            track_density: 0,
            data_start: DVD_DATA_START_PSN,
            data_end: DVD_DATA_START_PSN + sectors.max(1) - 1,
            layer0_end: 0,
            bca_present: false,
        }
    }

    /// The 2048-byte block.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; 2048];
        b[0] = (self.book_type << 4) | (self.part_version & 0xF);
        b[1] = (self.disc_size << 4) | (self.max_rate & 0xF);
        b[2] = ((self.layers.saturating_sub(1) & 3) << 5)
            | ((self.opposite_track_path as u8) << 4)
            | (self.layer_type & 0xF);
        b[3] = (self.linear_density << 4) | (self.track_density & 0xF);
        b[4..8].copy_from_slice(&self.data_start.to_be_bytes());
        b[8..12].copy_from_slice(&self.data_end.to_be_bytes());
        b[12..16].copy_from_slice(&self.layer0_end.to_be_bytes());
        b[16] = (self.bca_present as u8) << 7;
        b
    }

    /// Decodes the block; [`ParseError::Short`] under 17 bytes.
    pub fn parse(b: &[u8]) -> Result<PhysicalFormat, ParseError> {
        need("DVD physical format information", b, 17)?;
        let d = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Ok(PhysicalFormat {
            book_type: b[0] >> 4,
            part_version: b[0] & 0xF,
            disc_size: b[1] >> 4,
            max_rate: b[1] & 0xF,
            layers: ((b[2] >> 5) & 3) + 1,
            opposite_track_path: b[2] & 0x10 != 0,
            layer_type: b[2] & 0xF,
            linear_density: b[3] >> 4,
            track_density: b[3] & 0xF,
            data_start: d(4),
            data_end: d(8),
            layer0_end: d(12),
            bca_present: b[16] & 0x80 != 0,
        })
    }

    /// User sectors of the data area (parallel track path).
    pub fn sectors(&self) -> u32 {
        self.data_end.saturating_sub(self.data_start) + 1
    }
}

/// DVD copyright information (format 0x01).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Copyright {
    /// Copy protection system type (0 none, 1 CSS/CPPM, 2 CPRM).
    pub protection: u8,
    /// Region management information: a set bit = the disc does NOT play in that region.
    pub region_mask: u8,
}

impl Copyright {
    /// The 4-byte structure.
    pub fn to_bytes(&self) -> [u8; 4] {
        [self.protection, self.region_mask, 0, 0]
    }
    /// Decodes the structure; [`ParseError::Short`] under 2 bytes.
    pub fn parse(b: &[u8]) -> Result<Copyright, ParseError> {
        need("DVD copyright information", b, 2)?;
        Ok(Copyright {
            protection: b[0],
            region_mask: b[1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pfi_round_trip() {
        let p = PhysicalFormat::dvd_rom(1000);
        let b = p.to_bytes();
        assert_eq!(&b[4..12], &[0, 3, 0, 0, 0, 3, 0x03, 0xE7]);
        assert_eq!(PhysicalFormat::parse(&b).unwrap(), p);
        assert_eq!(p.sectors(), 1000);
        let w = wrap(&b);
        assert_eq!(u16::from_be_bytes([w[0], w[1]]), 2050);
        assert_eq!(unwrap(&w).unwrap(), &b[..]);
    }
}
