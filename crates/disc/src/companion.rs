//! Finding the files a descriptor names, beside it, whatever their case.
//!
//! Descriptors written on Windows name `CDDA.BIN` when the file is `cdda.bin`, or carry a
//! directory from the machine that made them. Lookup order: the name as written (relative to
//! the descriptor's folder), then a case-insensitive match of the whole name in that folder,
//! then a case-insensitive match of the name's last component.

use crate::ByteSource;
use crate::extent::FileSource;
use crate::format::Companions;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Resolves companions in the folder of a descriptor.
pub struct DirCompanions {
    dir: PathBuf,
}

impl DirCompanions {
    /// Companions beside `descriptor`.
    pub fn beside(descriptor: &Path) -> DirCompanions {
        let dir = descriptor
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        DirCompanions { dir }
    }

    fn find_ci(&self, wanted: &str) -> Option<PathBuf> {
        let wanted = wanted.to_lowercase();
        let entries = std::fs::read_dir(&self.dir).ok()?;
        let mut hits: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().to_lowercase() == wanted)
            .map(|e| e.path())
            .collect();
        hits.sort();
        hits.into_iter().next()
    }
}

impl Companions for DirCompanions {
    fn resolve(&self, name: &str) -> io::Result<PathBuf> {
        let normalized = name.replace('\\', "/");
        let direct = self.dir.join(&normalized);
        // Anything by that name, whatever it is: opening checks what it is (a FIFO or
        // `/dev/zero` named here is refused as such, not reported missing).
        if direct.exists() {
            return Ok(direct);
        }
        if let Some(p) = self.find_ci(&normalized) {
            return Ok(p);
        }
        if let Some(base) = normalized.rsplit('/').next()
            && let Some(p) = self.find_ci(base)
        {
            return Ok(p);
        }
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{} not found (looked for {name:?} in {}, any case)",
                direct.display(),
                self.dir.display()
            ),
        ))
    }

    fn open(&self, name: &str) -> io::Result<Arc<dyn ByteSource>> {
        let path = self.resolve(name)?;
        let src = FileSource::open(&path).map_err(|e| crate::open::name_error(&path, e))?;
        Ok(Arc::new(src))
    }
}
