//! Checking the split WIM parts on a written stick against the source WIM: each part's
//! header and lookup table are read back from the device (O_DIRECT, else after dropping the
//! cached pages), and together the parts must hold every resource of the source's lookup
//! table exactly once (image metadata in part 1), with the same SHA-1, sizes, flags and
//! reference count, stored byte for byte as in the source. Nothing is decompressed: the raw
//! stored bytes are compared, 1 MiB at a time. This catches what the read-back against the
//! hashes of what was written cannot: a splitter that wrote a wrong table or wrong bytes.

use crate::aligned::AlignedBuf;
use spindle_bytes::ByteSource;
use std::collections::HashMap;
use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

const HEADER: usize = 208;
const ENTRY: usize = 50;
const RES_METADATA: u8 = 0x2;
const ALIGN: u64 = 4096;
const CHUNK: usize = 1 << 20;

/// A WIM split into parts on a stick: where each part is on the device.
#[derive(Clone)]
pub struct SplitWim {
    /// The WIM's path in the ISO (`sources/install.wim`).
    pub path: String,
    /// The source WIM's bytes (read from the ISO).
    pub source: Arc<dyn ByteSource>,
    /// Each part in order: its path on the stick, its first byte on the device, its length.
    pub parts: Vec<(String, u64, u64)>,
}

/// A split WIM on the stick that does not match its source.
#[derive(Debug, thiserror::Error)]
#[error("{file} (split from {wim}): {what}")]
pub struct WimMismatch {
    /// The part file on the stick (or the source WIM, for a failed read of it).
    pub file: String,
    /// The source WIM's path in the ISO.
    pub wim: String,
    /// What is wrong, naming the resource by its SHA-1.
    pub what: String,
}

/// One lookup-table entry: size in the file, flags, offset, original size, part, refs, SHA-1.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Entry {
    size: u64,
    flags: u8,
    offset: u64,
    original: u64,
    part: u16,
    refs: u32,
    sha1: [u8; 20],
}

fn u64at(b: &[u8], o: usize) -> u64 {
    let mut s = [0u8; 8];
    s.copy_from_slice(&b[o..o + 8]);
    u64::from_le_bytes(s)
}

fn res(b: &[u8]) -> (u64, u8, u64, u64) {
    let mut s = [0u8; 8];
    s[..7].copy_from_slice(&b[..7]);
    (u64::from_le_bytes(s), b[7], u64at(b, 8), u64at(b, 16))
}

fn entry(e: &[u8]) -> Entry {
    let (size, flags, offset, original) = res(&e[..24]);
    let mut sha1 = [0u8; 20];
    sha1.copy_from_slice(&e[30..50]);
    Entry {
        size,
        flags,
        offset,
        original,
        part: u16::from_le_bytes([e[24], e[25]]),
        refs: u32::from_le_bytes([e[26], e[27], e[28], e[29]]),
        sha1,
    }
}

fn hex(h: &[u8; 20]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads the device at any offset and length, with aligned reads (O_DIRECT needs them).
struct Dev<'a> {
    file: &'a File,
    buf: AlignedBuf,
}

impl Dev<'_> {
    fn read(&mut self, out: &mut [u8], off: u64) -> std::io::Result<()> {
        let mut done = 0usize;
        while done < out.len() {
            let at = off + done as u64;
            let start = at / ALIGN * ALIGN;
            let skip = (at - start) as usize;
            let n = (out.len() - done).min(CHUNK - skip);
            let span = ((skip + n) as u64).div_ceil(ALIGN) * ALIGN;
            self.file
                .read_exact_at(&mut self.buf.as_mut_slice()[..span as usize], start)?;
            out[done..done + n].copy_from_slice(&self.buf.as_slice()[skip..skip + n]);
            done += n;
        }
        Ok(())
    }
}

/// Checks every split WIM in `wims` on the device open as `file` (`direct`: the descriptor
/// is O_DIRECT; else the cached pages are dropped first). The first mismatch is returned.
pub fn check(file: &File, direct: bool, wims: &[SplitWim]) -> Result<(), WimMismatch> {
    if !direct {
        let _ = spindle_sys::file::drop_cached_pages(file.as_fd());
    }
    let mut dev = Dev {
        file,
        buf: AlignedBuf::new(CHUNK + 2 * ALIGN as usize),
    };
    wims.iter().try_for_each(|w| check_one(&mut dev, w))
}

fn check_one(dev: &mut Dev, w: &SplitWim) -> Result<(), WimMismatch> {
    let bad = |file: &str, what: String| WimMismatch {
        file: file.to_string(),
        wim: w.path.clone(),
        what,
    };
    let src = |b: &mut [u8], off: u64| {
        w.source.read_exact_at(b, off).map_err(|e| {
            bad(
                &w.path,
                format!("reading the source WIM at byte {off}: {e}"),
            )
        })
    };
    let mut sh = vec![0u8; HEADER];
    src(&mut sh, 0)?;
    let (tsize, _, toff, _) = res(&sh[48..72]);
    if tsize % ENTRY as u64 != 0 || tsize > 256 << 20 {
        return Err(bad(
            &w.path,
            "the source's lookup table is implausible".into(),
        ));
    }
    let mut st = vec![0u8; tsize as usize];
    src(&mut st, toff)?;
    // SHA-1 -> (source entry, times the source lists it, times found on the stick).
    let mut want: HashMap<[u8; 20], (Entry, u32, u32)> = HashMap::new();
    for e in st.chunks_exact(ENTRY).map(entry) {
        want.entry(e.sha1).or_insert((e, 0, 0)).1 += 1;
    }
    let total = w.parts.len();
    let mut a = vec![0u8; CHUNK];
    let mut b = vec![0u8; CHUNK];
    for (i, (name, start, len)) in w.parts.iter().enumerate() {
        let number = i as u16 + 1;
        let rd = |dev: &mut Dev, out: &mut [u8], off: u64| {
            dev.read(out, start + off)
                .map_err(|e| bad(name, format!("reading back at byte {off}: {e}")))
        };
        let mut h = vec![0u8; HEADER];
        rd(dev, &mut h, 0)?;
        if &h[..8] != b"MSWIM\0\0\0" {
            return Err(bad(name, "no WIM header (MSWIM signature)".into()));
        }
        let (p, t) = (
            u16::from_le_bytes([h[40], h[41]]),
            u16::from_le_bytes([h[42], h[43]]),
        );
        if p != number || t as usize != total || h[24..40] != sh[24..40] {
            return Err(bad(
                name,
                format!(
                    "its header says part {p} of {t} (or another GUID); part {number} of {total} expected"
                ),
            ));
        }
        let (psize, _, poff, _) = res(&h[48..72]);
        if psize % ENTRY as u64 != 0 || psize > tsize || poff.saturating_add(psize) > *len {
            return Err(bad(
                name,
                "its lookup table is implausible or outside the file".into(),
            ));
        }
        let mut pt = vec![0u8; psize as usize];
        rd(dev, &mut pt, poff)?;
        for e in pt.chunks_exact(ENTRY).map(entry) {
            let id = hex(&e.sha1);
            let rbad = |what: &str| bad(name, format!("resource {id}: {what}"));
            let Some((s, listed, seen)) = want.get_mut(&e.sha1) else {
                return Err(rbad("not in the source WIM"));
            };
            *seen += 1;
            if *seen > *listed {
                return Err(rbad("held more times than the source lists it"));
            }
            if e.part != number {
                return Err(rbad(&format!("its entry says part {}", e.part)));
            }
            if (e.size, e.flags, e.original, e.refs) != (s.size, s.flags, s.original, s.refs) {
                return Err(rbad(
                    "size, flags or reference count differ from the source's",
                ));
            }
            if s.flags & RES_METADATA != 0 && number != 1 {
                return Err(rbad("image metadata outside part 1"));
            }
            if e.offset < HEADER as u64 || e.offset.saturating_add(e.size) > poff {
                return Err(rbad("its bytes lie outside the part's resource area"));
            }
            let mut done = 0u64;
            while done < e.size {
                let n = (e.size - done).min(CHUNK as u64) as usize;
                rd(dev, &mut a[..n], e.offset + done)?;
                src(&mut b[..n], s.offset + done)?;
                if a[..n] != b[..n] {
                    let at = a[..n].iter().zip(&b[..n]).position(|(x, y)| x != y);
                    return Err(rbad(&format!(
                        "stored bytes differ from the source's at byte {} of the resource",
                        done + at.unwrap_or(0) as u64
                    )));
                }
                done += n as u64;
            }
        }
    }
    if let Some((e, _, _)) = want.values().find(|(_, listed, seen)| seen < listed) {
        let first = w.parts.first().map_or("the parts", |p| p.0.as_str());
        return Err(bad(
            if e.flags & RES_METADATA != 0 {
                first
            } else {
                "the parts"
            },
            format!("resource {} of the source is in no part", hex(&e.sha1)),
        ));
    }
    Ok(())
}
