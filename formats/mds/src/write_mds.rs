//! Writing MDS v1 + MDF (Alcohol 120%'s format), from any CD or DVD.
//!
//! Layout (formats.md §2.5b, following what Alcohol and Aaru write): the 88-byte header,
//! session blocks, per session its lead-in entries (A0, A1, A2), tracks and B0/C0 entries as
//! 80-byte blocks, one 8-byte extra block per CD track (pregap, length), one footer shared by
//! every track naming `*.mdf` in UTF-16, then DVD structures, BCA, CD-TEXT packs and DPM.
//!
//! The MDF holds each track's stored sectors one after another; a track's start offset is the
//! offset of its index 1, so that a stored pregap lies just before it (how [`crate::build`]
//! reads it back; readers that ignore stored pregaps still find index 1 where they look).

use crate::error::{MdsError, Result};
use crate::layout;
use crate::le::PutLe;
use crate::plan::{self, TrackPlan, check_medium, lead_in_entries};
use spindle_disc::{
    BoxError, Disc, ImageWriter, Medium, Progress, TocEntry, WriteOptions, WriterCaps,
};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `<stem>.mds` + `<stem>.mdf` (registry id `mds`).
pub struct MdsWriter;

impl ImageWriter for MdsWriter {
    fn id(&self) -> &'static str {
        "mds"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["mds"]
    }
    fn caps(&self) -> WriterCaps {
        // Neither MDS version has a field for the MCN, ISRCs or index 2 and later (the track
        // block holds the TOC entry of index 1, the extra block the pregap and length).
        WriterCaps {
            codes: false,
            indexes: false,
            ..WriterCaps::ALL
        }
    }
    fn outputs(&self, out: &Path) -> Vec<PathBuf> {
        vec![out.to_path_buf(), out.with_extension("mdf")]
    }
    fn write(&self, disc: &Disc, out: &Path, progress: Progress) -> Result<Vec<PathBuf>, BoxError> {
        Ok(write_mds(disc, out, &WriteOptions::default(), progress)?)
    }
    fn write_with(
        &self,
        disc: &Disc,
        out: &Path,
        options: &WriteOptions,
        progress: Progress,
    ) -> Result<Vec<PathBuf>, BoxError> {
        Ok(write_mds(disc, out, options, progress)?)
    }
}

fn medium_code(m: Medium) -> u16 {
    match m {
        Medium::CdRom => 0x00,
        Medium::CdR => 0x01,
        Medium::CdRw => 0x02,
        Medium::DvdRom => 0x10,
        _ => 0x12,
    }
}

/// An 80-byte block for a full-TOC entry (ADR goes to the high nibble).
pub(crate) fn toc_block(e: &TocEntry) -> [u8; 80] {
    let mut b = [0u8; 80];
    b[2] = e.adr_ctl.rotate_left(4);
    b[3] = e.tno;
    b[4] = e.point;
    b[5..8].copy_from_slice(&[e.min, e.sec, e.frame]);
    b[8] = e.zero;
    b[9..12].copy_from_slice(&[e.pmin, e.psec, e.pframe]);
    b
}

/// A track's TOC fields: ADR 1, its CONTROL, index 1 as binary MSF.
pub(crate) fn track_entry(disc: &Disc, p: &TrackPlan) -> TocEntry {
    let t = disc.track(p.number).expect("planned track");
    let msf = p.index1.to_msf();
    TocEntry {
        session: p.session,
        adr_ctl: (t.control() << 4) | 1,
        tno: 0,
        point: p.number,
        min: 0,
        sec: 0,
        frame: 0,
        zero: 0,
        pmin: msf.m,
        psec: msf.s,
        pframe: msf.f,
    }
}

/// Streams the planned sectors of every track into `w`; returns each track's first stored
/// byte offset.
pub(crate) fn write_tracks(
    disc: &Disc,
    plans: &[TrackPlan],
    w: &mut dyn Write,
    base: u64,
    options: &WriteOptions,
    progress: Progress,
) -> Result<Vec<u64>, MdsError> {
    let total: u64 = plans
        .iter()
        .map(|p| p.stored_sectors() * p.stride() as u64)
        .sum();
    let mut done = 0u64;
    let mut offsets = Vec::new();
    progress(0, total);
    for p in plans {
        offsets.push(base + done);
        plan::for_each_batch(disc, p, options, |_, buf| {
            w.write_all(buf).map_err(plan::write_err)?;
            done += buf.len() as u64;
            progress(done, total);
            Ok(())
        })?;
    }
    Ok(offsets)
}

/// Writes `disc` as MDS v1 (`out`) + MDF (`out` with extension `.mdf`), stopping between
/// batches once `options.cancel` is set.
pub fn write_mds(
    disc: &Disc,
    out: &Path,
    options: &WriteOptions,
    progress: Progress,
) -> Result<Vec<PathBuf>> {
    check_medium(disc, "MDS v1")?;
    let mdf = out.with_extension("mdf");
    if mdf == out {
        return Err(MdsError::Unrepresentable(format!(
            "{} would be both the MDS and the MDF; name the output .mds",
            out.display()
        )));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MdsError::Io { path, source }
    };
    let plans = plan::plan(disc);
    let dvd = !disc.medium.is_cd();
    let mut w = BufWriter::with_capacity(4 << 20, File::create(&mdf).map_err(io(&mdf))?);
    let offsets = write_tracks(disc, &plans, &mut w, 0, options, progress)?;
    w.flush().map_err(io(&mdf))?;
    drop(w);
    let mds = descriptor(disc, &plans, &offsets, dvd)?;
    std::fs::write(out, mds).map_err(io(out))?;
    Ok(vec![out.to_path_buf(), mdf])
}

fn descriptor(disc: &Disc, plans: &[TrackPlan], offsets: &[u64], dvd: bool) -> Result<Vec<u8>> {
    let nsessions = disc.sessions.len();
    // Blocks per session: lead-in entries + tracks + B0/C0.
    let per_session: Vec<(Vec<TocEntry>, Vec<TocEntry>)> = disc
        .sessions
        .iter()
        .map(|s| lead_in_entries(disc, s.number))
        .collect();
    let sessions_off = 0x58usize;
    let mut blocks_off = sessions_off + 24 * nsessions;
    let total_blocks: usize = per_session
        .iter()
        .map(|(a, b)| a.len() + b.len())
        .sum::<usize>()
        + plans.len();
    let extra_off = blocks_off + 80 * total_blocks;
    let footer_off = extra_off + if dvd { 0 } else { 8 * plans.len() };
    let name: Vec<u8> = "*.mdf\0"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let mut tail_off = footer_off + 16 + name.len();
    let mut d = vec![0u8; tail_off];
    d[..16].copy_from_slice(crate::SIGNATURE);
    d[16] = 1;
    d[17] = 5;
    d.put_u16(0x12, medium_code(disc.medium));
    d.put_u16(0x14, nsessions as u16);
    d.put_u16(0x16, 2);
    d.put_u32(0x50, sessions_off as u32);
    let mut extra_at = extra_off;
    let mut pi = 0;
    for (si, s) in disc.sessions.iter().enumerate() {
        let (pre, post) = &per_session[si];
        let ntracks = s.tracks.len();
        let sb = sessions_off + 24 * si;
        d.put_u32(sb, s.tracks[0].start.0 as u32);
        d.put_u32(sb + 4, s.leadout.0 as u32);
        d.put_u16(sb + 8, s.number as u16);
        d[sb + 10] = (pre.len() + ntracks + post.len()) as u8;
        d[sb + 11] = (pre.len() + post.len()) as u8;
        d.put_u16(sb + 12, s.tracks[0].number as u16);
        d.put_u16(sb + 14, s.tracks[ntracks - 1].number as u16);
        d.put_u32(sb + 20, blocks_off as u32);
        let mut put = |d: &mut Vec<u8>, block: [u8; 80]| {
            d[blocks_off..blocks_off + 80].copy_from_slice(&block);
            blocks_off += 80;
        };
        for e in pre {
            put(&mut d, toc_block(e));
        }
        for _ in 0..ntracks {
            let p = &plans[pi];
            let mut b = toc_block(&track_entry(disc, p));
            b[0] = layout::v1_code(p.format.mode, dvd);
            b[1] = if p.format.sub.size() == 96 { 0x08 } else { 0 };
            let stride = p.stride() as u64;
            let stored_pregap = p.index1.since(p.first_stored).max(0) as u64;
            let length = p.end.since(p.index1) as u32;
            if dvd {
                b.put_u32(0x0C, length);
            } else {
                b.put_u32(0x0C, extra_at as u32);
                d.put_u32(extra_at, p.pregap);
                d.put_u32(extra_at + 4, length);
                extra_at += 8;
            }
            b.put_u16(0x10, p.stride() as u16);
            // Alcohol sets this byte on every CD track (Aaru: DAEMON Tools expects it).
            if !dvd {
                b[0x12] = 2;
            }
            b.put_u32(0x24, p.index1.0 as u32);
            b.put_u64(0x28, offsets[pi] + stored_pregap * stride);
            b.put_u32(0x30, 1);
            b.put_u32(0x34, footer_off as u32);
            put(&mut d, b);
            pi += 1;
        }
        for e in post {
            put(&mut d, toc_block(e));
        }
    }
    d.put_u32(footer_off, (footer_off + 16) as u32);
    d.put_u32(footer_off + 4, 1);
    d[footer_off + 16..footer_off + 16 + name.len()].copy_from_slice(&name);
    append_tail(disc, &mut d, &mut tail_off)?;
    Ok(d)
}

/// Appends DVD structures, BCA, CD-TEXT and DPM blocks and points the header at them (the
/// header offsets are the same in v1 and v2).
pub(crate) fn append_tail(disc: &Disc, d: &mut Vec<u8>, at: &mut usize) -> Result<()> {
    let st = &disc.structures;
    if !st.pfi.is_empty() {
        d.put_u32(0x40, *at as u32);
        for (i, pfi) in st.pfi.iter().enumerate().take(2) {
            let mut block = vec![0u8; 4100];
            if let Some(c) = st.copyright.get(i) {
                block[..c.len().min(4)].copy_from_slice(&c[..c.len().min(4)]);
            }
            if let Some(m) = st.dmi.get(i) {
                block[4..4 + m.len().min(2048)].copy_from_slice(&m[..m.len().min(2048)]);
            }
            block[2052..2052 + pfi.len().min(2048)].copy_from_slice(&pfi[..pfi.len().min(2048)]);
            d.extend_from_slice(&block);
        }
        *at = d.len();
    }
    if let Some(bca) = st
        .bca
        .as_ref()
        .filter(|b| !b.is_empty() && b.len() <= u16::MAX as usize)
    {
        d.put_u32(0x24, *at as u32);
        d.put_u16(0x1A, bca.len() as u16);
        d.extend_from_slice(bca);
        *at = d.len();
    }
    if let Some(text) = &disc.cdtext {
        let first = disc.tracks().next().map_or(1, |t| t.number);
        let last = disc.tracks().last().map_or(1, |t| t.number);
        let packs = text
            .to_packs(first, last)
            .map_err(|e| MdsError::Unrepresentable(format!("CD-TEXT: {e}")))?;
        if packs.len() <= u16::MAX as usize {
            d.put_u32(0x28, *at as u32);
            d.put_u16(0x1E, packs.len() as u16);
            d.extend_from_slice(&packs);
            *at = d.len();
        }
    }
    if !disc.dpm.is_empty() {
        d.put_u32(0x54, *at as u32);
        let n = disc.dpm.len();
        let mut off = *at + 4 + 4 * n;
        let mut head = (n as u32).to_le_bytes().to_vec();
        let mut body = Vec::new();
        for (i, b) in disc.dpm.iter().enumerate() {
            head.extend_from_slice(&(off as u32).to_le_bytes());
            for v in [
                i as u32 + 1,
                b.start_sector,
                b.resolution,
                b.entries.len() as u32,
            ] {
                body.extend_from_slice(&v.to_le_bytes());
            }
            for e in &b.entries {
                body.extend_from_slice(&e.to_le_bytes());
            }
            off = *at + 4 + 4 * n + body.len();
        }
        d.extend_from_slice(&head);
        d.extend_from_slice(&body);
        *at = d.len();
    }
    Ok(())
}
