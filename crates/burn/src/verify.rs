//! Reading a written target back, bypassing the page cache, and comparing it chunk by chunk
//! with the hashes the reader took of the source. A chunk whose hash differs is compared byte
//! by byte with the source to name the first bad offset.

use crate::aligned::AlignedBuf;
use crate::source::Source;
use crate::write::{Outcome, Phase, Progress};
use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use xxhash_rust::xxh3::xxh3_128;

#[allow(clippy::too_many_arguments)]
pub(crate) fn verify_target(
    target: usize,
    file: &File,
    direct: bool,
    lbs: usize,
    src: &Source,
    hashes: &Mutex<Vec<u128>>,
    chunk: usize,
    cancel: &AtomicBool,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Outcome {
    let total = src.len();
    let hashes = hashes.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let failed = |done: u64, error: String| Outcome::Failed {
        phase: Phase::Verifying,
        written: total.max(done),
        error,
    };
    if direct {
        if let Err(e) = spindle_sys::file::set_direct(file.as_fd(), true) {
            return failed(0, format!("reading back: {e}"));
        }
    } else {
        // Drop the cached pages so the read comes from the device.
        let _ = spindle_sys::file::drop_cached_pages(file.as_fd());
    }
    let mut buf = AlignedBuf::new(chunk);
    let start = Instant::now();
    let mut off = 0u64;
    for want in &hashes {
        if cancel.load(Ordering::Relaxed) {
            return Outcome::Cancelled {
                phase: Phase::Verifying,
                written: total,
            };
        }
        let len = (total - off).min(chunk as u64) as usize;
        // Whole logical blocks: the device is at least as large as the image rounded up.
        let read_len = len.div_ceil(lbs) * lbs;
        if let Err(e) = file.read_exact_at(&mut buf.as_mut_slice()[..read_len], off) {
            return failed(off, format!("reading back at byte {off}: {e}"));
        }
        let got = &buf.as_slice()[..len];
        if xxh3_128(got) != *want {
            let mut orig = vec![0u8; len];
            if let Err(e) = src.bytes.read_exact_at(&mut orig, off) {
                return failed(off, format!("re-reading the image at byte {off}: {e}"));
            }
            let first = got.iter().zip(&orig).position(|(a, b)| a != b).unwrap_or(0);
            return Outcome::Mismatch {
                offset: off + first as u64,
            };
        }
        off += len as u64;
        let secs = start.elapsed().as_secs_f64().max(1e-6);
        let bps = off as f64 / secs;
        progress(&Progress {
            target,
            phase: Phase::Verifying,
            done: off,
            total,
            bytes_per_sec: bps,
            eta: Some(std::time::Duration::from_secs_f64(
                (total - off) as f64 / bps.max(1.0),
            )),
        });
    }
    if off < total {
        return failed(off, "the image's chunk hashes are incomplete".into());
    }
    Outcome::Verified
}
