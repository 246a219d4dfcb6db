//! The CHD header, read and checked before the chd crate sees the file.
//!
//! The chd crate trusts the header: a hostile `logical_bytes`/`hunk_bytes` pair makes it
//! allocate a map of up to 2³² entries, and a hunk buffer of up to 4 GiB. So the v5 header
//! (124 bytes, big-endian; MAME `src/lib/util/chd.cpp`, `chd_file::read_header`) is parsed
//! here first and bounded to what a CD can hold.
//!
//! ```text
//! 0  "MComprHD"   8  header length (124)   12 version (5)   16 compressors[4] (FourCCs, 0 = none)
//! 32 logical bytes (u64)   40 map offset (u64)   48 metadata offset (u64)
//! 56 hunk bytes (u32)      60 unit bytes (u32)   64 raw SHA-1   84 SHA-1   104 parent SHA-1
//! ```

use crate::error::{ChdError, Result};
use std::path::Path;

/// The file signature.
pub const MAGIC: &[u8; 8] = b"MComprHD";
/// Length of a v5 header.
pub const V5_HEADER_LEN: usize = 124;
/// A CD frame as CHD stores it: 2352 bytes of sector and 96 of subchannel.
pub const FRAME_BYTES: u32 = 2448;
/// Most frames accepted: about 15 hours of CD, far beyond any real disc (a 99-minute CD has
/// 445,500), while keeping the hunk map small (at most 48 MiB of entries).
pub const MAX_FRAMES: u64 = 1 << 21;
/// Largest hunk accepted (chdman writes 8 frames, 19,584 bytes, by default).
pub const MAX_HUNK_BYTES: u32 = 1 << 20;

/// The compressor FourCCs chd-rs can decode.
const KNOWN_CODECS: [&[u8; 4]; 10] = [
    b"zlib", b"lzma", b"huff", b"flac", b"zstd", b"cdzl", b"cdlz", b"cdfl", b"cdzs", b"avhu",
];

/// The fields of a v5 header that the reader uses.
#[derive(Clone, Debug)]
pub struct Header {
    /// FourCCs of the four compressors hunks may use (0: slot unused).
    pub compressors: [u32; 4],
    /// Bytes of the uncompressed stream (frames times 2448 for a CD).
    pub logical_bytes: u64,
    /// Byte offset of the hunk map in the file.
    pub map_offset: u64,
    /// Byte offset of the first metadata entry in the file (0: none).
    pub meta_offset: u64,
    /// Bytes per hunk, uncompressed.
    pub hunk_bytes: u32,
    /// Bytes per unit (2448, one frame, for a CD).
    pub unit_bytes: u32,
    /// Hunks in the stream.
    pub hunk_count: u32,
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn be64(b: &[u8], at: usize) -> u64 {
    (be32(b, at) as u64) << 32 | be32(b, at + 4) as u64
}

/// A FourCC for messages: printable text, or hex.
pub fn fourcc(tag: u32) -> String {
    let b = tag.to_be_bytes();
    if b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
        String::from_utf8_lossy(&b).into_owned()
    } else {
        format!("{tag:#010x}")
    }
}

impl Header {
    /// Parses and checks the header from the first bytes of the file (`file_len` bytes long).
    pub fn parse(head: &[u8], file_len: u64, path: &Path) -> Result<Header> {
        let corrupt = |message: String| ChdError::Corrupt {
            path: path.to_path_buf(),
            message,
        };
        let unsupported = |message: String| ChdError::Unsupported {
            path: path.to_path_buf(),
            message,
        };
        if head.len() < 16 || &head[..8] != MAGIC {
            return Err(corrupt("not a CHD file (no \"MComprHD\" signature)".into()));
        }
        let length = be32(head, 8);
        let version = be32(head, 12);
        if version != 5 {
            return Err(unsupported(format!(
                "CHD version {version}: only version 5 (chdman 0.146 and later) is read; \
                 convert it with `chdman copy -i old.chd -o new.chd`"
            )));
        }
        if length as usize != V5_HEADER_LEN || head.len() < V5_HEADER_LEN {
            return Err(corrupt(format!(
                "header: {} bytes ({length} declared), a v5 header has {V5_HEADER_LEN}",
                head.len().min(V5_HEADER_LEN)
            )));
        }
        let compressors = [
            be32(head, 16),
            be32(head, 20),
            be32(head, 24),
            be32(head, 28),
        ];
        for (i, &c) in compressors.iter().enumerate() {
            if c != 0 && !KNOWN_CODECS.iter().any(|k| u32::from_be_bytes(**k) == c) {
                return Err(unsupported(format!(
                    "header: compressor {i} is {:?}, a codec this reader does not know",
                    fourcc(c)
                )));
            }
            if c == 0 && compressors[i..].iter().any(|&x| x != 0) {
                return Err(corrupt(format!(
                    "header: compressor {i} is empty but a later one is set"
                )));
            }
        }
        let h = Header {
            compressors,
            logical_bytes: be64(head, 32),
            map_offset: be64(head, 40),
            meta_offset: be64(head, 48),
            hunk_bytes: be32(head, 56),
            unit_bytes: be32(head, 60),
            hunk_count: 0,
        };
        if head[104..124].iter().any(|&b| b != 0) {
            return Err(unsupported(
                "the CHD needs a parent CHD (it stores only differences): parents are not supported; \
                 merge it with `chdman copy`"
                    .into(),
            ));
        }
        if h.unit_bytes != FRAME_BYTES {
            return Err(unsupported(format!(
                "header: units of {} bytes: not a CD image (CD frames are {FRAME_BYTES} bytes; hard disk, DVD and LaserDisc CHDs are not read)",
                h.unit_bytes
            )));
        }
        if h.hunk_bytes == 0
            || !h.hunk_bytes.is_multiple_of(FRAME_BYTES)
            || h.hunk_bytes > MAX_HUNK_BYTES
        {
            return Err(corrupt(format!(
                "header: hunks of {} bytes (a CD CHD's hunks are whole {FRAME_BYTES}-byte frames, at most {MAX_HUNK_BYTES} bytes)",
                h.hunk_bytes
            )));
        }
        if h.logical_bytes == 0
            || !h.logical_bytes.is_multiple_of(FRAME_BYTES as u64)
            || h.logical_bytes / FRAME_BYTES as u64 > MAX_FRAMES
        {
            return Err(corrupt(format!(
                "header: logical size {} bytes is not a whole number of frames between 1 and {MAX_FRAMES}",
                h.logical_bytes
            )));
        }
        let hunk_count = h.logical_bytes.div_ceil(h.hunk_bytes as u64) as u32;
        let map_min = if compressors[0] == 0 {
            hunk_count as u64 * 4
        } else {
            16
        };
        if h.map_offset < V5_HEADER_LEN as u64
            || h.map_offset
                .checked_add(map_min)
                .is_none_or(|end| end > file_len)
        {
            return Err(corrupt(format!(
                "header: hunk map at offset {} ({map_min} bytes at least) lies outside the file ({file_len} bytes)",
                h.map_offset
            )));
        }
        if h.meta_offset != 0
            && (h.meta_offset < V5_HEADER_LEN as u64
                || h.meta_offset.checked_add(16).is_none_or(|e| e > file_len))
        {
            return Err(corrupt(format!(
                "header: metadata at offset {} lies outside the file ({file_len} bytes)",
                h.meta_offset
            )));
        }
        Ok(Header { hunk_count, ..h })
    }

    /// Frames in the hunk stream.
    pub fn frames(&self) -> u64 {
        self.logical_bytes / FRAME_BYTES as u64
    }

    /// Frames in one hunk.
    pub fn frames_per_hunk(&self) -> u32 {
        self.hunk_bytes / FRAME_BYTES
    }

    /// The FourCC of compressor `slot` (0 when the slot is unused or out of range).
    pub fn codec(&self, slot: usize) -> u32 {
        self.compressors.get(slot).copied().unwrap_or(0)
    }
}
