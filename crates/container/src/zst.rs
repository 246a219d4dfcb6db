//! zstd: the seekable format (a seek table in a trailing skippable frame, zstd's
//! `contrib/seekable_format`), or else the frames found by walking frame and block headers.

use crate::frames::{Frame, Frames, Indexed, MAX_FRAME, check};
use crate::{At, invalid};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

const FRAME_MAGIC: u32 = 0xFD2F_B528;
const SKIPPABLE_SEEK_TABLE: u32 = 0x184D_2A5E;
const SEEKABLE_MAGIC: u32 = 0x8F92_EAB1;
/// Most frames an index may have.
const MAX_FRAMES: u64 = 1 << 24;

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// The frames of a zstd file, or how large it says it is when it has one large frame (no
/// random access).
pub fn index(file: &File, len: u64, path: &Path, decoded: &AtomicU64) -> io::Result<Indexed> {
    let frames = match seek_table(file, len, path)? {
        Some(f) => f,
        None => match walk(file, len, path, decoded)? {
            Some(f) => f,
            None => return Ok(Indexed::Whole { declared: None }),
        },
    };
    check(&frames, len, path)?;
    if frames.is_empty() {
        return Ok(Indexed::Whole { declared: None });
    }
    if frames.iter().any(|f| f.len > MAX_FRAME) {
        return Ok(Indexed::Whole {
            declared: Some(frames.iter().map(|f| f.len).sum()),
        });
    }
    Ok(Indexed::Frames(Frames::new(frames, None)))
}

fn seek_table(file: &File, len: u64, path: &Path) -> io::Result<Option<Vec<Frame>>> {
    if len < 17 {
        return Ok(None);
    }
    let mut foot = [0u8; 9];
    file.read_exact_at(&mut foot, len - 9)?;
    if u32_at(&foot, 5) != SEEKABLE_MAGIC {
        return Ok(None);
    }
    let n = u32_at(&foot, 0) as u64;
    let entry = if foot[4] & 0x80 != 0 { 12 } else { 8 };
    let table = n * entry;
    if n > MAX_FRAMES || table + 17 > len {
        return Err(invalid(
            path,
            format!("zstd seek table of {n} frames does not fit the file"),
        ));
    }
    let start = len - 9 - table - 8;
    let mut t = vec![0u8; (table + 8) as usize];
    file.read_exact_at(&mut t, start)?;
    if u32_at(&t, 0) != SKIPPABLE_SEEK_TABLE || u32_at(&t, 4) as u64 != table + 9 {
        return Err(invalid(path, "zstd seek table frame header is damaged"));
    }
    let (mut comp_off, mut off) = (0u64, 0u64);
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n as usize {
        let e = &t[8 + i * entry as usize..];
        let (c, d) = (u32_at(e, 0) as u64, u32_at(e, 4) as u64);
        out.push(Frame {
            comp_off,
            comp_len: c,
            off,
            len: d,
            unpadded: 0,
        });
        comp_off += c;
        off += d;
    }
    if comp_off > start {
        return Err(invalid(
            path,
            "zstd seek table frames run into the seek table",
        ));
    }
    Ok(Some(out))
}

/// Walks frame headers and block headers; frames without a content size are decoded once,
/// up to [`MAX_FRAME`]: `None` when one is larger (the file is then read whole).
fn walk(file: &File, len: u64, path: &Path, decoded: &AtomicU64) -> io::Result<Option<Vec<Frame>>> {
    let mut pos = 0u64;
    let mut off = 0u64;
    let mut out = Vec::new();
    let bad = |m: String| invalid(path, m);
    while pos < len {
        if out.len() as u64 > MAX_FRAMES {
            return Err(bad("too many zstd frames".into()));
        }
        let mut h = [0u8; 18];
        let n = (len - pos).min(18) as usize;
        file.read_exact_at(&mut h[..n], pos)?;
        if n < 8 {
            return Err(bad(format!("truncated zstd frame header at offset {pos}")));
        }
        let magic = u32_at(&h, 0);
        if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
            pos += 8 + u32_at(&h, 4) as u64;
            continue;
        }
        if magic != FRAME_MAGIC {
            return Err(bad(format!("not a zstd frame at offset {pos}")));
        }
        let fhd = h[4];
        let single = fhd & 0x20 != 0;
        let checksum = fhd & 0x04 != 0;
        let dict = [0usize, 1, 2, 4][(fhd & 3) as usize];
        let fcs_len = match fhd >> 6 {
            0 if single => 1,
            0 => 0,
            1 => 2,
            2 => 4,
            _ => 8,
        };
        let mut at = 5 + usize::from(!single) + dict;
        let content = match fcs_len {
            0 => None,
            1 => Some(h[at] as u64),
            2 => Some(u16::from_le_bytes([h[at], h[at + 1]]) as u64 + 256),
            4 => Some(u32_at(&h, at) as u64),
            _ => Some(u64::from_le_bytes(h[at..at + 8].try_into().unwrap())),
        };
        at += fcs_len;
        let start = pos;
        pos += at as u64;
        loop {
            let mut b = [0u8; 3];
            if pos + 3 > len {
                return Err(bad(format!("truncated zstd block header at offset {pos}")));
            }
            file.read_exact_at(&mut b, pos)?;
            let v = u32::from_le_bytes([b[0], b[1], b[2], 0]);
            let size = match (v >> 1) & 3 {
                1 => 1,
                3 => return Err(bad(format!("reserved zstd block type at offset {pos}"))),
                _ => (v >> 3) as u64,
            };
            pos += 3 + size;
            if v & 1 == 1 {
                break;
            }
        }
        if checksum {
            pos += 4;
        }
        if pos > len {
            return Err(bad(format!(
                "zstd frame at offset {start} runs past the end of the file"
            )));
        }
        let comp_len = pos - start;
        let dlen = match content {
            Some(c) => c,
            None => {
                let comp = io::BufReader::new(At::new(file, start).take(comp_len));
                let d = zstd::stream::read::Decoder::with_buffer(comp)?.single_frame();
                let n = io::copy(&mut d.take(MAX_FRAME + 1), &mut io::sink())
                    .map_err(|e| bad(format!("zstd frame at offset {start}: {e}")))?;
                decoded.fetch_add(n, Ordering::Relaxed);
                if n > MAX_FRAME {
                    return Ok(None);
                }
                n
            }
        };
        out.push(Frame {
            comp_off: start,
            comp_len,
            off,
            len: dlen,
            unpadded: 0,
        });
        off += dlen;
    }
    Ok(Some(out))
}

/// Decodes one frame of known size.
pub fn decode_frame(comp: &[u8], len: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    let d = zstd::stream::read::Decoder::new(comp)?.single_frame();
    // One byte more than stated at most: a frame that decodes to more than its seek table or
    // header says is caught by the caller's length check, not decoded whole into memory.
    d.take(len as u64 + 1).read_to_end(&mut out)?;
    Ok(out)
}

/// Writes `input` as seekable zstd: frames of `frame_size` bytes, then the seek table.
/// Returns the bytes read.
pub fn write_seekable(
    input: &mut dyn Read,
    out: &mut dyn Write,
    frame_size: usize,
    level: i32,
) -> io::Result<u64> {
    let mut entries = Vec::new();
    let mut buf = vec![0u8; frame_size];
    let mut total = 0u64;
    loop {
        let mut n = 0;
        while n < buf.len() {
            match input.read(&mut buf[n..])? {
                0 => break,
                k => n += k,
            }
        }
        if n == 0 {
            break;
        }
        let frame = zstd::bulk::compress(&buf[..n], level)?;
        out.write_all(&frame)?;
        entries.push((frame.len() as u32, n as u32));
        total += n as u64;
        if n < buf.len() {
            break;
        }
    }
    let table = entries.len() * 8;
    out.write_all(&SKIPPABLE_SEEK_TABLE.to_le_bytes())?;
    out.write_all(&((table + 9) as u32).to_le_bytes())?;
    for (c, d) in &entries {
        out.write_all(&c.to_le_bytes())?;
        out.write_all(&d.to_le_bytes())?;
    }
    out.write_all(&(entries.len() as u32).to_le_bytes())?;
    out.write_all(&[0])?;
    out.write_all(&SEEKABLE_MAGIC.to_le_bytes())?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_concatenated_frames() {
        let mut data = Vec::new();
        for i in 0..3u8 {
            data.extend(zstd::bulk::compress(&vec![i; 100_000], 3).unwrap());
        }
        let mut x = 1u32;
        let noise: Vec<u8> = (0..1_000_000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                if i % 300_000 < 100_000 { 0 } else { x as u8 }
            })
            .collect();
        data.extend(zstd::bulk::compress(&noise, 3).unwrap());
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, &data).unwrap();
        let d = AtomicU64::new(0);
        let frames = walk(&f, data.len() as u64, Path::new("t.zst"), &d)
            .unwrap()
            .unwrap();
        assert_eq!(
            frames.iter().map(|f| f.len).collect::<Vec<_>>(),
            vec![100_000, 100_000, 100_000, 1_000_000]
        );
        assert_eq!(
            frames.iter().map(|f| f.comp_len).sum::<u64>(),
            data.len() as u64
        );
    }
}
