//! Writing a disc as CloneCD: `<stem>.ccd`, `<stem>.img` and `<stem>.sub`.
//!
//! The `.img` gets every sector from LBA 0 to the lead-out of session 1, then each later
//! session from its first track's start (pregap included) to its lead-out, as raw 2352-byte
//! sectors; the `.sub` gets the 96 bytes of P-W of each of them, deinterleaved (channel after
//! channel). Both come from one `read_sectors(.., RAW_PW96, ..)` pass, so a source without
//! subchannel gets the disc model's synthesised P and Q (positions, MCN, ISRC, CRC).
//!
//! The `[Entry]` sections are the disc's full TOC (`Disc::full_toc_entries`: stored, or
//! generated A0/A1/A2/tracks/B0), with the track and lead-out addresses and the tracks' CONTROL
//! taken from the disc so that the file reads back to it. `[TRACK n]` says MODE (0 audio,
//! 1 Mode 1, 2 Mode 2), INDEX 0 when the track has a pregap in the `.img` (always for the first
//! track of a later session), INDEX 1 and later indexes as absolute LBAs, ISRC and FLAGS.

use crate::error::{CcdError, Result};
use spindle_disc::cuesheet::DEFAULT_PREGAP;
use spindle_disc::subchannel::deinterleave;
use spindle_disc::{
    BoxError, Disc, ImageWriter, Lba, Msf, Progress, SectorFormat, TocEntry, TrackMode,
    WriteOptions, WriterCaps,
};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `<stem>.ccd` + `.img` + `.sub` (registry id `ccd`).
pub struct CcdWriter;

impl ImageWriter for CcdWriter {
    fn id(&self) -> &'static str {
        "ccd"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["ccd"]
    }
    fn caps(&self) -> WriterCaps {
        // CDs only, and no place for DPM blocks.
        WriterCaps {
            structures: false,
            ..WriterCaps::ALL
        }
    }
    fn outputs(&self, out: &Path) -> Vec<PathBuf> {
        vec![
            out.to_path_buf(),
            out.with_extension("img"),
            out.with_extension("sub"),
        ]
    }
    fn write(&self, disc: &Disc, out: &Path, progress: Progress) -> Result<Vec<PathBuf>, BoxError> {
        Ok(write_ccd(disc, out, progress)?)
    }
    fn write_with(
        &self,
        disc: &Disc,
        out: &Path,
        options: &WriteOptions,
        progress: Progress,
    ) -> Result<Vec<PathBuf>, BoxError> {
        Ok(write_ccd_with(disc, out, options, progress)?)
    }
}

const SECTOR: usize = 2352;
const SUB: usize = 96;
/// Sectors per read and write.
const CHUNK: u32 = 448;

/// The runs of sectors the `.img` stores, in order.
fn stored_runs(disc: &Disc) -> Vec<(Lba, Lba)> {
    disc.sessions
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let first = s.first_track()?;
            Some((if i == 0 { Lba::ZERO } else { first.start }, s.leadout))
        })
        .collect()
}

/// Checks that the control file can say where every track is.
fn check_representable(disc: &Disc) -> Result<()> {
    let bad = |m: String| Err(CcdError::Unrepresentable(m));
    if !disc.medium.is_cd() {
        return bad(format!(
            "CloneCD images hold CDs only, and this disc is a {}",
            disc.medium
        ));
    }
    for (si, s) in disc.sessions.iter().enumerate() {
        for (ti, t) in s.tracks.iter().enumerate() {
            if si == 0 && ti == 0 {
                if t.start != Lba(-(DEFAULT_PREGAP as i32)) || t.index1() < Lba::ZERO {
                    return bad(format!(
                        "track {} starts at {} with index 1 at {}; a CloneCD image starts track 1 at -150 with index 1 at 0 or later",
                        t.number,
                        t.start,
                        t.index1()
                    ));
                }
            } else if ti > 0 && t.start != s.tracks[ti - 1].end() {
                return bad(format!(
                    "track {} starts at {}, leaving sectors after track {} (ends at {}) that a CloneCD image cannot hold",
                    t.number,
                    t.start,
                    s.tracks[ti - 1].number,
                    s.tracks[ti - 1].end()
                ));
            }
        }
    }
    Ok(())
}

/// The full TOC to write: the disc's, with track and lead-out entries agreeing with the
/// tracks; generated when the stored one lacks an entry for a track or lead-out.
fn toc_entries(disc: &Disc) -> Vec<TocEntry> {
    let covers = |entries: &[TocEntry]| {
        disc.sessions.iter().all(|s| {
            let has = |point: u8| {
                entries
                    .iter()
                    .filter(|e| e.session == s.number && e.adr_ctl & 0xF == 1 && e.point == point)
                    .count()
                    == 1
            };
            has(0xA2) && s.tracks.iter().all(|t| has(t.number))
        })
    };
    let mut entries = disc.full_toc_entries();
    if !covers(&entries) {
        let mut generated = disc.clone();
        generated.full_toc.clear();
        entries = generated.full_toc_entries();
    }
    for e in &mut entries {
        let Some(s) = disc.sessions.iter().find(|s| s.number == e.session) else {
            continue;
        };
        if e.adr_ctl & 0xF != 1 {
            continue;
        }
        let at = if e.point == 0xA2 {
            Some(s.leadout)
        } else if let Some(t) = s.tracks.iter().find(|t| t.number == e.point) {
            e.adr_ctl = (t.control() << 4) | 1;
            Some(t.index1())
        } else {
            None
        };
        if let Some(at) = at {
            let m = at.to_msf();
            (e.pmin, e.psec, e.pframe) = (m.m, m.s, m.f);
        }
    }
    entries
}

/// CloneCD's LBA of an MSF: `(M*60+S)*75+F-150` (no lead-in wrap).
fn plain_lba(m: u8, s: u8, f: u8) -> i64 {
    Msf { m, s, f }.frames() as i64 - 150
}

fn mode_number(mode: TrackMode) -> u8 {
    match mode {
        TrackMode::Audio => 0,
        TrackMode::Mode0 | TrackMode::Mode1 => 1,
        _ => 2,
    }
}

/// The control file's text (CRLF line ends, as CloneCD writes).
pub fn ccd_text(disc: &Disc) -> Result<String> {
    let entries = toc_entries(disc);
    let mut o = String::new();
    let mut line = |s: String| {
        o.push_str(&s);
        o.push_str("\r\n");
    };
    line("[CloneCD]".into());
    line("Version=3".into());
    line("[Disc]".into());
    line(format!("TocEntries={}", entries.len()));
    line(format!("Sessions={}", disc.sessions.len()));
    line("DataTracksScrambled=0".into());
    let packs = match &disc.cdtext {
        Some(text) if !text.blocks.is_empty() => {
            let first = disc.tracks().map(|t| t.number).min().unwrap_or(1);
            let last = disc.tracks().map(|t| t.number).max().unwrap_or(1);
            text.to_packs(first, last)
                .map_err(|e| CcdError::Unrepresentable(format!("CD-TEXT: {e}")))?
        }
        _ => Vec::new(),
    };
    line(format!("CDTextLength={}", packs.len()));
    if let Some(mcn) = &disc.mcn {
        line(format!("CATALOG={}", mcn.as_str()));
    }
    if !packs.is_empty() {
        line("[CDText]".into());
        line(format!("Entries={}", packs.len() / 18));
        for (i, p) in packs.chunks_exact(18).enumerate() {
            // CloneCD stores 16 bytes per pack, without the CRC.
            let hex: Vec<String> = p[..16].iter().map(|b| format!("{b:02x}")).collect();
            line(format!("Entry {i}={}", hex.join(" ")));
        }
    }
    for s in &disc.sessions {
        line(format!("[Session {}]", s.number));
        line(format!(
            "PreGapMode={}",
            s.first_track().map_or(0, |t| mode_number(t.mode))
        ));
        line("PreGapSubC=0".into());
    }
    for (i, e) in entries.iter().enumerate() {
        line(format!("[Entry {i}]"));
        line(format!("Session={}", e.session));
        line(format!("Point={:#04x}", e.point));
        line(format!("ADR={:#04x}", e.adr_ctl & 0xF));
        line(format!("Control={:#04x}", e.adr_ctl >> 4));
        line(format!("TrackNo={}", e.tno));
        line(format!("AMin={}", e.min));
        line(format!("ASec={}", e.sec));
        line(format!("AFrame={}", e.frame));
        line(format!("ALBA={}", plain_lba(e.min, e.sec, e.frame)));
        line(format!("Zero={}", e.zero));
        line(format!("PMin={}", e.pmin));
        line(format!("PSec={}", e.psec));
        line(format!("PFrame={}", e.pframe));
        line(format!("PLBA={}", plain_lba(e.pmin, e.psec, e.pframe)));
    }
    for (si, s) in disc.sessions.iter().enumerate() {
        for (ti, t) in s.tracks.iter().enumerate() {
            line(format!("[TRACK {}]", t.number));
            line(format!("MODE={}", mode_number(t.mode)));
            if let Some(isrc) = &t.isrc {
                line(format!("ISRC={}", isrc.as_str()));
            }
            let flags: Vec<&str> = t.flags.names();
            if !flags.is_empty() {
                line(format!("FLAGS={}", flags.join(" ")));
            }
            // Track 1's pregap before LBA 0 is implied; from LBA 0 on it is in the .img.
            let index0 = if si == 0 && ti == 0 {
                Lba::ZERO
            } else {
                t.start
            };
            if t.index1() > index0 || (si > 0 && ti == 0) {
                line(format!("INDEX 0={}", index0.0));
            }
            line(format!("INDEX 1={}", t.index1().0));
            for (k, x) in t.extra_indexes.iter().enumerate() {
                line(format!("INDEX {}={}", k + 2, x.0));
            }
        }
    }
    Ok(o)
}

/// Writes `disc` as `out` (the control file), `out.img` and `out.sub`; returns the three
/// paths. `progress` gets (bytes written, bytes to write) of `.img` and `.sub` together.
pub fn write_ccd(disc: &Disc, out: &Path, progress: Progress) -> Result<Vec<PathBuf>> {
    write_ccd_with(disc, out, &WriteOptions::default(), progress)
}

/// [`write_ccd`], stopping between chunks when `options.cancel` is set (the files written so
/// far are left for the caller to remove).
pub fn write_ccd_with(
    disc: &Disc,
    out: &Path,
    options: &WriteOptions,
    progress: Progress,
) -> Result<Vec<PathBuf>> {
    check_representable(disc)?;
    let (img, sub) = (out.with_extension("img"), out.with_extension("sub"));
    if img == out || sub == out {
        return Err(CcdError::Unrepresentable(format!(
            "{} would be both the control file and a data file; name the output .ccd",
            out.display()
        )));
    }
    let text = ccd_text(disc)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CcdError::Io { path, source }
    };
    let runs = stored_runs(disc);
    let total: u64 = runs
        .iter()
        .map(|(a, b)| b.since(*a) as u64 * (SECTOR + SUB) as u64)
        .sum();
    let mut img_file = File::create(&img).map_err(io(&img))?;
    let mut sub_file = File::create(&sub).map_err(io(&sub))?;
    let mut raw = vec![0u8; CHUNK as usize * (SECTOR + SUB)];
    let mut main = vec![0u8; CHUNK as usize * SECTOR];
    let mut subs = vec![0u8; CHUNK as usize * SUB];
    let mut done = 0u64;
    progress(0, total);
    for (from, end) in runs {
        let mut lba = from;
        while lba < end {
            options.check_cancel()?;
            let n = (end.since(lba) as u64).min(CHUNK as u64) as usize;
            let len = n * (SECTOR + SUB);
            disc.read_sectors(lba, n as u32, SectorFormat::RAW_PW96, &mut raw[..len])
                .map_err(|source| CcdError::Read { lba, source })?;
            for (i, rec) in raw[..len].chunks_exact(SECTOR + SUB).enumerate() {
                main[i * SECTOR..(i + 1) * SECTOR].copy_from_slice(&rec[..SECTOR]);
                deinterleave(&rec[SECTOR..], &mut subs[i * SUB..(i + 1) * SUB]);
            }
            img_file.write_all(&main[..n * SECTOR]).map_err(io(&img))?;
            sub_file.write_all(&subs[..n * SUB]).map_err(io(&sub))?;
            done += len as u64;
            progress(done, total);
            lba = lba.offset(n as i64);
        }
    }
    img_file.flush().map_err(io(&img))?;
    sub_file.flush().map_err(io(&sub))?;
    std::fs::write(out, text).map_err(io(out))?;
    Ok(vec![out.to_path_buf(), img, sub])
}
