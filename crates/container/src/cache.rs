//! The fallback for streams with no random access (one zstd frame, one xz block): decode the
//! whole stream once into an unlinked temporary file and serve reads from it.
//!
//! Why a file: a position inside one zstd frame or xz block can only be reached by decoding
//! from the frame's start (the decoder's window, up to 128 MiB, cannot be saved and restored
//! through the libraries' interfaces the way gzip's inflate state is), so serving random
//! reads without a copy would decode the whole stream again for every read. Streams small
//! enough to hold in memory (up to 32 MiB) never come here: they are read as one frame.
//! The copy is bounded by the [`DecodeBudget`] and counted against its account until the
//! image is closed.

use crate::budget::{DecodeBudget, Reservation};
use crate::{At, Kind, invalid};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Cache {
    file: File,
    len: u64,
    /// Given back to the budget when the image is closed.
    _reserved: Reservation,
}

impl Cache {
    /// Decodes `file` (the compressed `path`) into a temporary file, within `budget`.
    /// `declared` is the decoded size the file states, when it states one.
    pub fn fill(
        file: &File,
        path: &Path,
        kind: Kind,
        declared: Option<u64>,
        budget: &DecodeBudget,
        decoded: &AtomicU64,
    ) -> io::Result<Cache> {
        let (mut reserved, mut out) = budget.start(path, kind, declared)?;
        let input = io::BufReader::with_capacity(1 << 20, At::new(file, 0));
        let mut reader: Box<dyn Read> = match kind {
            Kind::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(input)?),
            Kind::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(input)),
            Kind::Gzip => unreachable!("gzip is read through checkpoints"),
        };
        let corrupt = |e: io::Error| invalid(path, format!("{} data is corrupt: {e}", kind.name()));
        let mut buf = vec![0u8; 1 << 20];
        let mut len = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(corrupt(e)),
            };
            // Counted before written: the copy never grows past the budget. On an error the
            // file (unlinked, never named) goes with `out`, and the bytes with `reserved`.
            reserved.grow(n as u64)?;
            out.write_all(&buf[..n]).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("{}: writing its decompressed copy: {e}", path.display()),
                )
            })?;
            len += n as u64;
            decoded.fetch_add(n as u64, Ordering::Relaxed);
        }
        if declared.is_some_and(|d| d != len) {
            return Err(invalid(
                path,
                format!(
                    "decodes to {len} bytes, its header or index says {}",
                    declared.unwrap_or(0)
                ),
            ));
        }
        Ok(Cache {
            file: out,
            len,
            _reserved: reserved,
        })
    }
    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn file(&self) -> &File {
        &self.file
    }
}
