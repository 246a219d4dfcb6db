//! What a track block says about its sectors: the track mode, which parts of each sector the
//! image stored, and the subchannel stored after them.
//!
//! MDS v1 (formats.md §2.3) gives a mode code (libmirage reads only its low nibble) and the
//! stored sector size; the layout follows from the size. MDS v2/MDX (§1.6) gives the sector
//! type in bits 0–2 and one flag per stored part (0x80 sync, 0x20 header, 0x40 subheader,
//! 0x08 EDC/ECC), so DAEMON Tools' partial sectors (2052, 2060...) are described exactly.

use spindle_disc::{MainLayout, SubLayout, TrackMode};

/// How a track's sectors are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrackFormat {
    /// The track mode.
    pub mode: TrackMode,
    /// What each stored sector's main channel holds.
    pub main: MainLayout,
    /// What its subchannel holds.
    pub sub: SubLayout,
}

impl TrackFormat {
    /// Bytes per stored sector (main plus subchannel).
    pub fn stride(&self) -> usize {
        self.main.size(self.mode) + self.sub.size()
    }
}

/// XA tracks whose sectors are stored with their subheaders and EDC/ECC read as mixed Mode 2:
/// the form of each sector then comes from its own subheader (raw dumps of PlayStation and
/// VCD discs mix both forms under one mode code).
fn xa_mixed(mode: TrackMode, main: MainLayout) -> TrackMode {
    let xa = matches!(mode, TrackMode::Mode2Form1 | TrackMode::Mode2Form2);
    if xa && main.subheader && main.user && main.edc_ecc {
        TrackMode::Mode2Mixed
    } else {
        mode
    }
}

/// MDS v1: mode code, subchannel code and stored sector size. `Err` says what is wrong.
pub fn v1(mode_code: u8, sub_code: u8, sector_size: u16, dvd: bool) -> Result<TrackFormat, String> {
    let sub = match sub_code {
        0x00 => SubLayout::None,
        0x08 => SubLayout::Pw96Interleaved,
        x => return Err(format!("unknown subchannel code {x:#04x}")),
    };
    let mode = if dvd {
        TrackMode::Mode1
    } else {
        match mode_code & 0x0F {
            0x1 | 0x9 => TrackMode::Audio,
            0x2 | 0xA => TrackMode::Mode1,
            0x4 | 0xC => TrackMode::Mode2Form1,
            0x5 | 0xD => TrackMode::Mode2Form2,
            0x0 | 0x3 | 0x7 | 0x8 | 0xB | 0xF => TrackMode::Mode2Formless,
            _ => return Err(format!("unknown track mode code {mode_code:#04x}")),
        }
    };
    let main_size = (sector_size as usize)
        .checked_sub(sub.size())
        .ok_or_else(|| format!("sector size {sector_size} is smaller than its subchannel"))?;
    let user_edc = MainLayout {
        edc_ecc: true,
        ..MainLayout::USER
    };
    let main = [
        MainLayout::RAW,
        MainLayout::USER,
        MainLayout::MODE2_2336,
        user_edc,
    ]
    .into_iter()
    .find(|l| l.size(mode) == main_size && (mode.is_data() || l.is_raw()))
    .ok_or_else(|| format!("sector size {sector_size} does not fit a {mode} track"))?;
    Ok(TrackFormat {
        mode: xa_mixed(mode, main),
        main,
        sub,
    })
}

/// MDS v1 mode code for a track (what Alcohol 120% writes).
pub fn v1_code(mode: TrackMode, dvd: bool) -> u8 {
    if dvd {
        return 0x02;
    }
    match mode {
        TrackMode::Audio => 0xA9,
        TrackMode::Mode1 => 0xAA,
        TrackMode::Mode0 | TrackMode::Mode2Formless => 0xAB,
        TrackMode::Mode2Form1 | TrackMode::Mode2Mixed => 0xAC,
        TrackMode::Mode2Form2 => 0xAD,
    }
}

const V2_SYNC: u8 = 0x80;
const V2_SUBHEADER: u8 = 0x40;
const V2_HEADER: u8 = 0x20;
const V2_EDC_ECC: u8 = 0x08;

/// MDS v2/MDX: mode byte, subchannel byte and stored sector size.
pub fn v2(mode_code: u8, sub_code: u8, sector_size: u16, dvd: bool) -> Result<TrackFormat, String> {
    let mode = match mode_code & 7 {
        1 => TrackMode::Audio,
        2 => TrackMode::Mode1,
        3 => TrackMode::Mode2Formless,
        4 => TrackMode::Mode2Form1,
        5 => TrackMode::Mode2Form2,
        x => {
            return Err(format!(
                "unknown sector type {x} in mode byte {mode_code:#04x}"
            ));
        }
    };
    let main = if mode.is_audio() {
        MainLayout::RAW
    } else {
        MainLayout {
            sync: mode_code & V2_SYNC != 0,
            header: mode_code & V2_HEADER != 0,
            subheader: mode_code & V2_SUBHEADER != 0 && mode.has_subheader(),
            user: true,
            edc_ecc: mode_code & V2_EDC_ECC != 0 && mode != TrackMode::Mode2Formless,
            audio_big_endian: false,
        }
    };
    // A part the mode does not have (Mode 1's subheader, formless Mode 2's EDC/ECC): a
    // sector with every other part stored is a full raw sector.
    let full = MainLayout {
        subheader: main.subheader || !mode.has_subheader(),
        edc_ecc: main.edc_ecc || mode == TrackMode::Mode2Formless,
        ..main
    };
    let main = if full.is_raw() { MainLayout::RAW } else { main };
    if dvd && (mode != TrackMode::Mode1 || main != MainLayout::USER) {
        return Err(format!(
            "a DVD track must hold 2048-byte sectors (mode byte {mode_code:#04x})"
        ));
    }
    let main_size = main.size(mode);
    let sub = match (sub_code >> 3) & 7 {
        // Version 2.0 leaves the field empty: the sector size tells.
        0 => match (sector_size as usize).checked_sub(main_size) {
            Some(0) => SubLayout::None,
            Some(16) => SubLayout::Q16,
            Some(96) => SubLayout::Pw96Interleaved,
            _ => {
                return Err(format!(
                    "sector size {sector_size} does not fit a {mode} track storing {main_size} bytes per sector"
                ));
            }
        },
        1 => SubLayout::Pw96Interleaved,
        2 => SubLayout::Q16,
        x => return Err(format!("unsupported subchannel type {x}")),
    };
    if main_size + sub.size() != sector_size as usize {
        return Err(format!(
            "sector size {sector_size} disagrees with the mode byte {mode_code:#04x} ({main_size} bytes) and subchannel ({} bytes)",
            sub.size()
        ));
    }
    Ok(TrackFormat {
        mode: xa_mixed(mode, main),
        main,
        sub,
    })
}

/// MDS v2/MDX mode byte and subchannel byte for a stored layout.
pub fn v2_codes(f: &TrackFormat) -> (u8, u8) {
    let ty = match f.mode {
        TrackMode::Audio => 1,
        TrackMode::Mode1 => 2,
        TrackMode::Mode0 | TrackMode::Mode2Formless => 3,
        TrackMode::Mode2Form1 | TrackMode::Mode2Mixed => 4,
        TrackMode::Mode2Form2 => 5,
    };
    let m = f.main;
    let mut code = ty;
    if f.mode.is_data() {
        let subheader = m.subheader && f.mode.has_subheader();
        let edc_ecc = m.edc_ecc && f.mode != TrackMode::Mode2Formless;
        for (on, bit) in [
            (m.sync, V2_SYNC),
            (m.header, V2_HEADER),
            (subheader, V2_SUBHEADER),
            (edc_ecc, V2_EDC_ECC),
        ] {
            if on {
                code |= bit;
            }
        }
    }
    let sub = match f.sub {
        SubLayout::None => 0,
        SubLayout::Pw96Interleaved | SubLayout::Pw96Linear => 1 << 3,
        SubLayout::Q16 => 2 << 3,
    };
    (code, sub)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_layouts() {
        let f = v1(0xAA, 0, 2352, false).unwrap();
        assert_eq!(
            (f.mode, f.main, f.sub),
            (TrackMode::Mode1, MainLayout::RAW, SubLayout::None)
        );
        let f = v1(0xA9, 0x08, 2448, false).unwrap();
        assert_eq!(
            (f.mode, f.sub, f.stride()),
            (TrackMode::Audio, SubLayout::Pw96Interleaved, 2448)
        );
        assert_eq!(
            v1(0xAC, 0, 2352, false).unwrap().mode,
            TrackMode::Mode2Mixed
        );
        assert_eq!(
            v1(0xAC, 0, 2048, false).unwrap().mode,
            TrackMode::Mode2Form1
        );
        assert_eq!(v1(0x02, 0, 2048, true).unwrap().main, MainLayout::USER);
        assert!(v1(0xA9, 0, 2048, false).is_err());
        assert!(v1(0xAA, 0x08, 50, false).is_err());
        assert!(v1(0xA6, 0, 2352, false).is_err());
    }

    #[test]
    fn v2_layouts() {
        // The mdsx samples: Mode 1, user data only.
        let f = v2(0x02, 0, 2048, false).unwrap();
        assert_eq!((f.mode, f.main), (TrackMode::Mode1, MainLayout::USER));
        // TAGES-style partial sectors: header + data.
        let f = v2(0x22, 0, 2052, false).unwrap();
        assert!(f.main.header && !f.main.sync && !f.main.edc_ecc);
        assert_eq!(v2_codes(&v2(0xAA, 0, 2352, false).unwrap()).0, 0xAA);
        // Full raw with Q16 inferred from the size (v2.0).
        let f = v2(0x02 | 0x80 | 0x20 | 0x08, 0, 2368, false).unwrap();
        assert_eq!((f.main, f.sub), (MainLayout::RAW, SubLayout::Q16));
        assert!(v2(0x02, 0, 2100, false).is_err());
        assert!(v2(0x07, 0, 2048, false).is_err());
        for f in [
            v2(0xEC, 0x08, 2448, false).unwrap(),
            v2(0x01, 0x10, 2368, false).unwrap(),
            v2(0x22, 0, 2052, false).unwrap(),
        ] {
            let (m, s) = v2_codes(&f);
            assert_eq!(v2(m, s, f.stride() as u16, false).unwrap(), f);
        }
    }
}
