//! Consistency checks a format runs on the disc it built, so that a malformed image fails
//! with a message at open time instead of misbehaving later.

use crate::addr::Lba;
use crate::error::{DiscError, Result};
use crate::extent::{ExtentData, MainLayout};
use crate::model::{Disc, TrackMode};

/// Lowest address a track may start at: the start of the lead-in (MSF 90:00:00).
pub const MIN_LBA: Lba = Lba(-45_150);
/// Highest end address accepted: far beyond the largest BD (BD-R XL 128 GB ≈ 62.5 M sectors)
/// while keeping every address computation inside i32.
pub const MAX_LBA: Lba = Lba(1 << 30);

impl Disc {
    /// Checks track numbering, addresses, extents and layouts.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(DiscError::Invalid(m));
        if self.sessions.is_empty() || self.track_count() == 0 {
            return bad("the disc has no tracks".into());
        }
        let mut prev_end = None;
        let mut prev_number = 0u8;
        for (si, s) in self.sessions.iter().enumerate() {
            if s.tracks.is_empty() {
                return bad(format!("session {} has no tracks", s.number));
            }
            if s.number as usize != si + 1 {
                return bad(format!("session {} is numbered {}", si + 1, s.number));
            }
            for t in &s.tracks {
                let end = t.start.0 as i64 + t.length as i64;
                if t.start < MIN_LBA || end > MAX_LBA.0 as i64 {
                    return bad(format!(
                        "track {} spans sectors {} to {end}, outside any disc",
                        t.number, t.start
                    ));
                }
                if t.number == 0 || t.number > 99 || t.number <= prev_number {
                    return bad(format!(
                        "track number {} out of order or out of 1..99",
                        t.number
                    ));
                }
                prev_number = t.number;
                if t.length == 0 || t.pregap as u64 + t.postgap as u64 > t.length as u64 {
                    return bad(format!(
                        "track {} has length {} with pregap {} and postgap {}",
                        t.number, t.length, t.pregap, t.postgap
                    ));
                }
                if let Some(end) = prev_end
                    && t.start < end
                {
                    return bad(format!(
                        "track {} starts at {} inside the previous track (ends at {end})",
                        t.number, t.start
                    ));
                }
                let total: u64 = t.extents.iter().map(|e| e.sectors as u64).sum();
                if total != t.length as u64 {
                    return bad(format!(
                        "track {}: extents cover {total} sectors, the track has {}",
                        t.number, t.length
                    ));
                }
                if t.extra_indexes.len() > 98 {
                    return bad(format!(
                        "track {} has {} indexes; a track has at most 99",
                        t.number,
                        t.extra_indexes.len() + 1
                    ));
                }
                let mut last_index = t.index1();
                for &i in &t.extra_indexes {
                    if i <= last_index || i >= t.end() {
                        return bad(format!("track {}: index at {i} out of order", t.number));
                    }
                    if i >= t.end().offset(-(t.postgap as i64)) {
                        return bad(format!(
                            "track {}: index at {i} lies in the postgap",
                            t.number
                        ));
                    }
                    last_index = i;
                }
                for e in &t.extents {
                    if let ExtentData::Stored(st) = &e.data {
                        let bytes = e.sectors as u64 * st.stride(t.mode) as u64;
                        if st.offset.checked_add(bytes).is_none() {
                            return bad(format!(
                                "track {}: stored sectors at offset {} overflow",
                                t.number, st.offset
                            ));
                        }
                    }
                    let main = match &e.data {
                        ExtentData::Stored(st) => st.main,
                        ExtentData::Custom(c) => c.main_layout(),
                        ExtentData::Zero => continue,
                    };
                    if t.mode == TrackMode::Mode2Mixed
                        && main.user
                        && !main.subheader
                        && !main.is_raw()
                    {
                        return bad(format!(
                            "track {}: mixed Mode 2 sectors stored without subheaders cannot be told apart",
                            t.number
                        ));
                    }
                    // Form 1 and Form 2 differ in where user data ends and EDC/ECC starts, but
                    // take 2328 bytes together: a fixed stride needs both or neither stored.
                    if t.mode == TrackMode::Mode2Mixed && main.user != main.edc_ecc {
                        return bad(format!(
                            "track {}: mixed Mode 2 sectors must store user data and EDC/ECC together",
                            t.number
                        ));
                    }
                    if t.mode.is_audio()
                        && main != MainLayout::RAW
                        && main != MainLayout::RAW_BIG_ENDIAN
                    {
                        return bad(format!(
                            "track {}: audio must be stored as 2352-byte sectors",
                            t.number
                        ));
                    }
                }
                prev_end = Some(t.end());
            }
            if s.leadout != s.tracks.last().unwrap().end() {
                return bad(format!(
                    "session {}: lead-out at {} but the last track ends at {}",
                    s.number,
                    s.leadout,
                    s.tracks.last().unwrap().end()
                ));
            }
        }
        Ok(())
    }
}
