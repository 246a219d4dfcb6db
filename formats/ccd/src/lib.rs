//! # spindle-format-ccd: CloneCD CCD/IMG/SUB images
//!
//! A CloneCD image is three files with one stem (`../shared/notes/formats.md` §3.2, psx-spx
//! "CDROM Disk Images CCD/IMG/SUB", libmirage `images/image-ccd`):
//! - `.ccd`: INI text with the raw full TOC (`[Entry n]`), per-track modes and indexes
//!   (`[TRACK n]`), MCN, CD-TEXT packs;
//! - `.img`: every sector from LBA 0 as 2352 raw bytes, pregaps included, session gaps not;
//! - `.sub`: 96 bytes of P-W subchannel per `.img` sector, deinterleaved (12 bytes per channel).
//!
//! Reading takes two steps so that the text parser can be fuzzed alone: [`parse_ccd`] (pure,
//! [`descriptor`]: bytes → [`Ccd`], errors naming the line), then [`build()`](build::build) (→ [`Disc`],
//! opening `.img`/`.sub` through the companions, sniffing track modes from sector headers).
//! [`CcdWriter`] ([`writer`]) writes all three files from any CD.

pub mod build;
pub mod descriptor;
pub mod error;
pub mod ini;
pub mod writer;

pub use descriptor::{Ccd, Entry, TrackSection, parse_ccd};
pub use error::CcdError;
pub use writer::{CcdWriter, write_ccd, write_ccd_with};

use spindle_disc::{ByteSource, Disc, ImageFormat, OpenContext, OpenError};
use std::path::Path;
use std::sync::Arc;

/// Largest file taken for a control file (real ones are a few KiB; 99 tracks and full
/// CD-TEXT stay far below this).
pub const MAX_CCD_BYTES: u64 = 4 << 20;

/// The CloneCD format (registry id `ccd`).
pub struct CcdFormat;

impl ImageFormat for CcdFormat {
    fn id(&self) -> &'static str {
        "ccd"
    }
    fn description(&self) -> &'static str {
        "CloneCD CCD/IMG/SUB"
    }
    fn probe(&self, path: &Path, head: &[u8], len: u64) -> bool {
        probe(path, head, len)
    }
    fn open(&self, path: &Path, ctx: &OpenContext) -> Result<Disc, OpenError> {
        Ok(open(path, ctx)?)
    }
}

/// True for a `.ccd` name (any case), or text that opens (after a BOM, blank lines and `;`
/// comments) with the `[CloneCD]` section. The length plays no part.
pub fn probe(path: &Path, head: &[u8], _len: u64) -> bool {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("ccd"))
    {
        return true;
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    for line in head.split(|&b| b == b'\n' || b == b'\r') {
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with(b";") {
            continue;
        }
        return line.eq_ignore_ascii_case(b"[CloneCD]");
    }
    false
}

/// Reads and opens the control file at `path`, with its `.img` and `.sub` beside it.
pub fn open(path: &Path, ctx: &OpenContext) -> Result<Disc, CcdError> {
    // Through the companions: the file the registry probed (opened once), never a
    // FIFO or device (see `spindle_disc::open`).
    let src = ctx.open_image(path).map_err(|source| CcdError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    open_source(src, path, ctx)
}

/// Opens the control file whose bytes are `src` (`path` names it in messages and locates
/// the `.img` and `.sub`, which `ctx.companions` opens).
pub fn open_source(
    src: Arc<dyn ByteSource>,
    path: &Path,
    ctx: &OpenContext,
) -> Result<Disc, CcdError> {
    let io = |source| CcdError::Io {
        path: path.to_path_buf(),
        source,
    };
    let size = src.len();
    if size > MAX_CCD_BYTES {
        return Err(CcdError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit: MAX_CCD_BYTES,
        });
    }
    let mut text = vec![0u8; size as usize];
    src.read_exact_at(&mut text, 0).map_err(io)?;
    let ccd = parse_ccd(&text, path)?;
    let files = build::open_data_files(path, ctx.companions)?;
    build::build(&ccd, &files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probe's answer for a file named `name` that is all in `head`.
    fn claims(name: &str, head: &[u8]) -> bool {
        probe(Path::new(name), head, head.len() as u64)
    }

    #[test]
    fn probes() {
        assert!(claims("x.CCD", b""));
        assert!(claims("x", b"\xEF\xBB\xBF\r\n[CloneCD]\r\nVersion=3\r\n"));
        assert!(claims("x.txt", b"; comment\n[clonecd]\n"));
        assert!(!claims("x.iso", &[0u8; 4096]));
        assert!(!claims("x.txt", b"[Disc]\n[CloneCD]\n"));
    }
}
