//! Generated CUE sheets, and the plan of which sectors a BIN file holds.
//!
//! Conventions (the ones CUE readers share, and that formats/cue parses back):
//! * In session 1, sector 0 of the first file is LBA 0: track 1's 150-sector pregap is
//!   implicit and never stored; `PREGAP` on track 1 adds unstored sectors after it.
//! * Elsewhere `PREGAP` is an unstored pregap, `INDEX 00` starts a stored one, and the first
//!   track of a later session has an implicit 150-sector pregap when it states neither
//!   (`INDEX 00` at the position of `INDEX 01` states an empty one).
//! * `POSTGAP` is unstored; the gap between sessions (lead-out + lead-in) is never stored.

use crate::addr::{Lba, Msf};
use crate::cdtext::CdTextField;
use crate::model::{Disc, Track, TrackMode};
use std::fmt::Write;

/// Pregap every session's first track has when the image says nothing else.
pub const DEFAULT_PREGAP: u32 = 150;
/// Lead-out of session 1 + lead-in of session 2.
pub const FIRST_SESSION_GAP: u32 = 6750 + 4500;
/// Lead-out + lead-in between later sessions.
pub const LATER_SESSION_GAP: u32 = 2250 + 4500;

/// Sectors between the lead-out of session `n` and the first sector of session `n + 1`.
pub fn session_gap(n: u8) -> u32 {
    if n <= 1 {
        FIRST_SESSION_GAP
    } else {
        LATER_SESSION_GAP
    }
}

/// Which sectors of a track a BIN file stores, and the gaps left to the CUE sheet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinTrackPlan {
    /// Track number (1..=99).
    pub track: u8,
    /// First stored sector.
    pub first: Lba,
    /// One past the last stored sector.
    pub end: Lba,
    /// Unstored pregap to declare with `PREGAP` (beyond the implicit one).
    pub pregap_unstored: u32,
    /// Unstored postgap to declare with `POSTGAP`.
    pub postgap_unstored: u32,
}

impl BinTrackPlan {
    /// Number of sectors the BIN file stores for this track (`end - first`).
    pub fn sectors(&self) -> u32 {
        self.end.since(self.first) as u32
    }
}

fn leading_zero(t: &Track) -> u32 {
    let mut n = 0;
    for e in &t.extents {
        if !e.is_zero() {
            break;
        }
        n += e.sectors;
    }
    n.min(t.pregap)
}

fn trailing_zero(t: &Track) -> u32 {
    let mut n = 0;
    for e in t.extents.iter().rev() {
        if !e.is_zero() {
            break;
        }
        n += e.sectors;
    }
    n.min(t.postgap)
}

/// The BIN plan of every track, in disc order.
pub fn bin_plan(disc: &Disc) -> Vec<BinTrackPlan> {
    let mut plans = Vec::new();
    for (si, s) in disc.sessions.iter().enumerate() {
        for (ti, t) in s.tracks.iter().enumerate() {
            let lz = leading_zero(t);
            let (skip, pregap_unstored) = if si == 0 && ti == 0 {
                let implicit = DEFAULT_PREGAP.min(t.pregap);
                (lz.max(implicit), lz.saturating_sub(implicit))
            } else if ti == 0 && lz == t.pregap && t.pregap == DEFAULT_PREGAP {
                (lz, 0)
            } else {
                (lz, lz)
            };
            let tz = trailing_zero(t);
            plans.push(BinTrackPlan {
                track: t.number,
                first: t.start.offset(skip as i64),
                end: t.end().offset(-(tz as i64)),
                pregap_unstored,
                postgap_unstored: tz,
            });
        }
    }
    plans
}

/// The CUE mode keyword for a track stored as 2352-byte sectors.
pub fn cue_mode(mode: TrackMode) -> &'static str {
    match mode {
        TrackMode::Audio => "AUDIO",
        TrackMode::Mode1 => "MODE1/2352",
        _ => "MODE2/2352",
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "'"))
}

/// A CUE sheet for the disc stored as raw 2352-byte sectors, following [`bin_plan`].
/// `file_of(track)` names the BIN file a track is written to; consecutive tracks with the
/// same name share one file.
pub fn cue_sheet(disc: &Disc, file_of: &dyn Fn(u8) -> String) -> String {
    let mut out = String::new();
    let plans = bin_plan(disc);
    let cdtext = disc.cdtext.as_ref().and_then(|c| c.first());
    if let Some(mcn) = &disc.mcn {
        let _ = writeln!(out, "CATALOG {}", mcn.as_str());
    }
    let text_lines = |out: &mut String, track: u8, indent: &str| {
        if let Some(b) = cdtext {
            for f in CdTextField::TEXT {
                if let Some(v) = b.get(track, f) {
                    let _ = writeln!(out, "{indent}{} {}", f.cue_keyword(), quote(v));
                }
            }
        }
    };
    text_lines(&mut out, 0, "");
    let multi = disc.sessions.len() > 1;
    let mut current_file: Option<String> = None;
    let mut file_pos: u64 = 0;
    let mut plan_iter = plans.iter();
    for s in &disc.sessions {
        if multi {
            let _ = writeln!(out, "REM SESSION {:02}", s.number);
        }
        for (ti, t) in s.tracks.iter().enumerate() {
            let p = plan_iter.next().expect("one plan per track");
            let name = file_of(t.number);
            if current_file.as_deref() != Some(name.as_str()) {
                let _ = writeln!(out, "FILE {} BINARY", quote(&name));
                current_file = Some(name);
                file_pos = 0;
            }
            let _ = writeln!(out, "  TRACK {:02} {}", t.number, cue_mode(t.mode));
            text_lines(&mut out, t.number, "    ");
            let flags = t.flags.names();
            if !flags.is_empty() {
                let _ = writeln!(out, "    FLAGS {}", flags.join(" "));
            }
            if let Some(isrc) = &t.isrc {
                let _ = writeln!(out, "    ISRC {}", isrc.as_str());
            }
            if p.pregap_unstored > 0 {
                let _ = writeln!(out, "    PREGAP {}", Msf::from_frames(p.pregap_unstored));
            }
            let at = |lba: Lba| Msf::from_frames((file_pos as i64 + lba.since(p.first)) as u32);
            // A later session's first track with no pregap says so with INDEX 00 = INDEX 01;
            // stating nothing would mean the implicit 150-sector pregap.
            let empty_session_pregap = ti == 0 && s.number > 1 && t.pregap == 0;
            if p.first < t.index1() || empty_session_pregap {
                let _ = writeln!(out, "    INDEX 00 {}", at(p.first));
            }
            let _ = writeln!(out, "    INDEX 01 {}", at(t.index1()));
            for (i, &x) in t.extra_indexes.iter().enumerate() {
                let _ = writeln!(out, "    INDEX {:02} {}", i + 2, at(x));
            }
            if p.postgap_unstored > 0 {
                let _ = writeln!(out, "    POSTGAP {}", Msf::from_frames(p.postgap_unstored));
            }
            file_pos += p.sectors() as u64;
        }
    }
    out
}
