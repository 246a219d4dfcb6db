//! Exports over plain files (a catalog for tests, the example server and plain ISO images):
//! reads with pread(2), zero-copy ranges, and the allocation from SEEK_DATA/SEEK_HOLE so
//! sparse files report their holes.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use crate::export::{Allocation, Catalog, Export, ExportInfo};

/// One file served whole.
pub struct FileExport {
    file: File,
    size: u64,
    block: u32,
}

impl FileExport {
    pub fn open(path: impl AsRef<Path>) -> io::Result<FileExport> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let size = file.metadata()?.len();
        Ok(FileExport { file, size, block: 2048 })
    }

    /// Sets the preferred block size reported in NBD_INFO_BLOCK_SIZE.
    pub fn with_block_size(mut self, block: u32) -> FileExport {
        self.block = block.max(1);
        self
    }

    fn seek(&self, offset: u64, whence: libc::c_int) -> Option<u64> {
        // SAFETY: lseek on an open fd has no memory effects.
        let r = unsafe { libc::lseek(self.file.as_raw_fd(), offset as libc::off_t, whence) };
        (r >= 0).then_some(r as u64)
    }
}

impl Export for FileExport {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }

    fn allocation(&self, offset: u64, length: u64) -> io::Result<Vec<Allocation>> {
        let end = offset.saturating_add(length).min(self.size);
        let mut runs = Vec::new();
        let mut at = offset;
        while at < end && runs.len() < 1024 {
            // Data from `at`, or the hole that starts there.
            let data = self.seek(at, libc::SEEK_DATA).unwrap_or(end).min(end);
            if data > at {
                runs.push(Allocation {
                    length: data - at,
                    hole: true,
                    zero: true,
                });
                at = data;
                continue;
            }
            let hole = self.seek(at, libc::SEEK_HOLE).unwrap_or(end).min(end).max(at + 1);
            runs.push(Allocation {
                length: hole - at,
                hole: false,
                zero: false,
            });
            at = hole;
        }
        if runs.is_empty() {
            runs.push(Allocation {
                length: length.max(1),
                hole: false,
                zero: false,
            });
        }
        Ok(runs)
    }

    fn preferred_block_size(&self) -> u32 {
        self.block
    }

    fn file_range(&self, offset: u64, length: u64) -> Option<(&File, u64)> {
        (offset.checked_add(length)? <= self.size).then_some((&self.file, offset))
    }
}

/// A fixed set of named exports.
#[derive(Default, Clone)]
pub struct StaticCatalog {
    exports: BTreeMap<String, (String, Arc<dyn Export>)>,
}

impl StaticCatalog {
    pub fn new() -> StaticCatalog {
        StaticCatalog::default()
    }

    pub fn add(&mut self, name: &str, description: &str, export: Arc<dyn Export>) {
        self.exports.insert(name.to_string(), (description.to_string(), export));
    }
}

impl Catalog for StaticCatalog {
    fn list(&self) -> Vec<ExportInfo> {
        self.exports
            .iter()
            .map(|(name, (description, _))| ExportInfo {
                name: name.clone(),
                description: description.clone(),
            })
            .collect()
    }

    fn open(&self, name: &str) -> Option<(ExportInfo, Arc<dyn Export>)> {
        let (description, export) = self.exports.get(name)?;
        Some((
            ExportInfo {
                name: name.to_string(),
                description: description.clone(),
            },
            Arc::clone(export),
        ))
    }
}
