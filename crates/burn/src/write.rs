//! The write pipeline: one reader thread reads the source once, in large aligned chunks, and
//! hands each chunk to one writer thread per target; a chunk's buffer is reused once every
//! writer is done with it, so memory stays at `depth` chunks whatever the number of sticks.
//! Writers use `O_DIRECT` (no page cache, no dirty-data pile-up, and the speed shown is the
//! stick's) or, where a device refuses it, buffered writes with writeback kept to a few
//! chunks. Each target is synced at the end and then read back (`O_DIRECT` again) and its
//! chunks' hashes compared with the source's.

use crate::aligned::{ALIGN, AlignedBuf};
use crate::device::Device;
use crate::error::Result;
use crate::safety;
use crate::source::Source;
use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use xxhash_rust::xxh3::xxh3_128;

/// A checked device, opened exclusively.
pub struct Target {
    /// The disk as it was checked.
    pub device: Device,
    file: File,
    direct: bool,
}

impl Target {
    /// Opens a device that passed [`safety::check`] (and, for people, was confirmed):
    /// fails with [`crate::BurnError::Changed`] when the disk behind its name is no longer
    /// the one `device` describes.
    pub fn open(device: Device) -> Result<Target> {
        let (fd, direct) = safety::open_exclusive(&device)?;
        safety::still_same(&fd, &device)?;
        Ok(Target {
            device,
            file: File::from(fd),
            direct,
        })
    }
    /// Whether writes bypass the page cache.
    pub fn direct(&self) -> bool {
        self.direct
    }
}

/// Tuning.
#[derive(Clone, Debug)]
pub struct Options {
    /// Bytes per read and write (a multiple of 4096).
    pub chunk: usize,
    /// Chunks in flight between the reader and the writers.
    pub depth: usize,
    /// Read back and compare after writing.
    pub verify: bool,
}

impl Default for Options {
    fn default() -> Options {
        // 2 MiB chunks, two queued per target: large writes for the device, and a working set
        // (five buffers) that stays in the CPU's caches between the read and the write, which
        // is what a fast device notices (measured in docs/benchmarks.md, "USB writer").
        Options {
            chunk: 2 << 20,
            depth: 2,
            verify: true,
        }
    }
}

/// The step a target is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Writing the source's chunks.
    Writing,
    /// Flushing the device (`fsync`) after the last write.
    Syncing,
    /// Reading the device back and comparing it with the source.
    Verifying,
}

impl Phase {
    /// The lower-case name used in messages and JSON (`writing`, `syncing`, `verifying`).
    pub fn name(self) -> &'static str {
        match self {
            Phase::Writing => "writing",
            Phase::Syncing => "syncing",
            Phase::Verifying => "verifying",
        }
    }
}

/// One target's progress, after every chunk.
#[derive(Clone, Debug)]
pub struct Progress {
    /// The target's index in the list [`burn`] was given.
    pub target: usize,
    /// What it is doing.
    pub phase: Phase,
    /// Bytes written (or read back) so far in this phase.
    pub done: u64,
    /// Bytes in all: the source's length.
    pub total: u64,
    /// Average speed since the phase started, in bytes per second.
    pub bytes_per_sec: f64,
    /// Time left at that speed, once there is a speed.
    pub eta: Option<Duration>,
}

/// How one target ended.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Outcome {
    /// Written, synced, read back and equal to the image.
    Verified,
    /// Written and synced; not read back (`--no-verify`).
    Written,
    /// Read back different from the image from `offset` on.
    Mismatch {
        /// The offset of the first byte that differs, from the start of the device.
        offset: u64,
    },
    /// An error in `phase` after `written` bytes.
    Failed {
        /// The step that failed.
        phase: Phase,
        /// Bytes written before the failure.
        written: u64,
        /// The error, for people.
        error: String,
    },
    /// Stopped by the user in `phase` after `written` bytes.
    Cancelled {
        /// The step that was stopped.
        phase: Phase,
        /// Bytes written before the stop.
        written: u64,
    },
    /// Not written at all: the last check before the first write refused this target or
    /// another one (writing it would overwrite the source).
    Refused {
        /// Why, for people.
        error: String,
    },
}

impl Outcome {
    /// True when the whole image was written ([`Outcome::Verified`] or
    /// [`Outcome::Written`]).
    pub fn ok(&self) -> bool {
        matches!(self, Outcome::Verified | Outcome::Written)
    }
    /// What the device holds now, for people.
    pub fn state(&self, total: u64) -> String {
        let h = crate::human_size;
        match self {
            Outcome::Verified => format!("complete and verified ({})", h(total)),
            Outcome::Written => format!("complete ({}), not verified", h(total)),
            Outcome::Mismatch { offset } => {
                format!(
                    "written but DIFFERENT from the image from byte {offset}: do not trust it (a failing or fake-capacity stick?)"
                )
            }
            Outcome::Failed {
                phase,
                written,
                error,
            } => format!(
                "failed while {}: {error}; {} of {} written, the old contents are overwritten up to there and the stick is not usable",
                phase.name(),
                h(*written),
                h(total)
            ),
            Outcome::Cancelled {
                phase: Phase::Verifying,
                ..
            } => {
                format!(
                    "complete ({}) and synced, verification stopped part way",
                    h(total)
                )
            }
            Outcome::Refused { error } => format!("not written, nothing changed: {error}"),
            Outcome::Cancelled { written, .. } => format!(
                "INCOMPLETE: stopped after {} of {}; it holds a partial image and will not work until written again",
                h(*written),
                h(total)
            ),
        }
    }
}

/// How one target of a burn went.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TargetReport {
    /// The device.
    pub path: PathBuf,
    /// How it ended.
    pub outcome: Outcome,
    /// Whether it was written with `O_DIRECT` (bypassing the page cache).
    pub direct: bool,
    /// Seconds spent writing and syncing.
    pub write_secs: f64,
    /// Seconds spent reading back (0 when it was not verified).
    pub verify_secs: f64,
}

/// The result of a whole burn, one entry per target.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    /// The source's length in bytes.
    pub bytes: u64,
    /// Each target's report, in the order [`burn`] was given them.
    pub targets: Vec<TargetReport>,
    /// Seconds the burn took, from start to the last verification.
    pub secs: f64,
}

struct Chunk {
    off: u64,
    len: usize,
    buf: AlignedBuf,
}

impl Chunk {
    fn bytes(&self) -> &[u8] {
        &self.buf.as_slice()[..self.len]
    }
}

/// State shared between the reader and the writers.
struct Shared<'a> {
    src: &'a Source,
    opts: &'a Options,
    cancel: &'a AtomicBool,
    hashes: Mutex<Vec<u128>>,
    source_error: Mutex<Option<String>>,
    progress: &'a (dyn Fn(&Progress) + Sync),
}

/// Writes `src` to every target at once, then verifies each; never fails as a whole: each
/// target's outcome is in the report.
pub fn burn(
    src: &Source,
    targets: Vec<Target>,
    opts: &Options,
    cancel: &AtomicBool,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Report {
    let start = Instant::now();
    if let Some(refused) = crate::backing::refuse_over_source(src, &targets) {
        return Report {
            bytes: src.len(),
            targets: refused,
            secs: start.elapsed().as_secs_f64(),
        };
    }
    let mut opts = opts.clone();
    opts.chunk = opts.chunk.max(ALIGN).div_ceil(ALIGN) * ALIGN;
    opts.depth = opts.depth.max(1);
    let sh = Shared {
        src,
        opts: &opts,
        cancel,
        hashes: Mutex::new(Vec::new()),
        source_error: Mutex::new(None),
        progress,
    };
    let (ret_tx, ret_rx) = std::sync::mpsc::channel::<()>();
    let mut txs = Vec::new();
    let mut rxs = Vec::new();
    for _ in &targets {
        let (tx, rx) = sync_channel::<Arc<Chunk>>(opts.depth);
        txs.push(tx);
        rxs.push(rx);
    }
    let reports = std::thread::scope(|s| {
        let handles: Vec<_> = targets
            .iter()
            .zip(rxs)
            .enumerate()
            .map(|(i, (t, rx))| {
                let ret = ret_tx.clone();
                let sh = &sh;
                s.spawn(move || run_target(i, t, rx, ret, sh))
            })
            .collect();
        drop(ret_tx);
        read_source(&sh, txs, ret_rx);
        let reports: Vec<TargetReport> = handles
            .into_iter()
            .zip(&targets)
            .map(|(h, t)| {
                h.join().unwrap_or_else(|_| TargetReport {
                    path: t.device.path.clone(),
                    outcome: Outcome::Failed {
                        phase: Phase::Writing,
                        written: 0,
                        error: "the writer thread panicked".into(),
                    },
                    direct: t.direct,
                    write_secs: 0.0,
                    verify_secs: 0.0,
                })
            })
            .collect();
        reports
    });
    Report {
        bytes: src.len(),
        targets: reports,
        secs: start.elapsed().as_secs_f64(),
    }
}

/// The reader: one pass over the source, chunk hashes recorded for the verifiers. The
/// reader keeps every buffer of its pool; a buffer is free again when no writer holds it (its
/// count is back to one), and writers send a note each time they let one go. A chunk is
/// hashed after it is handed to the writers, so hashing overlaps the writes.
fn read_source(
    sh: &Shared,
    txs: Vec<std::sync::mpsc::SyncSender<Arc<Chunk>>>,
    freed: Receiver<()>,
) {
    let total = sh.src.len();
    let chunk = sh.opts.chunk;
    let pool_max = sh.opts.depth * 2 + 1;
    let mut pool: Vec<Arc<Chunk>> = Vec::new();
    // Chunk by chunk, except that the chunks holding the first `head_last` bytes go last.
    let count = total.div_ceil(chunk as u64);
    let head = sh.src.head_last.min(total).div_ceil(chunk as u64);
    for index in (head..count).chain(0..head) {
        if sh.cancel.load(Ordering::Relaxed) {
            break;
        }
        let off = index * chunk as u64;
        let len = (total - off).min(chunk as u64) as usize;
        let slot = loop {
            if let Some(i) = pool.iter_mut().position(|a| Arc::get_mut(a).is_some()) {
                break i;
            }
            if pool.len() < pool_max {
                pool.push(Arc::new(Chunk {
                    off: 0,
                    len: 0,
                    buf: AlignedBuf::new(chunk),
                }));
                break pool.len() - 1;
            }
            if freed.recv().is_err() {
                // Every writer is gone: nothing left to feed.
                return;
            }
        };
        let c = Arc::get_mut(&mut pool[slot]).expect("free buffer");
        c.off = off;
        c.len = len;
        if let Err(e) = sh.src.read_chunk(&mut c.buf.as_mut_slice()[..len], off) {
            *sh.source_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
            break;
        }
        let c = pool[slot].clone();
        // A target whose write failed has dropped its receiver: when no target is left,
        // stop reading (a compressed image would otherwise be decoded to its end for nobody).
        let taken = txs.iter().filter(|tx| tx.send(c.clone()).is_ok()).count();
        if taken == 0 {
            return;
        }
        // Verifiers only look at the hashes once the writing is over; they are kept in the
        // source's order, whatever the order of the writes.
        let hash = xxh3_128(c.bytes());
        let mut hashes = sh.hashes.lock().unwrap_or_else(|p| p.into_inner());
        if hashes.len() <= index as usize {
            hashes.resize(index as usize + 1, 0);
        }
        hashes[index as usize] = hash;
    }
}

/// Writes each target has in flight.
const WRITES_IN_FLIGHT: usize = 2;

struct Rate {
    start: Instant,
}

impl Rate {
    fn new() -> Rate {
        Rate {
            start: Instant::now(),
        }
    }
    fn progress(&self, target: usize, phase: Phase, done: u64, total: u64) -> Progress {
        let secs = self.start.elapsed().as_secs_f64().max(1e-6);
        let bps = done as f64 / secs;
        let eta =
            (bps > 0.0).then(|| Duration::from_secs_f64((total - done.min(total)) as f64 / bps));
        Progress {
            target,
            phase,
            done,
            total,
            bytes_per_sec: bps,
            eta,
        }
    }
}

fn run_target(
    i: usize,
    t: &Target,
    rx: Receiver<Arc<Chunk>>,
    ret: Sender<()>,
    sh: &Shared,
) -> TargetReport {
    let total = sh.src.len();
    let started = Instant::now();
    let rate = Rate::new();
    let lbs = (t.device.logical_block_size.max(512) as usize).min(ALIGN);
    // Two writes in flight per target: the device gets the next request while the last one
    // completes, instead of idling for a system call's round trip.
    let rx = Mutex::new(rx);
    let written = std::sync::atomic::AtomicU64::new(0);
    let failure: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..WRITES_IN_FLIGHT {
            let ret = ret.clone();
            let (rx, written, failure, rate) = (&rx, &written, &failure, &rate);
            s.spawn(move || {
                loop {
                    let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(c) = next else { break };
                    if failure.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
                        // This target is done for: take no more chunks (see below).
                        break;
                    }
                    if !sh.cancel.load(Ordering::Relaxed) {
                        match write_chunk(&t.file, t.direct, lbs, &c, sh.opts) {
                            Ok(()) => {
                                let done = written.fetch_add(c.len as u64, Ordering::Relaxed)
                                    + c.len as u64;
                                (sh.progress)(&rate.progress(i, Phase::Writing, done, total));
                            }
                            Err(e) => {
                                failure
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .get_or_insert(format!("writing at byte {}: {e}", c.off));
                            }
                        }
                    }
                    drop(c);
                    let _ = ret.send(());
                }
            });
        }
    });
    // The reader learns that this target takes no more chunks (after a failure) from the
    // closed channel; the chunks still queued in it go back to its pool, and the note says so.
    drop(rx);
    let _ = ret.send(());
    drop(ret);
    let written = written.into_inner();
    let error = failure.into_inner().unwrap_or_else(|p| p.into_inner());
    let report = |outcome, write_secs: f64, verify_secs: f64| TargetReport {
        path: t.device.path.clone(),
        outcome,
        direct: t.direct,
        write_secs,
        verify_secs,
    };
    (sh.progress)(&rate.progress(i, Phase::Syncing, written, total));
    // Sync even after an error or a stop, so what was written is on the stick when we say so.
    let synced = t.file.sync_all();
    let write_secs = started.elapsed().as_secs_f64();
    if let Some(error) = error {
        return report(
            Outcome::Failed {
                phase: Phase::Writing,
                written,
                error,
            },
            write_secs,
            0.0,
        );
    }
    if let Err(e) = synced {
        return report(
            Outcome::Failed {
                phase: Phase::Syncing,
                written,
                error: e.to_string(),
            },
            write_secs,
            0.0,
        );
    }
    if let Some(e) = sh
        .source_error
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
    {
        return report(
            Outcome::Failed {
                phase: Phase::Writing,
                written,
                error: e,
            },
            write_secs,
            0.0,
        );
    }
    if written < total {
        return report(
            Outcome::Cancelled {
                phase: Phase::Writing,
                written,
            },
            write_secs,
            0.0,
        );
    }
    if !sh.opts.verify {
        return report(Outcome::Written, write_secs, 0.0);
    }
    let v = Instant::now();
    let outcome = crate::verify::verify_target(
        i,
        &t.file,
        t.direct,
        lbs,
        sh.src,
        &sh.hashes,
        sh.opts.chunk,
        sh.cancel,
        sh.progress,
    );
    let outcome = check_wims(outcome, &t.file, t.direct, sh.src);
    report(outcome, write_secs, v.elapsed().as_secs_f64())
}

/// Reads a target back and compares it with `src`, without writing (the source is read
/// once for its chunk hashes first).
pub fn verify(
    src: &Source,
    t: &Target,
    opts: &Options,
    cancel: &AtomicBool,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Outcome {
    let chunk = opts.chunk.max(ALIGN).div_ceil(ALIGN) * ALIGN;
    let total = src.len();
    let mut hashes = Vec::new();
    let mut buf = vec![0u8; chunk];
    let mut off = 0u64;
    while off < total {
        let len = (total - off).min(chunk as u64) as usize;
        if let Err(e) = src.read_chunk(&mut buf[..len], off) {
            return Outcome::Failed {
                phase: Phase::Verifying,
                written: 0,
                error: e.to_string(),
            };
        }
        hashes.push(xxh3_128(&buf[..len]));
        off += len as u64;
    }
    let lbs = (t.device.logical_block_size.max(512) as usize).min(ALIGN);
    let hashes = Mutex::new(hashes);
    let outcome = crate::verify::verify_target(
        0, &t.file, t.direct, lbs, src, &hashes, chunk, cancel, progress,
    );
    check_wims(outcome, &t.file, t.direct, src)
}

/// After a read-back that verified, the split WIM parts on the stick against the source
/// WIM ([`crate::wimcheck`]): a mismatch fails the verify naming the part and resource.
fn check_wims(outcome: Outcome, file: &File, direct: bool, src: &Source) -> Outcome {
    if outcome != Outcome::Verified || src.wims.is_empty() {
        return outcome;
    }
    match crate::wimcheck::check(file, direct, &src.wims) {
        Ok(()) => outcome,
        Err(e) => Outcome::Failed {
            phase: Phase::Verifying,
            written: src.len(),
            error: e.to_string(),
        },
    }
}

fn write_chunk(
    file: &File,
    direct: bool,
    lbs: usize,
    c: &Chunk,
    opts: &Options,
) -> std::io::Result<()> {
    let fd = file.as_fd();
    let data = c.bytes();
    if !direct {
        file.write_all_at(data, c.off)?;
        // Bounded dirty data: start writeback of this chunk, wait for the one `depth` back.
        // Best effort, as hints: the final fsync is what makes the data durable.
        let _ = spindle_sys::file::start_writeback(fd, c.off, c.len as u64);
        let back = (opts.chunk * opts.depth) as u64;
        if c.off >= back {
            let _ = spindle_sys::file::wait_writeback(fd, c.off - back, opts.chunk as u64);
        }
        return Ok(());
    }
    let aligned = c.len / lbs * lbs;
    file.write_all_at(&data[..aligned], c.off)?;
    if aligned < c.len {
        // The image ends inside a logical block: the tail goes through the page cache (the
        // final fsync writes it) and the descriptor stays direct for reading back.
        spindle_sys::file::set_direct(fd, false)?;
        let r = file.write_all_at(&data[aligned..], c.off + aligned as u64);
        spindle_sys::file::set_direct(fd, true)?;
        r?;
    }
    Ok(())
}
