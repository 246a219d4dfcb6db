//! Writing a disc as one BIN of raw 2352-byte sectors and a cue sheet beside it.
//!
//! Which sectors go into the BIN and what the sheet says about the rest (implicit pregap,
//! PREGAP, POSTGAP, the gaps between sessions) is decided by `spindle_disc::cuesheet`
//! (`bin_plan`, `cue_sheet`), the same conventions `layout` reads back. This module only
//! checks that the disc fits those conventions and moves the bytes, in large writes: sectors
//! are read straight into a 4 MiB buffer that is written when full.

use crate::error::WriteError;
use spindle_disc::cuesheet::{DEFAULT_PREGAP, bin_plan, cue_sheet, session_gap};
use spindle_disc::{Disc, ImageWriter, Lba, Progress, SectorFormat, WriteOptions, WriterCaps};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `<stem>.bin` + `<stem>.cue` (registry id `cue`).
pub struct BinCueWriter;

impl ImageWriter for BinCueWriter {
    fn id(&self) -> &'static str {
        "cue"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["cue"]
    }
    fn caps(&self) -> WriterCaps {
        WriterCaps {
            audio: true,
            multisession: true,
            raw_sectors: true,
            subchannel: false,
            cdtext: true,
            codes: true,
            indexes: true,
            structures: false,
        }
    }
    fn outputs(&self, out: &Path) -> Vec<PathBuf> {
        vec![out.to_path_buf(), out.with_extension("bin")]
    }
    fn write(
        &self,
        disc: &Disc,
        out: &Path,
        progress: Progress,
    ) -> Result<Vec<PathBuf>, spindle_disc::BoxError> {
        Ok(write_bin_cue(disc, out, progress)?)
    }
    fn write_with(
        &self,
        disc: &Disc,
        out: &Path,
        options: &WriteOptions,
        progress: Progress,
    ) -> Result<Vec<PathBuf>, spindle_disc::BoxError> {
        Ok(write_bin_cue_with(disc, out, options, progress)?)
    }
}

const SECTOR: usize = 2352;
/// Sectors per write: 4 MiB and a bit.
const BUFFER_SECTORS: u32 = 1792;

/// Checks that reading the written sheet back gives the same addresses.
fn check_representable(disc: &Disc) -> Result<(), WriteError> {
    let bad = |m: String| Err(WriteError::Unrepresentable(m));
    if !disc.medium.is_cd() {
        return bad(format!(
            "BIN/CUE holds CDs, and this disc is a {}",
            disc.medium
        ));
    }
    let mut prev_end: Option<Lba> = None;
    for (si, s) in disc.sessions.iter().enumerate() {
        for (ti, t) in s.tracks.iter().enumerate() {
            let expected = match (si, ti, prev_end) {
                (0, 0, _) => Lba(-(DEFAULT_PREGAP as i32)),
                (_, 0, Some(end)) => end.offset(session_gap(disc.sessions[si - 1].number) as i64),
                (_, _, Some(end)) => end,
                (_, _, None) => t.start,
            };
            if t.start != expected {
                return bad(format!(
                    "track {} starts at {} where a cue sheet can only put it at {expected}",
                    t.number, t.start
                ));
            }
            if si == 0 && ti == 0 && t.pregap < DEFAULT_PREGAP {
                return bad(format!(
                    "track {} has a pregap of {} sectors, less than the {DEFAULT_PREGAP} a cue sheet implies",
                    t.number, t.pregap
                ));
            }
            prev_end = Some(t.end());
        }
    }
    Ok(())
}

/// Writes `disc` as `out` (the cue sheet) and `out` with the extension `.bin`; returns both
/// paths. `progress` gets (bytes written, bytes to write) of the BIN.
pub fn write_bin_cue(
    disc: &Disc,
    out: &Path,
    progress: Progress,
) -> Result<Vec<PathBuf>, WriteError> {
    write_bin_cue_with(disc, out, &WriteOptions::default(), progress)
}

/// [`write_bin_cue`], stopping between writes when `options.cancel` is set (the files
/// written so far are left for the caller to remove).
pub fn write_bin_cue_with(
    disc: &Disc,
    out: &Path,
    options: &WriteOptions,
    progress: Progress,
) -> Result<Vec<PathBuf>, WriteError> {
    check_representable(disc)?;
    let bin = out.with_extension("bin");
    if bin == out {
        return Err(WriteError::Unrepresentable(format!(
            "{} would be both the cue sheet and the BIN; name the output .cue",
            out.display()
        )));
    }
    let bin_name = bin
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let plans = bin_plan(disc);
    let total: u64 = plans
        .iter()
        .map(|p| p.sectors() as u64 * SECTOR as u64)
        .sum();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError::Io { path, source }
    };
    let mut file = File::create(&bin).map_err(io(&bin))?;
    let mut buf = vec![0u8; BUFFER_SECTORS as usize * SECTOR];
    let mut filled = 0usize; // sectors in `buf`
    let mut done = 0u64;
    progress(0, total);
    for p in &plans {
        let mut lba = p.first;
        while lba < p.end {
            let room = BUFFER_SECTORS - filled as u32;
            let n = (p.end.since(lba) as u64).min(room as u64) as u32;
            let at = filled * SECTOR;
            disc.read_sectors(
                lba,
                n,
                SectorFormat::RAW,
                &mut buf[at..at + n as usize * SECTOR],
            )?;
            filled += n as usize;
            lba = lba.offset(n as i64);
            if filled == BUFFER_SECTORS as usize {
                options.check_cancel()?;
                file.write_all(&buf).map_err(io(&bin))?;
                done += buf.len() as u64;
                filled = 0;
                progress(done, total);
            }
        }
    }
    file.write_all(&buf[..filled * SECTOR]).map_err(io(&bin))?;
    done += (filled * SECTOR) as u64;
    file.flush().map_err(io(&bin))?;
    drop(file);
    progress(done, total);
    let text = cue_sheet(disc, &|_| bin_name.clone());
    std::fs::write(out, text).map_err(io(out))?;
    Ok(vec![out.to_path_buf(), bin])
}
