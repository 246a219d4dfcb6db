//! The descriptor of MDS v1 and of MDS v2/MDX (once decrypted and inflated), parsed into
//! plain structures: header fields, sessions, the 80-byte track blocks (full-TOC entries and
//! tracks), extra blocks, footers (data files), DVD structures, CD-TEXT and DPM.
//!
//! Layouts: `../shared/notes/formats.md` §1.6 (v2) and §2.1–2.6 (v1). Both versions share the
//! header offsets and the track block; v2 widens the session addresses to 64 bits and its
//! footers carry the compression parameters. Offsets count from the start of the descriptor
//! (for v2, from the 18-byte signature prefix put before the inflated data).

use crate::error::Result;
use crate::le::{Bytes, Le};
use spindle_disc::{CdText, DiscStructures, Dpm};

/// Which member of the family a descriptor belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// Alcohol 120% MDS v1.x (plain descriptor, MDF data files).
    V1 {
        /// The minor version (v1.`minor`).
        minor: u8,
    },
    /// DAEMON Tools MDS v2.x (encrypted descriptor, MDF data files) or MDX (one file).
    V2 {
        /// The minor version (v2.`minor`).
        minor: u8,
        /// The file is an MDX (descriptor and track data in one file).
        mdx: bool,
    },
}

impl Version {
    /// True for MDS v2 and MDX.
    pub fn is_v2(self) -> bool {
        matches!(self, Version::V2 { .. })
    }
}

/// A parsed descriptor.
#[derive(Clone, Debug)]
pub struct Descriptor {
    /// Which member of the family the descriptor is.
    pub version: Version,
    /// The medium type code as stored (v1: 0x00 CD-ROM, 0x01 CD-R, 0x02 CD-RW, 0x10 DVD-ROM,
    /// 0x12 DVD-R; v2: 0 CD, 3 DVD).
    pub medium: u16,
    /// The sessions, in order.
    pub sessions: Vec<SessionBlock>,
    /// DVD and BD structures (PFI, DMI, copyright, BCA) the descriptor holds.
    pub structures: DiscStructures,
    /// CD-TEXT, when the descriptor holds some.
    pub cdtext: Option<CdText>,
    /// Data position measurement blocks (DPM), when there are any.
    pub dpm: Vec<Dpm>,
    /// v2: offset of the 512-byte data encryption header inside the descriptor (0: none).
    pub data_key_offset: u32,
}

impl Descriptor {
    /// True when the medium code denotes a DVD.
    pub fn is_dvd(&self) -> bool {
        match self.version {
            Version::V1 { .. } => self.medium >= 0x10,
            Version::V2 { .. } => self.medium >= 3,
        }
    }
}

/// One session block: its extent and its track blocks.
#[derive(Clone, Debug)]
pub struct SessionBlock {
    /// First LBA of the session (negative: the pregap before LBA 0).
    pub start: i64,
    /// LBA just after the session's last sector.
    pub end: i64,
    /// Session number, from 1.
    pub number: u16,
    /// Number of the session's first track.
    pub first_track: u16,
    /// Number of the session's last track.
    pub last_track: u16,
    /// Every block of the session in stored order: lead-in entries (A0, A1, A2, B0, C0...) and tracks.
    pub blocks: Vec<TrackBlock>,
}

/// One 80-byte track block: a full-TOC entry, and for points 1..99 a track.
#[derive(Clone, Debug)]
pub struct TrackBlock {
    /// The track mode code as stored (see [`crate::layout`]).
    pub mode: u8,
    /// The subchannel code as stored (0: none, 0x08: 96 bytes of interleaved P-W).
    pub subchannel: u8,
    /// ADR in the high nibble, CONTROL in the low nibble (as MDS stores it).
    pub adr_ctl: u8,
    /// TNO of the Q entry: 0 in the lead-in, where every entry is stored.
    pub tno: u8,
    /// POINT of the Q entry: the track number, or a lead-in pointer (A0, A1, A2...).
    pub point: u8,
    /// The running time (minutes, seconds, frames) of the entry.
    pub msf: [u8; 3],
    /// The byte between the two times, as stored.
    pub zero: u8,
    /// The pointed-to address (minutes, seconds, frames).
    pub pmsf: [u8; 3],
    /// CD: offset of the extra block; v1 DVD: the track length in sectors.
    pub extra_offset: u32,
    /// CD: (pregap, length) from the extra block.
    pub extra: Option<(u32, u32)>,
    /// Bytes per stored sector, subchannel included.
    pub sector_size: u16,
    /// LBA of the track's index 1.
    pub start_sector: u32,
    /// Byte offset of the track's first stored sector in its data file.
    pub start_offset: u64,
    /// The data files the track's sectors are in, from the block's footers.
    pub files: Vec<Footer>,
    /// v2: first stored sector (tells whether the pregap is stored).
    pub start_sector64: u64,
    /// v2: track length (DVD).
    pub track_length64: u64,
}

impl TrackBlock {
    /// True for a block that describes a track (POINT 1 to 99), not a lead-in pointer.
    pub fn is_track(&self) -> bool {
        (1..=99).contains(&self.point)
    }
}

/// Where a run of a track's sectors is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Footer {
    /// The data file as named (`*.mdf` = the descriptor's name with that extension); `None`
    /// in an MDX: the data is in the MDX itself.
    pub name: Option<String>,
    /// v2: the sectors are stored in compression groups.
    pub compressed: bool,
    /// v2: sectors per compression group.
    pub group_sectors: u32,
    /// v2: sectors this footer covers.
    pub sectors: u64,
    /// v2: offset of the compression table, from the track's start offset.
    pub table_offset: u64,
}

/// Most sessions and footers a descriptor may declare: far beyond any real disc, small enough
/// that a hostile count cannot make us allocate much.
const MAX_SESSIONS: u16 = 99;
const MAX_FOOTERS: u32 = 4096;
/// Longest file name read from a descriptor, in bytes.
const MAX_NAME: usize = 4096;

/// Parses a descriptor: `data` starts with "MEDIA DESCRIPTOR" and the version bytes.
pub(crate) fn parse(b: Bytes, version: Version) -> Result<Descriptor> {
    let header_len = if version.is_v2() { 0x60 } else { 0x58 };
    let h = b.slice(0, header_len, &|| "descriptor header".into())?;
    let medium = h.u16_at(0x12);
    let nsessions = h.u16_at(0x14);
    if nsessions == 0 || nsessions > MAX_SESSIONS {
        return Err(b.corrupt(format!(
            "the descriptor declares {nsessions} sessions (1 to {MAX_SESSIONS} expected)"
        )));
    }
    let bca_len = h.u16_at(0x1A);
    let cdtext_len = h.u16_at(0x1E);
    let bca_off = h.u32_at(0x24);
    let cdtext_off = h.u32_at(0x28);
    let structures_off = h.u32_at(0x40);
    let sessions_off = h.u32_at(0x50);
    let dpm_off = h.u32_at(0x54);
    let data_key_offset = if version.is_v2() { h.u32_at(0x58) } else { 0 };

    let mut d = Descriptor {
        version,
        medium,
        sessions: Vec::new(),
        structures: DiscStructures::default(),
        cdtext: None,
        dpm: Vec::new(),
        data_key_offset,
    };
    let session_size = if version.is_v2() { 32 } else { 24 };
    for i in 0..nsessions as u64 {
        let off = sessions_off as u64 + i * session_size;
        let s = b.slice(off, session_size, &|| format!("session block {}", i + 1))?;
        let (start, end, rest) = if version.is_v2() {
            (s.i64_at(0), s.i64_at(0x18), &s[8..])
        } else {
            (s.i32_at(0) as i64, s.i32_at(4) as i64, &s[8..])
        };
        let number = rest.u16_at(0);
        let all = rest.u8_at(2);
        let first_track = rest.u16_at(4);
        let last_track = rest.u16_at(6);
        let blocks_off = rest.u32_at(12);
        let mut blocks = Vec::with_capacity(all as usize);
        for t in 0..all as u64 {
            blocks.push(parse_track_block(
                b,
                version,
                d.is_dvd(),
                blocks_off as u64 + t * 80,
                number,
                t as usize,
            )?);
        }
        d.sessions.push(SessionBlock {
            start,
            end,
            number,
            first_track,
            last_track,
            blocks,
        });
    }
    if structures_off != 0 {
        d.structures = parse_structures(b, structures_off as u64)?;
    }
    if bca_off != 0 && bca_len != 0 {
        d.structures.bca = Some(
            b.slice(bca_off as u64, bca_len as u64, &|| "BCA".into())?
                .to_vec(),
        );
    }
    if cdtext_off != 0 && cdtext_len != 0 {
        let packs = b.slice(cdtext_off as u64, cdtext_len as u64, &|| {
            "CD-TEXT packs".into()
        })?;
        let text = CdText::from_packs(packs, false)
            .map_err(|e| b.corrupt(format!("CD-TEXT at offset {cdtext_off:#x}: {e}")))?;
        d.cdtext = Some(text);
    }
    if dpm_off != 0 {
        d.dpm = parse_dpm(b, dpm_off as u64)?;
    }
    Ok(d)
}

fn parse_track_block(
    b: Bytes,
    version: Version,
    dvd: bool,
    off: u64,
    session: u16,
    index: usize,
) -> Result<TrackBlock> {
    let what = || format!("track block {} of session {session}", index + 1);
    let t = b.slice(off, 80, &what)?;
    let mut block = TrackBlock {
        mode: t[0],
        subchannel: t[1],
        adr_ctl: t[2],
        tno: t[3],
        point: t[4],
        msf: [t[5], t[6], t[7]],
        zero: t[8],
        pmsf: [t[9], t[10], t[11]],
        extra_offset: t.u32_at(0x0C),
        extra: None,
        sector_size: t.u16_at(0x10),
        start_sector: t.u32_at(0x24),
        start_offset: t.u64_at(0x28),
        files: Vec::new(),
        start_sector64: if version.is_v2() { t.u64_at(0x38) } else { 0 },
        track_length64: if version.is_v2() { t.u64_at(0x40) } else { 0 },
    };
    if !block.is_track() {
        return Ok(block);
    }
    if !dvd && block.extra_offset != 0 {
        let e = b.slice(block.extra_offset as u64, 8, &|| {
            format!("extra block of track {}", block.point)
        })?;
        block.extra = Some((e.u32_at(0), e.u32_at(4)));
    }
    let count = t.u32_at(0x30);
    let footers_off = t.u32_at(0x34) as u64;
    if count > MAX_FOOTERS {
        return Err(b.corrupt(format!("track {} declares {count} data files", block.point)));
    }
    let mdx = matches!(version, Version::V2 { mdx: true, .. });
    let size = if version.is_v2() { 32 } else { 16 };
    for j in 0..count as u64 {
        let f = b.slice(footers_off + j * size, size, &|| {
            format!("footer {} of track {}", j + 1, block.point)
        })?;
        let name_off = f.u32_at(0);
        let name = if name_off == 0 {
            if !mdx {
                return Err(b.corrupt(format!(
                    "track {}: footer {} names no data file",
                    block.point,
                    j + 1
                )));
            }
            None
        } else {
            let wide = version.is_v2() || f.u32_at(4) == 1;
            Some(read_name(b, name_off as u64, wide)?)
        };
        block.files.push(if version.is_v2() {
            Footer {
                name,
                compressed: f[4] & 1 != 0,
                group_sectors: f.u32_at(0x0C),
                sectors: f.u64_at(0x10),
                table_offset: f.u64_at(0x18),
            }
        } else {
            Footer {
                name,
                compressed: false,
                group_sectors: 0,
                sectors: 0,
                table_offset: 0,
            }
        });
    }
    Ok(block)
}

/// A file name: UTF-16LE (`wide`) or 8-bit ANSI (read as Latin-1), up to a NUL.
fn read_name(b: Bytes, off: u64, wide: bool) -> Result<String> {
    let avail = b.len().saturating_sub(off).min(MAX_NAME as u64);
    let raw = b.slice(off, avail, &|| "data file name".into())?;
    let name = if wide {
        let units: Vec<u16> = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        raw.iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as char)
            .collect()
    };
    if name.is_empty() {
        return Err(b.corrupt(format!("empty data file name at offset {off:#x}")));
    }
    Ok(name)
}

/// DVD structures: per layer 4 bytes of copyright information, 2048 of disc manufacturing
/// information and 2048 of physical format information; a second layer follows when the PFI
/// says the disc has two.
fn parse_structures(b: Bytes, off: u64) -> Result<DiscStructures> {
    let mut s = DiscStructures::default();
    let mut at = off;
    for layer in 0..2 {
        let block = b.slice(at, 4100, &|| format!("DVD structures of layer {layer}"))?;
        s.copyright.push(block[..4].to_vec());
        s.dmi.push(block[4..2052].to_vec());
        let pfi = block[2052..4100].to_vec();
        let layers = ((pfi[2] >> 5) & 3) + 1;
        s.pfi.push(pfi);
        at += 4100;
        if layers < 2 || at + 4100 > b.len() {
            break;
        }
    }
    Ok(s)
}

/// DPM: a count of blocks and their offsets; each block holds a start sector, a resolution
/// and cumulative angle entries.
fn parse_dpm(b: Bytes, off: u64) -> Result<Vec<Dpm>> {
    let count = b.slice(off, 4, &|| "DPM block count".into())?.u32_at(0) as u64;
    let offsets = b.slice(off + 4, count * 4, &|| "DPM block offsets".into())?;
    let mut out = Vec::new();
    for i in 0..count as usize {
        let at = offsets.u32_at(i * 4) as u64;
        let h = b.slice(at, 16, &|| format!("DPM block {}", i + 1))?;
        let n = h.u32_at(12) as u64;
        let entries = b.slice(at + 16, n * 4, &|| {
            format!("entries of DPM block {}", i + 1)
        })?;
        out.push(Dpm {
            start_sector: h.u32_at(4),
            resolution: h.u32_at(8),
            entries: entries
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        });
    }
    Ok(out)
}
