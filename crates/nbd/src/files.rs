//! Exports over plain files (a catalog for tests, the example server and plain ISO images):
//! reads with pread(2), zero-copy ranges, and the allocation from SEEK_DATA/SEEK_HOLE so
//! sparse files report their holes; and a fixed catalog of them.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use spindle_bytes::{Backing, ByteSource, Run, push_run};

use crate::export::{Catalog, ExportInfo};

/// A plain file served whole: read with pread(2), sent with sendfile(2) (its
/// [`backing`](ByteSource::backing) is itself), and its allocation from SEEK_DATA/SEEK_HOLE
/// so that a sparse file reports its holes.
pub struct SparseFile {
    file: File,
    size: u64,
    path: PathBuf,
    /// Data runs (start, end), from [`SparseFile::map_data`] on first use.
    data: OnceLock<Vec<(u64, u64)>>,
}

impl SparseFile {
    /// Opens `path`; its size is taken now and must not change while it is served.
    pub fn open(path: impl AsRef<Path>) -> io::Result<SparseFile> {
        let path = path.as_ref();
        let file = File::open(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let size = file.metadata()?.len();
        Ok(SparseFile {
            file,
            size,
            path: path.to_path_buf(),
            data: OnceLock::new(),
        })
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

impl ByteSource for SparseFile {
    fn len(&self) -> u64 {
        self.size
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let want = buf
            .len()
            .min(self.size.saturating_sub(offset).min(usize::MAX as u64) as usize);
        let mut done = 0;
        while done < want {
            match self
                .file
                .read_at(&mut buf[done..want], offset + done as u64)
            {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn backing(&self, offset: u64, len: u64) -> Option<Backing<'_>> {
        (offset < self.size && len > 0).then(|| Backing {
            file: &self.file,
            offset,
            len: len.min(self.size - offset),
        })
    }

    fn runs(&self, offset: u64, len: u64) -> Vec<Run> {
        let end = offset.saturating_add(len).min(self.size);
        let data = self.data.get_or_init(|| self.map_data());
        // The first data run that ends after `offset`.
        let mut i = data.partition_point(|&(_, e)| e <= offset);
        let mut runs = Vec::new();
        let mut at = offset;
        while at < end {
            let (ds, de) = data.get(i).copied().unwrap_or((end, end));
            let (to, stored) = if ds > at {
                (ds.min(end), false)
            } else {
                i += 1;
                (de.min(end), true)
            };
            push_run(
                &mut runs,
                Run {
                    len: to - at,
                    stored,
                    zero: !stored,
                },
            );
            at = to;
        }
        runs
    }
}

/// A fixed set of named exports.
#[derive(Default, Clone)]
pub struct StaticCatalog {
    exports: BTreeMap<String, (ExportInfo, Arc<dyn ByteSource>)>,
}

impl StaticCatalog {
    /// An empty catalog.
    pub fn new() -> StaticCatalog {
        StaticCatalog::default()
    }

    /// Adds (or replaces) the export named `info.name`.
    pub fn add(&mut self, info: ExportInfo, bytes: Arc<dyn ByteSource>) {
        self.exports.insert(info.name.clone(), (info, bytes));
    }
}

impl Catalog for StaticCatalog {
    fn list(&self) -> Vec<ExportInfo> {
        self.exports
            .values()
            .map(|(info, _)| info.clone())
            .collect()
    }

    fn open(&self, name: &str) -> Option<(ExportInfo, Arc<dyn ByteSource>)> {
        let (info, bytes) = self.exports.get(name)?;
        Some((info.clone(), Arc::clone(bytes)))
    }
}
