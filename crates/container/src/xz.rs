//! xz: the blocks listed in each stream's index (the `.xz` format, tukaani.org's
//! xz-file-format spec). A block is decoded on its own by wrapping it in a one-block stream
//! (stream header, the block, a one-record index, stream footer) for liblzma.

use crate::frames::{Frame, Frames, Indexed, MAX_FRAME, check};
use crate::invalid;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;

const HEADER_MAGIC: [u8; 6] = [0xFD, b'7', b'z', b'X', b'Z', 0];
/// Largest index read (far beyond millions of blocks).
const MAX_INDEX: u64 = 64 << 20;

/// Reads a multibyte integer; returns (value, bytes used).
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &c) in b.iter().enumerate().take(9) {
        v |= ((c & 0x7F) as u64) << (7 * i);
        if c & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The blocks of an xz file, or how large its index says it is when one block is too large
/// to decode on its own.
pub fn index(file: &File, len: u64, path: &Path) -> io::Result<Indexed> {
    let bad = |m: String| invalid(path, m);
    let mut end = len;
    let mut streams: Vec<Vec<Frame>> = Vec::new();
    let mut flags = None;
    while end > 0 {
        // Stream padding: zero bytes in groups of four.
        let mut w = [0u8; 4];
        while end >= 4 {
            file.read_exact_at(&mut w, end - 4)?;
            if w != [0; 4] {
                break;
            }
            end -= 4;
        }
        if end < 24 {
            return Err(bad(format!(
                "no xz stream footer before offset {end}: truncated?"
            )));
        }
        let mut foot = [0u8; 12];
        file.read_exact_at(&mut foot, end - 12)?;
        if &foot[10..12] != b"YZ"
            || crc32fast::hash(&foot[4..10]) != u32::from_le_bytes(foot[..4].try_into().unwrap())
        {
            return Err(bad(format!(
                "damaged xz stream footer at offset {}: truncated?",
                end - 12
            )));
        }
        let index_len = (u32::from_le_bytes(foot[4..8].try_into().unwrap()) as u64 + 1) * 4;
        let f = [foot[8], foot[9]];
        if *flags.get_or_insert(f) != f {
            return Ok(Indexed::Whole { declared: None });
        }
        if index_len > MAX_INDEX || index_len + 24 > end {
            return Err(bad(format!(
                "xz index of {index_len} bytes does not fit the file"
            )));
        }
        let index_at = end - 12 - index_len;
        let mut idx = vec![0u8; index_len as usize];
        file.read_exact_at(&mut idx, index_at)?;
        let crc = u32::from_le_bytes(idx[idx.len() - 4..].try_into().unwrap());
        if idx[0] != 0 || crc32fast::hash(&idx[..idx.len() - 4]) != crc {
            return Err(bad(format!("damaged xz index at offset {index_at}")));
        }
        let body = &idx[..idx.len() - 4];
        let (n, mut at) = varint(&body[1..])
            .map(|(v, k)| (v, k + 1))
            .ok_or_else(|| bad("damaged xz index".into()))?;
        if n > index_len {
            return Err(bad(format!("xz index claims {n} blocks")));
        }
        let mut blocks = Vec::with_capacity(n as usize);
        let mut total_comp = 0u64;
        for _ in 0..n {
            let (unpadded, k) =
                varint(&body[at..]).ok_or_else(|| bad("damaged xz index record".into()))?;
            at += k;
            let (size, k) =
                varint(&body[at..]).ok_or_else(|| bad("damaged xz index record".into()))?;
            at += k;
            let padded = unpadded
                .div_ceil(4)
                .checked_mul(4)
                .ok_or_else(|| bad("xz block size overflows".into()))?;
            blocks.push((total_comp, padded, size, unpadded));
            total_comp = total_comp
                .checked_add(padded)
                .ok_or_else(|| bad("xz block sizes overflow".into()))?;
        }
        let start = index_at
            .checked_sub(total_comp + 12)
            .ok_or_else(|| bad("xz blocks do not fit before their index".into()))?;
        let mut head = [0u8; 12];
        file.read_exact_at(&mut head, start)?;
        if head[..6] != HEADER_MAGIC || head[6..8] != f {
            return Err(bad(format!("no xz stream header at offset {start}")));
        }
        streams.push(
            blocks
                .into_iter()
                .map(|(c, p, s, u)| Frame {
                    comp_off: start + 12 + c,
                    comp_len: p,
                    off: 0,
                    len: s,
                    unpadded: u,
                })
                .collect(),
        );
        end = start;
    }
    let mut frames: Vec<Frame> = streams.into_iter().rev().flatten().collect();
    let mut off = 0;
    for fr in &mut frames {
        fr.off = off;
        off += fr.len;
    }
    check(&frames, len, path)?;
    if frames.is_empty() {
        return Ok(Indexed::Whole { declared: None });
    }
    if frames.iter().any(|f| f.len > MAX_FRAME) {
        return Ok(Indexed::Whole {
            declared: Some(frames.iter().map(|f| f.len).sum()),
        });
    }
    Ok(Indexed::Frames(Frames::new(frames, flags)))
}

/// Decodes one block: its bytes as stored (padding included, before the check field), the
/// unpadded size the index records for it, and the size it inflates to.
pub fn decode_block(block: &[u8], unpadded: u64, len: u64, flags: [u8; 2]) -> io::Result<Vec<u8>> {
    let mut s = Vec::with_capacity(block.len() + 64);
    s.extend_from_slice(&HEADER_MAGIC);
    s.extend_from_slice(&flags);
    s.extend_from_slice(&crc32fast::hash(&flags).to_le_bytes());
    s.extend_from_slice(block);
    let mut idx = vec![0u8];
    put_varint(&mut idx, 1);
    put_varint(&mut idx, unpadded);
    put_varint(&mut idx, len);
    while idx.len() % 4 != 0 {
        idx.push(0);
    }
    let crc = crc32fast::hash(&idx);
    idx.extend_from_slice(&crc.to_le_bytes());
    let backward = (idx.len() / 4 - 1) as u32;
    s.extend_from_slice(&idx);
    let mut tail = backward.to_le_bytes().to_vec();
    tail.extend_from_slice(&flags);
    s.extend_from_slice(&crc32fast::hash(&tail).to_le_bytes());
    s.extend_from_slice(&tail);
    s.extend_from_slice(b"YZ");
    let mut out = Vec::with_capacity(len as usize);
    // One byte more than the index says at most: a block that lies about its size is caught
    // by the caller's length check, not decoded whole into memory.
    liblzma::read::XzDecoder::new(&s[..])
        .take(len + 1)
        .read_to_end(&mut out)?;
    Ok(out)
}
