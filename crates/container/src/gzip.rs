//! gzip: one pass at open inflates every member and keeps a checkpoint of the inflate state
//! every [`SPACING`] bytes of output (the decompressor's state and its 32 KiB window, which is
//! all that a deflate stream refers back to). A read restores the nearest checkpoint before
//! it and inflates at most `SPACING` bytes to get there; the last read position is kept, so
//! sequential reads inflate every byte once. (zlib's `zran` does the same with
//! `inflatePrime`; miniz_oxide's decompressor state can simply be cloned.)

use crate::invalid;
use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Output bytes between checkpoints.
pub const SPACING: u64 = 8 << 20;
/// The ring the decompressor writes into: its 32 KiB window.
const RING: usize = 32 * 1024;
/// Compressed bytes read per call.
const CHUNK: usize = 256 * 1024;

/// A resumable inflate position.
#[derive(Clone)]
struct State {
    d: Box<DecompressorOxide>,
    ring: Box<[u8; RING]>,
    ring_pos: usize,
    /// File offset of the next compressed byte.
    comp: u64,
    /// Output offset of the next byte.
    out: u64,
}

pub struct Index {
    file: File,
    /// Length of the compressed file.
    flen: u64,
    len: u64,
    /// Checkpoints by output offset; one at the start of every member.
    points: Vec<State>,
    /// Where members start: (output offset, index of their checkpoint).
    members: Vec<(u64, usize)>,
    cursor: Mutex<Option<State>>,
}

/// Length of the gzip member header at `b` (RFC 1952).
fn header_len(b: &[u8]) -> Option<usize> {
    if b.len() < 10 || b[..3] != [0x1F, 0x8B, 8] {
        return None;
    }
    let flags = b[3];
    let mut at = 10;
    if flags & 4 != 0 {
        let x = u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]) as usize;
        at += 2 + x;
    }
    for bit in [8, 16] {
        if flags & bit != 0 {
            at += b.get(at..)?.iter().position(|&c| c == 0)? + 1;
        }
    }
    if flags & 2 != 0 {
        at += 2;
    }
    (at <= b.len()).then_some(at)
}

impl State {
    fn start(comp: u64, out: u64) -> State {
        State {
            d: Box::default(),
            ring: Box::new([0u8; RING]),
            ring_pos: 0,
            comp,
            out,
        }
    }

    /// Inflates until the member ends or `stop` output bytes are reached, calling `sink` with
    /// each run of output (its output offset and bytes). True when the member ended.
    fn run(
        &mut self,
        file: &File,
        flen: u64,
        stop: u64,
        path: &Path,
        sink: &mut dyn FnMut(u64, &[u8]),
    ) -> io::Result<bool> {
        let mut chunk = vec![0u8; CHUNK];
        while self.out < stop {
            let n = (flen - self.comp).min(CHUNK as u64) as usize;
            file.read_exact_at(&mut chunk[..n], self.comp)?;
            let more = self.comp + (n as u64) < flen;
            let flags = if more {
                inflate_flags::TINFL_FLAG_HAS_MORE_INPUT
            } else {
                0
            };
            let (status, used, written) = decompress(
                &mut self.d,
                &chunk[..n],
                &mut self.ring[..],
                self.ring_pos,
                flags,
            );
            sink(self.out, &self.ring[self.ring_pos..self.ring_pos + written]);
            self.comp += used as u64;
            self.out += written as u64;
            self.ring_pos = (self.ring_pos + written) & (RING - 1);
            match status {
                TINFLStatus::Done => return Ok(true),
                TINFLStatus::HasMoreOutput => {}
                TINFLStatus::NeedsMoreInput if more => {}
                TINFLStatus::NeedsMoreInput => {
                    return Err(invalid(
                        path,
                        "gzip data ends in the middle of a member: truncated",
                    ));
                }
                s => {
                    return Err(invalid(
                        path,
                        format!("gzip data is corrupt at offset {} ({s:?})", self.comp),
                    ));
                }
            }
            if used == 0 && written == 0 && status != TINFLStatus::HasMoreOutput {
                return Err(invalid(
                    path,
                    format!("gzip data makes no progress at offset {}", self.comp),
                ));
            }
        }
        Ok(false)
    }
}

impl Index {
    pub fn build(file: File, flen: u64, path: &Path, decoded: &AtomicU64) -> io::Result<Index> {
        let mut points = Vec::new();
        let mut members = Vec::new();
        let mut pos = 0u64;
        let mut out = 0u64;
        loop {
            let mut h = vec![0u8; (flen - pos).min(64 * 1024) as usize];
            file.read_exact_at(&mut h, pos)?;
            let hl = header_len(&h)
                .ok_or_else(|| invalid(path, format!("no gzip member header at offset {pos}")))?;
            let mut st = State::start(pos + hl as u64, out);
            members.push((out, points.len()));
            points.push(st.clone());
            let mut crc = crc32fast::Hasher::new();
            let member_start = out;
            loop {
                let next = st.out + SPACING;
                let done = st.run(&file, flen, next, path, &mut |_, b| crc.update(b))?;
                if done {
                    break;
                }
                points.push(st.clone());
            }
            decoded.fetch_add(st.out - member_start, Ordering::Relaxed);
            let mut trailer = [0u8; 8];
            if st.comp + 8 > flen {
                return Err(invalid(path, "gzip member trailer missing: truncated"));
            }
            file.read_exact_at(&mut trailer, st.comp)?;
            let (want_crc, want_len) = (
                u32::from_le_bytes(trailer[..4].try_into().unwrap()),
                u32::from_le_bytes(trailer[4..].try_into().unwrap()),
            );
            if crc.finalize() != want_crc || (st.out - member_start) as u32 != want_len {
                return Err(invalid(
                    path,
                    format!("gzip member at offset {pos}: CRC or length mismatch (corrupt data)"),
                ));
            }
            out = st.out;
            pos = st.comp + 8;
            // Another member, or zero padding to the end.
            if pos >= flen {
                break;
            }
            let mut peek = [0u8; 2];
            file.read_exact_at(&mut peek[..(flen - pos).min(2) as usize], pos)?;
            if peek != [0x1F, 0x8B] {
                break;
            }
        }
        if points.len() > 1 << 20 {
            return Err(invalid(path, "too many gzip checkpoints"));
        }
        Ok(Index {
            file,
            flen,
            len: out,
            points,
            members,
            cursor: Mutex::new(None),
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn count(&self) -> usize {
        self.points.len()
    }

    pub fn read_at(
        &self,
        buf: &mut [u8],
        offset: u64,
        path: &Path,
        decoded: &AtomicU64,
    ) -> io::Result<()> {
        let flen = self.flen;
        let end = offset + buf.len() as u64;
        let mut st = {
            let cur = self.cursor.lock().unwrap().take();
            let i = self
                .points
                .partition_point(|p| p.out <= offset)
                .saturating_sub(1);
            match cur {
                Some(c) if c.out <= offset && c.out >= self.points[i].out => c,
                _ => self.points[i].clone(),
            }
        };
        let mut filled = 0usize;
        while st.out < end {
            let from = st.out;
            let done = st.run(&self.file, flen, end, path, &mut |at, b| {
                let (lo, hi) = (at.max(offset), (at + b.len() as u64).min(end));
                if lo < hi {
                    buf[(lo - offset) as usize..(hi - offset) as usize]
                        .copy_from_slice(&b[(lo - at) as usize..(hi - at) as usize]);
                    filled += (hi - lo) as usize;
                }
            })?;
            decoded.fetch_add(st.out - from, Ordering::Relaxed);
            if done && st.out < end {
                // The next member starts at this output offset.
                let next = self.members.iter().find(|m| m.0 == st.out);
                st = next
                    .map(|m| self.points[m.1].clone())
                    .ok_or_else(|| invalid(path, "gzip member index is inconsistent"))?;
            }
        }
        debug_assert_eq!(filled, buf.len());
        *self.cursor.lock().unwrap() = Some(st);
        Ok(())
    }
}
