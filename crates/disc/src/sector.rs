//! Building and checking raw 2352-byte CD sectors. This is the one place that fills in what
//! an image did not store: sync, header, subheader, EDC, ECC.

use crate::addr::Lba;
use crate::edc_ecc::{self, edc};
use crate::extent::{MainLayout, SectorFields};
use crate::model::TrackMode;

/// A raw CD sector.
pub type RawSector = [u8; 2352];

/// The 12-byte sync pattern that opens every data sector.
pub const SYNC: [u8; 12] = [
    0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
];

/// Submode bit that marks an XA Form 2 sector.
pub const SUBMODE_FORM2: u8 = 0x20;
/// Submode bit that marks data.
pub const SUBMODE_DATA: u8 = 0x08;

/// The form of a Mode 2 sector from its subheader (byte 2 of 16..24 in a raw sector).
pub fn is_form2(subheader: &[u8]) -> bool {
    subheader[2] & SUBMODE_FORM2 != 0
}

/// The subheader an image that did not store one gets: a data sector of the track's form.
pub fn default_subheader(mode: TrackMode) -> [u8; 8] {
    let sm = if mode == TrackMode::Mode2Form2 {
        SUBMODE_FORM2
    } else {
        SUBMODE_DATA
    };
    [0, 0, sm, 0, 0, 0, sm, 0]
}

/// Writes sync and header (absolute MSF in BCD + mode byte).
pub fn write_sync_header(raw: &mut RawSector, lba: Lba, mode: TrackMode) {
    raw[..12].copy_from_slice(&SYNC);
    raw[12..15].copy_from_slice(&lba.to_msf().to_bcd());
    raw[15] = mode.mode_byte();
}

/// Writes the EDC/ECC tail for `mode` (Mode 2 Mixed looks at the subheader).
pub fn write_edc_ecc(raw: &mut RawSector, mode: TrackMode) {
    match effective_mode(raw, mode) {
        TrackMode::Mode1 => edc_ecc::finish_mode1(raw),
        TrackMode::Mode2Form1 => edc_ecc::finish_mode2_form1(raw),
        TrackMode::Mode2Form2 => edc_ecc::finish_mode2_form2(raw),
        _ => {}
    }
}

/// For mixed XA tracks, the form given by the sector's subheader; other modes unchanged.
pub fn effective_mode(raw: &RawSector, mode: TrackMode) -> TrackMode {
    if mode == TrackMode::Mode2Mixed {
        if is_form2(&raw[16..24]) {
            TrackMode::Mode2Form2
        } else {
            TrackMode::Mode2Form1
        }
    } else {
        mode
    }
}

/// Builds a whole raw sector from what an image stored.
///
/// `stored` holds the fields `layout` says were kept, in sector order (`None`: nothing was
/// stored, the sector is synthesised with zero user data). Missing sync and header come from
/// `lba` and `mode`, a missing subheader from [`default_subheader`], and missing EDC/ECC are
/// computed. Stored bytes are never changed.
pub fn build_raw(
    raw: &mut RawSector,
    lba: Lba,
    mode: TrackMode,
    layout: &MainLayout,
    stored: Option<&[u8]>,
) {
    if mode.is_audio() {
        match stored {
            Some(s) => {
                raw.copy_from_slice(&s[..2352]);
                if layout.audio_big_endian {
                    for pair in raw.chunks_exact_mut(2) {
                        pair.swap(0, 1);
                    }
                }
            }
            None => raw.fill(0),
        }
        return;
    }
    let Some(s) = stored else {
        raw.fill(0);
        write_sync_header(raw, lba, mode);
        if mode.has_subheader() {
            raw[16..24].copy_from_slice(&default_subheader(mode));
        }
        write_edc_ecc(raw, mode);
        return;
    };
    if layout.is_raw() {
        raw.copy_from_slice(&s[..2352]);
        return;
    }
    let f = SectorFields::of(mode);
    let mut at = 0;
    let mut take = |n: usize| {
        let r = at..at + n;
        at += n;
        r
    };
    if layout.sync {
        raw[..12].copy_from_slice(&s[take(12)]);
    } else {
        raw[..12].copy_from_slice(&SYNC);
    }
    if layout.header {
        raw[12..16].copy_from_slice(&s[take(4)]);
    } else {
        raw[12..15].copy_from_slice(&lba.to_msf().to_bcd());
        raw[15] = mode.mode_byte();
    }
    let data_at = 16 + f.subheader;
    if mode.has_subheader() {
        if layout.subheader {
            raw[16..24].copy_from_slice(&s[take(8)]);
        } else {
            raw[16..24].copy_from_slice(&default_subheader(mode));
        }
    }
    // User data and tail: for mixed XA the split depends on the form, but both forms take
    // 2328 bytes together, so copy them as one run when both were stored.
    let (user, tail) = match effective_mode(raw, mode) {
        TrackMode::Mode2Form2 => (2324, 4),
        _ => (f.user, f.tail),
    };
    match (layout.user, layout.edc_ecc) {
        (true, true) => raw[data_at..data_at + user + tail].copy_from_slice(&s[take(user + tail)]),
        (true, false) => {
            raw[data_at..data_at + user].copy_from_slice(&s[take(user)]);
            raw[data_at + user..].fill(0);
            write_edc_ecc(raw, mode);
        }
        (false, true) => {
            raw[data_at..data_at + user].fill(0);
            raw[data_at + user..data_at + user + tail].copy_from_slice(&s[take(tail)]);
        }
        (false, false) => {
            raw[data_at..].fill(0);
            write_edc_ecc(raw, mode);
        }
    }
}

/// What a stored raw data sector looks like on inspection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SectorCheck {
    /// EDC and ECC match what the user data gives.
    Good,
    /// A zero-filled sector, or a form whose EDC/ECC is optional and absent.
    Unprotected,
    /// No sync pattern where a data sector needs one.
    NoSync,
    /// The header's mode byte is not the track's.
    WrongMode(u8),
    /// The stored EDC does not match the one computed from the sector's contents.
    BadEdc,
    /// The EDC matches but the bytes after it (P/Q parity, and Mode 1's 8 zero bytes) do not.
    BadEcc,
}

impl SectorCheck {
    /// True for the outcomes that mean a damaged or mislabelled sector (anything but
    /// [`Good`](SectorCheck::Good) and [`Unprotected`](SectorCheck::Unprotected)).
    pub fn is_error(self) -> bool {
        !matches!(self, SectorCheck::Good | SectorCheck::Unprotected)
    }
}

/// Recomputes EDC and ECC of a stored raw data sector from its user data and compares.
pub fn check_raw(raw: &RawSector) -> SectorCheck {
    if raw[..12] != SYNC {
        if raw.iter().all(|&b| b == 0) {
            return SectorCheck::Unprotected;
        }
        return SectorCheck::NoSync;
    }
    let mut fresh = *raw;
    match raw[15] {
        0 => SectorCheck::Unprotected,
        1 => {
            edc_ecc::finish_mode1(&mut fresh);
            compare(raw, &fresh, 0x810, 0x814)
        }
        2 => {
            let sh = &raw[16..24];
            if sh[..4] != sh[4..] {
                // Formless Mode 2: nothing protects the data.
                return SectorCheck::Unprotected;
            }
            if is_form2(sh) {
                let stored = u32::from_le_bytes(raw[0x92C..0x930].try_into().unwrap());
                if stored == 0 {
                    return SectorCheck::Unprotected;
                }
                if edc(&raw[16..0x92C]) == stored {
                    SectorCheck::Good
                } else {
                    SectorCheck::BadEdc
                }
            } else {
                edc_ecc::finish_mode2_form1(&mut fresh);
                compare(raw, &fresh, 0x818, 0x81C)
            }
        }
        m => SectorCheck::WrongMode(m),
    }
}

fn compare(stored: &RawSector, fresh: &RawSector, edc_at: usize, edc_end: usize) -> SectorCheck {
    if stored[edc_at..edc_end] != fresh[edc_at..edc_end] {
        SectorCheck::BadEdc
    } else if stored[edc_end..] != fresh[edc_end..] {
        SectorCheck::BadEcc
    } else {
        SectorCheck::Good
    }
}

/// Guesses the mode of a raw sector from its sync and header (used to sniff raw images).
pub fn sniff_mode(raw: &[u8]) -> Option<TrackMode> {
    if raw.len() < 24 || raw[..12] != SYNC {
        return None;
    }
    match raw[15] {
        1 => Some(TrackMode::Mode1),
        2 => {
            let sh = &raw[16..24];
            // Matching subheader copies (zeros included: submode 0 is Form 1 data) mean XA.
            if sh[..4] == sh[4..] {
                Some(TrackMode::Mode2Mixed)
            } else {
                Some(TrackMode::Mode2Formless)
            }
        }
        0 => Some(TrackMode::Mode0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthesised_sectors_check_good() {
        for mode in [
            TrackMode::Mode1,
            TrackMode::Mode2Form1,
            TrackMode::Mode2Form2,
        ] {
            let mut user = vec![0u8; mode.user_size()];
            for (i, b) in user.iter_mut().enumerate() {
                *b = (i * 7) as u8;
            }
            let mut raw = [0u8; 2352];
            build_raw(&mut raw, Lba(1234), mode, &MainLayout::USER, Some(&user));
            assert_eq!(check_raw(&raw), SectorCheck::Good, "{mode}");
            assert_eq!(&raw[12..16], &[0x00, 0x18, 0x34, mode.mode_byte()]);
            raw[100] ^= 1;
            assert!(check_raw(&raw).is_error(), "{mode}");
        }
    }
}
