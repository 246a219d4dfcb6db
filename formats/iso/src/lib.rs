//! # spindle-format-iso: plain and raw ISO images
//!
//! * 2048-byte sectors: the classic `.iso` (user data only).
//! * Raw sector images with no descriptor: 2352-byte (sync + header + data + EDC/ECC), 2448-byte
//!   (the same + 96 bytes of interleaved P-W subchannel) and 2336-byte (Mode 2 without sync and
//!   header) sectors, recognised by the sync pattern or by where the volume descriptors sit.
//!
//! The medium is guessed from the size of the user data: CD up to 900 MB, then DVD, then BD.
//! ISO is the registry's fallback, tried last: its probe accepts any file that is a whole
//! number of sectors of one of these sizes.

mod detect;
mod writer;

pub use detect::{Layout, detect_layout};
pub use writer::IsoWriter;

use spindle_disc::cuesheet::DEFAULT_PREGAP;
use spindle_disc::{
    ByteSource, Disc, Extent, ImageFormat, Lba, MainLayout, Medium, OpenContext, OpenError,
    Session, SourceInfo, Stored, SubLayout, Track, TrackFlags,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why an ISO or raw sector image could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum IsoError {
    /// Reading the image failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The image file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file's length is no whole number of sectors of any size an ISO holds.
    #[error("{}: {len} bytes is not a whole number of 2048-, 2352-, 2336- or 2448-byte sectors", path.display())]
    NotSectors {
        /// The image file.
        path: PathBuf,
        /// The file's length in bytes.
        len: u64,
    },
    /// The file is empty.
    #[error("{}: the image is empty", path.display())]
    Empty {
        /// The image file.
        path: PathBuf,
    },
    /// The disc the image makes is inconsistent.
    #[error("{}: {source}", path.display())]
    Layout {
        /// The image file.
        path: PathBuf,
        /// What the disc model found wrong.
        #[source]
        source: spindle_disc::DiscError,
    },
}

/// The ISO format (registry id `iso`).
pub struct IsoFormat;

impl ImageFormat for IsoFormat {
    fn id(&self) -> &'static str {
        "iso"
    }
    fn description(&self) -> &'static str {
        "ISO image (2048-byte sectors, or raw 2352/2336/2448-byte sectors)"
    }
    fn probe(&self, path: &Path, head: &[u8], len: u64) -> bool {
        probe(path, head, len)
    }
    fn open(&self, path: &Path, ctx: &OpenContext) -> Result<Disc, OpenError> {
        Ok(open(path, ctx)?)
    }
}

/// True for a non-empty file that is a whole number of sectors of a size [`detect_layout`]
/// recognises (any name: ISO is the registry's fallback).
pub fn probe(_path: &Path, head: &[u8], len: u64) -> bool {
    len > 0 && detect_layout(head, len).is_some()
}

/// Opens an ISO or raw sector image, through the companions (so that a compressed
/// `game.iso.zst` opened as `game.iso` reads decompressed).
pub fn open(path: &Path, ctx: &OpenContext) -> Result<Disc, IsoError> {
    let file = ctx.open_image(path).map_err(|source| IsoError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    open_source(file, path)
}

/// Opens an ISO or raw sector image from its bytes (`path` names it in messages).
pub fn open_source(file: Arc<dyn ByteSource>, path: &Path) -> Result<Disc, IsoError> {
    let io = |source| IsoError::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = file.len();
    let file_path = file.path().to_path_buf();
    if len == 0 {
        return Err(IsoError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mut head = vec![0u8; (spindle_disc::format::PROBE_BYTES as u64).min(len) as usize];
    file.read_exact_at(&mut head, 0).map_err(io)?;
    let layout = detect_layout(&head, len).ok_or(IsoError::NotSectors {
        path: path.to_path_buf(),
        len,
    })?;
    let sectors = (len / layout.sector_size as u64) as u32;
    let medium = if layout.raw {
        Medium::CdRom
    } else {
        Medium::guess_from_size(len)
    };
    let main = match layout.sector_size {
        2048 => MainLayout::USER,
        2336 => MainLayout::MODE2_2336,
        _ => MainLayout::RAW,
    };
    let sub = if layout.sector_size == 2448 {
        SubLayout::Pw96Interleaved
    } else {
        SubLayout::None
    };
    let stored = Stored {
        sub,
        ..Stored::new(file, 0, main)
    };
    // A CD's first track has its 150-sector pregap before LBA 0; DVDs and BDs have none.
    let pregap = if medium.is_cd() { DEFAULT_PREGAP } else { 0 };
    let mut extents = Vec::new();
    if pregap > 0 {
        extents.push(Extent::zero(pregap));
    }
    extents.push(Extent::stored(sectors, stored));
    let start = Lba(-(pregap as i32));
    let track = Track {
        number: 1,
        mode: layout.mode,
        flags: TrackFlags::default(),
        isrc: None,
        start,
        pregap,
        extra_indexes: Vec::new(),
        length: pregap + sectors,
        postgap: 0,
        extents,
    };
    let leadout = track.end();
    let variant = match layout.sector_size {
        2048 => "ISO (2048-byte sectors)".to_string(),
        n => format!("raw {n}-byte sectors ({})", layout.mode),
    };
    let mut disc = Disc::new(
        medium,
        SourceInfo {
            format: "iso".into(),
            variant,
            path: path.to_path_buf(),
            files: vec![file_path],
        },
    );
    disc.sessions.push(Session {
        number: 1,
        tracks: vec![track],
        leadout,
    });
    disc.validate().map_err(|source| IsoError::Layout {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(disc)
}
