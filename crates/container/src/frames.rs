//! Independently decodable frames (zstd frames, xz blocks): where each lies in the file and
//! in the decompressed stream, and a small cache of decoded frames.

use crate::{Kind, invalid, xz, zst};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Largest frame decoded into memory; files with larger frames are decoded once into a
/// temporary file instead.
pub const MAX_FRAME: u64 = 32 << 20;
/// Decoded frames kept.
const CACHE: usize = 4;

/// What indexing a zstd or xz file found.
pub enum Indexed {
    /// Frames small enough to decode one at a time.
    Frames(Frames),
    /// No usable frames: the file is read whole, and `declared` is the decoded size its
    /// headers or index state, when they state it.
    Whole { declared: Option<u64> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Where the frame's compressed bytes are.
    pub comp_off: u64,
    pub comp_len: u64,
    /// Its decompressed bytes' offset and length.
    pub off: u64,
    pub len: u64,
    /// xz: the block's size without its padding (what the index records).
    pub unpadded: u64,
}

pub struct Frames {
    frames: Vec<Frame>,
    /// xz: the stream header and flags every block was written with.
    pub xz_flags: Option<[u8; 2]>,
    file: Option<(File, Kind)>,
    cache: Mutex<Vec<(usize, Arc<Vec<u8>>)>>,
}

impl Frames {
    pub fn new(frames: Vec<Frame>, xz_flags: Option<[u8; 2]>) -> Frames {
        Frames {
            frames,
            xz_flags,
            file: None,
            cache: Mutex::new(Vec::new()),
        }
    }
    pub fn with_file(mut self, file: File, kind: Kind) -> Frames {
        self.file = Some((file, kind));
        self
    }
    pub fn count(&self) -> usize {
        self.frames.len()
    }
    pub fn len(&self) -> u64 {
        self.frames.last().map_or(0, |f| f.off + f.len)
    }

    fn frame(&self, i: usize, path: &Path, decoded: &AtomicU64) -> io::Result<Arc<Vec<u8>>> {
        if let Some((_, v)) = self.cache.lock().unwrap().iter().find(|(j, _)| *j == i) {
            return Ok(v.clone());
        }
        let (file, kind) = self.file.as_ref().expect("frames opened with their file");
        let f = &self.frames[i];
        let mut comp = vec![0u8; f.comp_len as usize];
        file.read_exact_at(&mut comp, f.comp_off)?;
        let out = match kind {
            Kind::Zstd => zst::decode_frame(&comp, f.len as usize),
            Kind::Xz => xz::decode_block(&comp, f.unpadded, f.len, self.xz_flags.unwrap_or([0, 1])),
            Kind::Gzip => unreachable!("gzip is read through checkpoints"),
        }
        .map_err(|e| {
            invalid(
                path,
                format!("frame {} at offset {}: {e}", i + 1, f.comp_off),
            )
        })?;
        if out.len() as u64 != f.len {
            return Err(invalid(
                path,
                format!(
                    "frame {} decodes to {} bytes, its index says {}",
                    i + 1,
                    out.len(),
                    f.len
                ),
            ));
        }
        decoded.fetch_add(out.len() as u64, Ordering::Relaxed);
        let out = Arc::new(out);
        let mut c = self.cache.lock().unwrap();
        if c.len() == CACHE {
            c.remove(0);
        }
        c.push((i, out.clone()));
        Ok(out)
    }

    pub fn read_at(
        &self,
        buf: &mut [u8],
        offset: u64,
        path: &Path,
        decoded: &AtomicU64,
    ) -> io::Result<()> {
        let mut i = self.frames.partition_point(|f| f.off + f.len <= offset);
        let mut done = 0usize;
        while done < buf.len() {
            let f = self
                .frames
                .get(i)
                .ok_or_else(|| invalid(path, "read past the last frame"))?;
            let data = self.frame(i, path, decoded)?;
            let from = (offset + done as u64 - f.off) as usize;
            let n = (data.len() - from).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&data[from..from + n]);
            done += n;
            i += 1;
        }
        Ok(())
    }
}

/// Checks that frames tile the decompressed stream and lie inside the file.
pub fn check(frames: &[Frame], file_len: u64, path: &Path) -> io::Result<()> {
    let mut off = 0;
    for (i, f) in frames.iter().enumerate() {
        if f.off != off
            || f.comp_off
                .checked_add(f.comp_len)
                .is_none_or(|e| e > file_len)
        {
            return Err(invalid(
                path,
                format!("frame {} of the index does not fit the file", i + 1),
            ));
        }
        off = f
            .off
            .checked_add(f.len)
            .ok_or_else(|| invalid(path, "frame sizes overflow"))?;
    }
    Ok(())
}
