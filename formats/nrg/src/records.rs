//! The records inside the chunks, decoded into a [`Descriptor`]: sessions of DAO or TAO
//! tracks, CD-TEXT packs, the medium type.
//!
//! Layouts (libmirage `images/image-nrg/image-nrg.h`; `../shared/notes/formats.md` §3.3):
//! - `CUES` (v1) / `CUEX` (v2): 8-byte entries `adr_ctl, track (BCD), index (BCD), 0, start`,
//!   where start is MSF bytes 1..3 (binary) in `CUES` and a big-endian i32 LBA in `CUEX`.
//!   Track 0 index 0 is the session's lead-in, track 0xAA its lead-out.
//! - `DAOI` (v1) / `DAOX` (v2): a 22-byte header (u32 length, MCN\[13\], 3 unknown bytes, first
//!   track, last track), then per track 30 / 42 bytes: ISRC\[12\], u16 sector size, u8 mode
//!   code, 3 unknown bytes, then pregap, start and end file offsets as u32 / u64.
//! - `ETNF` (v1) / `ETN2` (v2): per TAO track 20 / 32 bytes: file offset, byte size (u32 /
//!   u64), mode code at byte 11 / 19, then the track's start counted without gaps (unused).
//! - `SINF`: u32 number of tracks in a session (one chunk per session).
//! - `MTYP`: u32 NeroAPI medium type bitmask. `CDTX`: raw 18-byte CD-TEXT packs.
//!
//! A session is a `CUES`/`CUEX` chunk with the `DAOI`/`DAOX` chunk that follows it (disc at
//! once), or one `ETNF`/`ETN2` chunk (track at once), in file order. The chunk id, not the
//! trailer, decides the field widths.

use crate::chunks::{Chunk, ChunkList, be16, be32, be64};
use crate::error::{NrgError, Result};
use spindle_disc::{Lba, Msf};
use std::path::Path;

/// Most sessions and tracks a CD can have.
const MAX_SESSIONS: usize = 99;
const MAX_TRACKS: usize = 99;
/// Most CUE entries in one chunk: 99 tracks × 100 indexes, lead-in and lead-out.
const MAX_CUE_ENTRIES: usize = 99 * 100 + 2;

/// One `CUES`/`CUEX` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CueEntry {
    /// ADR in the high nibble, CONTROL in the low nibble.
    pub adr_ctl: u8,
    /// Track number (decoded from BCD); 0 = lead-in, 0xAA = lead-out.
    pub track: u8,
    /// Index number (decoded from BCD).
    pub index: u8,
    /// The entry's address.
    pub lba: Lba,
}

/// The lead-out's track number in CUE entries.
pub const LEADOUT_TRACK: u8 = 0xAA;

/// The `DAOI`/`DAOX` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaoHeader {
    /// The 13 MCN bytes up to the first NUL.
    pub mcn: Vec<u8>,
    /// Number of the first track.
    pub first_track: u8,
    /// Number of the last track.
    pub last_track: u8,
}

/// One DAO track record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaoTrack {
    /// The track's ISRC bytes (zeros: none).
    pub isrc: [u8; 12],
    /// Bytes per stored sector.
    pub sector_size: u16,
    /// The Nero mode code ([`crate::mode`]).
    pub mode_code: u8,
    /// File offset where the track's pregap (index 0) starts.
    pub pregap_offset: u64,
    /// File offset where index 1 starts.
    pub start_offset: u64,
    /// File offset just after the track's last sector.
    pub end_offset: u64,
}

/// One TAO track record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EtnTrack {
    /// File offset of the track's first sector.
    pub offset: u64,
    /// Bytes of the track.
    pub size: u64,
    /// The Nero mode code ([`crate::mode`]).
    pub mode_code: u8,
}

/// One session as the chunks describe it, with where its chunks are (for messages).
#[derive(Clone, Debug)]
pub enum SessionDesc {
    /// A disc-at-once session: CUE entries and DAO track records.
    Dao {
        /// The CUE chunk, for messages.
        cue_chunk: String,
        /// Its entries, in order.
        cues: Vec<CueEntry>,
        /// The DAO chunk, for messages.
        dao_chunk: String,
        /// The DAO header.
        header: DaoHeader,
        /// The DAO track records.
        tracks: Vec<DaoTrack>,
    },
    /// A track-at-once session: ETN track records.
    Tao {
        /// The ETN chunk, for messages.
        chunk: String,
        /// Its track records.
        tracks: Vec<EtnTrack>,
    },
}

/// Everything the chunk list says.
#[derive(Clone, Debug)]
pub struct Descriptor {
    /// Where the chunk list is.
    pub list: ChunkListInfo,
    /// The sessions, in order.
    pub sessions: Vec<SessionDesc>,
    /// Track counts of the `SINF` chunks, in order.
    pub sinf: Vec<u32>,
    /// The `MTYP` media type value, when there is one.
    pub mtyp: Option<u32>,
    /// The `CDTX` payload and its chunk's description.
    pub cdtext: Option<(Vec<u8>, String)>,
}

/// What the chunk list's place tells: the version and where track data must end.
#[derive(Clone, Copy, Debug)]
pub struct ChunkListInfo {
    /// Which trailer the file has.
    pub version: crate::chunks::Version,
    /// File offset of the chunk list: track data ends there.
    pub offset: u64,
}

/// Decodes the chunks of `list`.
pub fn decode(list: &ChunkList, path: &Path) -> Result<Descriptor> {
    let corrupt = |message: String| NrgError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    let mut sessions = Vec::new();
    let mut pending_cue: Option<(String, Vec<CueEntry>)> = None;
    let mut sinf = Vec::new();
    let mut mtyp = None;
    let mut cdtext = None;
    for chunk in &list.chunks {
        match &chunk.id {
            b"CUES" | b"CUEX" => {
                if let Some((name, _)) = &pending_cue {
                    return Err(corrupt(format!(
                        "{} follows {name} with no DAO chunk between them",
                        chunk.describe()
                    )));
                }
                pending_cue = Some((chunk.describe(), cue_entries(chunk, path)?));
            }
            b"DAOI" | b"DAOX" => {
                let Some((cue_chunk, cues)) = pending_cue.take() else {
                    return Err(corrupt(format!(
                        "{} has no CUES/CUEX chunk before it",
                        chunk.describe()
                    )));
                };
                let (header, tracks) = dao(chunk, path)?;
                sessions.push(SessionDesc::Dao {
                    cue_chunk,
                    cues,
                    dao_chunk: chunk.describe(),
                    header,
                    tracks,
                });
            }
            b"ETNF" | b"ETN2" => {
                if let Some((name, _)) = &pending_cue {
                    return Err(corrupt(format!(
                        "{name} is followed by {} instead of a DAO chunk",
                        chunk.describe()
                    )));
                }
                sessions.push(SessionDesc::Tao {
                    chunk: chunk.describe(),
                    tracks: etn(chunk, path)?,
                });
            }
            b"SINF" => sinf.push(u32_payload(chunk, path)?),
            b"MTYP" => mtyp = Some(u32_payload(chunk, path)?),
            // The first CDTX chunk counts (libmirage reads only that one).
            b"CDTX" if cdtext.is_none() => cdtext = Some((chunk.payload.clone(), chunk.describe())),
            // END!, and chunks we do not use (DINF, TOCT, RELO, AFNM...).
            _ => {}
        }
        if sessions.len() > MAX_SESSIONS {
            return Err(corrupt(format!(
                "more than {MAX_SESSIONS} sessions in the chunk list"
            )));
        }
    }
    if let Some((name, _)) = pending_cue {
        return Err(corrupt(format!("{name} has no DAOI/DAOX chunk after it")));
    }
    if sessions.is_empty() {
        return Err(corrupt(
            "the chunk list has no session: no CUES/CUEX + DAOI/DAOX or ETNF/ETN2 chunk".into(),
        ));
    }
    Ok(Descriptor {
        list: ChunkListInfo {
            version: list.version,
            offset: list.offset,
        },
        sessions,
        sinf,
        mtyp,
        cdtext,
    })
}

fn bcd(v: u8) -> Option<u8> {
    (v >> 4 < 10 && v & 0xF < 10).then_some((v >> 4) * 10 + (v & 0xF))
}

fn cue_entries(chunk: &Chunk, path: &Path) -> Result<Vec<CueEntry>> {
    let p = &chunk.payload;
    let corrupt = |message: String| NrgError::Corrupt {
        path: path.to_path_buf(),
        message: format!("{}: {message}", chunk.describe()),
    };
    if !p.len().is_multiple_of(8) {
        return Err(corrupt(format!(
            "{} bytes, not a whole number of 8-byte entries",
            p.len()
        )));
    }
    if p.len() / 8 > MAX_CUE_ENTRIES {
        return Err(corrupt(format!(
            "{} entries; a session has at most {MAX_CUE_ENTRIES}",
            p.len() / 8
        )));
    }
    let msf = &chunk.id == b"CUES";
    p.chunks_exact(8)
        .enumerate()
        .map(|(i, e)| {
            // The lead-out is 0xAA, not BCD; everything else is BCD.
            let track = if e[1] == LEADOUT_TRACK {
                LEADOUT_TRACK
            } else {
                bcd(e[1]).ok_or_else(|| {
                    corrupt(format!("entry {i}: track number {:#04x} is not BCD", e[1]))
                })?
            };
            let index = bcd(e[2]).ok_or_else(|| {
                corrupt(format!("entry {i}: index number {:#04x} is not BCD", e[2]))
            })?;
            let lba = if msf {
                Msf::new(e[5], e[6], e[7])
                    .ok_or_else(|| {
                        corrupt(format!(
                            "entry {i}: {:02}:{:02}:{:02} is not an MSF address",
                            e[5], e[6], e[7]
                        ))
                    })?
                    .to_lba()
            } else {
                Lba(be32(e, 4) as i32)
            };
            Ok(CueEntry {
                adr_ctl: e[0],
                track,
                index,
                lba,
            })
        })
        .collect()
}

fn dao(chunk: &Chunk, path: &Path) -> Result<(DaoHeader, Vec<DaoTrack>)> {
    let p = &chunk.payload;
    let wide = &chunk.id == b"DAOX";
    let record = if wide { 42 } else { 30 };
    let corrupt = |message: String| NrgError::Corrupt {
        path: path.to_path_buf(),
        message: format!("{}: {message}", chunk.describe()),
    };
    if p.len() < 22 || !(p.len() - 22).is_multiple_of(record) {
        return Err(corrupt(format!(
            "{} bytes, not a 22-byte header and whole {record}-byte track records",
            p.len()
        )));
    }
    let count = (p.len() - 22) / record;
    if count == 0 || count > MAX_TRACKS {
        return Err(corrupt(format!(
            "{count} track records; a session has 1 to {MAX_TRACKS}"
        )));
    }
    let mcn_bytes = &p[4..17];
    let mcn = mcn_bytes[..mcn_bytes.iter().position(|&b| b == 0).unwrap_or(13)].to_vec();
    let header = DaoHeader {
        mcn,
        first_track: p[20],
        last_track: p[21],
    };
    let tracks = p[22..]
        .chunks_exact(record)
        .map(|r| {
            let (pregap_offset, start_offset, end_offset) = if wide {
                (be64(r, 18), be64(r, 26), be64(r, 34))
            } else {
                (be32(r, 18) as u64, be32(r, 22) as u64, be32(r, 26) as u64)
            };
            DaoTrack {
                isrc: r[..12].try_into().unwrap(),
                sector_size: be16(r, 12),
                mode_code: r[14],
                pregap_offset,
                start_offset,
                end_offset,
            }
        })
        .collect();
    Ok((header, tracks))
}

fn etn(chunk: &Chunk, path: &Path) -> Result<Vec<EtnTrack>> {
    let p = &chunk.payload;
    let wide = &chunk.id == b"ETN2";
    let record = if wide { 32 } else { 20 };
    let corrupt = |message: String| NrgError::Corrupt {
        path: path.to_path_buf(),
        message: format!("{}: {message}", chunk.describe()),
    };
    if !p.len().is_multiple_of(record) {
        return Err(corrupt(format!(
            "{} bytes, not whole {record}-byte track records",
            p.len()
        )));
    }
    let count = p.len() / record;
    if count == 0 || count > MAX_TRACKS {
        return Err(corrupt(format!(
            "{count} track records; a session has 1 to {MAX_TRACKS}"
        )));
    }
    Ok(p.chunks_exact(record)
        .map(|r| {
            if wide {
                EtnTrack {
                    offset: be64(r, 0),
                    size: be64(r, 8),
                    mode_code: r[19],
                }
            } else {
                EtnTrack {
                    offset: be32(r, 0) as u64,
                    size: be32(r, 4) as u64,
                    mode_code: r[11],
                }
            }
        })
        .collect())
}

fn u32_payload(chunk: &Chunk, path: &Path) -> Result<u32> {
    match chunk.payload.get(..4) {
        Some(b) => Ok(be32(b, 0)),
        None => Err(NrgError::Corrupt {
            path: path.to_path_buf(),
            message: format!(
                "{}: {} bytes, a 4-byte value expected",
                chunk.describe(),
                chunk.payload.len()
            ),
        }),
    }
}
