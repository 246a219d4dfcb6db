//! What a Nero mode code and medium type stand for.
//!
//! Mode codes (DAO records and ETN records), as libmirage's `mirage_parser_nrg_decode_mode`
//! determined them experimentally:
//!
//! | code | mode | stored per sector |
//! |------|------|-------------------|
//! | 0x00 | Mode 1 | 2048 user data |
//! | 0x02 | Mode 2 Form 1 | 2048 user data |
//! | 0x03 | Mode 2 (XA) | 2336: subheader + 2328 (libmirage: "Form 2"; in practice either form) |
//! | 0x05 | Mode 1 | 2352 raw |
//! | 0x06 | Mode 2 mixed Form 1/2 | 2352 raw |
//! | 0x07 | Audio | 2352 (little-endian samples, like a BIN) |
//! | 0x0F | Mode 1 | 2352 raw + 96 PW subchannel (interleaved) |
//! | 0x10 | Audio | 2352 + 96 PW subchannel |
//! | 0x11 | Mode 2 mixed | 2352 raw + 96 PW subchannel |
//!
//! Code 0x03 is what Nero writes for Video CDs: libcdio's `videocd.nrg` stores its ISO 9660
//! track (Form 1 sectors) and its MPEG tracks (Form 2) all as 0x03, so it is read as mixed
//! XA with the subheader stored, which tells each sector's form. libmirage takes unknown
//! codes for audio; we refuse them instead of guessing.

use spindle_disc::{MainLayout, Medium, SubLayout, TrackMode};

/// The track mode and stored layout of a mode code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModeCode {
    /// The track mode.
    pub mode: TrackMode,
    /// What each stored sector's main channel holds.
    pub main: MainLayout,
    /// What its subchannel holds.
    pub sub: SubLayout,
}

impl ModeCode {
    /// The mode of a Nero mode code, `None` for an unknown code.
    pub fn decode(code: u8) -> Option<ModeCode> {
        let (mode, main, sub) = match code {
            0x00 => (TrackMode::Mode1, MainLayout::USER, SubLayout::None),
            0x02 => (TrackMode::Mode2Form1, MainLayout::USER, SubLayout::None),
            0x03 => (
                TrackMode::Mode2Mixed,
                MainLayout::MODE2_2336,
                SubLayout::None,
            ),
            0x05 => (TrackMode::Mode1, MainLayout::RAW, SubLayout::None),
            0x06 => (TrackMode::Mode2Mixed, MainLayout::RAW, SubLayout::None),
            0x07 => (TrackMode::Audio, MainLayout::RAW, SubLayout::None),
            0x0F => (
                TrackMode::Mode1,
                MainLayout::RAW,
                SubLayout::Pw96Interleaved,
            ),
            0x10 => (
                TrackMode::Audio,
                MainLayout::RAW,
                SubLayout::Pw96Interleaved,
            ),
            0x11 => (
                TrackMode::Mode2Mixed,
                MainLayout::RAW,
                SubLayout::Pw96Interleaved,
            ),
            _ => return None,
        };
        Some(ModeCode { mode, main, sub })
    }

    /// Bytes from one stored sector to the next.
    pub fn stride(&self) -> u64 {
        (self.main.size(self.mode) + self.sub.size()) as u64
    }
}

// NeroAPI medium type bits (NERO_MEDIA_TYPE; libmirage image-nrg.h).
const MEDIA_CD: u32 = 0x1;
const MEDIA_DDCD: u32 = 0x2;
const MEDIA_DVD_M: u32 = 0x4;
const MEDIA_DVD_P: u32 = 0x8;
const MEDIA_DVD_RAM: u32 = 0x10;
const MEDIA_NO_CDR: u32 = 0x80;
const MEDIA_NO_CDRW: u32 = 0x100;
const MEDIA_DVD_ROM: u32 = 0x200;
const MEDIA_CDROM: u32 = 0x400;
const MEDIA_DVD_P_R9: u32 = 0x4_0000;
const MEDIA_DVD_M_R9: u32 = 0x8_0000;
const MEDIA_BD_ROM: u32 = 0x10_0000;
const MEDIA_BD_R: u32 = 0x20_0000;
const MEDIA_BD_RE: u32 = 0x40_0000;
const MEDIA_HD_DVD_ANY: u32 = 0x380_0000;

/// The medium an `MTYP` value names; `None` for a value with no medium bit we know. Like
/// libmirage, CD bits win over DVD bits, DVD over BD. A plain `MEDIA_CD` ("CD-R/RW", what
/// Nero writes for a CD image) is taken for a CD-ROM: the image is a copy of a disc, not
/// a blank; only the explicit CD-R/CD-RW combinations give a recordable medium.
pub fn medium_of(mtyp: u32) -> Option<Medium> {
    let m = if mtyp & (MEDIA_CD | MEDIA_DDCD | MEDIA_CDROM) != 0 {
        match mtyp & (MEDIA_CD | MEDIA_NO_CDR | MEDIA_NO_CDRW) {
            x if x == MEDIA_CD | MEDIA_NO_CDRW => Medium::CdR,
            x if x == MEDIA_CD | MEDIA_NO_CDR => Medium::CdRw,
            _ => Medium::CdRom,
        }
    } else if mtyp & MEDIA_DVD_ROM != 0 {
        Medium::DvdRom
    } else if mtyp & (MEDIA_DVD_M | MEDIA_DVD_M_R9) != 0 {
        Medium::DvdR
    } else if mtyp & (MEDIA_DVD_P | MEDIA_DVD_P_R9) != 0 {
        Medium::DvdPlusR
    } else if mtyp & MEDIA_DVD_RAM != 0 {
        Medium::DvdRam
    } else if mtyp & MEDIA_BD_ROM != 0 {
        Medium::BdRom
    } else if mtyp & MEDIA_BD_R != 0 {
        Medium::BdR
    } else if mtyp & MEDIA_BD_RE != 0 {
        Medium::BdRe
    } else if mtyp & MEDIA_HD_DVD_ANY != 0 {
        // No HD DVD medium in the disc model: the nearest is a DVD-ROM.
        Medium::DvdRom
    } else {
        return None;
    };
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides() {
        let s = |c| ModeCode::decode(c).unwrap().stride();
        assert_eq!(
            [0x00, 0x02, 0x03, 0x05, 0x06, 0x07, 0x0F, 0x10, 0x11].map(s),
            [2048, 2048, 2336, 2352, 2352, 2352, 2448, 2448, 2448]
        );
        assert!(ModeCode::decode(0x01).is_none());
    }

    #[test]
    fn media() {
        assert_eq!(medium_of(1), Some(Medium::CdRom));
        assert_eq!(medium_of(MEDIA_CD | MEDIA_NO_CDRW), Some(Medium::CdR));
        assert_eq!(medium_of(MEDIA_DVD_ROM), Some(Medium::DvdRom));
        assert_eq!(medium_of(MEDIA_BD_R), Some(Medium::BdR));
        assert_eq!(medium_of(0), None);
    }
}
