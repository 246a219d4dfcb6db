//! Exports over plain files (a catalog for tests, the example server and plain ISO images):
//! reads with pread(2), zero-copy ranges, and the allocation from SEEK_DATA/SEEK_HOLE so
//! sparse files report their holes.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::export::{Allocation, Catalog, Export, ExportInfo};

/// One file served whole.
pub struct FileExport {
    file: File,
    size: u64,
    block: u32,
    /// Data runs (start, end), from [`FileExport::map_data`] on first use.
    data: OnceLock<Vec<(u64, u64)>>,
}

impl FileExport {
    pub fn open(path: impl AsRef<Path>) -> io::Result<FileExport> {
        let path = path.as_ref();
        let file = File::open(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let size = file.metadata()?.len();
        Ok(FileExport {
            file,
            size,
            block: 2048,
            data: OnceLock::new(),
        })
    }

    /// Sets the preferred block size reported in NBD_INFO_BLOCK_SIZE.
    pub fn with_block_size(mut self, block: u32) -> FileExport {
        self.block = block.max(1);
        self
    }

    /// The file's data runs, found once with SEEK_DATA/SEEK_HOLE: a seek can scan the file
    /// to its end (tmpfs walks every page), so doing it per BLOCK_STATUS request is
    /// quadratic. Past 65536 runs the rest counts as data.
    fn map_data(&self) -> Vec<(u64, u64)> {
        let mut runs = Vec::new();
        let mut at = 0;
        while at < self.size {
            let Some(start) = self.seek(at, libc::SEEK_DATA) else {
                break; // ENXIO: no data after `at`
            };
            if start >= self.size {
                break;
            }
            if runs.len() == 65536 {
                runs.push((start, self.size));
                break;
            }
            let end = self
                .seek(start, libc::SEEK_HOLE)
                .unwrap_or(self.size)
                .clamp(start + 1, self.size);
            runs.push((start, end));
            at = end;
        }
        runs
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
        let data = self.data.get_or_init(|| self.map_data());
        // The first data run that ends after `offset`.
        let mut i = data.partition_point(|&(_, e)| e <= offset);
        let mut runs = Vec::new();
        let mut at = offset;
        while at < end && runs.len() < 1024 {
            let (ds, de) = data.get(i).copied().unwrap_or((end, end));
            if ds > at {
                let to = ds.min(end);
                runs.push(Allocation {
                    length: to - at,
                    hole: true,
                    zero: true,
                });
                at = to;
                continue;
            }
            let to = de.min(end);
            runs.push(Allocation {
                length: to - at,
                hole: false,
                zero: false,
            });
            at = to;
            i += 1;
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
        self.exports
            .insert(name.to_string(), (description.to_string(), export));
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
