//! A whole rip: read the layout, plan the read areas, rescue them into one work file with
//! one map, and describe the result as a [`spindle_disc::Disc`] (see [`crate::image`]) that
//! any image writer can store.
//!
//! CDs are read raw (2352 bytes) with the P-W subchannel (READ CD, 2448 bytes a sector):
//! session 1 from LBA 0 to its lead-out, every later session from 150 sectors before its
//! first track (that track's pregap) to its lead-out. DVDs and BDs are read as 2048-byte user
//! data from 0 to the capacity. The areas sit one after another in the work file; the map
//! indexes sectors of the work file.

use crate::drive::{DriveSource, ReadMode};
use crate::error::{Result, RipError};
use crate::hash::Digests;
use crate::hashing_sink::HashingSink;
use crate::layout::{DiscLayout, Family, read_layout};
use crate::map::{RescueMap, Status};
use crate::rescue::{
    FileSink, Progress, ReadOutcome, Rescue, RescueOptions, RescueSink, RescueSource,
};
use spindle_disc::subchannel::{q_crc_ok, q_of_interleaved};
use spindle_mmc::readcd::{ReadCdFields, SectorType, SubSelect};
use spindle_mmc::{Mmc, Transport};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// One run of LBAs read into the work file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Area {
    /// First sector index in the work file.
    pub index: u64,
    /// Its first LBA.
    pub lba: i64,
    /// Sectors in the run.
    pub sectors: u64,
}

/// What is read, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// How every sector is read.
    pub mode: ReadMode,
    /// The runs read, in the order of the work file.
    pub areas: Vec<Area>,
}

impl Plan {
    /// The read areas for a disc layout; CDs are read in `cd_mode` (see [`probe_cd_mode`]).
    pub fn for_layout(layout: &DiscLayout, cd_mode: ReadMode) -> Plan {
        if matches!(layout.family, Family::Dvd | Family::Bd) {
            return Plan {
                mode: ReadMode::User,
                areas: vec![Area {
                    index: 0,
                    lba: 0,
                    sectors: layout.capacity,
                }],
            };
        }
        let mut areas = Vec::new();
        let mut index = 0;
        for (i, s) in layout.sessions.iter().enumerate() {
            let first = layout
                .tracks
                .iter()
                .find(|t| t.session == s.number)
                .map(|t| t.start)
                .unwrap_or(s.leadout);
            // Session 1 from LBA 0 (a first track starting later has a readable pregap there:
            // hidden track audio); later sessions from their first track's pregap.
            let lba = if i == 0 { 0 } else { first - 150 };
            let sectors = (s.leadout - lba).max(0) as u64;
            areas.push(Area {
                index,
                lba,
                sectors,
            });
            index += sectors;
        }
        Plan {
            mode: cd_mode,
            areas,
        }
    }

    /// Sectors read, over all areas.
    pub fn sectors(&self) -> u64 {
        self.areas.iter().map(|a| a.sectors).sum()
    }

    /// The work-file index of `lba`, if an area holds it.
    pub fn index_of(&self, lba: i64) -> Option<u64> {
        self.areas
            .iter()
            .find(|a| lba >= a.lba && lba < a.lba + a.sectors as i64)
            .map(|a| a.index + (lba - a.lba) as u64)
    }

    /// The LBA of work-file index `i`.
    pub fn lba_of(&self, i: u64) -> Option<i64> {
        self.areas
            .iter()
            .find(|a| i >= a.index && i < a.index + a.sectors)
            .map(|a| a.lba + (i - a.index) as i64)
    }
}

/// Reads work-file sectors through the areas (a read never crosses an area's end).
struct AreaSource<'m, T: Transport> {
    drive: DriveSource<'m, T>,
    areas: Vec<Area>,
}

impl<T: Transport> RescueSource for AreaSource<'_, T> {
    fn sector_size(&self) -> u32 {
        self.drive.sector_size()
    }
    fn reads_by_dma(&self) -> bool {
        self.drive.reads_by_dma()
    }
    fn read(&mut self, first: u64, count: u32, buf: &mut [u8]) -> Result<ReadOutcome> {
        let ss = self.sector_size() as usize;
        let mut done = 0u32;
        while done < count {
            let i = first + done as u64;
            let a = *self
                .areas
                .iter()
                .find(|a| i >= a.index && i < a.index + a.sectors)
                .ok_or_else(|| {
                    RipError::Drive(format!("sector index {i} is outside the read areas"))
                })?;
            let n = (count - done).min((a.index + a.sectors - i) as u32);
            // DriveSource addresses from its base: point it at this area.
            self.drive.base = a.lba - a.index as i64;
            let out = &mut buf[done as usize * ss..(done + n) as usize * ss];
            match self.drive.read(i, n, out)? {
                ReadOutcome::All => done += n,
                ReadOutcome::FailedAt(k) => return Ok(ReadOutcome::FailedAt(done + k)),
            }
        }
        Ok(ReadOutcome::All)
    }
}

/// The best way this drive reads the CD: raw with P-W subchannel (good Q CRCs), raw without
/// subchannel, or 2048-byte user data. A few sectors from `lba` are tried, so that one bad
/// sector does not decide it.
pub fn probe_cd_mode<T: Transport>(mmc: &mut Mmc<T>, lba: i64) -> ReadMode {
    let tries = [lba, lba + 1, lba + 16, lba + 75, lba + 150];
    for sub in [SubSelect::RawPw, SubSelect::None] {
        let mode = ReadMode::Raw(sub);
        let ss = mode.sector_size() as usize;
        let mut buf = vec![0u8; ss];
        for &at in &tries {
            let got = mmc.read_cd(
                at as i32,
                1,
                SectorType::Any,
                ReadCdFields::RAW.with_sub(sub),
                &mut buf,
            );
            if got.is_ok_and(|n| n == ss)
                && (sub == SubSelect::None || q_crc_ok(&q_of_interleaved(&buf[2352..])))
            {
                return mode;
            }
        }
    }
    ReadMode::User
}

/// Options of a rip.
#[derive(Clone, Debug, Default)]
pub struct RipOptions {
    /// Tuning of the rescue of each area.
    pub rescue: RescueOptions,
    /// Continue from an existing map (else an existing map is an error, so that a rip never
    /// silently mixes two discs).
    pub resume: bool,
    /// The drive's read offset in samples (as in AccurateRip's drive list): audio tracks of
    /// the disc model are shifted to correct it. The work file keeps what the drive sent.
    pub read_offset: i32,
    /// How to read a CD instead of the best mode [`probe_cd_mode`] finds (user data for an
    /// ISO, raw without subchannel...). DVDs and BDs are always read as user data.
    pub cd_mode: Option<ReadMode>,
    /// Hash the sectors as they are read (CRC32, MD5, SHA-1 on threads of their own), for
    /// [`Ripped::digest`]. Only a fresh rip can give one.
    pub hash_while_reading: bool,
}

/// The files of a rip in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RipFiles {
    /// Raw sectors as read (2448 bytes each for CDs, 2048 for DVD/BD).
    pub work: PathBuf,
    /// The ddrescue-format map of what is read so far.
    pub map: PathBuf,
}

impl RipFiles {
    /// `OUT.rip` and `OUT.rip.map` beside `out`.
    pub fn beside(out: &Path) -> RipFiles {
        let mut w = out.as_os_str().to_owned();
        w.push(".rip");
        let work = PathBuf::from(w);
        let mut m = work.as_os_str().to_owned();
        m.push(".map");
        RipFiles {
            work,
            map: PathBuf::from(m),
        }
    }
}

/// A finished (possibly partial) rip.
#[derive(Clone, Debug)]
pub struct Ripped {
    /// What the drive said about the disc.
    pub layout: DiscLayout,
    /// What was read, and how.
    pub plan: Plan,
    /// Where it went.
    pub files: RipFiles,
    /// LBAs that stayed unreadable.
    pub bad: Vec<i64>,
    /// The read offset (samples) to correct in audio tracks.
    pub read_offset: i32,
    /// With [`RipOptions::hash_while_reading`]: the digests of the work file, when a fresh
    /// rip read every sector in order with no failure (else the caller hashes afterwards).
    pub digest: Option<Digests>,
}

/// Rips the disc in the drive into `files`.
pub fn rip<T: Transport>(
    mmc: &mut Mmc<T>,
    files: &RipFiles,
    options: &RipOptions,
    cancel: Option<&AtomicBool>,
    progress: Option<&mut dyn FnMut(&Progress)>,
) -> Result<Ripped> {
    let layout = read_layout(mmc)?;
    let cd_mode = if matches!(layout.family, Family::Dvd | Family::Bd) {
        ReadMode::User
    } else if let Some(m) = options.cd_mode {
        m
    } else {
        probe_cd_mode(mmc, layout.tracks.first().map(|t| t.start).unwrap_or(0))
    };
    let plan = Plan::for_layout(&layout, cd_mode);
    let ss = plan.mode.sector_size();
    let sectors = plan.sectors();
    let base = plan.areas.first().map(|a| a.lba).unwrap_or(0);
    let mut map = if files.map.exists() {
        if !options.resume {
            return Err(RipError::Drive(format!(
                "{} exists: resume the rip it belongs to, or remove it",
                files.map.display()
            )));
        }
        let m = RescueMap::load(&files.map)?;
        m.check_matches(base, sectors, ss, &files.map)?;
        m
    } else {
        RescueMap::new(base, sectors, ss)
    };
    let fresh = map.count(Status::NonTried) == sectors;
    let mut file = FileSink::open(&files.work, ss, 0)?;
    file.set_sectors(sectors)?;
    if mmc.reads_by_dma() {
        // The drive's DMA then fills the work file's pages: no copy per sector (else the
        // copies cost as much as a digest on a slow machine). Unmapped, writes copy.
        file.map();
    }
    let mut sink = HashingSinkOrNot::new(&mut file, ss, options.hash_while_reading && fresh);
    let mut source = AreaSource {
        drive: DriveSource {
            mmc,
            base,
            mode: plan.mode,
        },
        areas: plan.areas.clone(),
    };
    let summary = Rescue {
        source: &mut source,
        sink: sink.as_sink(),
        map: &mut map,
        map_path: Some(&files.map),
        options: options.rescue.clone(),
        cancel,
        progress,
    }
    .run()?;
    let digest = sink.finish(sectors);
    file.sync()?;
    let bad = summary.bad.iter().filter_map(|&i| plan.lba_of(i)).collect();
    Ok(Ripped {
        layout,
        plan,
        files: files.clone(),
        bad,
        read_offset: options.read_offset,
        digest,
    })
}

/// The work file, behind a [`HashingSink`] when asked.
enum HashingSinkOrNot<'a> {
    Hashing(HashingSink<'a>),
    Plain(&'a mut FileSink),
}

impl<'a> HashingSinkOrNot<'a> {
    fn new(file: &'a mut FileSink, sector_size: u32, hash: bool) -> HashingSinkOrNot<'a> {
        if hash {
            HashingSinkOrNot::Hashing(HashingSink::new(file, sector_size))
        } else {
            HashingSinkOrNot::Plain(file)
        }
    }

    fn as_sink(&mut self) -> &mut dyn RescueSink {
        match self {
            HashingSinkOrNot::Hashing(h) => h,
            HashingSinkOrNot::Plain(f) => *f,
        }
    }

    fn finish(self, sectors: u64) -> Option<Digests> {
        match self {
            HashingSinkOrNot::Hashing(h) => h.finish(sectors),
            HashingSinkOrNot::Plain(_) => None,
        }
    }
}
