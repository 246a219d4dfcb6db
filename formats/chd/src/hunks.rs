//! The hunk stream: a chd-rs reader behind a mutex, with a small cache of decoded hunks.
//!
//! chd-rs decodes every codec chdman writes for CDs, but it reads from a `Read + Seek` it
//! owns (so one decoder at a time: a `Mutex`), and it trusts the file more than hostile input
//! allows. Before it decodes anything this module checks what chd-rs would otherwise index
//! or recurse on:
//! * every map entry lies inside the file, uses a declared codec, and a "copy from self"
//!   entry points to an earlier hunk (chd-rs follows self references recursively: a loop or a
//!   long chain would overflow the stack). Chains are resolved here once, at open.
//! * the header of a `cdzl`/`cdlz`/`cdzs` hunk (ECC bitmap + 2- or 3-byte length of the
//!   sector stream; MAME `chdcodec.cpp`, `chd_cd_decompressor::decompress`) fits in the
//!   compressed block; chd-rs slices with it unchecked.
//!
//! A decoder panic that slips through (the map's Huffman decoder indexes its tables with
//! values from the file) is caught and reported as a corrupt map or hunk.

use crate::error::{ChdError, Result};
use crate::header::{FRAME_BYTES, Header, fourcc};
use chd::Chd;
use chd::map::{CompressionTypeV5, MapEntry};
use spindle_disc::ByteSource;
use std::collections::VecDeque;
use std::io::{self, Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Decoded hunks kept (chdman's 8-frame hunks: 19,584 bytes each).
const CACHE_HUNKS: usize = 16;

/// `Read + Seek` over a byte source, for chd-rs. A read returns as much as the source holds
/// (chd-rs takes a short `read` for an error).
pub struct SourceReader {
    src: Arc<dyn ByteSource>,
    pos: u64,
}

impl SourceReader {
    /// A reader at offset 0 of `src`.
    pub fn new(src: Arc<dyn ByteSource>) -> SourceReader {
        SourceReader { src, pos: 0 }
    }
}

impl Read for SourceReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.src.len().saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n > 0 {
            self.src.read_exact_at(&mut buf[..n], self.pos)?;
            self.pos += n as u64;
        }
        Ok(n)
    }
}

impl Seek for SourceReader {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let to = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.src.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos =
            to.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek outside the file"))?;
        Ok(self.pos)
    }
}

/// How a hunk is decoded, after self references are followed.
#[derive(Clone, Copy, Debug)]
enum Plan {
    /// Decode this hunk with chd-rs (compressed with codec `slot`, when `Some`).
    Decode { hunk: u32, slot: Option<usize> },
    /// An uncompressed v5 map's empty entry: zeros.
    Zeros,
}

struct Inner {
    chd: Chd<SourceReader>,
    compressed: Vec<u8>,
    /// Most recently used first: (hunk decoded, its bytes).
    cache: VecDeque<(u32, Arc<[u8]>)>,
}

/// The decoded hunks of one CHD file, shareable between reader threads.
pub struct Hunks {
    path: PathBuf,
    header: Header,
    plans: Vec<Plan>,
    inner: Mutex<Inner>,
}

fn chd_err(path: &Path, what: impl Into<String>, source: chd::Error) -> ChdError {
    ChdError::Chd {
        path: path.to_path_buf(),
        what: what.into(),
        source,
    }
}

impl Hunks {
    /// Opens the hunk map of `src` (whose `header` was checked) and checks every entry.
    pub fn open(src: Arc<dyn ByteSource>, header: Header, path: &Path) -> Result<Hunks> {
        let file_len = src.len();
        let corrupt = |message: String| ChdError::Corrupt {
            path: path.to_path_buf(),
            message,
        };
        if header.compressors[0] != 0 {
            // Compressed map header: length (u32), first offset (48 bits), CRC-16, bit widths.
            let mut mh = [0u8; 16];
            src.read_exact_at(&mut mh, header.map_offset)
                .map_err(|e| corrupt(format!("hunk map header: {e}")))?;
            let len = u32::from_be_bytes([mh[0], mh[1], mh[2], mh[3]]) as u64;
            if header.map_offset + 16 + len > file_len {
                return Err(corrupt(format!(
                    "hunk map at offset {}: {len} bytes of compressed map run past the end of the file ({file_len} bytes)",
                    header.map_offset
                )));
            }
        }
        // chd-rs indexes its Huffman tables with values from the map: a corrupt map can panic.
        let chd = catch_unwind(AssertUnwindSafe(|| Chd::open(SourceReader::new(src), None)))
            .map_err(|_| {
                corrupt(format!(
                    "hunk map at offset {}: corrupt (its Huffman decoder failed)",
                    header.map_offset
                ))
            })?
            .map_err(|e| chd_err(path, "header and hunk map", e))?;
        if chd.header().hunk_count() != header.hunk_count
            || chd.header().hunk_size() != header.hunk_bytes
        {
            return Err(corrupt(
                "header: chd-rs reads a different hunk count or size".into(),
            ));
        }
        let mut plans: Vec<Plan> = Vec::with_capacity(header.hunk_count as usize);
        for i in 0..header.hunk_count {
            let at = |m: String| corrupt(format!("hunk map entry {i}: {m}"));
            let inside = |off: u64, len: u64| {
                off.checked_add(len).is_some_and(|e| e <= file_len) && off >= 124
            };
            let entry = chd
                .map()
                .get_entry(i as usize)
                .ok_or_else(|| at("missing".into()))?;
            let plan = match entry {
                MapEntry::V5Compressed(e) => {
                    let t = e
                        .hunk_type()
                        .map_err(|_| at("unknown compression type".into()))?;
                    match t {
                        CompressionTypeV5::CompressionType0
                        | CompressionTypeV5::CompressionType1
                        | CompressionTypeV5::CompressionType2
                        | CompressionTypeV5::CompressionType3 => {
                            let slot = t as usize;
                            if header.codec(slot) == 0 {
                                return Err(at(format!(
                                    "compressed with codec {slot}, which the header leaves empty"
                                )));
                            }
                            if e.block_size() == 0
                                || !inside(e.block_offset(), e.block_size() as u64)
                            {
                                return Err(at(format!(
                                    "{} compressed bytes at offset {} lie outside the file ({file_len} bytes)",
                                    e.block_size(),
                                    e.block_offset()
                                )));
                            }
                            Plan::Decode {
                                hunk: i,
                                slot: Some(slot),
                            }
                        }
                        CompressionTypeV5::CompressionNone => {
                            if !inside(e.block_offset(), header.hunk_bytes as u64) {
                                return Err(at(format!(
                                    "uncompressed hunk at offset {} lies outside the file ({file_len} bytes)",
                                    e.block_offset()
                                )));
                            }
                            Plan::Decode {
                                hunk: i,
                                slot: None,
                            }
                        }
                        CompressionTypeV5::CompressionSelf => {
                            let target = e.block_offset();
                            if target >= i as u64 {
                                return Err(at(format!(
                                    "copies hunk {target}, which is not an earlier hunk"
                                )));
                            }
                            plans[target as usize]
                        }
                        CompressionTypeV5::CompressionParent => {
                            return Err(ChdError::Unsupported {
                                path: path.to_path_buf(),
                                message: format!(
                                    "hunk {i} comes from a parent CHD: parents are not supported"
                                ),
                            });
                        }
                        _ => {
                            return Err(at(format!(
                                "compression type {} is not valid in a map",
                                t as u8
                            )));
                        }
                    }
                }
                MapEntry::V5Uncompressed(e) => {
                    if e.block_offset() == 0 {
                        Plan::Zeros
                    } else if !inside(e.block_offset(), header.hunk_bytes as u64) {
                        return Err(at(format!(
                            "uncompressed hunk at offset {} lies outside the file ({file_len} bytes)",
                            e.block_offset()
                        )));
                    } else {
                        Plan::Decode {
                            hunk: i,
                            slot: None,
                        }
                    }
                }
                MapEntry::LegacyEntry(_) => return Err(at("a v1-v4 entry in a v5 file".into())),
            };
            plans.push(plan);
        }
        Ok(Hunks {
            path: path.to_path_buf(),
            header,
            plans,
            inner: Mutex::new(Inner {
                chd,
                compressed: Vec::new(),
                cache: VecDeque::with_capacity(CACHE_HUNKS + 1),
            }),
        })
    }

    /// The CHD's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The CHD file, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the chd-rs reader (for metadata).
    pub fn with_chd<T>(&self, f: impl FnOnce(&mut Chd<SourceReader>) -> T) -> T {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut inner.chd)
    }

    /// The decoded bytes of hunk `n` (`hunk_bytes` long).
    pub fn hunk(&self, n: u32) -> io::Result<Arc<[u8]>> {
        let bad = |m: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: hunk {n}: {m}", self.path.display()),
            )
        };
        let plan = *self
            .plans
            .get(n as usize)
            .ok_or_else(|| bad("past the last hunk".into()))?;
        let (target, slot) = match plan {
            Plan::Zeros => return Ok(vec![0u8; self.header.hunk_bytes as usize].into()),
            Plan::Decode { hunk, slot } => (hunk, slot),
        };
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *guard;
        if let Some(i) = inner.cache.iter().position(|(h, _)| *h == target) {
            let hit = inner.cache.remove(i).unwrap();
            let bytes = hit.1.clone();
            inner.cache.push_front(hit);
            return Ok(bytes);
        }
        let mut out = vec![0u8; self.header.hunk_bytes as usize];
        let codec = slot.map(|s| self.header.codec(s)).unwrap_or(0);
        let header = &self.header;
        let r = catch_unwind(AssertUnwindSafe(|| -> std::result::Result<(), String> {
            let Inner {
                chd, compressed, ..
            } = inner;
            if is_cd_codec(codec) {
                let mut h = chd.hunk(target).map_err(|e| e.to_string())?;
                h.read_raw_in(compressed).map_err(|e| e.to_string())?;
                check_cd_header(compressed, header.hunk_bytes)?;
            }
            let mut h = chd.hunk(target).map_err(|e| e.to_string())?;
            h.read_hunk_in(compressed, &mut out)
                .map_err(|e| e.to_string())?;
            Ok(())
        }));
        match r {
            Ok(Ok(())) => {}
            Ok(Err(m)) => return Err(bad(format!("{}: {m}", describe(codec, target, n)))),
            Err(_) => {
                return Err(bad(format!(
                    "{}: the decoder failed on corrupt data",
                    describe(codec, target, n)
                )));
            }
        }
        let bytes: Arc<[u8]> = out.into();
        inner.cache.push_front((target, bytes.clone()));
        inner.cache.truncate(CACHE_HUNKS);
        Ok(bytes)
    }
}

fn describe(codec: u32, target: u32, n: u32) -> String {
    let c = if codec == 0 {
        "uncompressed".to_string()
    } else {
        fourcc(codec)
    };
    if target == n {
        c
    } else {
        format!("copy of hunk {target} ({c})")
    }
}

/// The CD codecs whose hunks start with an ECC bitmap and a sector-stream length.
fn is_cd_codec(codec: u32) -> bool {
    matches!(&codec.to_be_bytes(), b"cdzl" | b"cdlz" | b"cdzs")
}

/// Checks the header of a `cdzl`/`cdlz`/`cdzs` block against its length.
fn check_cd_header(block: &[u8], hunk_bytes: u32) -> std::result::Result<(), String> {
    let frames = (hunk_bytes / FRAME_BYTES) as usize;
    let len_bytes = if hunk_bytes < 65536 { 2 } else { 3 };
    let ecc = frames.div_ceil(8);
    let head = ecc + len_bytes;
    if block.len() < head {
        return Err(format!(
            "{} compressed bytes, shorter than the {head}-byte CD codec header",
            block.len()
        ));
    }
    let sector_len = block[ecc..head]
        .iter()
        .fold(0usize, |a, &b| a << 8 | b as usize);
    if sector_len > block.len() - head {
        return Err(format!(
            "the sector stream is {sector_len} bytes but the block holds {} after its header",
            block.len() - head
        ));
    }
    Ok(())
}
