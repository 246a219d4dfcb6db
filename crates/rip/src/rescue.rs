//! Rescuing the sectors of one read area in ddrescue's phases, recording every outcome in a
//! [`RescueMap`] so that an interrupted or partial rip resumes where it stopped.
//!
//! 1. **Copy**: clusters of sectors in order. After a failure the rescue skips ahead (the
//!    skip doubles while failures continue, up to a limit), so one bad area does not cost
//!    hundreds of slow failing reads before the good rest of the disc is safe; the failed
//!    cluster is marked non-trimmed. A second sweep then reads the skipped areas, without
//!    skipping.
//! 2. **Trim**: each non-trimmed area is read sector by sector from its leading edge until
//!    one fails, then from its trailing edge back; both failures are bad, the middle is left
//!    for scraping.
//! 3. **Scrape**: every sector left is read alone: read or bad.
//! 4. **Retry**: bad sectors are read again, `retries` passes.
//!
//! The map is saved when a phase ends, every `map_interval`, when the rescue is cancelled
//! (the `cancel` flag, set by a Ctrl-C handler), and at the end.

use crate::buffers::{BufferPool, MappedFile, SharedBuf};
use crate::error::{Result, RipError};
use crate::map::{Phase, RescueMap, Status};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Read buffers a rescue keeps: a sink holding one (a hash of the sectors) does not stall
/// the next reads.
const BUFFERS: usize = 16;

/// How a read went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Every sector arrived.
    All,
    /// The sectors before this count arrived; the one at this count failed (the ones after
    /// it are unknown).
    FailedAt(u32),
}

/// What a rescue reads from: a drive in one read mode, sector by sector, where a read may
/// fail part way. (Not the disc model's `spindle_disc::SectorSource`, which decodes stored
/// sectors into a layout.)
pub trait RescueSource {
    /// Bytes per sector in this read mode.
    fn sector_size(&self) -> u32;
    /// Reads `count` sectors from index `first` into `buf` (`count * sector_size` bytes).
    /// `Err` ends the rescue (the medium is gone, the drive does not answer sensibly).
    fn read(&mut self, first: u64, count: u32, buf: &mut [u8]) -> Result<ReadOutcome>;
    /// True when only the kernel writes `buf` (SG_IO): a buffer mapped from the output
    /// file may then be given (see [`RescueSink::direct`]).
    fn reads_by_dma(&self) -> bool {
        false
    }
}

/// A region of the sink's own storage to read sectors into (see [`RescueSink::direct`]).
pub struct Direct<'s> {
    /// The storage, as bytes to read into.
    pub bytes: &'s mut [u8],
    /// The same bytes, to hand on once they are read.
    pub shared: SharedBuf,
}

/// Where a rescue writes the sectors it read (a file, a hashing wrapper around one).
pub trait RescueSink {
    /// Writes whole sectors from index `first`.
    fn write(&mut self, first: u64, data: &[u8]) -> Result<()>;

    /// [`RescueSink::write`] of `data`, whose handle the sink may keep after returning: the
    /// rescue reuses the buffer only once every handle is gone.
    fn write_shared(&mut self, first: u64, data: &SharedBuf) -> Result<()> {
        self.write(first, data)
    }

    /// Where `count` sectors from `first` are stored, when the sink can offer it as memory
    /// to read into (a mapped file), sparing the copy of a write. Only asked of a source
    /// that [`RescueSource::reads_by_dma`]. The default: `None`.
    fn direct(&mut self, _first: u64, _count: u32) -> Option<Direct<'_>> {
        None
    }

    /// After a read into [`RescueSink::direct`]: `data` (the sectors from `first` that
    /// arrived) is in place; the sink may keep the handle.
    fn wrote_direct(&mut self, _first: u64, _data: &SharedBuf) -> Result<()> {
        Ok(())
    }
}

/// Sectors into a file at `index * sector_size` (plus a base offset).
pub struct FileSink {
    file: std::fs::File,
    path: PathBuf,
    sector_size: u64,
    offset: u64,
    /// The file mapped, once [`FileSink::map`] succeeded.
    mapped: Option<Arc<MappedFile>>,
}

impl FileSink {
    /// Opens (creating, never truncating: a resumed rip keeps what it has) `path`.
    pub fn open(path: &Path, sector_size: u32, offset: u64) -> Result<FileSink> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|source| RipError::Io {
                path: path.to_path_buf(),
                what: "opening the output",
                source,
            })?;
        Ok(FileSink {
            file,
            path: path.to_path_buf(),
            sector_size: sector_size as u64,
            offset,
            mapped: None,
        })
    }

    /// Maps the file (as long as it is now: call after [`FileSink::set_sectors`]) so that
    /// [`RescueSink::direct`] offers its page-aligned regions. Only on tmpfs and ramfs:
    /// there pages are never written back, whereas on a disk filesystem writeback may start
    /// while a drive's DMA into a pinned page is still under way (checksumming filesystems
    /// then fail their checksums). False when it is not mapped (every write is a copy).
    pub fn map(&mut self) -> bool {
        use std::os::fd::AsRawFd;
        const TMPFS_MAGIC: i64 = 0x0102_1994;
        const RAMFS_MAGIC: i64 = 0x8584_58f6;
        // SAFETY: an open fd and a zeroed statfs to fill.
        let mut st: libc::statfs = unsafe { std::mem::zeroed() };
        // SAFETY: the fd is open; st is a valid statfs the call fills.
        let memory = unsafe { libc::fstatfs(self.file.as_raw_fd(), &mut st) } == 0
            && matches!(st.f_type as i64, TMPFS_MAGIC | RAMFS_MAGIC);
        if !memory {
            self.mapped = None;
            return false;
        }
        let len = self.file.metadata().map(|m| m.len()).unwrap_or(0);
        self.mapped = usize::try_from(len)
            .ok()
            .and_then(|len| MappedFile::map(&self.file, len).ok());
        self.mapped.is_some()
    }

    /// Makes the file exactly `sectors` long (unread sectors read as zeros). A mapping made
    /// before is dropped (map again after this).
    pub fn set_sectors(&mut self, sectors: u64) -> Result<()> {
        self.mapped = None;
        self.file
            .set_len(self.offset + sectors * self.sector_size)
            .map_err(|source| RipError::Io {
                path: self.path.clone(),
                what: "sizing the output",
                source,
            })
    }

    /// Flushes what was written to the disk (fdatasync).
    pub fn sync(&mut self) -> Result<()> {
        self.file.sync_data().map_err(|source| RipError::Io {
            path: self.path.clone(),
            what: "flushing the output",
            source,
        })
    }
}

impl RescueSink for FileSink {
    fn direct(&mut self, first: u64, count: u32) -> Option<Direct<'_>> {
        let m = self.mapped.as_ref()?;
        let at = usize::try_from(self.offset + first * self.sector_size).ok()?;
        if at % 4096 != 0 {
            return None;
        }
        let len = count as usize * self.sector_size as usize;
        // SAFETY: only asked for a source that reads by DMA; the rescue reads each region
        // once before handing it on, and never again a sector it has handed on (hashed
        // sectors are finished; only unfinished ones are read again).
        let (bytes, shared) = unsafe { m.region(at, len) }?;
        Some(Direct { bytes, shared })
    }

    fn write(&mut self, first: u64, data: &[u8]) -> Result<()> {
        use std::os::unix::fs::FileExt;
        let at = self.offset + first * self.sector_size;
        self.file
            .write_all_at(data, at)
            .map_err(|source| RipError::Io {
                path: self.path.clone(),
                what: "writing sectors",
                source,
            })
    }
}

/// Tuning of a rescue.
#[derive(Clone, Debug)]
pub struct RescueOptions {
    /// Sectors per read in the copy phase.
    pub cluster: u32,
    /// Sectors skipped after the first failure (doubling up to `skip_max`).
    pub skip_min: u64,
    /// Most sectors skipped at once after consecutive failures.
    pub skip_max: u64,
    /// Passes over bad sectors after scraping.
    pub retries: u32,
    /// How often the map is saved while reading.
    pub map_interval: Duration,
}

impl Default for RescueOptions {
    fn default() -> RescueOptions {
        RescueOptions {
            cluster: 32,
            skip_min: 64,
            skip_max: 16384,
            retries: 1,
            map_interval: Duration::from_secs(5),
        }
    }
}

/// Where a rescue is, for a progress display.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// The phase under way.
    pub phase: Phase,
    /// Its pass, from 1.
    pub pass: u32,
    /// The sector index being read.
    pub position: u64,
    /// Sectors read so far.
    pub finished: u64,
    /// Sectors failed so far (non-trimmed, non-scraped and bad).
    pub errors: u64,
    /// Sectors in the read area.
    pub total: u64,
    /// Time since the rescue started.
    pub elapsed: Duration,
}

/// How a rescue ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Sectors read.
    pub finished: u64,
    /// Indexes of the sectors still unreadable.
    pub bad: Vec<u64>,
    /// Reads issued.
    pub reads: u64,
}

/// One rescue of one read area.
pub struct Rescue<'a, 'p> {
    /// Where the sectors come from.
    pub source: &'a mut dyn RescueSource,
    /// Where they go.
    pub sink: &'a mut dyn RescueSink,
    /// What is known of every sector; updated as reads finish.
    pub map: &'a mut RescueMap,
    /// Where the map is saved (`None`: kept in memory only).
    pub map_path: Option<&'a Path>,
    /// Tuning.
    pub options: RescueOptions,
    /// Set (by a Ctrl-C handler) to stop the rescue at the next read; the map is then saved.
    pub cancel: Option<&'a AtomicBool>,
    /// Called with where the rescue is, after reads.
    pub progress: Option<&'p mut dyn FnMut(&Progress)>,
}

struct Run<'r, 'a, 'p> {
    r: &'r mut Rescue<'a, 'p>,
    /// Page-aligned read buffers of one cluster each (see [`crate::buffers`]).
    pool: BufferPool,
    started: Instant,
    saved: Instant,
    reads: u64,
}

impl Rescue<'_, '_> {
    /// Runs every phase still to do. A cancel saves the map and returns
    /// [`RipError::Cancelled`]; a source error saves the map and returns the error.
    pub fn run(&mut self) -> Result<Summary> {
        let ss = self.source.sector_size() as usize;
        let cluster = self.options.cluster.max(1);
        let mut run = Run {
            pool: BufferPool::new(BUFFERS, cluster as usize * ss),
            started: Instant::now(),
            saved: Instant::now(),
            reads: 0,
            r: self,
        };
        let result = run.all_phases();
        let saved = run.save();
        let reads = run.reads;
        result?;
        saved?;
        Ok(Summary {
            finished: self.map.count(Status::Finished),
            bad: self.map.bad_sectors(),
            reads,
        })
    }
}

/// True when an error comes from the buffer itself (EFAULT somewhere in its chain).
fn bad_buffer(e: &RipError) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(x) = cur {
        if x.downcast_ref::<std::io::Error>()
            .and_then(|io| io.raw_os_error())
            == Some(libc::EFAULT)
        {
            return true;
        }
        cur = x.source();
    }
    false
}

impl Run<'_, '_, '_> {
    fn save(&mut self) -> Result<()> {
        self.saved = Instant::now();
        match self.r.map_path {
            Some(p) => self.r.map.save(p),
            None => Ok(()),
        }
    }

    fn tick(&mut self, phase: Phase, position: u64) -> Result<()> {
        self.r.map.phase = phase;
        self.r.map.position = position;
        if self.r.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(RipError::Cancelled);
        }
        if self.saved.elapsed() >= self.r.options.map_interval {
            self.save()?;
        }
        if let Some(p) = self.r.progress.as_mut() {
            let m = &*self.r.map;
            let errors =
                m.count(Status::NonTrimmed) + m.count(Status::NonScraped) + m.count(Status::Bad);
            p(&Progress {
                phase,
                pass: m.pass,
                position,
                finished: m.count(Status::Finished),
                errors,
                total: m.sectors,
                elapsed: self.started.elapsed(),
            });
        }
        Ok(())
    }

    /// Reads `n` sectors at `at`, writes what arrived, marks the map; returns how many
    /// arrived before a failure (`n` when all did).
    fn read(&mut self, at: u64, n: u32, on_fail: Status) -> Result<u32> {
        let ss = self.r.source.sector_size() as usize;
        self.reads += 1;
        let good = match self.read_direct(at, n)? {
            Some(good) => good,
            None => {
                let i = self.pool.take();
                let outcome =
                    self.r
                        .source
                        .read(at, n, &mut self.pool.get_mut(i)[..n as usize * ss])?;
                let good = match outcome {
                    ReadOutcome::All => n,
                    ReadOutcome::FailedAt(k) => k.min(n),
                };
                if good > 0 {
                    self.r
                        .sink
                        .write_shared(at, &self.pool.shared(i, good as usize * ss))?;
                }
                good
            }
        };
        if good > 0 {
            self.r.map.set(at, good as u64, Status::Finished);
        }
        if good < n {
            self.r.map.set(at + good as u64, (n - good) as u64, on_fail);
        }
        Ok(good)
    }

    /// A read straight into the sink's storage, when both sides can; `None` to read through
    /// a buffer instead (also after a transport error here: the buffered read then tells).
    fn read_direct(&mut self, at: u64, n: u32) -> Result<Option<u32>> {
        if !self.r.source.reads_by_dma() {
            return Ok(None);
        }
        let ss = self.r.source.sector_size() as usize;
        let Some(d) = self.r.sink.direct(at, n) else {
            return Ok(None);
        };
        let shared = d.shared;
        let good = match self.r.source.read(at, n, d.bytes) {
            Ok(ReadOutcome::All) => n,
            Ok(ReadOutcome::FailedAt(k)) => k.min(n),
            Err(e) => {
                // Part of the region may hold what the failed command moved: zeros again.
                self.r.sink.write(at, &vec![0u8; n as usize * ss])?;
                // Only a page the kernel could not fill (EFAULT: no space behind the
                // mapping) is worth a second try through a buffer, whose write then names
                // the problem; any other error stands (a unit attention is reported once).
                return if bad_buffer(&e) { Ok(None) } else { Err(e) };
            }
        };
        if good > 0 {
            self.r
                .sink
                .wrote_direct(at, &shared.prefix(good as usize * ss))?;
        }
        if good < n {
            // What a failed read left there is not the disc's: unread sectors are zeros.
            let zeros = vec![0u8; (n - good) as usize * ss];
            self.r.sink.write(at + good as u64, &zeros)?;
        }
        Ok(Some(good))
    }

    fn all_phases(&mut self) -> Result<()> {
        self.copy(true)?;
        self.copy(false)?;
        self.save()?;
        self.trim()?;
        self.save()?;
        self.scrape()?;
        self.save()?;
        for _ in 0..self.r.options.retries {
            if self.r.map.count(Status::Bad) == 0 {
                break;
            }
            self.r.map.pass += 1;
            self.retry()?;
            self.save()?;
        }
        self.r.map.phase = Phase::Finished;
        self.r.map.position = self.r.map.sectors;
        Ok(())
    }

    /// The copy phase: with `skipping`, jump ahead after failures (the skipped sectors stay
    /// non-tried for the sweep without skipping).
    fn copy(&mut self, skipping: bool) -> Result<()> {
        let cluster = self.r.options.cluster.max(1) as u64;
        let mut skip = 0u64;
        for run in self.r.map.runs_with(Status::NonTried) {
            let mut at = run.start;
            while at < run.end() {
                // The run may have been split by earlier reads of this sweep.
                if self.r.map.status(at) != Some(Status::NonTried) {
                    at += 1;
                    continue;
                }
                self.tick(Phase::Copying, at)?;
                let n = cluster.min(run.end() - at) as u32;
                let good = self.read(at, n, Status::NonTrimmed)?;
                at += n as u64;
                if good < n {
                    if skipping {
                        skip = if skip == 0 {
                            self.r.options.skip_min
                        } else {
                            (skip * 2).min(self.r.options.skip_max)
                        };
                        at = (at + skip).min(run.end());
                    }
                } else {
                    skip = 0;
                }
            }
        }
        Ok(())
    }

    fn trim(&mut self) -> Result<()> {
        for run in self.r.map.runs_with(Status::NonTrimmed) {
            let (mut lo, mut hi) = (run.start, run.end());
            while lo < hi {
                self.tick(Phase::Trimming, lo)?;
                let good = self.read(lo, 1, Status::Bad)?;
                lo += 1;
                if good == 0 {
                    break;
                }
            }
            while lo < hi {
                self.tick(Phase::Trimming, hi - 1)?;
                let good = self.read(hi - 1, 1, Status::Bad)?;
                hi -= 1;
                if good == 0 {
                    break;
                }
            }
            if lo < hi {
                self.r.map.set(lo, hi - lo, Status::NonScraped);
            }
        }
        Ok(())
    }

    fn scrape(&mut self) -> Result<()> {
        for run in self.r.map.runs_with(Status::NonScraped) {
            for at in run.start..run.end() {
                self.tick(Phase::Scraping, at)?;
                self.read(at, 1, Status::Bad)?;
            }
        }
        Ok(())
    }

    fn retry(&mut self) -> Result<()> {
        for at in self.r.map.bad_sectors() {
            self.tick(Phase::Retrying, at)?;
            self.read(at, 1, Status::Bad)?;
        }
        Ok(())
    }
}
