//! From a parsed [`Ccd`] to a [`Disc`]: sessions and tracks placed by the full TOC, sectors in
//! the `.img`, subchannel in the `.sub`, modes sniffed from sector headers.
//!
//! Layout (libmirage `image-ccd/parser.c`, psx-spx): the `.img` holds every sector from LBA 0
//! as 2352 bytes, track after track and session after session; pregaps between tracks are in
//! it, the gaps between sessions (lead-out + lead-in) are not. The `.sub` holds 96 bytes of
//! P-W per `.img` sector, channel after channel (P 12 bytes, Q 12, ... W 12).
//!
//! Addresses: a track entry's PLBA is its index 1; the A2 entry's PLBA is the session's
//! lead-out. A track runs from its start (index 1 minus its pregap) to the next track's start,
//! the last one to the lead-out. Pregaps:
//! - track 1 of session 1 starts at LBA −150; the 150 sectors before LBA 0 are not stored, and
//!   any sectors from LBA 0 to its index 1 are a stored pregap (a hidden track);
//! - other tracks: `INDEX 1 − INDEX 0` of their `[TRACK]` section (stored), 0 without INDEX 0;
//! - the first track of a later session: with INDEX 0, as above; without it, libmirage reads an
//!   INDEX 1 below PLBA as relative to the session start, so as a stored pregap of that many
//!   sectors; otherwise the usual 150-sector pregap, unstored.
//!
//! Track modes come from the sector headers at index 1 (sync, mode byte, XA subheader copies):
//! CloneCD's `MODE=` is not reliable (libmirage ignores it for the same reason); `MODE=` and the
//! entry's CONTROL decide only when no sector carries a sync.

use crate::descriptor::{Ccd, Entry, TrackSection};
use crate::error::{CcdError, Result};
use spindle_disc::cuesheet::DEFAULT_PREGAP;
use spindle_disc::{
    ByteSource, Companions, Disc, Extent, Lba, MainLayout, Medium, Session, SourceInfo, Stored,
    SubLayout, SubStream, TocEntry, Track, TrackMode,
};
use std::path::Path;
use std::sync::Arc;

const SECTOR: u64 = 2352;
const SUB: u64 = 96;
/// Sectors at index 1 whose headers are read to tell the track mode.
const SNIFF_SECTORS: u32 = 8;

/// The data files of an image: the `.img`, and the `.sub` when there is a non-empty one.
pub struct DataFiles {
    /// The `.img`: 2352-byte raw sectors from LBA 0.
    pub img: Arc<dyn ByteSource>,
    /// The `.sub`: 96 bytes of deinterleaved P-W per `.img` sector, when there is one.
    pub sub: Option<Arc<dyn ByteSource>>,
}

/// Opens `<stem>.img` and `<stem>.sub` through the companions. A missing or empty `.sub` is
/// no subchannel (psx-spx: it may be omitted or 0 bytes long).
pub fn open_data_files(path: &Path, companions: &dyn Companions) -> Result<DataFiles> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let img_name = format!("{stem}.img");
    let img = companions
        .open(&img_name)
        .map_err(|source| CcdError::MissingFile {
            path: path.to_path_buf(),
            name: img_name,
            source,
        })?;
    let sub_name = format!("{stem}.sub");
    let sub = match companions.open(&sub_name) {
        Ok(s) if s.is_empty() => None,
        Ok(s) => Some(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(CcdError::MissingFile {
                path: path.to_path_buf(),
                name: sub_name,
                source,
            });
        }
    };
    Ok(DataFiles { img, sub })
}

/// Where one track lies, before its mode is known.
struct Placed<'a> {
    entry: &'a Entry,
    section: Option<&'a TrackSection>,
    start: i64,
    index1: i64,
    /// First sector kept in the `.img` (the sectors from `start` to here are unstored zeros).
    stored_from: i64,
    end: i64,
}

/// Builds the disc described by `ccd` over `files`.
pub fn build(ccd: &Ccd, files: &DataFiles) -> Result<Disc> {
    let path = ccd.path.as_path();
    let corrupt = |message: String| CcdError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    let syntax = |line: usize, message: String| CcdError::Syntax {
        path: path.to_path_buf(),
        line,
        message,
    };
    // Entries by session; sessions must run 1, 2, 3... with no hole.
    let last_session = ccd
        .entries
        .iter()
        .map(|e| e.session)
        .max()
        .ok_or_else(|| corrupt("no [Entry] sections: the file has no TOC".into()))?;
    if let Some((n, line)) = ccd.sessions
        && n != last_session as u32
    {
        return Err(syntax(
            line,
            format!("Sessions={n} but the [Entry] sections describe {last_session}"),
        ));
    }
    for (number, t) in &ccd.tracks {
        if !ccd
            .entries
            .iter()
            .any(|e| e.is_track() && e.point == *number)
        {
            return Err(syntax(
                t.line,
                format!("[TRACK {number}] has no [Entry] with Point={number}"),
            ));
        }
    }
    let mut disc = Disc::new(
        Medium::CdRom,
        SourceInfo {
            format: "ccd".into(),
            variant: if ccd.data_tracks_scrambled {
                "CloneCD (scrambled data)".into()
            } else {
                "CloneCD".into()
            },
            path: path.to_path_buf(),
            files: std::iter::once(files.img.path().to_path_buf())
                .chain(files.sub.iter().map(|s| s.path().to_path_buf()))
                .collect(),
        },
    );
    let mut img_sectors: u64 = 0;
    let mut prev_leadout: Option<i64> = None;
    for number in 1..=last_session {
        let entries: Vec<&Entry> = ccd.entries.iter().filter(|e| e.session == number).collect();
        let leadout_entry = entries.iter().find(|e| e.point == 0xA2).ok_or_else(|| {
            corrupt(format!(
                "session {number} has no lead-out entry (Point=0xa2)"
            ))
        })?;
        let mut tracks: Vec<&Entry> = entries.iter().copied().filter(|e| e.is_track()).collect();
        if tracks.is_empty() {
            return Err(corrupt(format!("session {number} has no track entries")));
        }
        tracks.sort_by_key(|e| e.point);
        if let Some(w) = tracks.windows(2).find(|w| w[0].point == w[1].point) {
            return Err(syntax(
                w[1].line,
                format!("track {} has two entries", w[1].point),
            ));
        }
        let leadout = leadout_entry.p_lba() as i64;
        let mut placed: Vec<Placed> = Vec::new();
        for (ti, e) in tracks.iter().enumerate() {
            let section = ccd.tracks.get(&e.point);
            let index1 = e.p_lba() as i64;
            let idx = |n: u8| section.and_then(|s| s.indexes.get(&n)).map(|&v| v as i64);
            let (start, stored_from) = if number == 1 && ti == 0 {
                if index1 < 0 {
                    return Err(syntax(
                        e.line,
                        format!("track {} starts at LBA {index1}, before LBA 0", e.point),
                    ));
                }
                (-(DEFAULT_PREGAP as i64), 0)
            } else {
                let stored_pregap = match (idx(0), idx(1)) {
                    (Some(i0), i1) => Some(i1.unwrap_or(index1) - i0),
                    (None, Some(i1)) if ti == 0 && i1 < index1 => Some(i1),
                    _ => None,
                };
                match stored_pregap {
                    Some(p) if p < 0 => {
                        let line = section.map_or(e.line, |s| s.line);
                        return Err(syntax(
                            line,
                            format!("track {}: INDEX 0 lies after INDEX 1", e.point),
                        ));
                    }
                    Some(p) => (index1 - p, index1 - p),
                    None if ti == 0 => (index1 - DEFAULT_PREGAP as i64, index1),
                    None => (index1, index1),
                }
            };
            if let Some(prev) = placed.last() {
                if start <= prev.index1 {
                    return Err(syntax(
                        e.line,
                        format!(
                            "track {} starts at LBA {start}, not after track {}'s index 1 ({})",
                            e.point, prev.entry.point, prev.index1
                        ),
                    ));
                }
            } else if let Some(prev) = prev_leadout
                && start < prev
            {
                return Err(syntax(
                    e.line,
                    format!(
                        "track {} starts at LBA {start}, before the previous session's lead-out ({prev})",
                        e.point
                    ),
                ));
            }
            if let Some(prev) = placed.last_mut() {
                prev.end = start;
            }
            placed.push(Placed {
                entry: e,
                section,
                start,
                index1,
                stored_from,
                end: leadout,
            });
        }
        let last = placed.last().unwrap();
        if leadout <= last.index1 {
            return Err(syntax(
                leadout_entry.line,
                format!(
                    "session {number}: lead-out at LBA {leadout} is not after the last track's index 1 ({})",
                    last.index1
                ),
            ));
        }
        let mut session = Session {
            number,
            tracks: Vec::new(),
            leadout: Lba(leadout as i32),
        };
        for p in &placed {
            let track = build_track(ccd, files, p, &mut img_sectors)?;
            session.tracks.push(track);
        }
        prev_leadout = Some(leadout);
        disc.sessions.push(session);
    }
    check_lengths(files, img_sectors)?;
    disc.mcn = ccd.catalog.clone();
    if !ccd.cdtext.is_empty() {
        let text = spindle_disc::CdText::from_packs(&ccd.cdtext, false)
            .map_err(|e| corrupt(format!("[CDText]: {e}")))?;
        disc.cdtext = Some(text);
    }
    disc.full_toc = ccd
        .entries
        .iter()
        .map(|e| TocEntry {
            session: e.session,
            adr_ctl: (e.control << 4) | e.adr,
            tno: e.track_no,
            point: e.point,
            min: e.amin,
            sec: e.asec,
            frame: e.aframe,
            zero: e.zero,
            pmin: e.pmin,
            psec: e.psec,
            pframe: e.pframe,
        })
        .collect();
    disc.validate().map_err(|source| CcdError::Disc {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(disc)
}

fn check_lengths(files: &DataFiles, sectors: u64) -> Result<()> {
    let need = sectors * SECTOR;
    if files.img.len() < need {
        return Err(CcdError::Truncated {
            file: files.img.path().to_path_buf(),
            message: format!(
                "holds {} bytes ({} sectors of 2352), the control file describes {sectors} sectors ({need} bytes)",
                files.img.len(),
                files.img.len() / SECTOR
            ),
        });
    }
    if let Some(sub) = &files.sub
        && sub.len() < sectors * SUB
    {
        return Err(CcdError::Truncated {
            file: sub.path().to_path_buf(),
            message: format!(
                "holds {} bytes ({} records of 96), the image has {sectors} sectors ({} bytes)",
                sub.len(),
                sub.len() / SUB,
                sectors * SUB
            ),
        });
    }
    Ok(())
}

fn build_track(ccd: &Ccd, files: &DataFiles, p: &Placed, img_sectors: &mut u64) -> Result<Track> {
    let e = p.entry;
    let stored = (p.end - p.stored_from) as u64;
    let first = *img_sectors;
    let mode = track_mode(ccd, files, p, first + (p.index1 - p.stored_from) as u64)?;
    let mut flags = spindle_disc::TrackFlags::from_control(e.control);
    if let Some(s) = p.section {
        flags.scms = s.flags.scms;
        flags.copy_permitted |= s.flags.copy_permitted;
        flags.four_channel |= s.flags.four_channel && mode.is_audio();
        flags.pre_emphasis |= s.flags.pre_emphasis && mode.is_audio();
    }
    let mut extents = Vec::new();
    let unstored = (p.stored_from - p.start) as u32;
    if unstored > 0 {
        extents.push(Extent::zero(unstored));
    }
    let data = Stored {
        file: files.img.clone(),
        offset: first * SECTOR,
        main: MainLayout::RAW,
        sub: SubLayout::None,
        scrambled: ccd.data_tracks_scrambled && mode.is_data(),
        sub_stream: files.sub.as_ref().map(|s| SubStream {
            file: s.clone(),
            offset: first * SUB,
            layout: SubLayout::Pw96Linear,
        }),
    };
    extents.push(Extent::stored(stored as u32, data));
    *img_sectors += stored;
    let extra_indexes = p
        .section
        .map(|s| {
            let i1 = s.indexes.get(&1).map(|&v| v as i64).unwrap_or(p.index1);
            s.indexes
                .range(2..)
                .map(|(_, &v)| Lba((p.index1 + v as i64 - i1) as i32))
                .collect()
        })
        .unwrap_or_default();
    let extra_indexes: Vec<Lba> = extra_indexes;
    if let Some(bad) = extra_indexes
        .iter()
        .find(|l| (l.0 as i64) <= p.index1 || (l.0 as i64) >= p.end)
    {
        let line = p.section.map_or(e.line, |s| s.line);
        return Err(CcdError::Syntax {
            path: ccd.path.clone(),
            line,
            message: format!(
                "track {}: index at LBA {bad} is outside the track ({}..{})",
                e.point, p.index1, p.end
            ),
        });
    }
    Ok(Track {
        number: e.point,
        mode,
        flags,
        isrc: p.section.and_then(|s| s.isrc.clone()),
        start: Lba(p.start as i32),
        pregap: (p.index1 - p.start) as u32,
        extra_indexes,
        length: (p.end - p.start) as u32,
        postgap: 0,
        extents,
    })
}

/// The mode of a track: from the headers of its first sectors at index 1 (`at`: their place in
/// the `.img`), else from `MODE=` and CONTROL.
fn track_mode(ccd: &Ccd, files: &DataFiles, p: &Placed, at: u64) -> Result<TrackMode> {
    let declared = p.section.and_then(|s| s.mode);
    let data_control = p.entry.control & 0x4 != 0;
    let fallback = match declared {
        Some(1) => TrackMode::Mode1,
        Some(2) => TrackMode::Mode2Mixed,
        _ if data_control => TrackMode::Mode1,
        _ => TrackMode::Audio,
    };
    if !data_control && declared.unwrap_or(0) == 0 {
        return Ok(TrackMode::Audio);
    }
    let n = (SNIFF_SECTORS as u64).min((p.end - p.index1) as u64);
    let avail = files.img.len().saturating_sub(at * SECTOR) / SECTOR;
    let n = n.min(avail) as usize;
    let mut buf = vec![0u8; n * SECTOR as usize];
    if n > 0 {
        files
            .img
            .read_exact_at(&mut buf, at * SECTOR)
            .map_err(|source| CcdError::Io {
                path: files.img.path().to_path_buf(),
                source,
            })?;
    }
    let mut found: Option<TrackMode> = None;
    for chunk in buf.chunks_exact_mut(SECTOR as usize) {
        let raw: &mut [u8; 2352] = chunk.try_into().unwrap();
        if ccd.data_tracks_scrambled {
            spindle_disc::edc_ecc::scramble(raw);
        }
        match (found, spindle_disc::sector::sniff_mode(raw)) {
            (None, Some(m)) => found = Some(m),
            // One sector with XA subheader copies makes a Mode 2 track XA.
            (Some(TrackMode::Mode2Formless), Some(TrackMode::Mode2Mixed)) => {
                found = Some(TrackMode::Mode2Mixed)
            }
            _ => {}
        }
    }
    Ok(found.unwrap_or(fallback))
}
