//! Bytes held in memory.

use crate::ByteSource;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes held in memory, read as a file named `path` (generated headers, cue sheets, tests,
/// fuzz targets).
#[derive(Clone)]
pub struct MemSource {
    data: Arc<[u8]>,
    path: PathBuf,
}

impl MemSource {
    /// Bytes `data`, named `path` in errors.
    pub fn new(data: impl Into<Arc<[u8]>>, path: impl Into<PathBuf>) -> MemSource {
        MemSource {
            data: data.into(),
            path: path.into(),
        }
    }

    /// The bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

impl ByteSource for MemSource {
    fn len(&self) -> u64 {
        self.data.len() as u64
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let start = offset.min(self.data.len() as u64) as usize;
        let n = buf.len().min(self.data.len() - start);
        buf[..n].copy_from_slice(&self.data[start..start + n]);
        Ok(n)
    }
    fn path(&self) -> &Path {
        &self.path
    }
}
