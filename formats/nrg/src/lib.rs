//! # spindle-format-nrg: Nero NRG images (reading)
//!
//! An NRG file holds the track data from byte 0 and, at its end, a chunk list and a trailer
//! pointing to it (`NERO` + 32-bit offset in v1, `NER5` + 64-bit offset in v2). Reading goes:
//! [`chunks`] finds the trailer and splits the chunk list, [`records`] decodes the chunks
//! into sessions of DAO or TAO tracks ([`records::Descriptor`]), [`mode`] says what each
//! mode code stores, and [`build`] lays the tracks out as a [`Disc`] whose extents point
//! into the file. Nothing is decoded at read time: every mode stores plain sectors that the
//! disc model completes (sync, headers, EDC/ECC, Q subchannel).
//!
//! Sources: libmirage `images/image-nrg/{image-nrg.h,parser.c}` (layouts and mode codes),
//! libcdio's `nrg.c`, and `../shared/notes/formats.md` §3.3; see `docs/nrg.md`.
//!
//! The probe sees only the head of a file, and the signature is at its end: it claims
//! files named `*.nrg` (or a head that is the whole file and ends in a trailer); [`open`]
//! then checks the trailer and fails clearly when there is none.

pub mod build;
pub mod chunks;
pub mod error;
pub mod mode;
pub mod records;

pub use error::NrgError;

use spindle_disc::{ByteSource, Disc, ImageFormat, OpenContext, OpenError};
use std::path::Path;
use std::sync::Arc;

/// The NRG format (registry id `nrg`).
pub struct NrgFormat;

impl ImageFormat for NrgFormat {
    fn id(&self) -> &'static str {
        "nrg"
    }
    fn description(&self) -> &'static str {
        "Nero Burning ROM image (NRG v1 and v2)"
    }
    fn probe(&self, path: &Path, head: &[u8], len: u64) -> bool {
        probe(path, head, len)
    }
    fn open(&self, path: &Path, ctx: &OpenContext) -> Result<Disc, OpenError> {
        Ok(open(path, ctx)?)
    }
}

/// Smallest NRG: an `END!` chunk (8 bytes) and a v1 trailer (8 bytes).
const MIN_LEN: u64 = 16;

/// True for a `.nrg` file (any case) long enough to hold a chunk list and a trailer, or for
/// a file wholly inside `head` that ends in a Nero trailer.
pub fn probe(path: &Path, head: &[u8], len: u64) -> bool {
    if len < MIN_LEN {
        return false;
    }
    if head.len() as u64 == len {
        let t = &head[head.len() - 12..];
        if &t[..4] == b"NER5" || &t[4..8] == b"NERO" {
            return true;
        }
    }
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("nrg"))
}

/// Opens an NRG image. It is one file, opened through the companions so that a compressed
/// `disc.nrg.xz` opened as `disc.nrg` reads decompressed.
pub fn open(path: &Path, ctx: &OpenContext) -> Result<Disc, NrgError> {
    let file = ctx.open_image(path).map_err(|source| NrgError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    open_source(file, path)
}

/// Opens an NRG image held in any byte source (a file, or bytes in memory); messages name
/// `path`.
pub fn open_source(src: Arc<dyn ByteSource>, path: &Path) -> Result<Disc, NrgError> {
    let list = chunks::read_chunk_list(src.as_ref(), path)?;
    let desc = records::decode(&list, path)?;
    build::build(&desc, src, path)
}
