//! From a parsed [`Descriptor`] to a [`Disc`]: tracks with their addresses and extents, the
//! stored full TOC, medium, DVD structures, CD-TEXT and DPM.
//!
//! Addresses: a track's index 1 is its start sector (PLBA); its pregap comes from the extra
//! block. The pregap of the first track lies before LBA 0 and is never stored. For later
//! tracks the pregap may or may not be in the data file:
//! - v2/MDX says so: the first stored sector (`start_sector64`) is the pregap's first sector
//!   when it is stored, index 1 otherwise (libmirage's reading of the field);
//! - v1 does not: Alcohol's MDF runs on from one track to the next, with the start offset
//!   pointing at index 1. When the pregap's bytes lie in the file between the previous track's
//!   data and this start offset they are the pregap; otherwise the pregap is unstored zeros
//!   (libmirage always assumes the latter).
//!
//! UltraISO writes a first track whose index 1 is after LBA 0 (a hidden track in the
//! pregap); the pregap then reaches back to LBA −150 (Aaru's reading).

use crate::crypto::Lrw;
use crate::descriptor::{Descriptor, Footer, TrackBlock, Version};
use crate::error::{MdsError, Result};
use crate::fragment::MdxFragment;
use crate::groups::GroupTable;
use crate::layout::{self, TrackFormat};
use spindle_disc::{
    ByteSource, Companions, Disc, Extent, ExtentData, Lba, MAX_LBA, Medium, Session, SourceInfo,
    Stored, TocEntry, Track, TrackFlags,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What building needs besides the descriptor.
pub struct BuildContext<'a> {
    /// The descriptor, for messages.
    pub path: &'a Path,
    /// Opens the data files the descriptor names.
    pub companions: &'a dyn Companions,
    /// MDX: the image itself, which holds the track data.
    pub mdx: Option<Arc<dyn ByteSource>>,
    /// Track data cipher (v2 with a data encryption header).
    pub cipher: Option<Arc<Lrw>>,
    /// Password-less (TAGES) encryption: DAEMON Tools' declared lengths may disagree with
    /// what is stored (twin sectors), so footers are trusted.
    pub lenient_lengths: bool,
    /// The variant `spindle info` shows (`MDS v1.3`, `MDX, compressed`...).
    pub variant: String,
}

impl BuildContext<'_> {
    fn corrupt(&self, message: String) -> MdsError {
        MdsError::Corrupt {
            path: self.path.to_path_buf(),
            message,
        }
    }
}

/// The medium a descriptor's code stands for.
fn medium(d: &Descriptor) -> Medium {
    match (d.version, d.medium) {
        (Version::V1 { .. }, 0x00) | (Version::V2 { .. }, 0) => Medium::CdRom,
        (Version::V1 { .. }, 0x01) | (Version::V2 { .. }, 1) => Medium::CdR,
        (Version::V1 { .. }, 0x02) | (Version::V2 { .. }, 2) => Medium::CdRw,
        (Version::V1 { .. }, 0x12) => Medium::DvdR,
        _ if d.is_dvd() => Medium::DvdRom,
        _ => Medium::CdRom,
    }
}

/// Opens the data files of a track's footers, expanding `*.ext` to the descriptor's name.
struct FileOpener<'a> {
    ctx: &'a BuildContext<'a>,
    files: Vec<PathBuf>,
}

impl FileOpener<'_> {
    fn name_for(&self, f: &Footer, index: usize, all: &[Footer]) -> String {
        let stem = self
            .ctx
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = f.name.clone().unwrap_or_default();
        // Split MDFs that repeat one name: `.mdf`, then `.md0`, `.md1`...
        let repeated = index > 0 && all[0].name == f.name;
        let name = if repeated {
            let base = name
                .rsplit_once('.')
                .map_or(name.as_str(), |(b, _)| b)
                .to_string();
            format!("{base}.md{}", index - 1)
        } else {
            name
        };
        match name.strip_prefix('*') {
            Some(ext) => format!("{stem}{ext}"),
            None => name,
        }
    }

    fn open(&mut self, f: &Footer, index: usize, all: &[Footer]) -> Result<Arc<dyn ByteSource>> {
        if f.name.is_none() {
            return self
                .ctx
                .mdx
                .clone()
                .ok_or_else(|| self.ctx.corrupt("a footer names no data file".into()));
        }
        let name = self.name_for(f, index, all);
        let src = self
            .ctx
            .companions
            .open(&name)
            .map_err(|source| MdsError::MissingFile {
                path: self.ctx.path.to_path_buf(),
                name: name.clone(),
                source,
            })?;
        if !self.files.iter().any(|p| p == src.path()) {
            self.files.push(src.path().to_path_buf());
        }
        Ok(src)
    }
}

/// Builds the disc.
pub fn build(d: &Descriptor, ctx: &BuildContext) -> Result<Disc> {
    let mut disc = Disc::new(
        medium(d),
        SourceInfo {
            format: "mds".into(),
            variant: ctx.variant.clone(),
            path: ctx.path.to_path_buf(),
            files: Vec::new(),
        },
    );
    let dvd = d.is_dvd();
    let mut opener = FileOpener {
        ctx,
        files: Vec::new(),
    };
    if let Some(mdx) = &ctx.mdx {
        opener.files.push(mdx.path().to_path_buf());
    }
    // End of the previous track's stored bytes in its last file: (file, offset).
    let mut prev_stored: Option<(PathBuf, u64)> = None;
    for (si, sb) in d.sessions.iter().enumerate() {
        let number = u8::try_from(sb.number)
            .ok()
            .filter(|&n| n as usize == si + 1)
            .ok_or_else(|| {
                ctx.corrupt(format!(
                    "session block {} is numbered {}",
                    si + 1,
                    sb.number
                ))
            })?;
        let mut session = Session {
            number,
            tracks: Vec::new(),
            leadout: Lba::ZERO,
        };
        for b in sb.blocks.iter().filter(|b| b.is_track()) {
            let first_on_disc = disc.sessions.is_empty() && session.tracks.is_empty();
            let track = build_track(d, ctx, &mut opener, b, dvd, first_on_disc, &mut prev_stored)?;
            session.tracks.push(track);
        }
        let last = session
            .tracks
            .last()
            .ok_or_else(|| ctx.corrupt(format!("session {number} has no tracks")))?;
        session.leadout = last.end();
        disc.sessions.push(session);
    }
    disc.full_toc = full_toc(d);
    disc.structures = d.structures.clone();
    disc.cdtext = d.cdtext.clone();
    disc.dpm = d.dpm.clone();
    disc.source.files = opener.files;
    disc.validate().map_err(|source| MdsError::Disc {
        path: ctx.path.to_path_buf(),
        source,
    })?;
    Ok(disc)
}

fn build_track(
    d: &Descriptor,
    ctx: &BuildContext,
    opener: &mut FileOpener,
    b: &TrackBlock,
    dvd: bool,
    first_on_disc: bool,
    prev_stored: &mut Option<(PathBuf, u64)>,
) -> Result<Track> {
    let n = b.point;
    let bad = |m: String| ctx.corrupt(format!("track {n}: {m}"));
    let fmt = match d.version {
        Version::V1 { .. } => layout::v1(b.mode, b.subchannel, b.sector_size, dvd),
        Version::V2 { .. } => layout::v2(b.mode, b.subchannel, b.sector_size, dvd),
    }
    .map_err(&bad)?;
    let stride = fmt.stride() as u64;
    if b.start_sector as i64 >= MAX_LBA.0 as i64 {
        return Err(bad(format!(
            "starts at sector {}, beyond any disc",
            b.start_sector
        )));
    }
    let index1 = Lba(b.start_sector as i32);
    let (mut pregap, length) = match (dvd, b.extra) {
        (false, Some((p, l))) => (p as u64, l as u64),
        (false, None) => (0, footer_sectors(b)),
        (true, _) if d.version.is_v2() => (0, b.track_length64),
        (true, _) => (0, b.extra_offset as u64),
    };
    if first_on_disc && !dvd {
        // Track 1 starts at LBA −150; an index 1 after LBA 0 is UltraISO's hidden track.
        pregap = (index1.0 as i64 + 150).max(0) as u64;
    }
    if pregap + length == 0
        || pregap + length >= MAX_LBA.0 as u64
        || pregap > index1.0 as u64 + 45_150
    {
        return Err(bad(format!("pregap {pregap} and length {length} sectors")));
    }
    let start = index1.offset(-(pregap as i64));
    // Pregap sectors before LBA 0 on the first track are never stored.
    let never = if first_on_disc {
        (-(start.0 as i64)).clamp(0, pregap as i64) as u64
    } else {
        0
    };
    let first_file = b.files.first().ok_or_else(|| bad("no data file".into()))?;
    let first_src = opener.open(first_file, 0, &b.files)?;
    let storable = pregap - never;
    let stored_pregap = match d.version {
        // The first stored sector: index 1, or earlier when (part of) the pregap is stored.
        Version::V2 { .. } => {
            let first_stored = b.start_sector64 as i64;
            let lowest = start.0 as i64 + never as i64;
            if (lowest..=index1.0 as i64).contains(&first_stored) {
                (index1.0 as i64 - first_stored) as u64
            } else {
                0
            }
        }
        // Whole sectors between the previous track's data and this start offset.
        Version::V1 { .. } => {
            let floor = match prev_stored.as_ref() {
                Some((p, end)) if p == first_src.path() => *end,
                _ => 0,
            };
            (b.start_offset.saturating_sub(floor) / stride).min(storable)
        }
    };
    // A hidden track before index 1 of track 1 must be stored: a pregap of unstored zeros
    // reaching far past LBA 0 is a damaged start sector.
    if first_on_disc && !dvd && index1.0 > 0 && stored_pregap < storable {
        return Err(bad(format!(
            "index 1 at sector {index1} but its data file does not hold the {storable} sectors before it"
        )));
    }
    let mut extents = Vec::new();
    if pregap > stored_pregap {
        extents.push(Extent::zero((pregap - stored_pregap) as u32));
    }
    let need = stored_pregap + length;
    // v2 points at the first stored sector; v1 at index 1, with a stored pregap just before.
    let data_start = if d.version.is_v2() {
        b.start_offset
    } else {
        b.start_offset - stored_pregap * stride
    };
    let mut got = 0u64;
    let mut last_end = (first_src.path().to_path_buf(), data_start);
    for (j, f) in b.files.iter().enumerate() {
        let src = if j == 0 {
            first_src.clone()
        } else {
            opener.open(f, j, &b.files)?
        };
        let off = if j == 0 { data_start } else { 0 };
        let (sectors, data) = match d.version {
            Version::V1 { .. } => {
                let avail = src.len().saturating_sub(off) / stride;
                let take = avail.min(need - got);
                let mut st = Stored::new(src.clone(), off, fmt.main);
                st.sub = fmt.sub;
                (take, ExtentData::Stored(st))
            }
            Version::V2 { .. } => {
                if f.sectors >= MAX_LBA.0 as u64 || off > src.len() {
                    return Err(bad(format!(
                        "data file {}: {} sectors from offset {off}, beyond its {} bytes",
                        j + 1,
                        f.sectors,
                        src.len()
                    )));
                }
                (f.sectors, v2_extent(ctx, &fmt, f, src.clone(), off, &bad)?)
            }
        };
        if sectors == 0 {
            continue;
        }
        if sectors > u32::MAX as u64 {
            return Err(bad(format!("{sectors} sectors in one data file")));
        }
        extents.push(Extent {
            sectors: sectors as u32,
            data,
        });
        got += sectors;
        last_end = (src.path().to_path_buf(), off + sectors * stride);
        if got >= need && !d.version.is_v2() {
            break;
        }
    }
    let mut length = length;
    if got != need {
        if d.version.is_v2() && ctx.lenient_lengths && got > stored_pregap {
            length = got - stored_pregap;
        } else if got < need {
            return Err(bad(format!(
                "needs {need} sectors of {stride} bytes, but its data files hold {got} (truncated {})",
                if d.version.is_v2() {
                    "descriptor"
                } else {
                    "MDF"
                }
            )));
        } else {
            return Err(bad(format!(
                "its footers cover {got} sectors, the track has {need}"
            )));
        }
    }
    *prev_stored = Some(last_end);
    Ok(Track {
        number: n,
        mode: fmt.mode,
        flags: TrackFlags::from_control(b.adr_ctl & 0x0F),
        isrc: None,
        start,
        pregap: pregap as u32,
        extra_indexes: Vec::new(),
        length: (pregap + length) as u32,
        postgap: 0,
        extents,
    })
}

/// Sectors the footers of a v2 track declare (v1 footers declare none).
fn footer_sectors(b: &TrackBlock) -> u64 {
    b.files.iter().map(|f| f.sectors).sum()
}

/// The extent of one v2 footer: plain stored sectors, or a decoder.
fn v2_extent(
    ctx: &BuildContext,
    fmt: &TrackFormat,
    f: &Footer,
    src: Arc<dyn ByteSource>,
    off: u64,
    bad: &dyn Fn(String) -> MdsError,
) -> Result<ExtentData> {
    let stride = fmt.stride();
    if !f.compressed && off + f.sectors * stride as u64 > src.len() {
        // (Both bounded by the caller: sectors below 2^30, off within the file.)
        return Err(bad(format!(
            "{} sectors of {stride} bytes from offset {off} run past the end of {} ({} bytes): truncated",
            f.sectors,
            src.path().display(),
            src.len()
        )));
    }
    if !f.compressed && ctx.cipher.is_none() {
        let mut st = Stored::new(src, off, fmt.main);
        st.sub = fmt.sub;
        return Ok(ExtentData::Stored(st));
    }
    let table = if f.compressed {
        let n = GroupTable::count(f.sectors, f.group_sectors.max(1));
        let at = off
            .checked_add(f.table_offset)
            .filter(|&a| a < src.len())
            .ok_or_else(|| {
                bad(format!(
                    "compression table at offset {} + {} is past the end of {}",
                    off,
                    f.table_offset,
                    src.path().display()
                ))
            })?;
        let want = ((n.min(crate::groups::MAX_GROUPS) + 0x800) * 2).min(src.len() - at);
        let mut z = vec![0u8; want as usize];
        src.read_exact_at(&mut z, at)
            .map_err(|source| MdsError::Io {
                path: src.path().to_path_buf(),
                source,
            })?;
        let t = GroupTable::parse(&z, f.sectors, f.group_sectors, stride)
            .map_err(|e| bad(format!("at offset {at}: {e}")))?;
        if off + t.stored_bytes > src.len() {
            return Err(bad(format!(
                "its compressed groups need {} bytes from offset {off}, past the end of {} ({} bytes)",
                t.stored_bytes,
                src.path().display(),
                src.len()
            )));
        }
        Some(t)
    } else {
        None
    };
    Ok(ExtentData::Custom(Arc::new(MdxFragment::new(
        src,
        off,
        fmt.main,
        fmt.sub,
        stride,
        f.sectors,
        ctx.cipher.clone(),
        table,
    ))))
}

/// The full TOC as stored, with CONTROL moved to the high nibble (MDS stores ADR there),
/// and minutes that older writers put in the `zero` byte moved back. Empty unless every
/// session has its A0, A1 and A2 entries.
fn full_toc(d: &Descriptor) -> Vec<TocEntry> {
    let mut out = Vec::new();
    for s in &d.sessions {
        let has = |p: u8| s.blocks.iter().any(|b| b.point == p);
        if !(has(0xA0) && has(0xA1) && has(0xA2)) {
            return Vec::new();
        }
        for b in &s.blocks {
            let (mut pmin, mut zero) = (b.pmsf[0], b.zero);
            if b.is_track() && zero != 0 && zero < 4 && pmin < 60 {
                pmin += zero * 60;
                zero = 0;
            }
            out.push(TocEntry {
                session: s.number as u8,
                adr_ctl: b.adr_ctl.rotate_left(4),
                tno: b.tno,
                point: b.point,
                min: b.msf[0],
                sec: b.msf[1],
                frame: b.msf[2],
                zero,
                pmin,
                psec: b.pmsf[1],
                pframe: b.pmsf[2],
            });
        }
    }
    out
}
