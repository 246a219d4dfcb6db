//! zstd images decoded as they are written. A file made by `zstd image.iso` is one frame; the
//! random-access reader (spindle-container) would first decode such a frame into a temporary
//! file as large as the image. For a burn, which reads the image front to back, a streaming
//! decoder is enough: the size comes from the frames' headers (every frame must declare its
//! content size, as the `zstd` tool's frames do), and the rare read elsewhere (the
//! bootability check, locating a mismatch) restarts the decoder.

use spindle_disc::ByteSource;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const MAGIC: u32 = 0xFD2F_B528;

/// The decoded size of a zstd file: the sum of its frames' declared content sizes, walking
/// each frame's block headers to find the next frame. `None` when a frame does not declare
/// its size or the file is not a clean sequence of frames.
pub fn decoded_len(file: &File) -> Option<u64> {
    let flen = file.metadata().ok()?.len();
    let mut pos = 0u64;
    let mut total = 0u64;
    let read = |at: u64, n: usize| -> Option<Vec<u8>> {
        let mut b = vec![0u8; n];
        file.read_exact_at(&mut b, at).ok()?;
        Some(b)
    };
    while pos < flen {
        let m = read(pos, 4)?;
        let magic = u32::from_le_bytes([m[0], m[1], m[2], m[3]]);
        if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
            // A skippable frame (seek tables and other metadata): magic, size, bytes.
            let s = read(pos + 4, 4)?;
            pos += 8 + u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as u64;
            continue;
        }
        if magic != MAGIC {
            return None;
        }
        let fhd = read(pos + 4, 1)?[0];
        let single = (fhd >> 5) & 1 == 1;
        let checksum = (fhd >> 2) & 1 == 1;
        let did = [0u64, 1, 2, 4][(fhd & 3) as usize];
        let fcs = match fhd >> 6 {
            0 => u64::from(single),
            1 => 2,
            2 => 4,
            _ => 8,
        };
        let header = 5 + u64::from(!single) + did + fcs;
        let h = read(pos, header as usize)?;
        total += zstd::zstd_safe::get_frame_content_size(&h).ok()??;
        pos += header;
        loop {
            let b = read(pos, 3)?;
            let v = u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16;
            let (last, kind, size) = (v & 1 == 1, (v >> 1) & 3, (v >> 3) as u64);
            pos += 3 + match kind {
                0 | 2 => size,
                1 => 1,
                _ => return None,
            };
            if last {
                break;
            }
        }
        if checksum {
            pos += 4;
        }
    }
    (pos == flen).then_some(total)
}

/// The compressed file read from its start with positioned reads: every restart reads the
/// file that was opened (and checked against the burn's targets), not whatever the path
/// names by then.
struct FromStart {
    file: Arc<File>,
    pos: u64,
}

impl Read for FromStart {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

type Decoder = zstd::stream::read::Decoder<'static, BufReader<FromStart>>;

/// A zstd file read as its decoded bytes, front to back.
pub struct ZstdStream {
    file: Arc<File>,
    len: u64,
    path: PathBuf,
    cursor: Mutex<(Option<Decoder>, u64)>,
}

impl ZstdStream {
    /// `None` when the file is not zstd with declared sizes (the caller falls back to the
    /// random-access reader).
    pub fn open(path: &Path) -> io::Result<Option<ZstdStream>> {
        // Checked like every image open: a FIFO or a device is refused, never waited on.
        let (f, _) = spindle_disc::open::open_image_file(path)?;
        let Some(len) = decoded_len(&f) else {
            return Ok(None);
        };
        Ok(Some(ZstdStream {
            file: Arc::new(f),
            len,
            path: path.to_path_buf(),
            cursor: Mutex::new((None, 0)),
        }))
    }

    /// The compressed file, as opened.
    pub fn file(&self) -> &File {
        &self.file
    }

    fn restart(&self) -> io::Result<Decoder> {
        zstd::stream::read::Decoder::new(FromStart {
            file: self.file.clone(),
            pos: 0,
        })
    }
}

impl ByteSource for ZstdStream {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let n = buf
            .len()
            .min(self.len.saturating_sub(offset).min(usize::MAX as u64) as usize);
        if n > 0 {
            self.read_exact_at(&mut buf[..n], offset)?;
        }
        Ok(n)
    }
    fn path(&self) -> &Path {
        &self.path
    }
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|e| e > self.len)
        {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "past the end of the decoded image",
            ));
        }
        if buf.is_empty() {
            return Ok(());
        }
        let mut cur = self.cursor.lock().unwrap_or_else(|p| p.into_inner());
        if cur.0.is_none() || offset < cur.1 {
            *cur = (Some(self.restart()?), 0);
        }
        let (dec, pos) = &mut *cur;
        let dec = dec.as_mut().expect("decoder set above");
        let skip = offset - *pos;
        if skip > 0 {
            let copied = io::copy(&mut dec.by_ref().take(skip), &mut io::sink())?;
            *pos += copied;
            if copied < skip {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the zstd stream ended early",
                ));
            }
        }
        let r = dec.read_exact(buf);
        match r {
            Ok(()) => {
                *pos += buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                // A failed read leaves the decoder anywhere: start over next time.
                cur.0 = None;
                Err(e)
            }
        }
    }
    fn len(&self) -> u64 {
        self.len
    }
}
