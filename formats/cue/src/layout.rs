//! From a parsed [`CueSheet`] to a [`Disc`]: opening the FILEs through the companions,
//! deciding which bytes each track stores, and giving every sector its address.
//!
//! This is the inverse of `spindle_disc::cuesheet::cue_sheet` (see its module doc):
//! * **Stored data.** The FILEs form one stream. A track's stored sectors run from its first
//!   INDEX (00 if present, else 01) to the next track's first INDEX, or, for the last track of
//!   a file, to the end of the file, in the track's sector size. Positions within a file are
//!   counted in sectors of the tracks that precede them (what libmirage does for files that
//!   mix sector sizes). Sectors before the first INDEX of a file belong to the track of that
//!   INDEX, as stored pregap: so sector 0 of the first file is LBA 0 even for
//!   `INDEX 01 00:01:00` without INDEX 00 (libcdio gives track 1 LSN 75 there too). A track
//!   whose INDEX 00 is in one file and INDEX 01 in the next (EAC's "gaps appended to the
//!   previous track" sheets) simply spans both files.
//! * **Addresses.** Session 1 starts at LBA −150 with track 1's implicit 150-sector pregap
//!   (never stored). `PREGAP` adds unstored sectors before the stored ones, `POSTGAP` after
//!   them. The first track of a later session starts `session_gap` sectors after the previous
//!   lead-out and gets an implicit 150-sector unstored pregap unless it states PREGAP or
//!   INDEX 00 (the Redump and `cue_sheet` convention; libmirage does the same).
//! * A trailing partial sector is an error: silently dropping bytes hides a broken rip.

use crate::error::CueError;
use crate::sheet::{CueFile, CueMode, CueSheet, CueTrack, FileKind};
use crate::wave;
use spindle_disc::cuesheet::{DEFAULT_PREGAP, session_gap};
use spindle_disc::{
    ByteSource, CdText, CdTextBlock, Companions, Disc, Extent, Lba, MainLayout, Medium, Msf,
    Session, SourceInfo, Stored, Track,
};
use std::io;
use std::path::Path;
use std::sync::Arc;

/// A FILE once opened: where its sectors are.
struct Input<'a> {
    src: Arc<dyn ByteSource>,
    /// Offset of sector 0 (after a WAVE header).
    base: u64,
    /// Bytes of sectors from `base`.
    len: u64,
    file: &'a CueFile,
}

/// A run of one track's sectors inside one file.
struct Piece {
    file: usize,
    /// Position of the first sector, in the file's sector count.
    pos: u32,
    sectors: u32,
    /// Byte offset of the first sector from the file's `base`.
    byte: u64,
}

/// Largest CD-TEXT file read (8 blocks of 255 packs are 36 720 bytes).
const MAX_CDTEXT_BYTES: u64 = 1 << 20;
/// Addresses stay far from `i32` overflow.
const MAX_LBA: i64 = 1 << 30;

/// Builds the disc a parsed sheet describes, opening its files through `companions`.
/// `path` is the sheet's own path (for [`SourceInfo`]).
pub fn open_sheet(
    sheet: &CueSheet,
    path: &Path,
    companions: &dyn Companions,
) -> Result<Disc, CueError> {
    let cue = &sheet.cue;
    let inputs = open_files(sheet, companions)?;
    let mut disc = Disc::new(
        Medium::CdRom,
        SourceInfo {
            format: "cue".into(),
            variant: "CUE/BIN".into(),
            path: path.to_path_buf(),
            files: inputs.iter().map(|i| i.src.path().to_path_buf()).collect(),
        },
    );
    disc.mcn = sheet.catalog.clone();
    disc.cdtext = cdtext(sheet, companions)?;
    let tracks = place_tracks(sheet, &inputs)?;
    let mut lba: i64 = -(DEFAULT_PREGAP as i64);
    for (ct, pieces) in sheet.tracks.iter().zip(tracks) {
        let new_session = disc.sessions.last().is_none_or(|s| s.number != ct.session);
        if new_session && let Some(prev) = disc.sessions.last() {
            lba = prev.leadout.0 as i64 + session_gap(prev.number) as i64;
        }
        let track = build_track(
            sheet,
            ct,
            t_first(new_session, disc.sessions.is_empty()),
            lba,
            &pieces,
            &inputs,
        )?;
        lba = track.end().0 as i64;
        if new_session {
            disc.sessions.push(Session {
                number: ct.session,
                tracks: Vec::new(),
                leadout: track.end(),
            });
        }
        let s = disc.sessions.last_mut().expect("pushed above");
        s.leadout = track.end();
        s.tracks.push(track);
    }
    disc.validate().map_err(|source| CueError::Disc {
        cue: cue.clone(),
        source,
    })?;
    Ok(disc)
}

/// Where a track sits in its session, for the implicit pregap.
#[derive(Clone, Copy, PartialEq, Eq)]
enum First {
    Disc,
    LaterSession,
    No,
}

fn t_first(new_session: bool, disc_empty: bool) -> First {
    match (new_session, disc_empty) {
        (true, true) => First::Disc,
        (true, false) => First::LaterSession,
        _ => First::No,
    }
}

fn open_files<'a>(
    sheet: &'a CueSheet,
    companions: &dyn Companions,
) -> Result<Vec<Input<'a>>, CueError> {
    let cue = &sheet.cue;
    let mut inputs = Vec::with_capacity(sheet.files.len());
    for file in &sheet.files {
        let src = companions.open(&file.name).map_err(|source| {
            let (cue, line, name) = (cue.clone(), file.line, file.name.clone());
            if source.kind() == io::ErrorKind::NotFound {
                CueError::MissingFile {
                    cue,
                    line,
                    name,
                    source,
                }
            } else {
                CueError::FileIo {
                    cue,
                    line,
                    name,
                    source,
                }
            }
        })?;
        let (base, len) = match file.kind {
            FileKind::Wave => {
                let d = wave::find_data(&*src).map_err(|problem| CueError::Wave {
                    cue: cue.clone(),
                    line: file.line,
                    path: src.path().to_path_buf(),
                    problem,
                })?;
                (d.offset, d.len)
            }
            FileKind::Binary | FileKind::Motorola => (0, src.len()),
        };
        inputs.push(Input {
            src,
            base,
            len,
            file,
        });
    }
    Ok(inputs)
}

/// Where each track's stored data starts: its first INDEX, or the start of the file when
/// that INDEX is the file's first.
fn stored_starts(sheet: &CueSheet) -> Vec<(usize, u32)> {
    let mut seen = vec![false; sheet.files.len()];
    let mut starts = Vec::with_capacity(sheet.tracks.len());
    for t in &sheet.tracks {
        // The parser guarantees an INDEX 01; the fallback only keeps this total.
        let first = t
            .indexes
            .first()
            .map(|i| (i.file, i.frames))
            .unwrap_or((0, 0));
        let start = match seen.get(first.0) {
            Some(false) => (first.0, 0),
            _ => first,
        };
        starts.push(start);
        for i in &t.indexes {
            if let Some(s) = seen.get_mut(i.file) {
                *s = true;
            }
        }
    }
    starts
}

/// Splits the file stream into each track's pieces.
fn place_tracks(sheet: &CueSheet, inputs: &[Input]) -> Result<Vec<Vec<Piece>>, CueError> {
    let cue = &sheet.cue;
    let internal = |m: &str| CueError::Sheet {
        cue: cue.clone(),
        message: format!("inconsistent sheet: {m}"),
    };
    let starts = stored_starts(sheet);
    let (mut file, mut pos, mut byte) = (0usize, 0u32, 0u64);
    let mut all = Vec::with_capacity(sheet.tracks.len());
    for (ti, t) in sheet.tracks.iter().enumerate() {
        if starts.get(ti) != Some(&(file, pos)) {
            return Err(internal(
                "a track does not start where the previous one ends",
            ));
        }
        let end = starts.get(ti + 1).copied();
        let stride = t.mode.stride() as u64;
        let mut pieces = Vec::new();
        loop {
            let input = inputs
                .get(file)
                .ok_or_else(|| internal("INDEX in a FILE that does not exist"))?;
            check_kind(cue, t, input)?;
            match end {
                Some((end_file, end_pos)) if end_file == file => {
                    let n = end_pos
                        .checked_sub(pos)
                        .ok_or_else(|| internal("positions go backwards"))?;
                    let next = byte.saturating_add(n as u64 * stride);
                    if next > input.len {
                        let at = sheet.tracks.get(ti + 1).and_then(|t| t.indexes.first());
                        let (line, number) = at.map(|i| (i.line, i.number)).unwrap_or((t.line, 1));
                        return Err(beyond_end(cue, line, number, end_pos, input, t.mode));
                    }
                    pieces.push(Piece {
                        file,
                        pos,
                        sectors: n,
                        byte,
                    });
                    (pos, byte) = (end_pos, next);
                    break;
                }
                _ => {
                    let left = input.len.saturating_sub(byte);
                    if left % stride != 0 {
                        return Err(CueError::PartialSector {
                            cue: cue.clone(),
                            line: input.file.line,
                            path: input.src.path().to_path_buf(),
                            size: input.src.len(),
                            stride: stride as usize,
                            partial: left % stride,
                            track: t.number,
                        });
                    }
                    let n = u32::try_from(left / stride).map_err(|_| CueError::Syntax {
                        cue: cue.clone(),
                        line: input.file.line,
                        message: format!("FILE \"{}\" is too large for a CD", input.file.name),
                    })?;
                    pieces.push(Piece {
                        file,
                        pos,
                        sectors: n,
                        byte,
                    });
                    if file + 1 >= inputs.len() {
                        if end.is_some() {
                            return Err(internal("a track starts after the last FILE"));
                        }
                        break;
                    }
                    (file, pos, byte) = (file + 1, 0, 0);
                }
            }
        }
        all.push(pieces);
    }
    Ok(all)
}

/// WAVE and MOTOROLA files hold audio only.
fn check_kind(cue: &str, t: &CueTrack, input: &Input) -> Result<(), CueError> {
    let ok = match input.file.kind {
        FileKind::Binary => true,
        FileKind::Wave | FileKind::Motorola => t.mode == CueMode::Audio,
    };
    if ok {
        return Ok(());
    }
    let kind = if input.file.kind == FileKind::Wave {
        "WAVE"
    } else {
        "MOTOROLA"
    };
    Err(CueError::Syntax {
        cue: cue.to_string(),
        line: t.line,
        message: format!(
            "TRACK {:02} {} cannot be stored in the {kind} file \"{}\" (only AUDIO can)",
            t.number,
            t.mode.keyword(),
            input.file.name
        ),
    })
}

fn beyond_end(
    cue: &str,
    line: usize,
    number: u8,
    frames: u32,
    input: &Input,
    mode: CueMode,
) -> CueError {
    CueError::Syntax {
        cue: cue.to_string(),
        line,
        message: format!(
            "INDEX {number:02} {} lies beyond the end of \"{}\" ({} bytes, {} sectors of {} bytes)",
            Msf::from_frames(frames),
            input.file.name,
            input.len,
            input.len / mode.stride() as u64,
            mode.stride()
        ),
    }
}

/// Builds one track starting at `lba` from its stored pieces.
fn build_track(
    sheet: &CueSheet,
    t: &CueTrack,
    first: First,
    lba: i64,
    pieces: &[Piece],
    inputs: &[Input],
) -> Result<Track, CueError> {
    let cue = &sheet.cue;
    let syntax = |line: usize, message: String| CueError::Syntax {
        cue: cue.clone(),
        line,
        message,
    };
    // Offset of each INDEX from the first stored sector.
    let mut offsets = Vec::with_capacity(t.indexes.len());
    let mut stored: u64 = 0;
    let mut piece_at = Vec::with_capacity(pieces.len());
    for p in pieces {
        piece_at.push(stored);
        stored += p.sectors as u64;
    }
    for i in &t.indexes {
        let hit = pieces
            .iter()
            .zip(&piece_at)
            .find(|(p, _)| p.file == i.file && i.frames >= p.pos && i.frames - p.pos <= p.sectors);
        match hit {
            Some((p, at)) => offsets.push((i.number, at + (i.frames - p.pos) as u64)),
            None => {
                return Err(match inputs.get(i.file) {
                    Some(input) => beyond_end(cue, i.line, i.number, i.frames, input, t.mode),
                    None => syntax(
                        i.line,
                        format!(
                            "INDEX {:02} refers to FILE number {} of {}",
                            i.number,
                            i.file + 1,
                            inputs.len()
                        ),
                    ),
                });
            }
        }
    }
    let index1 = offsets
        .iter()
        .find(|(n, _)| *n == 1)
        .map(|(_, o)| *o)
        .unwrap_or(0);
    let has_index0 = t.index(0).is_some();
    let implicit = match first {
        First::Disc => DEFAULT_PREGAP,
        First::LaterSession if t.pregap.is_none() && !has_index0 && index1 == 0 => DEFAULT_PREGAP,
        _ => 0,
    };
    let lead = implicit as u64 + t.pregap.unwrap_or(0) as u64;
    if index1 >= stored {
        return Err(syntax(
            t.line,
            format!("TRACK {:02} has no sectors after its INDEX 01", t.number),
        ));
    }
    let length = lead + stored + t.postgap as u64;
    if lba + length as i64 > MAX_LBA {
        return Err(syntax(
            t.line,
            format!(
                "TRACK {:02} ends past sector {MAX_LBA}: the files are too large for a disc",
                t.number
            ),
        ));
    }
    let start = Lba(lba as i32);
    let (main, sub) = t.mode.layout();
    let mut extents = Vec::with_capacity(pieces.len() + 2);
    if lead > 0 {
        extents.push(Extent::zero(lead as u32));
    }
    for p in pieces.iter().filter(|p| p.sectors > 0) {
        let input = &inputs[p.file];
        let main = if input.file.kind == FileKind::Motorola {
            MainLayout::RAW_BIG_ENDIAN
        } else {
            main
        };
        let mut s = Stored::new(input.src.clone(), input.base + p.byte, main);
        s.sub = sub;
        extents.push(Extent::stored(p.sectors, s));
    }
    if t.postgap > 0 {
        extents.push(Extent::zero(t.postgap));
    }
    Ok(Track {
        number: t.number,
        mode: t.mode.track_mode(),
        flags: t.flags,
        isrc: t.isrc.clone(),
        start,
        pregap: (lead + index1) as u32,
        extra_indexes: offsets
            .iter()
            .filter(|(n, _)| *n >= 2)
            .map(|(_, o)| start.offset((lead + o) as i64))
            .collect(),
        length: length as u32,
        postgap: t.postgap,
        extents,
    })
}

/// CD-TEXT from CDTEXTFILE and the TITLE/PERFORMER/... lines (which win over the file).
fn cdtext(sheet: &CueSheet, companions: &dyn Companions) -> Result<Option<CdText>, CueError> {
    let mut text = match &sheet.cdtext_file {
        Some((name, line)) => read_cdt(sheet, name, *line, companions)?,
        None => CdText::default(),
    };
    let inline = sheet.text.iter().map(|(f, s)| (0u8, *f, s)).chain(
        sheet
            .tracks
            .iter()
            .flat_map(|t| t.text.iter().map(move |(f, s)| (t.number, *f, s))),
    );
    for (track, field, value) in inline {
        if text.blocks.is_empty() {
            // Language 0x09: English, what CD-TEXT from a cue sheet is taken to be.
            text.blocks.push(CdTextBlock {
                language: 0x09,
                charset: 0x00,
                ..CdTextBlock::default()
            });
        }
        text.blocks[0].set(track, field, value.clone());
    }
    Ok((!text.blocks.is_empty()).then_some(text))
}

fn read_cdt(
    sheet: &CueSheet,
    name: &str,
    line: usize,
    companions: &dyn Companions,
) -> Result<CdText, CueError> {
    let cue = &sheet.cue;
    let src = companions.open(name).map_err(|source| {
        let (cue, name) = (cue.clone(), name.to_string());
        if source.kind() == io::ErrorKind::NotFound {
            CueError::MissingFile {
                cue,
                line,
                name,
                source,
            }
        } else {
            CueError::FileIo {
                cue,
                line,
                name,
                source,
            }
        }
    })?;
    let problem = |problem: String| CueError::CdText {
        cue: cue.clone(),
        line,
        name: name.to_string(),
        problem,
    };
    if src.len() > MAX_CDTEXT_BYTES {
        return Err(problem(format!(
            "{} bytes is too large for CD-TEXT",
            src.len()
        )));
    }
    let mut data = vec![0u8; src.len() as usize];
    src.read_exact_at(&mut data, 0)
        .map_err(|source| CueError::FileIo {
            cue: cue.clone(),
            line,
            name: name.to_string(),
            source,
        })?;
    // Some writers leave the CRCs zero: accept packs with bad CRCs rather than lose the text.
    CdText::from_packs(&data, true)
        .or_else(|_| CdText::from_packs(&data, false))
        .map_err(|e| problem(e.to_string()))
}
