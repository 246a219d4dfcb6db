//! The CDI descriptor: the footer that finds it, and its sessions, tracks and disc block.
//!
//! Layout (`docs/cdi.md` has the field tables and sources). The image is track data from
//! byte 0, then the descriptor, then an 8-byte footer: `u32 version | u32 offset`. Versions
//! 0x80000004 (DiscJuggler 2.0) and 0x80000005 (3.0) give the descriptor's file offset;
//! 0x80000006 (3.5) gives its distance back from the end of the file (cdirip, cditools
//! `info.txt` §1). The descriptor is:
//!
//! ```text
//! u16 sessions
//! per session: u16 tracks, then per track a track block, then a session footer
//!              (12 bytes; 13 after version 2.0), byte 0 = session type (0 CD-DA, 1 CD-ROM, 2 XA)
//! then (3.5, and mostly 3.0) an empty session (u16 0) and the disc block.
//! ```
//!
//! A track block starts with a u32 (non-zero in DiscJuggler 4: 8 more bytes follow), the
//! 10-byte mark `00 00 01 00 00 00 FF FF FF FF` twice, 4 bytes, a filename (u8 length),
//! 23 bytes whose last u32 is 0x80000000 when 8 more follow (capacity, medium type), the
//! index lengths (u16 count, u32 each; index 0 is the pregap), CD-TEXT blocks (u32 count, 18
//! length-prefixed fields each), then fixed fields: mode, session/track index, start, total
//! length, read mode (sector size), CONTROL, ISRC; after version 2.0 a tail of 9 bytes, or 87
//! when its u32 at byte 5 is 0xFFFFFFFF (DiscJuggler 3.00.780 and later).

use crate::cursor::Cursor;
use crate::error::{CdiError, Result};
use std::path::Path;

/// The 10-byte mark a track block (and the disc block) carries twice.
pub const TRACK_MARK: [u8; 10] = [0, 0, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];

/// At most this many sessions, tracks on the disc, indexes per track (a CD has 99 at most).
pub const MAX_COUNT: usize = 99;
/// At most this many CD-TEXT blocks per track (one per language; a CD has 8 at most).
pub const MAX_CDTEXT_BLOCKS: u32 = 8;

/// The DiscJuggler version the footer names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// 0x80000004: DiscJuggler 2.0, descriptor at an absolute offset.
    V2,
    /// 0x80000005: DiscJuggler 3.0, descriptor at an absolute offset.
    V3,
    /// 0x80000006: DiscJuggler 3.5, descriptor offset counted back from the end.
    V35,
}

impl Version {
    /// The version a footer's version number names, `None` for an unknown number.
    pub fn from_raw(v: u32) -> Option<Version> {
        match v {
            0x8000_0004 => Some(Version::V2),
            0x8000_0005 => Some(Version::V3),
            0x8000_0006 => Some(Version::V35),
            _ => None,
        }
    }
    /// The version number the footer stores.
    pub fn raw(self) -> u32 {
        match self {
            Version::V2 => 0x8000_0004,
            Version::V3 => 0x8000_0005,
            Version::V35 => 0x8000_0006,
        }
    }
    /// DiscJuggler's version name (`2.0`, `3.0`, `3.5`).
    pub fn name(self) -> &'static str {
        match self {
            Version::V2 => "2.0",
            Version::V3 => "3.0",
            Version::V35 => "3.5",
        }
    }
}

/// Reads the footer (the last 8 bytes of a file of `file_len` bytes): the version and the
/// file offset of the descriptor, which must lie inside the file before the footer.
pub fn locate(file_len: u64, tail: [u8; 8], path: &Path) -> Result<(Version, u64)> {
    let not = |message: String| CdiError::NotCdi {
        path: path.to_path_buf(),
        message,
    };
    if file_len < 8 + 2 {
        return Err(not(format!(
            "{file_len} bytes is too short for a descriptor and footer"
        )));
    }
    let raw = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    let offset = u32::from_le_bytes([tail[4], tail[5], tail[6], tail[7]]) as u64;
    let version = Version::from_raw(raw).ok_or_else(|| {
        not(format!(
            "footer version {raw:#010x} at offset {:#x} is none of 0x80000004/5/6 (DiscJuggler 2.0, 3.0, 3.5)",
            file_len - 8
        ))
    })?;
    let start = match version {
        Version::V35 => file_len.checked_sub(offset),
        _ => Some(offset),
    };
    match start {
        Some(s) if s + 2 <= file_len - 8 => Ok((version, s)),
        _ => Err(CdiError::Corrupt {
            path: path.to_path_buf(),
            message: format!(
                "footer (version {}) puts the descriptor at {} {offset:#x}, outside the file ({file_len:#x} bytes)",
                version.name(),
                if version == Version::V35 {
                    "end minus"
                } else {
                    "offset"
                }
            ),
        }),
    }
}

/// One track block.
#[derive(Clone, Debug, Default)]
pub struct TrackBlock {
    /// File offset of the block (for messages).
    pub offset: u64,
    /// Name of the file DiscJuggler read the track from (any encoding).
    pub filename: Vec<u8>,
    /// Medium type: 0x98 CD, 0x38 DVD (libmirage); None when the block omits it.
    pub medium: Option<u16>,
    /// Length in sectors of index 0 (the pregap), 1, 2...
    pub index_lengths: Vec<u32>,
    /// CD-TEXT blocks: 18 fields each, as stored (their meaning is not documented).
    pub cdtext: Vec<Vec<Vec<u8>>>,
    /// 0 audio, 1 Mode 1, 2 Mode 2.
    pub mode: u32,
    /// The session index the track block stores (not used to build the disc).
    pub session_index: u32,
    /// The track index the track block stores (not used to build the disc).
    pub track_index: u32,
    /// First sector (pregap included), counted from MSF 00:00:00 (so track 1 has 0).
    pub start: u32,
    /// Sectors stored: pregap + program.
    pub total: u32,
    /// 0: 2048, 1: 2336, 2: 2352, 3: 2352 + 16 Q, 4: 2352 + 96 PW.
    pub read_mode: u32,
    /// The Q CONTROL nibble (bit 2: data track).
    pub control: u32,
    /// The track's ISRC, when it has one.
    pub isrc: Option<[u8; 12]>,
}

/// One session: its tracks and the type its footer gives.
#[derive(Clone, Debug, Default)]
pub struct SessionBlock {
    /// Byte offset in the file where the session's block starts.
    pub offset: u64,
    /// The session's tracks, in order.
    pub tracks: Vec<TrackBlock>,
    /// 0 CD-DA, 1 CD-ROM, 2 CD-ROM XA.
    pub session_type: u8,
}

/// The disc block after the sessions (3.0 and 3.5).
#[derive(Clone, Debug, Default)]
pub struct DiscBlock {
    /// Byte offset in the file where the disc block starts.
    pub offset: u64,
    /// Sectors from LBA 0 to the end of the last track, as DiscJuggler counts them.
    pub disc_length: u32,
    /// The volume identifier, as stored.
    pub volume_id: Vec<u8>,
    /// The media catalogue number, when the disc has one.
    pub mcn: Option<[u8; 13]>,
    /// Raw CD-TEXT packs.
    pub cdtext: Vec<u8>,
}

/// The whole descriptor of a CDI image.
#[derive(Clone, Debug)]
pub struct Descriptor {
    /// The footer's DiscJuggler version.
    pub version: Version,
    /// The sessions, in order.
    pub sessions: Vec<SessionBlock>,
    /// Absent (or unreadable: it carries nothing the tracks need) in some images.
    pub disc: Option<DiscBlock>,
}

/// Parses a descriptor: `data` is the file from the descriptor's start to the footer,
/// `base` its offset in the file.
pub fn parse(data: &[u8], base: u64, version: Version, path: &Path) -> Result<Descriptor> {
    let mut c = Cursor::new(data, base, path);
    let count = c.u16(&|| "session count".into())? as usize;
    if count == 0 || count > MAX_COUNT {
        return Err(c.corrupt(format!(
            "descriptor at {base:#x}: session count {count} is not 1..{MAX_COUNT}"
        )));
    }
    let mut sessions = Vec::with_capacity(count);
    let mut all_tracks = 0usize;
    for s in 1..=count {
        let offset = c.offset();
        let tracks = c.u16(&|| format!("track count of session {s}"))? as usize;
        if tracks == 0 {
            return Err(c.corrupt(format!("session {s} (at {offset:#x}) has no tracks")));
        }
        all_tracks += tracks;
        if all_tracks > MAX_COUNT {
            return Err(c.corrupt(format!(
                "session {s} (at {offset:#x}) brings the disc to {all_tracks} tracks; a CD has at most {MAX_COUNT}"
            )));
        }
        let mut block = SessionBlock {
            offset,
            tracks: Vec::with_capacity(tracks),
            session_type: 0,
        };
        for _ in 0..tracks {
            let number = sessions
                .iter()
                .map(|s: &SessionBlock| s.tracks.len())
                .sum::<usize>()
                + block.tracks.len()
                + 1;
            block.tracks.push(track_block(&mut c, version, number)?);
        }
        let footer = c.take(if version == Version::V2 { 12 } else { 13 }, &|| {
            format!("footer of session {s}")
        })?;
        block.session_type = footer[0];
        sessions.push(block);
    }
    // The disc block is informative only (volume id, MCN, CD-TEXT); images whose block
    // differs from the layout known from 3.5 still open.
    let disc = disc_block(&mut c.clone(), version).ok();
    Ok(Descriptor {
        version,
        sessions,
        disc,
    })
}

/// The common start of track and disc blocks: the marks, the filename, the medium type.
fn block_head(c: &mut Cursor, what: &dyn Fn() -> String) -> Result<(Vec<u8>, Option<u16>)> {
    let lead = c.u32(&|| format!("{} lead-in field", what()))?;
    if lead != 0 {
        // DiscJuggler 4 (cdirip): 8 more bytes before the marks.
        c.skip(8, &|| format!("{} extra lead-in", what()))?;
    }
    for n in 1..=2 {
        let at = c.offset();
        let mark = c.take(10, &|| format!("{} mark {n}", what()))?;
        if mark != TRACK_MARK {
            return Err(c.corrupt(format!(
                "{}: mark {n} at {at:#x} is {} instead of 00 00 01 00 00 00 FF FF FF FF",
                what(),
                hex(mark)
            )));
        }
    }
    c.skip(4, &|| format!("{} header", what()))?;
    let len = c.u8(&|| format!("{} filename length", what()))? as usize;
    let filename = c.take(len, &|| format!("{} filename", what()))?.to_vec();
    c.skip(19, &|| format!("{} fields after the filename", what()))?;
    let flag = c.u32(&|| format!("{} fields after the filename", what()))?;
    let medium = if flag == 0x8000_0000 {
        let ext = c.take(8, &|| format!("{} capacity and medium type", what()))?;
        Some(u16::from_le_bytes([ext[6], ext[7]]))
    } else {
        None
    };
    Ok((filename, medium))
}

fn track_block(c: &mut Cursor, version: Version, number: usize) -> Result<TrackBlock> {
    let offset = c.offset();
    let what = move || format!("track {number} (descriptor at {offset:#x})");
    let (filename, medium) = block_head(c, &what)?;
    let mut t = TrackBlock {
        offset,
        filename,
        medium,
        ..TrackBlock::default()
    };
    let at = c.offset();
    let indexes = c.u16(&|| format!("{}: index count", what()))? as usize;
    if indexes == 0 || indexes > MAX_COUNT {
        return Err(c.corrupt(format!(
            "{}: index count {indexes} at {at:#x} is not 1..{MAX_COUNT}",
            what()
        )));
    }
    for i in 0..indexes {
        t.index_lengths
            .push(c.u32(&|| format!("{}: length of index {i}", what()))?);
    }
    let at = c.offset();
    let blocks = c.u32(&|| format!("{}: CD-TEXT block count", what()))?;
    if blocks > MAX_CDTEXT_BLOCKS {
        return Err(c.corrupt(format!(
            "{}: CD-TEXT block count {blocks} at {at:#x} is more than {MAX_CDTEXT_BLOCKS}",
            what()
        )));
    }
    for b in 0..blocks {
        let mut fields = Vec::with_capacity(18);
        for f in 0..18 {
            let len = c.u8(&|| format!("{}: CD-TEXT block {b} field {f}", what()))? as usize;
            fields.push(
                c.take(len, &|| format!("{}: CD-TEXT block {b} field {f}", what()))?
                    .to_vec(),
            );
        }
        t.cdtext.push(fields);
    }
    let f = c.take(2 + 4 * 8 + 16, &|| format!("{}: fixed fields", what()))?;
    let u = |o: usize| u32::from_le_bytes([f[o], f[o + 1], f[o + 2], f[o + 3]]);
    t.mode = u(2);
    t.session_index = u(10);
    t.track_index = u(14);
    t.start = u(18);
    t.total = u(22);
    // 16 unknown bytes follow (f[26..42]), then the read mode and CONTROL.
    t.read_mode = u(42);
    t.control = u(46);
    let g = c.take(1 + 4 + 4 + 12 + 4, &|| format!("{}: ISRC fields", what()))?;
    if u32::from_le_bytes([g[21], g[22], g[23], g[24]]) != 0 {
        let mut isrc = [0u8; 12];
        isrc.copy_from_slice(&g[9..21]);
        t.isrc = Some(isrc);
    }
    if version != Version::V2 {
        let tail = c.take(9, &|| format!("{}: tail", what()))?;
        if tail[5..9] == [0xFF; 4] {
            // DiscJuggler 3.00.780 and later (cdirip).
            c.skip(78, &|| format!("{}: extended tail", what()))?;
        }
    }
    Ok(t)
}

fn disc_block(c: &mut Cursor, _version: Version) -> Result<DiscBlock> {
    if c.u16(&|| "empty session".into())? != 0 {
        return Err(c.corrupt("no empty session before the disc block".into()));
    }
    let offset = c.offset();
    let what = move || format!("disc block at {offset:#x}");
    block_head(c, &what)?;
    let disc_length = c.u32(&|| format!("{}: disc length", what()))?;
    let len = c.u8(&|| format!("{}: volume id length", what()))? as usize;
    let volume_id = c.take(len, &|| format!("{}: volume id", what()))?.to_vec();
    c.skip(9, &|| format!("{}: fields after the volume id", what()))?;
    let mcn = c.take(13, &|| format!("{}: MCN", what()))?;
    let mcn_valid = c.u32(&|| format!("{}: MCN flag", what()))? != 0;
    let cdtext_len = c.u32(&|| format!("{}: CD-TEXT length", what()))? as usize;
    let cdtext = c
        .take(cdtext_len, &|| format!("{}: CD-TEXT packs", what()))?
        .to_vec();
    Ok(DiscBlock {
        offset,
        disc_length,
        volume_id,
        mcn: mcn_valid.then(|| mcn.try_into().unwrap()),
        cdtext,
    })
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail(version: u32, offset: u32) -> [u8; 8] {
        let mut t = [0u8; 8];
        t[..4].copy_from_slice(&version.to_le_bytes());
        t[4..].copy_from_slice(&offset.to_le_bytes());
        t
    }

    #[test]
    fn footer_offsets_by_version() {
        let p = Path::new("x.cdi");
        assert_eq!(
            locate(1000, tail(0x8000_0004, 900), p).unwrap(),
            (Version::V2, 900)
        );
        assert_eq!(
            locate(1000, tail(0x8000_0005, 900), p).unwrap(),
            (Version::V3, 900)
        );
        // 3.5 counts back from the end of the file.
        assert_eq!(
            locate(1000, tail(0x8000_0006, 100), p).unwrap(),
            (Version::V35, 900)
        );
        assert!(
            locate(1000, tail(0x8000_0007, 100), p)
                .unwrap_err()
                .to_string()
                .contains("0x80000007")
        );
        assert!(
            locate(1000, tail(0x8000_0006, 1001), p)
                .unwrap_err()
                .to_string()
                .contains("outside the file")
        );
        assert!(
            locate(1000, tail(0x8000_0004, 991), p).is_err(),
            "no room for the session count"
        );
        assert!(locate(9, tail(0x8000_0004, 0), p).is_err());
    }
}
