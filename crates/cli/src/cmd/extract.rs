//! `spindle extract`: copies files out of an image, keeping modes, times, symlinks and hard
//! links. Names from the image are never trusted as paths: an entry named `..`, `.`, or with
//! a `/` or NUL in it is skipped with a warning, so nothing lands outside the output folder.

use super::fsview::{self, FsChoice};
use anyhow::{Context, Result};
use spindle_fs::{FileKind, FileSystem, Metadata, NodeId, Time, resolve};
use std::collections::HashMap;
use std::fs::{self, File, FileTimes};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(clap::Args)]
pub struct Args {
    /// The image.
    image: PathBuf,
    /// A file or directory inside the image (default: everything).
    #[arg(default_value = "/")]
    path: String,
    /// The folder to extract into (created if missing).
    #[arg(short = 'o', long = "output")]
    output: PathBuf,
    /// Which filesystem view to read.
    #[arg(long = "fs", value_enum)]
    fs: Option<FsChoice>,
}

#[derive(Default)]
struct Stats {
    files: u64,
    dirs: u64,
    symlinks: u64,
    hardlinks: u64,
    bytes: u64,
    skipped: u64,
}

/// What each worker reports: (files, bytes) copied, or its first error.
type WorkerResult = Result<(u64, u64)>;

/// A file to copy out: done by the worker threads.
struct Job {
    node: NodeId,
    meta: Metadata,
    to: PathBuf,
}

/// Walks the tree on one thread (directories, symlinks, hard-link bookkeeping) and hands file
/// contents to a pool of workers: on a filesystem where creating a file costs a syscall
/// round trip or a journal entry, several in flight beat one at a time.
struct Walker<'a> {
    fs: &'a dyn FileSystem,
    jobs: std::sync::mpsc::SyncSender<Vec<Job>>,
    /// Jobs gathered for the next send: files go out in batches so that the queue is not a
    /// point of contention with 20,000 small files.
    batch: Vec<Job>,
    /// First path extracted for each file identity, for hard links.
    links: HashMap<u64, PathBuf>,
    /// Hard links to make once every file is written: (existing, new).
    pending_links: Vec<(PathBuf, PathBuf)>,
    /// Directories whose mode and times are set once their contents are in.
    dirs: Vec<(PathBuf, Metadata)>,
    stats: Stats,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let fs = fsview::open(&a.image, a.fs)?;
    let node = resolve(fs.as_ref(), &a.path)?;
    fs::create_dir_all(&a.output).with_context(|| format!("creating {}", a.output.display()))?;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Job>>(64);
    let rx = std::sync::Mutex::new(rx);
    let fs_ref: &dyn FileSystem = fs.as_ref();
    let umask = umask();
    let no_kernel_copy = &AtomicBool::new(false);
    let rx = &rx;
    let (walk, copied) = std::thread::scope(|scope| -> Result<(Walker, Vec<WorkerResult>)> {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(move || -> WorkerResult {
                    let mut buf = vec![0u8; 1 << 20];
                    let (mut files, mut bytes) = (0u64, 0u64);
                    let mut failed = None;
                    loop {
                        let batch = match rx.lock().expect("job queue").recv() {
                            Ok(b) => b,
                            Err(_) => return failed.map_or(Ok((files, bytes)), Err),
                        };
                        // After a failure keep taking jobs (and dropping them), so the walker
                        // never blocks on a full queue; the first error is reported at the end.
                        for job in &batch {
                            if failed.is_some() {
                                break;
                            }
                            match copy_file(fs_ref, job, &mut buf, umask, no_kernel_copy) {
                                Ok(n) => {
                                    bytes += n;
                                    files += 1;
                                }
                                Err(e) => failed = Some(e),
                            }
                        }
                    }
                })
            })
            .collect();
        let mut w = Walker {
            fs: fs_ref,
            jobs: tx,
            batch: Vec::new(),
            links: HashMap::new(),
            pending_links: Vec::new(),
            dirs: Vec::new(),
            stats: Stats::default(),
        };
        let walked = (|| -> Result<()> {
            let meta = fs_ref.metadata(node)?;
            if meta.kind == FileKind::Dir {
                w.dir_contents(node, &a.output)?;
                w.dirs.push((a.output.clone(), meta));
            } else {
                let name = a.path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("file").to_string();
                w.entry(node, &a.output.join(name))?;
            }
            w.flush()
        })();
        // Closing the queue lets the workers finish.
        let (dummy, _) = std::sync::mpsc::sync_channel(0);
        drop(std::mem::replace(&mut w.jobs, dummy));
        let copied = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("an extraction worker panicked"))))
            .collect();
        walked?;
        Ok((w, copied))
    })?;
    let mut stats = walk.stats;
    for r in copied {
        let (files, bytes) = r?;
        stats.files += files;
        stats.bytes += bytes;
    }
    for (first, to) in &walk.pending_links {
        let _ = fs::remove_file(to);
        fs::hard_link(first, to).with_context(|| format!("linking {} to {}", to.display(), first.display()))?;
        stats.hardlinks += 1;
    }
    // Deepest first, so that a read-only parent is locked only after its children are in.
    for (path, meta) in walk.dirs.iter().rev() {
        let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        set_mode_and_times(&f, path, meta)?;
    }
    let s = &stats;
    eprintln!(
        "extracted {} files ({} bytes), {} directories, {} symlinks, {} hard links to {}{}",
        s.files,
        s.bytes,
        s.dirs,
        s.symlinks,
        s.hardlinks,
        a.output.display(),
        if s.skipped > 0 {
            format!("; skipped {}", s.skipped)
        } else {
            String::new()
        }
    );
    // The process ends here: leave the reader's caches to the OS.
    std::mem::forget(fs);
    Ok(ExitCode::SUCCESS)
}

fn safe_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/') && !name.contains('\0')
}

fn to_system(t: Time) -> SystemTime {
    if t.secs >= 0 {
        UNIX_EPOCH + Duration::new(t.secs as u64, t.nanos.min(999_999_999))
    } else {
        UNIX_EPOCH - Duration::from_secs(t.secs.unsigned_abs()) + Duration::from_nanos(t.nanos.min(999_999_999) as u64)
    }
}

/// Sets mode and times through an open handle (no second path lookup).
fn set_mode_and_times(f: &File, path: &Path, m: &Metadata) -> Result<()> {
    f.set_times(FileTimes::new().set_accessed(to_system(m.atime)).set_modified(to_system(m.mtime)))
        .with_context(|| format!("setting times of {}", path.display()))?;
    f.set_permissions(fs::Permissions::from_mode(m.mode & 0o7777))
        .with_context(|| format!("setting the mode of {}", path.display()))?;
    Ok(())
}

/// The process umask, from `/proc/self/status` (`None` when it cannot be read).
fn umask() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
    u32::from_str_radix(line.trim(), 8).ok()
}

/// Creates `to` for writing. A new file gets its final mode at creation when the umask
/// leaves it whole (no `fchmod` needed: returns true); an existing one is truncated.
fn create(to: &Path, mode: u32, umask: Option<u32>) -> std::io::Result<(File, bool)> {
    use std::os::unix::fs::OpenOptionsExt;
    let exact = umask.is_some_and(|u| mode & u == 0 && mode & 0o7000 == 0);
    match fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(to) {
        Ok(f) => Ok((f, exact)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok((File::create(to)?, false)),
        Err(e) => Err(e),
    }
}

/// Copies one file's content; returns the bytes copied. Content stored as is in the image
/// file is copied by the kernel (`copy_file_range`: no pass through user space); the rest
/// (zisofs, other image formats) is read and written through `buf`.
fn copy_file(fs: &dyn FileSystem, job: &Job, buf: &mut [u8], umask: Option<u32>, no_kernel_copy: &AtomicBool) -> Result<u64> {
    let to = &job.to;
    let mode = job.meta.mode & 0o7777;
    let (f, mode_set) = create(to, mode, umask).with_context(|| format!("creating {}", to.display()))?;
    let mut off = 0u64;
    let mut kernel = !no_kernel_copy.load(Ordering::Relaxed);
    loop {
        if kernel && let Some(run) = fs.content_run(job.node, off).with_context(|| format!("reading {}", to.display()))? {
            match spindle_fs::copy_file_range(run.file, run.offset, &f, off, run.len) {
                Ok(n) if n > 0 => {
                    off += n;
                    continue;
                }
                // The image file ends early: read the rest.
                Ok(_) => kernel = false,
                // The kernel cannot copy between these files (another filesystem: EXDEV):
                // read this file and every later one.
                Err(_) => {
                    no_kernel_copy.store(true, Ordering::Relaxed);
                    kernel = false;
                }
            }
        }
        let n = fs.read(job.node, off, buf).with_context(|| format!("reading {}", to.display()))?;
        if n == 0 {
            break;
        }
        std::os::unix::fs::FileExt::write_all_at(&f, &buf[..n], off).with_context(|| format!("writing {}", to.display()))?;
        off += n as u64;
    }
    if off < job.meta.size {
        // A sparse tail (or a reader that stops early) still gets the recorded size.
        f.set_len(job.meta.size)?;
    }
    f.set_times(
        FileTimes::new()
            .set_accessed(to_system(job.meta.atime))
            .set_modified(to_system(job.meta.mtime)),
    )
    .with_context(|| format!("setting times of {}", to.display()))?;
    if !mode_set {
        f.set_permissions(fs::Permissions::from_mode(mode))
            .with_context(|| format!("setting the mode of {}", to.display()))?;
    }
    Ok(off)
}

impl Walker<'_> {
    fn flush(&mut self) -> Result<()> {
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            self.jobs.send(batch).map_err(|_| anyhow::anyhow!("extraction workers stopped"))?;
        }
        Ok(())
    }

    fn dir_contents(&mut self, dir: NodeId, to: &Path) -> Result<()> {
        for e in self.fs.read_dir(dir)? {
            if !safe_name(&e.name) {
                eprintln!("spindle: warning: skipping an entry named {:?} in {}", e.name, to.display());
                self.stats.skipped += 1;
                continue;
            }
            self.entry(e.node, &to.join(&e.name))?;
        }
        Ok(())
    }

    fn entry(&mut self, node: NodeId, to: &Path) -> Result<()> {
        let m = self.fs.metadata(node)?;
        match m.kind {
            FileKind::Dir => {
                match fs::create_dir(to) {
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && to.is_dir() => {}
                    r => r.with_context(|| format!("creating {}", to.display()))?,
                }
                self.stats.dirs += 1;
                self.dir_contents(node, to)?;
                self.dirs.push((to.to_path_buf(), m));
            }
            FileKind::Symlink => {
                let target = self.fs.read_link(node)?;
                let _ = fs::remove_file(to);
                std::os::unix::fs::symlink(&target, to).with_context(|| format!("creating symlink {}", to.display()))?;
                self.stats.symlinks += 1;
            }
            FileKind::File => {
                if m.nlink > 1 {
                    if let Some(first) = self.links.get(&m.ino) {
                        self.pending_links.push((first.clone(), to.to_path_buf()));
                        return Ok(());
                    }
                    self.links.insert(m.ino, to.to_path_buf());
                }
                let big = m.size >= 1 << 20;
                self.batch.push(Job {
                    node,
                    meta: m,
                    to: to.to_path_buf(),
                });
                if big || self.batch.len() >= 32 {
                    self.flush()?;
                }
            }
            other => {
                eprintln!(
                    "spindle: warning: skipping {} ({other:?}: device nodes, FIFOs and sockets are not created)",
                    to.display()
                );
                self.stats.skipped += 1;
            }
        }
        Ok(())
    }
}
