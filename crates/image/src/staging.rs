//! Outputs that appear only when complete.
//!
//! A writer writes into a fresh hidden folder beside the target (`.spindle-convert-XXXXXX`,
//! same filesystem, so moving out of it is a rename). Once every file is written and read back,
//! each is flushed to disk and renamed over its final name: the data files first, the
//! descriptor (the file the user named) last, then the folder is synced. Until then the
//! previous outputs stay as they were; on an error or a cancel the folder and everything in it
//! is removed.

use crate::ImageError;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Prefix of the hidden work folder.
pub const STAGING_PREFIX: &str = ".spindle-convert-";

/// `dir`, or `.` for the empty path of a bare file name.
fn real_dir(dir: &Path) -> &Path {
    if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }
}

/// The work folder of one conversion.
pub struct Staging {
    dir: tempfile::TempDir,
    target_dir: PathBuf,
}

/// A file that was removed unfinished: the name it would have had and the bytes written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removed {
    /// The name the finished file would have had.
    pub path: PathBuf,
    /// Bytes that had been written to it.
    pub bytes: u64,
}

impl Staging {
    /// Creates the work folder in the folder of `out`.
    pub fn beside(out: &Path) -> Result<Staging, ImageError> {
        // As given (empty for a bare file name), so that reported paths look like `out`.
        let target_dir = out.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = tempfile::Builder::new()
            .prefix(STAGING_PREFIX)
            .tempdir_in(real_dir(&target_dir))
            .map_err(|e| ImageError::Write {
                path: out.to_path_buf(),
                source: format!(
                    "cannot create a work folder in {}: {e}",
                    real_dir(&target_dir).display()
                )
                .into(),
            })?;
        Ok(Staging { dir, target_dir })
    }

    /// Where the writer writes `out` (its companions land beside it).
    pub fn path_for(&self, out: &Path) -> PathBuf {
        self.dir.path().join(out.file_name().unwrap_or_default())
    }

    /// The final path of a file in the work folder.
    fn final_path(&self, staged: &Path) -> PathBuf {
        self.target_dir.join(staged.file_name().unwrap_or_default())
    }

    /// Moves `files` (written in the work folder) into place, `descriptor` last, and returns
    /// their final paths in the order given. A failure part-way puts back the previous
    /// outputs it had replaced.
    pub fn commit(self, files: &[PathBuf], descriptor: &Path) -> Result<Vec<PathBuf>, ImageError> {
        let werr = |path: &Path, what: String| ImageError::Write {
            path: path.to_path_buf(),
            source: what.into(),
        };
        let Some(desc) = files.iter().find(|f| f.as_path() == descriptor) else {
            return Err(werr(
                descriptor,
                "the writer did not report writing it".into(),
            ));
        };
        let mut order: Vec<&PathBuf> = files.iter().filter(|f| f.as_path() != descriptor).collect();
        order.push(desc);
        for f in &order {
            if !f.starts_with(self.dir.path()) {
                return Err(werr(f, "the writer wrote outside its work folder".into()));
            }
            // Flush before the rename, so that a crash cannot leave a renamed but empty file.
            File::open(f)
                .and_then(|h| h.sync_all())
                .map_err(|e| werr(f, format!("flushing to disk: {e}")))?;
            let fin = self.final_path(f);
            if fin.is_dir() {
                return Err(werr(&fin, "is a directory".into()));
            }
        }
        // Keep a link to each previous output, to put it back if a later rename fails.
        let mut backups = Vec::new();
        for f in &order {
            let fin = self.final_path(f);
            let keep = self.dir.path().join(format!(
                "{}.previous",
                f.file_name().unwrap_or_default().to_string_lossy()
            ));
            if std::fs::hard_link(&fin, &keep).is_ok() {
                backups.push((fin, keep));
            }
        }
        let mut done = Vec::new();
        for f in &order {
            let fin = self.final_path(f);
            if let Err(e) = std::fs::rename(f, &fin) {
                for (fin, keep) in &backups {
                    if done.contains(fin) {
                        let _ = std::fs::rename(keep, fin);
                    }
                }
                for fin in done
                    .iter()
                    .filter(|d| !backups.iter().any(|(b, _)| b == *d))
                {
                    let _ = std::fs::remove_file(fin);
                }
                return Err(werr(&fin, format!("moving the new file into place: {e}")));
            }
            done.push(fin);
        }
        if let Ok(d) = File::open(real_dir(&self.target_dir)) {
            let _ = d.sync_all();
        }
        // `self.dir` (now only the links to the previous outputs) goes on drop.
        let mut out: Vec<PathBuf> = files.iter().map(|f| self.final_path(f)).collect();
        out.dedup();
        Ok(out)
    }

    /// Removes the work folder; returns what was in it under the names it would have had.
    pub fn discard(self) -> Vec<Removed> {
        let mut removed: Vec<Removed> = std::fs::read_dir(self.dir.path())
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| Removed {
                        path: self.final_path(&e.path()),
                        bytes: e.metadata().map_or(0, |m| m.len()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        removed.sort_by(|a, b| a.path.cmp(&b.path));
        let path = self.dir.path().to_path_buf();
        if self.dir.close().is_err() {
            // A writer thread may still have been creating a file: try once more.
            let _ = std::fs::remove_dir_all(&path);
        }
        removed
    }
}
