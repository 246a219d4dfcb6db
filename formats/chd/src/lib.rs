//! # spindle-format-chd: MAME CHD v5 CD images (reading)
//!
//! A CHD ("Compressed Hunks of Data", MAME `src/lib/util/chd.cpp`) is a header, a hunk map,
//! compressed hunks and a chain of metadata entries. A CD image stores every track in one
//! stream of 2448-byte frames (2352 bytes of sector + 96 of subchannel), grouped into hunks
//! (chdman: 8 frames) and compressed with `cdlz`/`cdzl`/`cdfl` (chdman's default) or `cdzs`,
//! and describes its tracks in `CHT2` text entries.
//!
//! * [`header`]: the v5 header, checked before anything trusts it;
//! * [`hunks`]: the chd-rs decoder behind a mutex, with an LRU of decoded hunks, and the
//!   checks that keep hostile maps and blocks away from it;
//! * [`metadata`]: `CHT2`/`CHTR` text → tracks;
//! * [`build`]: tracks → [`Disc`] (4-frame track padding, stored and unstored pregaps);
//! * [`source`]: one track's frames as a `SectorSource`.
//!
//! Audio is stored with big-endian samples (`MainLayout::RAW_BIG_ENDIAN`: the disc model
//! swaps them); `RW_RAW` subchannel is 96-byte interleaved P-W. See docs/chd.md.

pub mod build;
mod error;
pub mod header;
pub mod hunks;
pub mod metadata;
pub mod source;

pub use error::{ChdError, Result};

use chd::metadata::MetadataTag;
use header::{Header, V5_HEADER_LEN, fourcc};
use hunks::Hunks;
use metadata::{CHCD, CHGD, CHGT, CHT2, CHTR, ChdTrack};
use spindle_disc::{ByteSource, Disc, ImageFormat, OpenContext, OpenError};
use std::path::Path;
use std::sync::Arc;

/// Metadata entries walked at most (a CD has at most 99 track entries, plus a few others).
const MAX_METADATA_ENTRIES: usize = 256;

/// The CHD image format (`chd`).
pub struct ChdFormat;

impl ImageFormat for ChdFormat {
    fn id(&self) -> &'static str {
        "chd"
    }
    fn description(&self) -> &'static str {
        "MAME CHD v5 CD image (chdman createcd)"
    }
    fn probe(&self, path: &Path, head: &[u8], len: u64) -> bool {
        probe(path, head, len)
    }
    fn open(&self, path: &Path, ctx: &OpenContext) -> Result<Disc, OpenError> {
        Ok(open(path, ctx)?)
    }
}

/// True for a file that starts with the CHD signature (any version, so that an old or
/// non-CD CHD gets a clear message instead of being taken for something else).
pub fn probe(_path: &Path, head: &[u8], _len: u64) -> bool {
    head.starts_with(header::MAGIC)
}

/// Opens the CHD at `path`: one file, opened through the companions (so that a CHD inside a
/// container reads too, though CHDs are compressed already).
pub fn open(path: &Path, ctx: &OpenContext) -> Result<Disc> {
    let src = ctx.open_image(path).map_err(|source| ChdError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    open_source(src, path)
}

/// Opens a CHD from any byte source (`path` names it in errors).
pub fn open_source(src: Arc<dyn ByteSource>, path: &Path) -> Result<Disc> {
    let len = src.len();
    let mut head = vec![0u8; (len.min(V5_HEADER_LEN as u64)) as usize];
    src.read_exact_at(&mut head, 0)
        .map_err(|source| ChdError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let header = Header::parse(&head, len, path)?;
    let codecs: Vec<String> = header
        .compressors
        .iter()
        .filter(|&&c| c != 0)
        .map(|&c| fourcc(c))
        .collect();
    let variant = if codecs.is_empty() {
        "CHD v5 CD, uncompressed".to_string()
    } else {
        format!("CHD v5 CD, {}", codecs.join("/"))
    };
    let hunks = Arc::new(Hunks::open(src, header, path)?);
    let tracks = read_tracks(&hunks, path)?;
    build::build(&tracks, &hunks, path, variant)
}

/// Walks the metadata chain and parses the CD track entries.
fn read_tracks(hunks: &Hunks, path: &Path) -> Result<Vec<ChdTrack>> {
    let corrupt = |message: String| ChdError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    hunks.with_chd(|chd| {
        let refs: Vec<_> = {
            let mut it = chd.metadata_refs();
            let mut refs = Vec::new();
            for (i, r) in it.by_ref().enumerate() {
                if i >= MAX_METADATA_ENTRIES {
                    return Err(corrupt(format!(
                        "more than {MAX_METADATA_ENTRIES} metadata entries"
                    )));
                }
                let r = r.map_err(|e| ChdError::Chd {
                    path: path.to_path_buf(),
                    what: format!("metadata entry {i}"),
                    source: e,
                })?;
                refs.push(r);
            }
            refs
        };
        let mut tracks = Vec::new();
        let (mut v2, mut v1) = (0, 0);
        for (i, r) in refs.iter().enumerate() {
            let tag = r.metatag();
            match tag {
                CHGD | CHGT => {
                    return Err(ChdError::Unsupported {
                        path: path.to_path_buf(),
                        message: "a GD-ROM image (CHGD metadata): GD-ROM CHDs are not supported"
                            .into(),
                    });
                }
                CHCD => {
                    return Err(ChdError::Unsupported {
                        path: path.to_path_buf(),
                        message: "binary CD metadata (CHCD, chdman before 0.128) is not supported"
                            .into(),
                    });
                }
                CHT2 | CHTR => {
                    if tracks.len() >= 99 {
                        return Err(corrupt("more than 99 track entries".into()));
                    }
                    let m = r.read(chd.inner()).map_err(|e| ChdError::Chd {
                        path: path.to_path_buf(),
                        what: format!("metadata entry {i} ({})", fourcc(tag)),
                        source: e,
                    })?;
                    let t = metadata::parse_track(&m.value, tag == CHT2).map_err(|m| {
                        corrupt(format!("metadata entry {i} ({}): {m}", fourcc(tag)))
                    })?;
                    if tag == CHT2 {
                        v2 += 1
                    } else {
                        v1 += 1
                    }
                    tracks.push(t);
                }
                _ => {}
            }
        }
        if v1 > 0 && v2 > 0 {
            return Err(corrupt("both CHT2 and CHTR track entries".into()));
        }
        Ok(tracks)
    })
}
