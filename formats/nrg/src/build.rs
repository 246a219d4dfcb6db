//! Turning a [`Descriptor`] into a [`Disc`] over the image file.
//!
//! **DAO sessions** take their addresses from the CUE entries, which are absolute: index 1
//! of each track gives where its program starts, index 0 (when present) where its pregap
//! starts, index 2+ further indexes. The DAO record says which bytes hold the pregap
//! (`pregap_offset..start_offset`, stored: Nero keeps pregap sectors) and the program
//! (`start_offset..end_offset`). When index 0 lies before the stored pregap, the sectors
//! between are unstored zeros (as libmirage's layout start does for the first track).
//! Control bits (DCP, PRE, 4CH) come from the index 1 entry.
//!
//! **TAO sessions** (ETN records) have no addresses: as libmirage does, each track gets a
//! synthetic, unstored 150-sector pregap and follows the previous one; the first session
//! starts at LBA −150, a later one 11 250 sectors (lead-out 6750 + lead-in 4500) after the
//! first session's lead-out, 6750 after a later one's.
//!
//! On a CD the first track of the disc is extended with unstored zeros down to LBA −150,
//! the pregap every CD has. A gap left between two tracks of a session is given to the
//! earlier track as unstored sectors, so that every address up to the lead-out has a track.

use crate::error::{NrgError, Result};
use crate::mode::{ModeCode, medium_of};
use crate::records::{CueEntry, DaoTrack, Descriptor, EtnTrack, LEADOUT_TRACK, SessionDesc};
use spindle_disc::{
    ByteSource, CdText, Disc, Extent, Isrc, Lba, MAX_LBA, MIN_LBA, Mcn, Medium, Session,
    SourceInfo, Stored, Track, TrackFlags,
};
use std::path::Path;
use std::sync::Arc;

/// The pregap every CD has before LBA 0, and the one TAO tracks get.
const DEFAULT_PREGAP: u32 = 150;
/// Sectors between the end of session 1 and the first track of session 2 (lead-out of
/// session 1 + lead-in of session 2), then between later sessions.
const FIRST_SESSION_GAP: i64 = 11_250;
const LATER_SESSION_GAP: i64 = 6_750;

struct Ctx<'a> {
    path: &'a Path,
    file: Arc<dyn ByteSource>,
    /// Track data must end here: the chunk list starts.
    data_end: u64,
    medium: Medium,
}

impl Ctx<'_> {
    fn corrupt(&self, message: String) -> NrgError {
        NrgError::Corrupt {
            path: self.path.to_path_buf(),
            message,
        }
    }

    /// A run of stored sectors at `offset`, checked to lie before the chunk list.
    fn stored(
        &self,
        what: &dyn Fn() -> String,
        code: ModeCode,
        offset: u64,
        sectors: u64,
    ) -> Result<Extent> {
        let end = sectors
            .checked_mul(code.stride())
            .and_then(|b| b.checked_add(offset));
        if end.is_none_or(|e| e > self.data_end) {
            return Err(NrgError::Truncated {
                path: self.path.to_path_buf(),
                what: format!("{}: {sectors} sectors of {} bytes", what(), code.stride()),
                offset,
                limit: format!(
                    "the track data, which ends where the chunk list starts ({:#x})",
                    self.data_end
                ),
            });
        }
        let mut st = Stored::new(self.file.clone(), offset, code.main);
        st.sub = code.sub;
        Ok(Extent::stored(sectors as u32, st))
    }

    fn lba(&self, what: &dyn Fn() -> String, v: i64) -> Result<Lba> {
        if v < MIN_LBA.0 as i64 || v > MAX_LBA.0 as i64 {
            return Err(self.corrupt(format!("{}: sector {v} is outside any disc", what())));
        }
        Ok(Lba(v as i32))
    }
}

/// Builds the disc of `desc`, whose track data `file` holds.
pub fn build(desc: &Descriptor, file: Arc<dyn ByteSource>, path: &Path) -> Result<Disc> {
    let medium = match desc.mtyp {
        None => Medium::CdRom,
        Some(m) => medium_of(m).ok_or_else(|| NrgError::Unsupported {
            path: path.to_path_buf(),
            message: format!("MTYP chunk: medium type {m:#x} names no medium this reader knows"),
        })?,
    };
    let ctx = Ctx {
        path,
        file: file.clone(),
        data_end: desc.list.offset,
        medium,
    };
    let variant = desc.list.version.name().to_string();
    let mut disc = Disc::new(
        medium,
        SourceInfo {
            format: "nrg".into(),
            variant,
            path: path.to_path_buf(),
            files: vec![path.to_path_buf()],
        },
    );
    let mut next_number = 1u8;
    for (si, s) in desc.sessions.iter().enumerate() {
        let number = si as u8 + 1;
        let mut tracks = match s {
            SessionDesc::Dao {
                cue_chunk,
                cues,
                dao_chunk,
                header,
                tracks,
            } => {
                if disc.mcn.is_none() && !header.mcn.is_empty() {
                    // An MCN that is not 13 digits is ignored, as libmirage validates it.
                    disc.mcn = std::str::from_utf8(&header.mcn).ok().and_then(Mcn::parse);
                }
                let first = if header.first_track != 0 {
                    header.first_track
                } else {
                    next_number
                };
                dao_session(&ctx, cue_chunk, cues, dao_chunk, first, tracks)?
            }
            SessionDesc::Tao { chunk, tracks } => {
                let start = match disc.sessions.last() {
                    None => -(tao_pregap(&ctx) as i64),
                    Some(prev) => {
                        prev.leadout.0 as i64
                            + if prev.number == 1 {
                                FIRST_SESSION_GAP
                            } else {
                                LATER_SESSION_GAP
                            }
                    }
                };
                tao_session(&ctx, chunk, tracks, start, next_number)?
            }
        };
        if si == 0 && medium.is_cd() {
            extend_to_disc_start(&mut tracks[0]);
        }
        fill_gaps(&mut tracks);
        let last = tracks.last().expect("sessions have tracks");
        next_number = last.number.saturating_add(1);
        disc.sessions.push(Session {
            number,
            leadout: last.end(),
            tracks,
        });
    }
    if let Some((packs, chunk)) = &desc.cdtext {
        // CRCs are not checked: writers are known to leave them zero.
        let text =
            CdText::from_packs(packs, false).map_err(|e| ctx.corrupt(format!("{chunk}: {e}")))?;
        disc.cdtext = (!text.blocks.is_empty()).then_some(text);
    }
    disc.validate().map_err(|source| NrgError::Disc {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(disc)
}

fn tao_pregap(ctx: &Ctx) -> u32 {
    if ctx.medium.is_cd() {
        DEFAULT_PREGAP
    } else {
        0
    }
}

fn dao_session(
    ctx: &Ctx,
    cue_chunk: &str,
    cues: &[CueEntry],
    dao_chunk: &str,
    first: u8,
    records: &[DaoTrack],
) -> Result<Vec<Track>> {
    let mut tracks = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let what = || format!("{dao_chunk}, track record {}", i + 1);
        let number = u8::try_from(first as usize + i)
            .ok()
            .filter(|n| (1..=99).contains(n))
            .ok_or_else(|| {
                ctx.corrupt(format!(
                    "{}: track number {} is out of 1..99",
                    what(),
                    first as usize + i
                ))
            })?;
        let code = ModeCode::decode(r.mode_code).ok_or_else(|| {
            unsupported(
                ctx,
                format!("{}: mode code {:#04x} is not known", what(), r.mode_code),
            )
        })?;
        if r.sector_size as u64 != code.stride() {
            return Err(ctx.corrupt(format!(
                "{}: sector size {} does not match mode code {:#04x} ({} bytes a sector)",
                what(),
                r.sector_size,
                r.mode_code,
                code.stride()
            )));
        }
        if r.start_offset < r.pregap_offset || r.end_offset < r.start_offset {
            return Err(ctx.corrupt(format!(
                "{}: offsets out of order (pregap {:#x}, start {:#x}, end {:#x})",
                what(),
                r.pregap_offset,
                r.start_offset,
                r.end_offset
            )));
        }
        let stride = code.stride();
        let (pregap_bytes, program_bytes) = (
            r.start_offset - r.pregap_offset,
            r.end_offset - r.start_offset,
        );
        if !pregap_bytes.is_multiple_of(stride) || !program_bytes.is_multiple_of(stride) {
            return Err(ctx.corrupt(format!(
                "{}: pregap ({pregap_bytes} bytes) or track ({program_bytes} bytes) is not a whole number of {stride}-byte sectors",
                what()
            )));
        }
        let (stored_pregap, program) = (pregap_bytes / stride, program_bytes / stride);
        if program == 0 {
            return Err(ctx.corrupt(format!(
                "{}: the track has no sectors after its pregap",
                what()
            )));
        }
        let of_track = |index: u8| cues.iter().find(|c| c.track == number && c.index == index);
        let index1 = of_track(1).ok_or_else(|| {
            ctx.corrupt(format!("{cue_chunk}: no index 1 entry for track {number}"))
        })?;
        let index1_lba = index1.lba.0 as i64;
        let stored_start = index1_lba - stored_pregap as i64;
        let start = match of_track(0) {
            Some(i0) if (i0.lba.0 as i64) > stored_start => {
                return Err(ctx.corrupt(format!(
                    "{cue_chunk}: track {number} index 0 at {} leaves less pregap than the {stored_pregap} sectors {dao_chunk} stores",
                    i0.lba
                )));
            }
            Some(i0) => i0.lba.0 as i64,
            None => stored_start,
        };
        let start_lba = ctx.lba(&what, start)?;
        let end = ctx.lba(&what, index1_lba + program as i64)?;
        let unstored = (stored_start - start) as u64;
        let mut extents = Vec::new();
        if unstored > 0 {
            extents.push(Extent::zero(unstored as u32));
        }
        if stored_pregap > 0 {
            extents.push(ctx.stored(
                &|| format!("{}, pregap", what()),
                code,
                r.pregap_offset,
                stored_pregap,
            )?);
        }
        extents.push(ctx.stored(&what, code, r.start_offset, program)?);
        let mut extra: Vec<Lba> = cues
            .iter()
            .filter(|c| c.track == number && c.index >= 2)
            .map(|c| c.lba)
            .collect();
        extra.sort();
        tracks.push(Track {
            number,
            mode: code.mode,
            flags: TrackFlags::from_control(index1.adr_ctl >> 4),
            isrc: std::str::from_utf8(&r.isrc).ok().and_then(Isrc::parse),
            start: start_lba,
            pregap: (index1_lba - start) as u32,
            extra_indexes: extra,
            length: end.since(start_lba) as u32,
            postgap: 0,
            extents,
        });
    }
    // A CUE entry for a track no DAO record describes means the two chunks disagree.
    if let Some(c) = cues.iter().find(|c| {
        c.track != 0 && c.track != LEADOUT_TRACK && !tracks.iter().any(|t| t.number == c.track)
    }) {
        return Err(ctx.corrupt(format!(
            "{cue_chunk}: an entry for track {} that {dao_chunk} has no record for (tracks {}..{})",
            c.track,
            first,
            tracks.last().map(|t| t.number).unwrap_or(first)
        )));
    }
    Ok(tracks)
}

fn tao_session(
    ctx: &Ctx,
    chunk: &str,
    records: &[EtnTrack],
    start: i64,
    first: u8,
) -> Result<Vec<Track>> {
    let pregap = tao_pregap(ctx);
    let mut cursor = start;
    let mut tracks = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let what = || format!("{chunk}, track record {}", i + 1);
        let number = u8::try_from(first as usize + i)
            .ok()
            .filter(|n| (1..=99).contains(n))
            .ok_or_else(|| {
                ctx.corrupt(format!(
                    "{}: track number {} is out of 1..99",
                    what(),
                    first as usize + i
                ))
            })?;
        let code = ModeCode::decode(r.mode_code).ok_or_else(|| {
            unsupported(
                ctx,
                format!("{}: mode code {:#04x} is not known", what(), r.mode_code),
            )
        })?;
        let stride = code.stride();
        if r.size == 0 || !r.size.is_multiple_of(stride) {
            return Err(ctx.corrupt(format!(
                "{}: {} bytes is not a whole, non-zero number of {stride}-byte sectors",
                what(),
                r.size
            )));
        }
        let sectors = r.size / stride;
        let start_lba = ctx.lba(&what, cursor)?;
        let end = ctx.lba(&what, cursor + pregap as i64 + sectors as i64)?;
        let mut extents = Vec::new();
        if pregap > 0 {
            extents.push(Extent::zero(pregap));
        }
        extents.push(ctx.stored(&what, code, r.offset, sectors)?);
        tracks.push(Track {
            number,
            mode: code.mode,
            flags: TrackFlags::default(),
            isrc: None,
            start: start_lba,
            pregap,
            extra_indexes: Vec::new(),
            length: end.since(start_lba) as u32,
            postgap: 0,
            extents,
        });
        cursor = end.0 as i64;
    }
    Ok(tracks)
}

fn unsupported(ctx: &Ctx, message: String) -> NrgError {
    NrgError::Unsupported {
        path: ctx.path.to_path_buf(),
        message,
    }
}

/// Gives the disc's first track the unstored sectors down to LBA −150.
fn extend_to_disc_start(t: &mut Track) {
    let disc_start = -(DEFAULT_PREGAP as i64);
    let missing = t.start.0 as i64 - disc_start;
    if missing > 0 {
        t.extents.insert(0, Extent::zero(missing as u32));
        t.start = Lba(disc_start as i32);
        t.pregap += missing as u32;
        t.length += missing as u32;
    }
}

/// Gives each gap between two tracks to the earlier track, as unstored sectors.
fn fill_gaps(tracks: &mut [Track]) {
    for i in 1..tracks.len() {
        let gap = tracks[i].start.since(tracks[i - 1].end());
        if gap > 0 {
            let t = &mut tracks[i - 1];
            t.extents.push(Extent::zero(gap as u32));
            t.length += gap as u32;
        }
    }
}
