//! zisofs: transparent per-block zlib compression of file content (the `ZF` Rock Ridge entry
//! with algorithm `pz`, as written by mkzftree and xorriso `-zisofs`).
//!
//! Layout of the stored file (zisofs 1, see the libisofs `zisofs` notes and Linux
//! `fs/isofs/compress.c`): a 16-byte header (magic `37 E4 53 96 C9 DB D6 07`, uncompressed
//! size LE32, header size in 4-byte words, log2 block size), then `nblocks + 1` LE32 block
//! pointers (byte offsets into the stored file), then the zlib streams. A block whose two
//! pointers are equal is all zeros. Block sizes are 2^15..2^17.
//!
//! Every pointer is checked: increasing, inside the stored file, each compressed block at most
//! a bound, each inflated block exactly the block size (the libarchive `*_zf_overflow` and
//! `*_zisofs_overflow` samples break these).

use crate::api::{FsError, Result};
use std::io::Read;

/// The 8 magic bytes at the start of a zisofs file's header.
pub const MAGIC: [u8; 8] = [0x37, 0xE4, 0x53, 0x96, 0xC9, 0xDB, 0xD6, 0x07];

fn corrupt(what: String) -> FsError {
    FsError::Corrupt { fs: "zisofs", what }
}

/// A parsed zisofs file: its block table.
#[derive(Clone, Debug)]
pub struct ZisofsFile {
    /// Size of the content in bytes once inflated.
    pub uncompressed_size: u64,
    /// Uncompressed bytes per block (2^15..2^17).
    pub block_size: u32,
    /// `nblocks + 1` offsets into the stored bytes.
    pub pointers: Vec<u32>,
}

impl ZisofsFile {
    /// Parses the header and block pointers. `read` reads from the stored (compressed) bytes;
    /// `stored_size` is their length. `zf_size` is the size the ZF entry states.
    pub fn open(
        stored_size: u64,
        zf_size: u64,
        read: &mut dyn FnMut(u64, &mut [u8]) -> Result<()>,
    ) -> Result<ZisofsFile> {
        let mut hdr = [0u8; 16];
        if stored_size < 16 {
            return Err(corrupt(format!(
                "file of {stored_size} bytes is too short for a zisofs header"
            )));
        }
        read(0, &mut hdr)?;
        if hdr[..8] != MAGIC {
            return Err(corrupt("zisofs header magic missing".into()));
        }
        let size = u32::from_le_bytes([hdr[8], hdr[9], hdr[10], hdr[11]]) as u64;
        let header_size = hdr[12] as u64 * 4;
        let log2 = hdr[13];
        if !(15..=17).contains(&log2) {
            return Err(corrupt(format!(
                "zisofs block size 2^{log2} (15..17 allowed)"
            )));
        }
        if size != zf_size {
            return Err(corrupt(format!(
                "zisofs header says {size} bytes, the ZF entry {zf_size}"
            )));
        }
        if header_size < 16 {
            return Err(corrupt(format!(
                "zisofs header size {header_size} below 16"
            )));
        }
        let block_size = 1u32 << log2;
        let nblocks = size.div_ceil(block_size as u64);
        let table_len = (nblocks + 1) * 4;
        if header_size + table_len > stored_size {
            return Err(corrupt(format!(
                "zisofs block table ({} pointers) runs past the stored {stored_size} bytes",
                nblocks + 1
            )));
        }
        let mut table = vec![0u8; table_len as usize];
        read(header_size, &mut table)?;
        let pointers: Vec<u32> = table
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let min = header_size + table_len;
        for (i, w) in pointers.windows(2).enumerate() {
            if w[1] < w[0] || (w[0] as u64) < min || w[1] as u64 > stored_size {
                return Err(corrupt(format!(
                    "zisofs block {i} pointers {}..{} out of order or outside the stored {stored_size} bytes",
                    w[0], w[1]
                )));
            }
            if w[1] - w[0] > block_size * 2 + 1024 {
                return Err(corrupt(format!(
                    "zisofs block {i} of {} compressed bytes is implausible",
                    w[1] - w[0]
                )));
            }
        }
        Ok(ZisofsFile {
            uncompressed_size: size,
            block_size,
            pointers,
        })
    }

    /// The uncompressed length of block `i`.
    pub fn block_len(&self, i: usize) -> usize {
        let start = i as u64 * self.block_size as u64;
        (self.uncompressed_size - start).min(self.block_size as u64) as usize
    }

    /// Inflates block `i`; `read` reads stored bytes.
    pub fn block(
        &self,
        i: usize,
        read: &mut dyn FnMut(u64, &mut [u8]) -> Result<()>,
    ) -> Result<Vec<u8>> {
        let want = self.block_len(i);
        let (a, b) = (self.pointers[i], self.pointers[i + 1]);
        if a == b {
            return Ok(vec![0; want]);
        }
        let mut packed = vec![0u8; (b - a) as usize];
        read(a as u64, &mut packed)?;
        inflate_block(&packed, want).map_err(|e| corrupt(format!("zisofs block {i}: {e}")))
    }
}

/// Inflates one zlib stream that must yield exactly `want` bytes.
pub fn inflate_block(packed: &[u8], want: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(want);
    let mut z = flate2::read::ZlibDecoder::new(packed).take(want as u64 + 1);
    z.read_to_end(&mut out).map_err(|e| format!("zlib: {e}"))?;
    if out.len() != want {
        return Err(format!(
            "inflates to {}{} bytes, not {want}",
            out.len(),
            if out.len() > want { "+" } else { "" }
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zfile(data: &[u8], log2: u8) -> Vec<u8> {
        let bs = 1usize << log2;
        let n = data.len().div_ceil(bs);
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&[4, log2, 0, 0]);
        let table_at = out.len();
        out.resize(table_at + (n + 1) * 4, 0);
        let mut ptrs = vec![out.len() as u32];
        for c in data.chunks(bs) {
            if c.iter().all(|&b| b == 0) {
                ptrs.push(out.len() as u32);
                continue;
            }
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(c).unwrap();
            out.extend(z.finish().unwrap());
            ptrs.push(out.len() as u32);
        }
        for (i, p) in ptrs.iter().enumerate() {
            out[table_at + i * 4..table_at + i * 4 + 4].copy_from_slice(&p.to_le_bytes());
        }
        out
    }

    fn reader(stored: &[u8]) -> impl FnMut(u64, &mut [u8]) -> Result<()> + '_ {
        move |o, b| {
            b.copy_from_slice(&stored[o as usize..o as usize + b.len()]);
            Ok(())
        }
    }

    #[test]
    fn round_trip_with_a_zero_block() {
        let mut data = vec![7u8; 40_000];
        data.extend(vec![0u8; 32_768]);
        data.extend(b"tail");
        let stored = zfile(&data, 15);
        let z =
            ZisofsFile::open(stored.len() as u64, data.len() as u64, &mut reader(&stored)).unwrap();
        let mut out = Vec::new();
        for i in 0..z.pointers.len() - 1 {
            out.extend(z.block(i, &mut reader(&stored)).unwrap());
        }
        assert_eq!(out, data);
    }

    #[test]
    fn broken_files_are_corrupt() {
        let data = vec![9u8; 70_000];
        let stored = zfile(&data, 15);
        let open = |s: &[u8], size: u64| ZisofsFile::open(s.len() as u64, size, &mut reader(s));
        assert!(
            open(&stored, 1)
                .unwrap_err()
                .to_string()
                .contains("ZF entry")
        );
        let mut bad = stored.clone();
        bad[13] = 20;
        assert!(open(&bad, 70_000).is_err());
        bad = stored.clone();
        bad[0] ^= 1;
        assert!(open(&bad, 70_000).is_err());
        // Pointers out of order.
        bad = stored.clone();
        bad[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(open(&bad, 70_000).is_err());
        assert!(open(&stored[..20], 70_000).is_err());
        // A block inflating to more than the block size.
        assert!(inflate_block(&stored[stored.len() - 10..], 10).is_err());
        let z = open(&stored, 70_000).unwrap();
        let mut bad = stored.clone();
        let a = z.pointers[0] as usize;
        bad[a + 2] ^= 0xff;
        assert!(z.block(0, &mut reader(&bad)).is_err());
    }
}
