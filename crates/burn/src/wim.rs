//! Splitting a WIM (Windows Imaging) file into parts (`install.swm`, `install2.swm`, ...)
//! that each fit FAT32's 4 GiB - 1 per file, the way Windows Setup reads a split image from
//! one folder. Nothing is decompressed: each resource (file contents, image metadata) is
//! copied as it is stored into one part, and each part gets the source's header (same GUID,
//! its part number, the total, the spanned flag), a lookup table of the resources it holds
//! (their hashes unchanged) and the XML description. Solid resources (LZMS, most `.esd`
//! files) cannot be cut between parts this way and are refused.
//!
//! Format facts (the WIM header and lookup table; checked against wimlib-imagex's own split
//! on Debian 12): the header is 208 bytes; a resource header is 24 bytes (size in the file:
//! 7 bytes, flags: 1 byte, offset: 8, original size: 8); a lookup entry is 50 bytes (resource
//! header, part number u16, reference count u32, SHA-1). Part 1 holds every image's metadata
//! resource; each part's lookup table lists only the resources in that part.

use spindle_bytes::{ByteSource, Concat, Piece};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const HEADER: usize = 208;
const ENTRY: usize = 50;
const FLAG_SPANNED: u32 = 0x8;
const FLAG_WRITE_IN_PROGRESS: u32 = 0x40;
const RES_METADATA: u8 = 0x2;
const RES_COMPRESSED: u8 = 0x4;
const RES_SOLID: u8 = 0x10;

/// The most resource bytes put in one part: 4000 MiB leaves room under 4 GiB - 1 for the
/// header, the lookup table and the XML.
pub const PART_LIMIT: u64 = 4000 << 20;

/// A resource header: where a resource is and how large.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Res {
    size: u64,
    flags: u8,
    offset: u64,
    original: u64,
}

impl Res {
    fn parse(b: &[u8]) -> Res {
        let mut s = [0u8; 8];
        s[..7].copy_from_slice(&b[..7]);
        Res {
            size: u64::from_le_bytes(s),
            flags: b[7],
            offset: u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")),
            original: u64::from_le_bytes(b[16..24].try_into().expect("8 bytes")),
        }
    }
    fn put(&self, b: &mut [u8]) {
        b[..7].copy_from_slice(&self.size.to_le_bytes()[..7]);
        b[7] = self.flags;
        b[8..16].copy_from_slice(&self.offset.to_le_bytes());
        b[16..24].copy_from_slice(&self.original.to_le_bytes());
    }
}

/// A range of another source.
struct Slice {
    inner: Arc<dyn ByteSource>,
    start: u64,
    len: u64,
}

impl ByteSource for Slice {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.len.saturating_sub(offset)) as usize;
        self.inner
            .read_exact_at(&mut buf[..n], self.start + offset)?;
        Ok(n)
    }
    fn path(&self) -> &Path {
        self.inner.path()
    }
}

/// One part of a split WIM: its file name and its bytes.
pub struct Part {
    /// `install.swm`, `install2.swm`, ...
    pub name: String,
    /// The part's bytes.
    pub bytes: Arc<dyn ByteSource>,
}

/// Splits the WIM `wim` (named `name`, e.g. `install.wim`) into parts whose resources take
/// at most `limit` bytes each. Fails with a message saying why the WIM cannot be split.
pub fn split(wim: Arc<dyn ByteSource>, name: &str, limit: u64) -> Result<Vec<Part>, String> {
    let read = |off: u64, len: usize| -> Result<Vec<u8>, String> {
        let mut b = vec![0u8; len];
        wim.read_exact_at(&mut b, off)
            .map_err(|e| format!("reading the WIM: {e}"))?;
        Ok(b)
    };
    if wim.len() < HEADER as u64 {
        return Err("too short for a WIM header".into());
    }
    let header = read(0, HEADER)?;
    if &header[..8] != b"MSWIM\0\0\0" {
        return Err("not a WIM file (no MSWIM signature)".into());
    }
    let u32at = |o: usize| u32::from_le_bytes(header[o..o + 4].try_into().expect("4 bytes"));
    let flags = u32at(16);
    let version = u32at(12);
    let (part, total) = (
        u16::from_le_bytes([header[40], header[41]]),
        u16::from_le_bytes([header[42], header[43]]),
    );
    if part != 1 || total != 1 {
        return Err(format!(
            "already part {part} of a split WIM of {total} parts"
        ));
    }
    if version == 0xE00 {
        return Err(solid());
    }
    let table = Res::parse(&header[48..72]);
    let xml = Res::parse(&header[72..96]);
    let boot = Res::parse(&header[96..120]);
    if table.flags & RES_COMPRESSED != 0 || xml.flags & RES_COMPRESSED != 0 {
        return Err(
            "its lookup table or XML data is compressed (not a WIM layout Windows writes)".into(),
        );
    }
    let fits = |r: &Res| {
        r.offset
            .checked_add(r.size)
            .is_some_and(|end| end <= wim.len())
    };
    if !fits(&table)
        || !fits(&xml)
        || !table.size.is_multiple_of(ENTRY as u64)
        || table.size > 256 << 20
        || xml.size > 64 << 20
    {
        return Err(
            "its lookup table or XML data lies outside the file or is implausibly large".into(),
        );
    }
    let tbytes = read(table.offset, table.size as usize)?;
    let xbytes: Arc<[u8]> = read(xml.offset, xml.size as usize)?.into();
    // A part is the header, its resources, its table (at most the whole table) and the XML:
    // all of it must stay within FAT32's 4 GiB - 1.
    let limit = limit.min(0xFFFF_FFFF - (HEADER + tbytes.len() + xbytes.len()) as u64);
    let mut entries: Vec<(Res, [u8; 26])> = Vec::new();
    for e in tbytes.chunks_exact(ENTRY) {
        let r = Res::parse(&e[..24]);
        if r.flags & RES_SOLID != 0 {
            return Err(solid());
        }
        if !fits(&r) {
            return Err(format!(
                "a resource at byte {} lies outside the file",
                r.offset
            ));
        }
        if r.size > limit {
            return Err(format!(
                "one resource is {} bytes, more than a part can hold ({limit} bytes)",
                r.size
            ));
        }
        let mut rest = [0u8; 26];
        rest.copy_from_slice(&e[24..]);
        entries.push((r, rest));
    }
    // Part 1 gets every image's metadata first, then resources in file order (so the
    // source is read front to back), a new part whenever the next would pass the limit.
    entries.sort_by_key(|(r, _)| (r.flags & RES_METADATA == 0, r.offset));
    let mut parts: Vec<Vec<(Res, [u8; 26])>> = vec![Vec::new()];
    let mut used = 0u64;
    for e in entries {
        if used + e.0.size > limit && !parts.last().is_some_and(Vec::is_empty) {
            parts.push(Vec::new());
            used = 0;
        }
        used += e.0.size;
        parts.last_mut().expect("one part").push(e);
    }
    if parts.len() > u16::MAX as usize {
        return Err("it would take more than 65535 parts".into());
    }
    let total = parts.len() as u16;
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let mut out = Vec::new();
    for (i, list) in parts.into_iter().enumerate() {
        let number = i as u16 + 1;
        let mut pieces = Vec::new();
        let mut table = Vec::with_capacity(list.len() * ENTRY);
        let mut at = HEADER as u64;
        let mut new_boot = Res {
            size: 0,
            flags: 0,
            offset: 0,
            original: 0,
        };
        for (r, rest) in &list {
            let moved = Res { offset: at, ..*r };
            if boot.size != 0 && r.offset == boot.offset {
                new_boot = moved;
            }
            pieces.push(Piece::Source(Arc::new(Slice {
                inner: wim.clone(),
                start: r.offset,
                len: r.size,
            })));
            let mut e = [0u8; ENTRY];
            moved.put(&mut e[..24]);
            e[24..].copy_from_slice(rest);
            e[24..26].copy_from_slice(&number.to_le_bytes());
            table.extend_from_slice(&e);
            at += r.size;
        }
        let mut h = header.clone();
        h[16..20]
            .copy_from_slice(&((flags | FLAG_SPANNED) & !FLAG_WRITE_IN_PROGRESS).to_le_bytes());
        h[40..42].copy_from_slice(&number.to_le_bytes());
        h[42..44].copy_from_slice(&total.to_le_bytes());
        let tres = Res {
            size: table.len() as u64,
            flags: 0x2,
            offset: at,
            original: table.len() as u64,
        };
        tres.put(&mut h[48..72]);
        let xres = Res {
            offset: at + table.len() as u64,
            ..xml
        };
        xres.put(&mut h[72..96]);
        new_boot.put(&mut h[96..120]);
        Res {
            size: 0,
            flags: 0,
            offset: 0,
            original: 0,
        }
        .put(&mut h[124..148]);
        let mut all = vec![Piece::Data(h.into())];
        all.extend(pieces);
        all.push(Piece::Data(table.into()));
        all.push(Piece::Data(xbytes.clone()));
        let name = if number == 1 {
            format!("{stem}.swm")
        } else {
            format!("{stem}{number}.swm")
        };
        let bytes: Arc<dyn ByteSource> = Arc::new(Concat::new(all, PathBuf::from(&name)));
        out.push(Part { name, bytes });
    }
    Ok(out)
}

fn solid() -> String {
    "it holds solid (LZMS) resources, which cannot be split as they are; export it to a \
     non-solid WIM first (wimlib-imagex export SRC all DEST --compress=LZX) and use an ISO \
     with that"
        .into()
}
