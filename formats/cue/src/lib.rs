//! # spindle-format-cue: CUE/BIN images
//!
//! Reading a cue sheet takes two steps, so that the text parser can be fuzzed on its own:
//! 1. [`parse_sheet`] (pure, [`sheet`]): bytes → [`CueSheet`], the commands as written, with
//!    every syntax and ordering rule checked and errors that name the line ([`CueError`]);
//! 2. [`open_sheet`] ([`layout`]): [`CueSheet`] → [`Disc`], opening each FILE through the
//!    [`Companions`](spindle_disc::Companions) of the [`OpenContext`] (never by walking the
//!    filesystem), deciding which bytes each track stores and the address of every sector.
//!
//! The conventions for stored and unstored gaps are those of `spindle_disc::cuesheet`, and
//! [`BinCueWriter`] ([`writer`]) writes through them, so generated sheets read back to the
//! same disc. In short: sector 0 of the first FILE is LBA 0 (track 1's 150-sector pregap is
//! implicit), `INDEX 00` starts a stored pregap, `PREGAP`/`POSTGAP` are unstored, `REM SESSION
//! nn` starts a session `session_gap` sectors after the previous lead-out.
//!
//! Supported: FILE BINARY / MOTOROLA (big-endian audio) / WAVE (16-bit stereo 44.1 kHz PCM);
//! TRACK AUDIO, CDG, MODE1/2048, MODE1/2352, MODE2/2048, MODE2/2324, MODE2/2336, MODE2/2352,
//! CDI/2336, CDI/2352; INDEX 00..99, PREGAP, POSTGAP, FLAGS, ISRC, CATALOG, CDTEXTFILE, TITLE,
//! PERFORMER, SONGWRITER, COMPOSER, ARRANGER, MESSAGE; multi-FILE sets; CRLF, BOM, Latin-1.

pub mod error;
pub mod layout;
mod lexer;
pub mod sheet;
pub mod wave;
pub mod writer;

pub use error::{CueError, WriteError};
pub use layout::open_sheet;
pub use sheet::{CueFile, CueIndex, CueMode, CueSheet, CueTrack, FileKind, parse_sheet};
pub use writer::{BinCueWriter, write_bin_cue, write_bin_cue_with};

use spindle_disc::{ByteSource, Disc, ImageFormat, OpenContext, OpenError};
use std::path::Path;
use std::sync::Arc;

/// Largest file taken for a cue sheet.
pub const MAX_SHEET_BYTES: u64 = 16 << 20;

/// The CUE/BIN format (registry id `cue`).
pub struct CueFormat;

impl ImageFormat for CueFormat {
    fn id(&self) -> &'static str {
        "cue"
    }
    fn description(&self) -> &'static str {
        "CUE sheet with BIN/WAVE tracks"
    }
    fn probe(&self, path: &Path, head: &[u8], len: u64) -> bool {
        probe(path, head, len)
    }
    fn open(&self, path: &Path, ctx: &OpenContext) -> Result<Disc, OpenError> {
        Ok(open(path, ctx)?)
    }
}

/// True for a `.cue` name (any case), or text whose first command (after a BOM, blank lines
/// and REM lines) is one a cue sheet starts with. The length plays no part.
pub fn probe(path: &Path, head: &[u8], _len: u64) -> bool {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("cue"))
    {
        return true;
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    for line in head.split(|&b| b == b'\n' || b == b'\r') {
        let indent = line.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let word: Vec<u8> = line[indent..]
            .iter()
            .take_while(|b| !b.is_ascii_whitespace())
            .map(u8::to_ascii_uppercase)
            .collect();
        if word.is_empty() {
            continue;
        }
        // The command must be followed by something (FILE name, TITLE text...).
        let rest_ok = line.len() > indent + word.len();
        match word.as_slice() {
            b"REM" => continue,
            b"FILE" | b"CATALOG" | b"TITLE" | b"PERFORMER" | b"SONGWRITER" | b"CDTEXTFILE" => {
                return rest_ok;
            }
            _ => return false,
        }
    }
    false
}

/// Reads and opens the cue sheet at `path`, with the files it names, all through
/// `ctx.companions` (the sheet the registry probed is the file opened, once).
pub fn open(path: &Path, ctx: &OpenContext) -> Result<Disc, CueError> {
    let cue = sheet::display_name(path);
    let src = ctx
        .open_image(path)
        .map_err(|source| CueError::Read { cue, source })?;
    open_source(src, path, ctx)
}

/// Opens the cue sheet whose bytes are `src` (`path` names it in messages and locates the
/// files it names, which `ctx.companions` opens).
pub fn open_source(
    src: Arc<dyn ByteSource>,
    path: &Path,
    ctx: &OpenContext,
) -> Result<Disc, CueError> {
    let cue = sheet::display_name(path);
    let size = src.len();
    if size > MAX_SHEET_BYTES {
        return Err(CueError::TooLarge {
            cue,
            size,
            limit: MAX_SHEET_BYTES,
        });
    }
    let mut text = vec![0u8; size as usize];
    src.read_exact_at(&mut text, 0)
        .map_err(|source| CueError::Read { cue, source })?;
    let sheet = parse_sheet(&text, path)?;
    open_sheet(&sheet, path, ctx.companions)
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
        assert!(claims("x.CUE", b""));
        assert!(claims(
            "x",
            b"\xEF\xBB\xBFREM GENRE x\r\n\r\n  FILE \"a.bin\" BINARY\r\n"
        ));
        assert!(claims("x.txt", b"catalog 0000000000000\n"));
        assert!(!claims("x.iso", &[0u8; 4096]));
        assert!(!claims("x.txt", b"REM only\nREM"));
        assert!(!claims("x.txt", b"FILES are here"));
        assert!(!claims("x.txt", b"FILE"));
    }
}
