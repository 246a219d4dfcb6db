//! CD track metadata: the `CHT2` (and older `CHTR`) text entries → a track list.
//!
//! chdman writes one NUL-terminated entry per track (MAME `src/lib/util/cdrom.h`,
//! `CDROM_TRACK_METADATA2_FORMAT`):
//!
//! ```text
//! CHT2: TRACK:%d TYPE:%s SUBTYPE:%s FRAMES:%d PREGAP:%d PGTYPE:%s PGSUB:%s POSTGAP:%d
//! CHTR: TRACK:%d TYPE:%s SUBTYPE:%s FRAMES:%d
//! ```
//!
//! `FRAMES` counts the frames the hunk stream holds for the track: the pregap too when
//! `PGTYPE` starts with `V` (MAME `cdrom_file` sets `pgdatasize` only then), not otherwise.
//! GD-ROM images use `CHGD` entries (with `PAD:`), which this reader refuses.

use spindle_disc::{MainLayout, TrackMode};

/// Metadata tags (big-endian FourCCs).
pub const CHT2: u32 = u32::from_be_bytes(*b"CHT2");
/// `CHTR`: a CD track, v1 text (no pregap or postgap fields).
pub const CHTR: u32 = u32::from_be_bytes(*b"CHTR");
/// `CHGD`: a GD-ROM track (not supported).
pub const CHGD: u32 = u32::from_be_bytes(*b"CHGD");
/// `CHGT`: an old GD-ROM track (not supported).
pub const CHGT: u32 = u32::from_be_bytes(*b"CHGT");
/// `CHCD`: binary CD metadata of chdman before 0.128 (not supported).
pub const CHCD: u32 = u32::from_be_bytes(*b"CHCD");

/// Longest entry accepted (chdman's are under 100 bytes).
pub const MAX_ENTRY_LEN: usize = 1024;

/// A track type chdman writes (`TYPE:`), with the sector bytes each frame stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChdTrackType {
    /// `MODE1`: 2048 bytes of user data.
    Mode1,
    /// `MODE1_RAW`: 2352-byte raw sectors.
    Mode1Raw,
    /// `MODE2`: 2336 bytes after the header (what a CUE `MODE2/2336` track holds).
    Mode2,
    /// `MODE2_FORM1`: 2048 bytes.
    Mode2Form1,
    /// `MODE2_FORM2`: 2324 bytes.
    Mode2Form2,
    /// `MODE2_FORM_MIX`: 2336 bytes (subheader + 2328).
    Mode2FormMix,
    /// `MODE2_RAW`: 2352-byte raw sectors.
    Mode2Raw,
    /// `AUDIO`: 2352 bytes of big-endian samples.
    Audio,
}

impl ChdTrackType {
    /// The track type of a `TYPE:` value, `None` for one not known.
    pub fn parse(s: &str) -> Option<ChdTrackType> {
        Some(match s {
            "MODE1" | "MODE1/2048" => ChdTrackType::Mode1,
            "MODE1_RAW" | "MODE1/2352" => ChdTrackType::Mode1Raw,
            "MODE2" | "MODE2/2336" => ChdTrackType::Mode2,
            "MODE2_FORM1" | "MODE2/2048" => ChdTrackType::Mode2Form1,
            "MODE2_FORM2" | "MODE2/2324" => ChdTrackType::Mode2Form2,
            "MODE2_FORM_MIX" => ChdTrackType::Mode2FormMix,
            "MODE2_RAW" | "MODE2/2352" => ChdTrackType::Mode2Raw,
            "AUDIO" => ChdTrackType::Audio,
            _ => return None,
        })
    }

    /// The disc model's mode and the layout of the bytes at the start of each frame.
    pub fn mode_layout(self) -> (TrackMode, MainLayout) {
        match self {
            ChdTrackType::Mode1 => (TrackMode::Mode1, MainLayout::USER),
            ChdTrackType::Mode1Raw => (TrackMode::Mode1, MainLayout::RAW),
            // chdman writes CUE `MODE2/2336` as `MODE2`, and those 2336 bytes are XA sectors
            // after their header (subheader, data, EDC/ECC): read like the CUE reader does.
            ChdTrackType::Mode2 => (TrackMode::Mode2Mixed, MainLayout::MODE2_2336),
            ChdTrackType::Mode2Form1 => (TrackMode::Mode2Form1, MainLayout::USER),
            ChdTrackType::Mode2Form2 => (TrackMode::Mode2Form2, MainLayout::USER),
            ChdTrackType::Mode2FormMix => (TrackMode::Mode2Mixed, MainLayout::MODE2_2336),
            // As a CUE MODE2/2352 track: the form is read per sector from its subheader.
            ChdTrackType::Mode2Raw => (TrackMode::Mode2Mixed, MainLayout::RAW),
            ChdTrackType::Audio => (TrackMode::Audio, MainLayout::RAW_BIG_ENDIAN),
        }
    }
}

/// The subchannel a track's frames carry (`SUBTYPE:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChdSubType {
    /// `RW_RAW`: 96 bytes of interleaved P-W.
    RwRaw,
    /// `RW`: 96 bytes of cooked R-W (MMC sub-channel 100b). Not used yet (see docs/chd.md).
    Rw,
    /// `NONE`: zeros.
    None,
}

impl ChdSubType {
    /// The subchannel type of a `SUBTYPE:` value, `None` for one not known.
    pub fn parse(s: &str) -> Option<ChdSubType> {
        Some(match s {
            "RW_RAW" => ChdSubType::RwRaw,
            "RW" => ChdSubType::Rw,
            "NONE" => ChdSubType::None,
            _ => return None,
        })
    }
}

/// One track as the metadata describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChdTrack {
    /// Track number, from 1.
    pub number: u32,
    /// How the track's main channel is stored.
    pub kind: ChdTrackType,
    /// How its subchannel is stored.
    pub sub: ChdSubType,
    /// Frames in the hunk stream (stored pregap included).
    pub frames: u32,
    /// Pregap sectors (`PREGAP:`).
    pub pregap: u32,
    /// The pregap is in the hunk stream (`PGTYPE` starts with `V`).
    pub pregap_stored: bool,
    /// Postgap sectors (`POSTGAP:`), never stored.
    pub postgap: u32,
}

/// Parses one `CHT2` (`v2`) or `CHTR` entry. Errors say what is wrong, for the caller to
/// prefix with the file and entry.
pub fn parse_track(value: &[u8], v2: bool) -> Result<ChdTrack, String> {
    if value.len() > MAX_ENTRY_LEN {
        return Err(format!(
            "{} bytes, longer than any track entry",
            value.len()
        ));
    }
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    let text = std::str::from_utf8(&value[..end]).map_err(|_| "not ASCII text".to_string())?;
    let mut fields: Vec<(&str, &str)> = Vec::new();
    for word in text.split_ascii_whitespace() {
        let (k, v) = word
            .split_once(':')
            .ok_or_else(|| format!("{word:?} is not KEY:VALUE"))?;
        if fields.iter().any(|(x, _)| *x == k) {
            return Err(format!("{k} appears twice"));
        }
        fields.push((k, v));
    }
    let get = |k: &str| fields.iter().find(|(x, _)| *x == k).map(|(_, v)| *v);
    let need = |k: &str| get(k).ok_or_else(|| format!("no {k} field"));
    let num = |k: &str, v: &str| -> Result<u32, String> {
        if v.is_empty() || v.len() > 9 || !v.bytes().all(|c| c.is_ascii_digit()) {
            return Err(format!("{k}: {v:?} is not a number"));
        }
        v.parse().map_err(|_| format!("{k}: {v:?} is not a number"))
    };
    let number = num("TRACK", need("TRACK")?)?;
    let kind_s = need("TYPE")?;
    let kind = ChdTrackType::parse(kind_s)
        .ok_or_else(|| format!("TYPE: unknown track type {kind_s:?}"))?;
    let sub_s = need("SUBTYPE")?;
    let sub = ChdSubType::parse(sub_s)
        .ok_or_else(|| format!("SUBTYPE: unknown subchannel type {sub_s:?}"))?;
    let frames = num("FRAMES", need("FRAMES")?)?;
    let (pregap, pregap_stored, postgap) = if v2 {
        let pregap = num("PREGAP", need("PREGAP")?)?;
        let pgtype = need("PGTYPE")?;
        // PGSUB says the pregap's subchannel type; the frames carry it like the track's.
        need("PGSUB")?;
        let postgap = num("POSTGAP", need("POSTGAP")?)?;
        (pregap, pgtype.starts_with('V'), postgap)
    } else {
        (0, false, 0)
    };
    if number == 0 || number > 99 {
        return Err(format!("TRACK: track number {number} outside 1..99"));
    }
    if pregap_stored && pregap > frames {
        return Err(format!(
            "PREGAP: {pregap} stored pregap frames but the track has {frames} frames"
        ));
    }
    if frames == 0 || (pregap_stored && frames == pregap) {
        return Err(format!(
            "FRAMES: {frames}: the track has no frames after its pregap"
        ));
    }
    Ok(ChdTrack {
        number,
        kind,
        sub,
        frames,
        pregap,
        pregap_stored,
        postgap,
    })
}
