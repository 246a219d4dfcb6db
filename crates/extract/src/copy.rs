//! File contents, copied by worker threads: each file is written under a temporary name in
//! its directory and renamed into place once complete; an unfinished one is removed.

use crate::out::{self, Dir};
use crate::{Error, Options};
use spindle_fs::{FileSystem, Metadata, NodeId, Time};
use std::collections::HashMap;
use std::fs::{File, FileTimes};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A file to copy out.
pub(crate) struct Job {
    pub node: NodeId,
    pub meta: Metadata,
    /// The mode to give it (special bits already dropped unless kept).
    pub mode: u32,
    pub dir: Arc<Dir>,
    pub name: String,
    /// Other names link to this file: remember which inode it became.
    pub linked: bool,
}

/// What the walker and the workers share.
pub(crate) struct Shared<'a> {
    pub fs: &'a dyn FileSystem,
    pub opts: &'a Options,
    pub cancel: &'a AtomicBool,
    /// Set on the first error anywhere: everyone stops.
    pub stop: AtomicBool,
    pub first_error: Mutex<Option<Error>>,
    pub umask: Option<u32>,
    pub no_kernel_copy: AtomicBool,
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub removed: Mutex<Vec<PathBuf>>,
    /// Image inode → (device, inode) of the file written for it, for hard links.
    pub written: Mutex<HashMap<u64, (u64, u64)>>,
}

impl Shared<'_> {
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.cancel.load(Ordering::Relaxed)
    }

    /// Records an error (the first one wins) and stops everyone.
    pub fn fail(&self, e: Error) {
        if !matches!(e, Error::Interrupted) {
            let mut first = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
            first.get_or_insert(e);
        }
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A temporary file: removed unless it was given its name (and listed while unfinished).
struct Temp<'a> {
    dir: &'a Dir,
    tmp: Option<String>,
    name: &'a str,
    complete: bool,
    removed: &'a Mutex<Vec<PathBuf>>,
}

impl Drop for Temp<'_> {
    fn drop(&mut self) {
        if let Some(t) = self.tmp.take()
            && self.dir.remove_temp(&t).is_ok()
            && !self.complete
        {
            self.removed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(self.dir.path().join(self.name));
        }
    }
}

pub(crate) fn to_system(t: Time) -> SystemTime {
    let nanos = Duration::from_nanos(t.nanos.min(999_999_999) as u64);
    if t.secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(t.secs as u64) + nanos
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(t.secs.unsigned_abs()))
            .map_or(UNIX_EPOCH, |s| s + nanos)
    }
}

/// The bytes copied per step: a cancel is noticed between steps.
const STEP: u64 = 8 << 20;

/// One worker: takes batches until the queue closes; after a stop it drops what it takes,
/// so the walker never blocks on a full queue.
pub(crate) fn worker(shared: &Shared<'_>, rx: &Mutex<std::sync::mpsc::Receiver<Vec<Job>>>) {
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let batch = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(b) => b,
            Err(_) => return,
        };
        for job in &batch {
            if shared.stopped() {
                break;
            }
            match copy_file(shared, job, &mut buf) {
                Ok(n) => {
                    shared.files.fetch_add(1, Ordering::Relaxed);
                    shared.bytes.fetch_add(n, Ordering::Relaxed);
                }
                Err(e) => shared.fail(e),
            }
        }
    }
}

/// Copies one file's content under a temporary name, sets its times and mode through the
/// descriptor, and renames it into place; returns the bytes copied. Content stored as is in
/// the image file is copied by the kernel (`copy_file_range`); the rest (zisofs, other
/// image formats) is read and written through `buf`.
fn copy_file(shared: &Shared<'_>, job: &Job, buf: &mut [u8]) -> Result<u64, Error> {
    let dir = &job.dir;
    let path = || dir.path().join(&job.name);
    let read_err = |source| Error::Read {
        path: path(),
        source,
    };
    let write_err = |source| Error::Write {
        path: path(),
        source,
    };
    // The final mode at creation when the umask leaves it whole (no fchmod needed).
    let exact = shared
        .umask
        .is_some_and(|u| job.mode & u == 0 && job.mode & 0o7000 == 0);
    let (tmp, f) = dir.create_temp(job.mode & 0o777, &job.name)?;
    let mut temp = Temp {
        dir,
        tmp: Some(tmp),
        name: &job.name,
        complete: false,
        removed: &shared.removed,
    };
    let mut off = 0u64;
    let mut kernel = !shared.no_kernel_copy.load(Ordering::Relaxed);
    loop {
        if shared.stopped() {
            return Err(Error::Interrupted);
        }
        if kernel && let Some(run) = shared.fs.content_run(job.node, off).map_err(read_err)? {
            match spindle_fs::copy_file_range(run.file, run.offset, &f, off, run.len.min(STEP)) {
                Ok(n) if n > 0 => {
                    off += n;
                    continue;
                }
                // The image file ends early: read the rest.
                Ok(_) => kernel = false,
                // The kernel cannot copy between these files (another filesystem: EXDEV):
                // read this file and every later one.
                Err(_) => {
                    shared.no_kernel_copy.store(true, Ordering::Relaxed);
                    kernel = false;
                }
            }
        }
        let want = buf.len().min(STEP as usize);
        let n = shared
            .fs
            .read(job.node, off, &mut buf[..want])
            .map_err(read_err)?;
        if n == 0 {
            break;
        }
        f.write_all_at(&buf[..n], off).map_err(write_err)?;
        off += n as u64;
    }
    if off < job.meta.size {
        // A sparse tail (or a reader that stops early) still gets the recorded size.
        f.set_len(job.meta.size).map_err(write_err)?;
    }
    finish(&f, job, exact).map_err(write_err)?;
    let id = if job.linked {
        Some(out::identity(&f).map_err(write_err)?)
    } else {
        None
    };
    drop(f);
    temp.complete = true;
    let tmp = temp.tmp.as_deref().expect("set above");
    dir.publish(tmp, &job.name, shared.opts.overwrite)?;
    temp.tmp = None;
    if let Some(id) = id {
        shared
            .written
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(job.meta.ino, id);
    }
    Ok(off)
}

/// Times, then the mode (after the last write, which would clear setuid/setgid).
fn finish(f: &File, job: &Job, exact: bool) -> std::io::Result<()> {
    f.set_times(
        FileTimes::new()
            .set_accessed(to_system(job.meta.atime))
            .set_modified(to_system(job.meta.mtime)),
    )?;
    if !exact {
        f.set_permissions(std::fs::Permissions::from_mode(job.mode))?;
    }
    Ok(())
}
