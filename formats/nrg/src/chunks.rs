//! The NRG trailer and the chunk list it points to.
//!
//! An NRG file is the track data from byte 0, then a list of chunks, then a trailer
//! (`../shared/notes/formats.md` §3.3; libmirage `images/image-nrg/parser.c`):
//! - **v2**: the last 12 bytes are `"NER5"` + the u64 big-endian offset of the chunk list;
//! - **v1**: the last 8 bytes are `"NERO"` + a u32 big-endian offset.
//!
//! The chunk list runs from that offset to the trailer; each chunk is a 4-byte ASCII id, a
//! u32 big-endian payload length and the payload. `END!` closes the list. Every integer in
//! the chunks is big-endian.

use crate::error::{NrgError, Result};
use spindle_disc::ByteSource;
use std::path::Path;

/// Largest chunk list read into memory. Real ones are a few hundred bytes (a CD-TEXT chunk
/// is at most 256 packs of 18 bytes); 16 MiB leaves ample room while bounding what a hostile
/// offset can make us allocate.
pub const MAX_CHUNK_LIST: u64 = 16 << 20;
/// Most chunks accepted in one list.
pub const MAX_CHUNKS: usize = 4096;

/// Which trailer the file has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// `NERO`, 32-bit offsets (Nero before 5.5).
    V1,
    /// `NER5`, 64-bit offsets.
    V2,
}

impl Version {
    /// Bytes of the trailer at the end of the file: 8 (v1) or 12 (v2).
    pub fn trailer_len(self) -> u64 {
        match self {
            Version::V1 => 8,
            Version::V2 => 12,
        }
    }
    /// The version's name for messages and `spindle info`.
    pub fn name(self) -> &'static str {
        match self {
            Version::V1 => "NRG v1 (NERO)",
            Version::V2 => "NRG v2 (NER5)",
        }
    }
    /// The trailer's 4-byte signature.
    pub fn signature(self) -> &'static str {
        match self {
            Version::V1 => "NERO",
            Version::V2 => "NER5",
        }
    }
}

/// One chunk: its id, where it starts in the file, and its payload.
#[derive(Clone, Debug)]
pub struct Chunk {
    /// The 4-byte ASCII id (`CUEX`, `DAOX`, `ETN2`...).
    pub id: [u8; 4],
    /// File offset of the chunk's id.
    pub offset: u64,
    /// The chunk's payload, after its id and size.
    pub payload: Vec<u8>,
}

impl Chunk {
    /// The id as text (ids are checked to be printable ASCII).
    pub fn name(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or("????")
    }
    /// "CUEX chunk at offset 0x1038c0", for messages.
    pub fn describe(&self) -> String {
        format!("{} chunk at offset {:#x}", self.name(), self.offset)
    }
}

/// The parsed chunk list.
#[derive(Clone, Debug)]
pub struct ChunkList {
    /// Which trailer the file has.
    pub version: Version,
    /// File offset of the chunk list: track data lies before it.
    pub offset: u64,
    /// The chunks, in file order, up to `END!`.
    pub chunks: Vec<Chunk>,
}

/// Finds the trailer of `src`: the version and the chunk list offset.
pub fn read_trailer(src: &dyn ByteSource, path: &Path) -> Result<(Version, u64)> {
    let len = src.len();
    let io = |source| NrgError::Io {
        path: path.to_path_buf(),
        source,
    };
    if len >= 12 {
        let mut t = [0u8; 12];
        src.read_exact_at(&mut t, len - 12).map_err(io)?;
        if &t[..4] == b"NER5" {
            return Ok((Version::V2, u64::from_be_bytes(t[4..].try_into().unwrap())));
        }
    }
    if len >= 8 {
        let mut t = [0u8; 8];
        src.read_exact_at(&mut t, len - 8).map_err(io)?;
        if &t[..4] == b"NERO" {
            return Ok((
                Version::V1,
                u32::from_be_bytes(t[4..].try_into().unwrap()) as u64,
            ));
        }
    }
    Err(NrgError::NoTrailer {
        path: path.to_path_buf(),
    })
}

/// Reads the trailer and the chunk list of `src`.
pub fn read_chunk_list(src: &dyn ByteSource, path: &Path) -> Result<ChunkList> {
    let (version, offset) = read_trailer(src, path)?;
    let end = src.len() - version.trailer_len();
    let corrupt = |message: String| NrgError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    if offset > end {
        return Err(corrupt(format!(
            "the {} trailer puts the chunk list at offset {offset:#x}, past the trailer itself at {end:#x}",
            version.signature()
        )));
    }
    let size = end - offset;
    if size > MAX_CHUNK_LIST {
        return Err(corrupt(format!(
            "the chunk list at offset {offset:#x} would be {size} bytes long; real ones are a few hundred (at most {MAX_CHUNK_LIST} read)"
        )));
    }
    let mut data = vec![0u8; size as usize];
    src.read_exact_at(&mut data, offset)
        .map_err(|source| NrgError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let chunks = split_chunks(&data, offset, path)?;
    Ok(ChunkList {
        version,
        offset,
        chunks,
    })
}

/// Splits the bytes of a chunk list (found at file offset `base`) into chunks, up to `END!`.
pub fn split_chunks(data: &[u8], base: u64, path: &Path) -> Result<Vec<Chunk>> {
    let mut chunks = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        let at = base + pos as u64;
        let Some(head) = data.get(pos..pos + 8) else {
            return Err(NrgError::Truncated {
                path: path.to_path_buf(),
                what: format!("chunk header ({} bytes left)", data.len() - pos),
                offset: at,
                limit: "the end of the chunk list (a chunk header is 8 bytes)".into(),
            });
        };
        let id: [u8; 4] = head[..4].try_into().unwrap();
        if !id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'!' || *b == b' ')
        {
            return Err(NrgError::Corrupt {
                path: path.to_path_buf(),
                message: format!(
                    "no chunk at offset {at:#x}: its id is the bytes {id:02x?}, not four ASCII letters"
                ),
            });
        }
        let len = u32::from_be_bytes(head[4..8].try_into().unwrap()) as usize;
        let payload = pos
            .checked_add(8)
            .and_then(|start| Some(start..start.checked_add(len)?))
            .and_then(|r| data.get(r))
            .ok_or_else(|| NrgError::Truncated {
                path: path.to_path_buf(),
                what: format!("{} chunk of {len} bytes", String::from_utf8_lossy(&id)),
                offset: at,
                limit: format!(
                    "the end of the chunk list at {:#x}",
                    base + data.len() as u64
                ),
            })?;
        if chunks.len() >= MAX_CHUNKS {
            return Err(NrgError::Corrupt {
                path: path.to_path_buf(),
                message: format!("more than {MAX_CHUNKS} chunks in the chunk list"),
            });
        }
        chunks.push(Chunk {
            id,
            offset: at,
            payload: payload.to_vec(),
        });
        if &id == b"END!" {
            break;
        }
        pos += 8 + len;
    }
    Ok(chunks)
}

/// Big-endian fields of a record already bounds-checked as a whole.
pub(crate) fn be16(b: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([b[off], b[off + 1]])
}
pub(crate) fn be32(b: &[u8], off: usize) -> u32 {
    u32::from_be_bytes(b[off..off + 4].try_into().unwrap())
}
pub(crate) fn be64(b: &[u8], off: usize) -> u64 {
    u64::from_be_bytes(b[off..off + 8].try_into().unwrap())
}
