//! What kind of disc is in the drive, and the disc-level structures a drive reports
//! (DVD/BD structures, the raw full TOC, DPM data).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The physical medium a disc image stands for. Decides which profile an emulated drive
/// reports and whether raw CD sectors exist at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Medium {
    /// Pressed CD (CD-ROM or CD-DA).
    CdRom,
    /// Recordable CD.
    CdR,
    /// Rewritable CD.
    CdRw,
    /// Pressed DVD.
    DvdRom,
    /// DVD-R (recordable, dash format).
    DvdR,
    /// DVD-RW (rewritable, dash format).
    DvdRw,
    /// DVD+R (recordable, plus format).
    DvdPlusR,
    /// DVD+RW (rewritable, plus format).
    DvdPlusRw,
    /// DVD-RAM.
    DvdRam,
    /// Pressed Blu-ray disc.
    BdRom,
    /// Recordable Blu-ray disc.
    BdR,
    /// Rewritable Blu-ray disc.
    BdRe,
}

/// The broad family of a medium.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MediumFamily {
    /// Compact discs: raw 2352-byte sectors, subchannel, TOC.
    Cd,
    /// DVDs: 2048-byte sectors only.
    Dvd,
    /// Blu-ray discs: 2048-byte sectors only.
    Bd,
}

/// Largest image (in bytes) still taken for a CD when guessing from size: 900 MB covers
/// 99-minute overburnt CD-Rs.
pub const CD_MAX_BYTES: u64 = 900_000_000;
/// Largest dual-layer DVD (DVD-9/DVD+R DL).
pub const DVD_MAX_BYTES: u64 = 8_547_991_552;

impl Medium {
    /// The family (CD, DVD or BD) the medium belongs to.
    pub fn family(self) -> MediumFamily {
        use Medium::*;
        match self {
            CdRom | CdR | CdRw => MediumFamily::Cd,
            DvdRom | DvdR | DvdRw | DvdPlusR | DvdPlusRw | DvdRam => MediumFamily::Dvd,
            BdRom | BdR | BdRe => MediumFamily::Bd,
        }
    }

    /// True for the CD family (the only one with raw sectors and subchannel).
    pub fn is_cd(self) -> bool {
        self.family() == MediumFamily::Cd
    }

    /// Guesses a pressed medium from the size of its user data.
    pub fn guess_from_size(bytes: u64) -> Medium {
        if bytes <= CD_MAX_BYTES {
            Medium::CdRom
        } else if bytes <= DVD_MAX_BYTES {
            Medium::DvdRom
        } else {
            Medium::BdRom
        }
    }

    /// The medium's usual name (`CD-ROM`, `DVD+RW`, `BD-RE`...), as the [`Display`](fmt::Display)
    /// impl shows it.
    pub fn name(self) -> &'static str {
        use Medium::*;
        match self {
            CdRom => "CD-ROM",
            CdR => "CD-R",
            CdRw => "CD-RW",
            DvdRom => "DVD-ROM",
            DvdR => "DVD-R",
            DvdRw => "DVD-RW",
            DvdPlusR => "DVD+R",
            DvdPlusRw => "DVD+RW",
            DvdRam => "DVD-RAM",
            BdRom => "BD-ROM",
            BdR => "BD-R",
            BdRe => "BD-RE",
        }
    }
}

impl fmt::Display for Medium {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One entry of the raw full TOC (READ TOC format 2), as stored by images that keep it
/// (MDS, CCD, NRG). MSF fields are binary here, not BCD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TocEntry {
    /// Session number (1-based).
    pub session: u8,
    /// CONTROL in the high nibble, ADR in the low nibble.
    pub adr_ctl: u8,
    /// TNO: the track number field of the Q subchannel (0 in the lead-in).
    pub tno: u8,
    /// POINT: the track number the entry describes, or A0/A1/A2/B0/C0... for the session
    /// entries (MMC, READ TOC format 2).
    pub point: u8,
    /// MIN of the running time where the entry was read.
    pub min: u8,
    /// SEC of the running time where the entry was read.
    pub sec: u8,
    /// FRAME of the running time where the entry was read.
    pub frame: u8,
    /// The ZERO byte between the running time and PMIN (0 on a CD).
    pub zero: u8,
    /// PMIN: minutes of the address POINT refers to (or the first/last track number for A0/A1).
    pub pmin: u8,
    /// PSEC: seconds of the address POINT refers to (or the disc type for A0).
    pub psec: u8,
    /// PFRAME: frames of the address POINT refers to.
    pub pframe: u8,
}

/// DVD and BD disc structures (READ DISC STRUCTURE), per layer where it applies.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscStructures {
    /// Physical format information, one 2048-byte block per layer.
    pub pfi: Vec<Vec<u8>>,
    /// Disc manufacturing information, one 2048-byte block per layer.
    pub dmi: Vec<Vec<u8>>,
    /// Copyright information (4 bytes) per layer.
    pub copyright: Vec<Vec<u8>>,
    /// Burst cutting area.
    pub bca: Option<Vec<u8>>,
    /// BD disc information.
    pub bd_disc_info: Option<Vec<u8>>,
}

impl DiscStructures {
    /// True when no structure of any kind is held.
    pub fn is_empty(&self) -> bool {
        self.pfi.is_empty()
            && self.dmi.is_empty()
            && self.copyright.is_empty()
            && self.bca.is_none()
            && self.bd_disc_info.is_none()
    }
}

/// Data position measurement: sampled rotation angles used by some copy protections
/// (StarForce, SecuROM) to check read timing. Kept as stored (MDS layout, formats.md §2.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dpm {
    /// Sector the first entry was taken at.
    pub start_sector: u32,
    /// Sectors between two entries.
    pub resolution: u32,
    /// Cumulative angles in 1/256 rotation.
    pub entries: Vec<u32>,
}
