//! The disc model of a rip: tracks and sessions from the drive's TOC, pregaps from the Q
//! subchannel read with the sectors (the sectors before a track's index 1 whose Q says index
//! 0 of that track), track modes from the sector headers, and extents that point into the
//! work file. Any image writer can then store it.

use crate::drive::ReadMode;
use crate::error::{Result, RipError};
use crate::layout::Family;
use crate::rip::{Plan, Ripped};
use spindle_disc::subchannel::{q_crc_ok, q_of_interleaved};
use spindle_disc::{
    ByteSource, CdText, Disc, DiscStructures, Extent, ExtentData, FileSource, Lba, MainLayout, Mcn,
    Medium, Session, SourceInfo, Stored, SubLayout, Track, TrackFlags, TrackMode, addr::from_bcd,
};
use spindle_mmc::readcd::SubSelect;
use std::sync::Arc;

/// The medium a profile stands for.
pub fn medium_of(profile: u16, family: Family) -> Medium {
    use spindle_mmc::config::profile as p;
    match profile {
        p::CD_R => Medium::CdR,
        p::CD_RW => Medium::CdRw,
        p::DVD_ROM => Medium::DvdRom,
        p::DVD_R | p::DVD_R_DL => Medium::DvdR,
        p::DVD_RW | p::DVD_RW_RO => Medium::DvdRw,
        p::DVD_PLUS_R | p::DVD_PLUS_R_DL => Medium::DvdPlusR,
        p::DVD_PLUS_RW => Medium::DvdPlusRw,
        p::DVD_RAM => Medium::DvdRam,
        p::BD_ROM => Medium::BdRom,
        p::BD_R_SRM | p::BD_R_RRM => Medium::BdR,
        p::BD_RE => Medium::BdRe,
        _ => match family {
            Family::Dvd => Medium::DvdRom,
            Family::Bd => Medium::BdRom,
            _ => Medium::CdRom,
        },
    }
}

struct Work<'a> {
    file: Arc<dyn ByteSource>,
    r: &'a Ripped,
    stride: u64,
}

impl Work<'_> {
    fn sector(&self, lba: i64) -> Option<Vec<u8>> {
        let i = self.r.plan.index_of(lba)?;
        if self.r.bad.contains(&lba) {
            return None;
        }
        let mut b = vec![0u8; self.stride as usize];
        self.file.read_exact_at(&mut b, i * self.stride).ok()?;
        Some(b)
    }

    /// The (track, index) of an ADR 1 Q frame with a good CRC.
    fn q_position(&self, lba: i64) -> Option<(u8, u8)> {
        if self.r.plan.mode != ReadMode::Raw(SubSelect::RawPw) {
            return None;
        }
        let s = self.sector(lba)?;
        let q = q_of_interleaved(&s[2352..2352 + 96]);
        (q_crc_ok(&q) && q[0] & 0xF == 1)
            .then(|| Some((from_bcd(q[1])?, from_bcd(q[2])?)))
            .flatten()
    }

    /// Index 2 and later of track `number` between `from` and `to` (where the Q index goes
    /// up), from the subchannel of the work file.
    fn extra_indexes(&self, number: u8, from: i64, to: i64) -> Vec<Lba> {
        let mut out = Vec::new();
        if self.r.plan.mode != ReadMode::Raw(SubSelect::RawPw) {
            return out;
        }
        let mut current = 1u8;
        const CHUNK: i64 = 256;
        let mut buf = vec![0u8; CHUNK as usize * self.stride as usize];
        let mut at = from;
        while at < to {
            let n = (to - at).min(CHUNK);
            // A chunk within one area (a track never crosses one).
            let Some(i) = self.r.plan.index_of(at) else {
                break;
            };
            let bytes = &mut buf[..n as usize * self.stride as usize];
            if self.file.read_exact_at(bytes, i * self.stride).is_err() {
                break;
            }
            for (k, s) in bytes.chunks_exact(self.stride as usize).enumerate() {
                let q = q_of_interleaved(&s[2352..2352 + 96]);
                if !q_crc_ok(&q) || q[0] & 0xF != 1 || from_bcd(q[1]) != Some(number) {
                    continue;
                }
                if let Some(ix) = from_bcd(q[2])
                    && ix == current + 1
                {
                    out.push(Lba((at + k as i64) as i32));
                    current = ix;
                }
            }
            at += n;
        }
        out
    }

    /// The mode of a data track from the header of its first readable sectors.
    fn data_mode(&self, index1: i64) -> TrackMode {
        if self.r.plan.mode == ReadMode::User {
            return TrackMode::Mode1;
        }
        for lba in index1..index1 + 16 {
            if let Some(s) = self.sector(lba)
                && s[..12] == spindle_disc::sector::SYNC
            {
                return match s[15] {
                    0 => TrackMode::Mode0,
                    2 => TrackMode::Mode2Mixed,
                    _ => TrackMode::Mode1,
                };
            }
        }
        TrackMode::Mode1
    }
}

/// Audio sectors of a rip corrected for the drive's read offset: corrected sector L is the
/// drive's stream from `L * 2352 + shift` (spanning two sectors as read); the subchannel is
/// sector L's own. Bytes beyond the read areas are zeros.
struct OffsetAudio {
    file: Arc<dyn ByteSource>,
    plan: Plan,
    stride: u64,
    sub: bool,
    first_lba: i64,
    shift: i64,
    name: String,
}

impl OffsetAudio {
    fn read_main(&self, lba: i64, out: &mut [u8]) -> std::io::Result<()> {
        match self.plan.index_of(lba) {
            Some(i) => self.file.read_exact_at(&mut out[..2352], i * self.stride),
            None => {
                out[..2352].fill(0);
                Ok(())
            }
        }
    }
}

impl spindle_disc::SectorSource for OffsetAudio {
    fn main_layout(&self) -> MainLayout {
        MainLayout::RAW
    }
    fn sub_layout(&self) -> SubLayout {
        if self.sub {
            SubLayout::Pw96Interleaved
        } else {
            SubLayout::None
        }
    }
    fn read_sectors(&self, first: u64, count: u32, buf: &mut [u8]) -> std::io::Result<()> {
        let out_stride = 2352 + if self.sub { 96 } else { 0 };
        let mut two = [0u8; 2 * 2352];
        for (k, out) in buf
            .chunks_exact_mut(out_stride)
            .take(count as usize)
            .enumerate()
        {
            let lba = self.first_lba + first as i64 + k as i64;
            let start = lba * 2352 + self.shift;
            let s0 = start.div_euclid(2352);
            let within = start.rem_euclid(2352) as usize;
            self.read_main(s0, &mut two[..2352])?;
            self.read_main(s0 + 1, &mut two[2352..])?;
            out[..2352].copy_from_slice(&two[within..within + 2352]);
            if self.sub {
                match self.plan.index_of(lba) {
                    Some(i) => self
                        .file
                        .read_exact_at(&mut out[2352..2352 + 96], i * self.stride + 2352)?,
                    None => out[2352..].fill(0),
                }
            }
        }
        Ok(())
    }
    fn describe(&self) -> String {
        format!("{} (read offset corrected)", self.name)
    }
}

/// The disc model of a finished (or partial) rip; its sectors are read from the work file.
pub fn disc_from_rip(r: &Ripped) -> Result<Disc> {
    let src = FileSource::open(&r.files.work).map_err(|source| RipError::Io {
        path: r.files.work.clone(),
        what: "opening the rip",
        source,
    })?;
    let file: Arc<dyn ByteSource> = Arc::new(src);
    let l = &r.layout;
    let medium = medium_of(l.profile, l.family);
    let mut disc = Disc::new(
        medium,
        SourceInfo {
            format: "rip".into(),
            variant: format!("rip, {} bytes a sector", r.plan.mode.sector_size()),
            path: r.files.work.clone(),
            files: vec![r.files.work.clone()],
        },
    );
    if !medium.is_cd() {
        let sectors = l.capacity as u32;
        disc.sessions.push(Session {
            number: 1,
            tracks: vec![Track {
                number: 1,
                mode: TrackMode::Mode1,
                flags: TrackFlags::default(),
                isrc: None,
                start: Lba(0),
                pregap: 0,
                extra_indexes: Vec::new(),
                length: sectors,
                postgap: 0,
                extents: vec![Extent::stored(
                    sectors,
                    Stored::new(file, 0, MainLayout::USER),
                )],
            }],
            leadout: Lba(sectors as i32),
        });
        disc.structures = DiscStructures {
            pfi: l.pfi.clone(),
            dmi: l.dmi.clone(),
            copyright: Vec::new(),
            bca: l.bca.clone(),
            bd_disc_info: None,
        };
        disc.validate()
            .map_err(|e| RipError::Drive(format!("the rip does not make a valid disc: {e}")))?;
        return Ok(disc);
    }
    let stride = r.plan.mode.sector_size() as u64;
    let w = Work {
        file: file.clone(),
        r,
        stride,
    };
    for s in &l.sessions {
        let tracks: Vec<_> = l.tracks.iter().filter(|t| t.session == s.number).collect();
        let area = r.plan.areas.iter().find(|a| {
            tracks
                .first()
                .is_some_and(|t| t.start >= a.lba && t.start < a.lba + a.sectors as i64)
        });
        let area_start = area.map(|a| a.lba).unwrap_or(0);
        let mut starts = Vec::new();
        for (i, t) in tracks.iter().enumerate() {
            let floor = if i == 0 {
                area_start
            } else {
                tracks[i - 1].start + 1
            };
            let mut pregap = 0i64;
            let mut k = 1;
            while t.start - k >= floor {
                match w.q_position(t.start - k) {
                    Some((tn, 0)) if tn == t.number => pregap = k,
                    Some(_) => break,
                    None => {}
                }
                k += 1;
            }
            // Session 1's first track: the 150 sectors before LBA 0 are never read.
            if i == 0 && s.number == 1 && t.start - pregap == 0 {
                pregap += 150;
            }
            starts.push(t.start - pregap);
        }
        let mut out = Vec::new();
        for (i, t) in tracks.iter().enumerate() {
            let start = starts[i];
            let end = starts.get(i + 1).copied().unwrap_or(s.leadout);
            let length = (end - start) as u32;
            let mode = if t.is_data() {
                w.data_mode(t.start)
            } else {
                TrackMode::Audio
            };
            let mut extents = Vec::new();
            let unread = (area_start - start).clamp(0, length as i64) as u32;
            if unread > 0 {
                extents.push(Extent::zero(unread));
            }
            if length > unread
                && mode == TrackMode::Audio
                && r.read_offset != 0
                && r.plan.mode != ReadMode::User
            {
                extents.push(Extent {
                    sectors: length - unread,
                    data: ExtentData::Custom(Arc::new(OffsetAudio {
                        file: file.clone(),
                        plan: r.plan.clone(),
                        stride,
                        sub: r.plan.mode == ReadMode::Raw(SubSelect::RawPw),
                        first_lba: start + unread as i64,
                        shift: r.read_offset as i64 * 4,
                        name: r.files.work.display().to_string(),
                    })),
                });
            } else if length > unread {
                let first = start + unread as i64;
                let index = r.plan.index_of(first).ok_or_else(|| {
                    RipError::Drive(format!("track {} starts outside the read areas", t.number))
                })?;
                let (main, sub) = match r.plan.mode {
                    ReadMode::User => (MainLayout::USER, SubLayout::None),
                    ReadMode::Raw(SubSelect::RawPw) => {
                        (MainLayout::RAW, SubLayout::Pw96Interleaved)
                    }
                    ReadMode::Raw(_) => (MainLayout::RAW, SubLayout::None),
                };
                let mut st = Stored::new(file.clone(), index * stride, main);
                st.sub = sub;
                extents.push(Extent::stored(length - unread, st));
            }
            out.push(Track {
                number: t.number,
                mode,
                flags: TrackFlags::from_control(t.control),
                isrc: t.isrc.as_deref().and_then(spindle_disc::Isrc::parse),
                start: Lba(start as i32),
                pregap: (t.start - start) as u32,
                extra_indexes: w.extra_indexes(t.number, t.start, end),
                length,
                postgap: 0,
                extents,
            });
        }
        disc.sessions.push(Session {
            number: s.number,
            tracks: out,
            leadout: Lba(s.leadout as i32),
        });
    }
    disc.mcn = l.mcn.as_deref().and_then(Mcn::parse);
    if !l.cd_text.is_empty() {
        disc.cdtext = CdText::from_packs(&l.cd_text, false).ok();
    }
    disc.full_toc = l.full_toc.clone();
    disc.validate()
        .map_err(|e| RipError::Drive(format!("the rip does not make a valid disc: {e}")))?;
    Ok(disc)
}
