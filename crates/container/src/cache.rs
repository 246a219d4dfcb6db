//! The fallback for streams with no random access (one zstd frame, one xz block): decode the
//! whole stream once into an unlinked temporary file and serve reads from it.

use crate::{Kind, invalid};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Cache {
    file: File,
    len: u64,
}

impl Cache {
    pub fn fill(path: &Path, kind: Kind, decoded: &AtomicU64) -> io::Result<Cache> {
        let input = io::BufReader::with_capacity(1 << 20, File::open(path)?);
        let mut reader: Box<dyn Read> = match kind {
            Kind::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(input)?),
            Kind::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(input)),
            Kind::Gzip => unreachable!("gzip is read through checkpoints"),
        };
        let mut file = tempfile::tempfile()?;
        let len = io::copy(&mut reader, &mut file).map_err(|e| invalid(path, format!("{} data is corrupt: {e}", kind.name())))?;
        decoded.fetch_add(len, Ordering::Relaxed);
        Ok(Cache { file, len })
    }
    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn file(&self) -> &File {
        &self.file
    }
}
