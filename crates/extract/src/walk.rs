//! The walk: one thread goes through the image's tree (without recursion: a stack of open
//! output directories), makes directories and symbolic links itself, and hands file contents
//! to a pool of workers, in batches per directory. Hard links and directory modes and times
//! come last, once every file is in.

use crate::copy::{self, Job, Shared};
use crate::name::{self, Shown};
use crate::out::Dir;
use crate::{Error, MAX_DEPTH, Options, Report, Stats};
use spindle_fs::{DirEntry, FileKind, FileSystem, Metadata, NodeId};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A directory being filled.
struct Frame {
    dir: Arc<Dir>,
    entries: std::vec::IntoIter<DirEntry>,
    /// Names already taken in this directory by earlier entries of the image.
    seen: HashSet<String>,
    /// The image directory's metadata (its mode and times are set at the end); `None` for
    /// the output folder of a single-entry extract.
    meta: Option<Metadata>,
}

/// A hard link made once every file is written.
struct Link {
    src: (Vec<String>, String),
    dst: (Vec<String>, String),
    ino: u64,
}

struct Walker<'a, 's> {
    shared: &'s Shared<'a>,
    warn: &'s (dyn Fn(&str) + Sync),
    jobs: std::sync::mpsc::SyncSender<Vec<Job>>,
    /// Jobs gathered for the next send (all in one directory).
    batch: Vec<Job>,
    /// First name extracted for each file identity: (directory names, name).
    first: HashMap<u64, (Vec<String>, String)>,
    links: Vec<Link>,
    /// Directories whose mode and times are set once their contents are in.
    dirs: Vec<(Vec<String>, Metadata)>,
    /// Image directories already extracted: one listed twice (a loop, or two names for one
    /// directory) is not extracted again.
    dirs_seen: HashSet<NodeId>,
    stats: Stats,
}

pub(crate) fn run(
    fs: &dyn FileSystem,
    node: NodeId,
    name: &str,
    root: Dir,
    opts: &Options,
    cancel: &AtomicBool,
    warn: &(dyn Fn(&str) + Sync),
) -> Report {
    let shared = Shared {
        fs,
        opts,
        cancel,
        stop: AtomicBool::new(false),
        first_error: Mutex::new(None),
        umask: umask(),
        no_kernel_copy: AtomicBool::new(false),
        files: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        removed: Mutex::new(Vec::new()),
        written: Mutex::new(HashMap::new()),
    };
    let root = Arc::new(root);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Job>>(64);
    let rx = Mutex::new(rx);
    let mut stats = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..opts.workers.max(1))
            .map(|_| scope.spawn(|| copy::worker(&shared, &rx)))
            .collect();
        let mut w = Walker {
            shared: &shared,
            warn,
            jobs: tx,
            batch: Vec::new(),
            first: HashMap::new(),
            links: Vec::new(),
            dirs: Vec::new(),
            dirs_seen: HashSet::new(),
            stats: Stats::default(),
        };
        if let Err(e) = w.walk(node, name, &root) {
            shared.fail(e);
        }
        if let Err(e) = w.flush() {
            shared.fail(e);
        }
        // Closing the queue lets the workers finish.
        drop(w.jobs);
        for h in workers {
            if h.join().is_err() {
                shared.fail(Error::WorkerPanicked);
            }
        }
        let mut stats = w.stats;
        if !shared.stopped() {
            let r = finish_links(&root, &w.links, &shared, &mut stats)
                .and_then(|()| finish_dirs(&root, &w.dirs));
            if let Err(e) = r {
                shared.fail(e);
            }
        }
        stats
    });
    stats.files = shared.files.load(Ordering::Relaxed);
    stats.bytes = shared.bytes.load(Ordering::Relaxed);
    let error = shared
        .first_error
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    let result = match error {
        Some(e) => Err(e),
        None if cancel.load(Ordering::Relaxed) => Err(Error::Interrupted),
        None => Ok(()),
    };
    Report {
        stats,
        removed: shared
            .removed
            .into_inner()
            .unwrap_or_else(|p| p.into_inner()),
        result,
    }
}

/// Hard links, each checked to reach the file this run wrote for its first name.
fn finish_links(
    root: &Dir,
    links: &[Link],
    shared: &Shared<'_>,
    stats: &mut Stats,
) -> Result<(), Error> {
    let written = shared.written.lock().unwrap_or_else(|p| p.into_inner());
    let mut src_dir: Option<Dir> = None;
    let mut dst_dir: Option<Dir> = None;
    for l in links {
        if shared.stopped() {
            return Err(Error::Interrupted);
        }
        let Some(&want) = written.get(&l.ino) else {
            continue;
        };
        if src_dir.as_ref().is_none_or(|d| d.rel != l.src.0) {
            src_dir = Some(root.open_below(&l.src.0)?);
        }
        if dst_dir.as_ref().is_none_or(|d| d.rel != l.dst.0) {
            dst_dir = Some(root.open_below(&l.dst.0)?);
        }
        let (s, d) = (
            src_dir.as_ref().expect("set"),
            dst_dir.as_ref().expect("set"),
        );
        d.hard_link(&l.dst.1, s, &l.src.1, want, shared.opts.overwrite)?;
        stats.hardlinks += 1;
    }
    Ok(())
}

/// Directory modes and times, deepest first (a read-only parent is locked only after its
/// children are in).
fn finish_dirs(root: &Dir, dirs: &[(Vec<String>, Metadata)]) -> Result<(), Error> {
    for (rel, meta) in dirs.iter().rev() {
        let d = root.open_below(rel)?;
        d.set_attrs(meta.mode, &timestamps(meta))?;
    }
    Ok(())
}

fn timestamps(m: &Metadata) -> rustix::fs::Timestamps {
    let ts = |t: spindle_fs::Time| rustix::time::Timespec {
        tv_sec: t.secs,
        tv_nsec: t.nanos.min(999_999_999) as _,
    };
    rustix::fs::Timestamps {
        last_access: ts(m.atime),
        last_modification: ts(m.mtime),
    }
}

/// The process umask, from `/proc/self/status` (`None` when it cannot be read).
fn umask() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
    u32::from_str_radix(line.trim(), 8).ok()
}

fn kind_name(k: FileKind) -> &'static str {
    match k {
        FileKind::CharDevice => "a character device",
        FileKind::BlockDevice => "a block device",
        FileKind::Fifo => "a FIFO",
        FileKind::Socket => "a socket",
        FileKind::Dir => "a directory",
        FileKind::Symlink => "a symbolic link",
        FileKind::File => "a file",
    }
}

impl Walker<'_, '_> {
    fn warn(&mut self, msg: String) {
        (self.warn)(&msg);
    }

    fn read_err(path: &Path) -> impl Fn(spindle_fs::FsError) -> Error + '_ {
        move |source| Error::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The mode to give an entry; counts dropped special bits.
    fn mode(&mut self, m: &Metadata) -> u32 {
        let mode = if self.shared.opts.keep_special_bits {
            m.mode & 0o7777
        } else {
            if m.mode & 0o7000 != 0 {
                self.stats.bits_dropped += 1;
            }
            m.mode & 0o777
        };
        mode & !(self.shared.opts.umask & 0o777)
    }

    fn walk(&mut self, node: NodeId, name: &str, root: &Arc<Dir>) -> Result<(), Error> {
        let fs = self.shared.fs;
        let meta = fs.metadata(node).map_err(Self::read_err(root.path()))?;
        let mut stack = Vec::new();
        if meta.kind == FileKind::Dir {
            self.dirs_seen.insert(node);
            let entries = fs.read_dir(node).map_err(Self::read_err(root.path()))?;
            stack.push(Frame {
                dir: root.clone(),
                entries: entries.into_iter(),
                seen: HashSet::new(),
                meta: Some(meta),
            });
        } else {
            let one = DirEntry {
                name: name.to_string(),
                node,
                kind: meta.kind,
            };
            stack.push(Frame {
                dir: root.clone(),
                entries: vec![one].into_iter(),
                seen: HashSet::new(),
                meta: None,
            });
        }
        while let Some(top) = stack.last_mut() {
            if self.shared.stopped() {
                return Err(Error::Interrupted);
            }
            let Some(e) = top.entries.next() else {
                let done = stack.pop().expect("not empty");
                // A directory that was there before keeps its own mode and times.
                if let Some(m) = done.meta.filter(|_| done.dir.fresh) {
                    let mode = self.mode(&m);
                    self.dirs
                        .push((done.dir.rel.clone(), Metadata { mode, ..m }));
                }
                continue;
            };
            let parent = top.dir.clone();
            if let Some(why) = name::refusal(&e.name) {
                self.warn(format!(
                    "skipping {} in {}: {why}",
                    format_args!("{:?}", e.name),
                    Shown(parent.path())
                ));
                self.stats.skipped += 1;
                continue;
            }
            if !top.seen.insert(e.name.clone()) {
                self.warn(format!(
                    "skipping {}: the name appears again in the image's directory (the first entry is kept)",
                    Shown(&parent.path().join(&e.name))
                ));
                self.stats.skipped += 1;
                continue;
            }
            let depth = stack.len();
            if let Some(frame) = self.entry(&parent, e, depth)? {
                stack.push(frame);
            }
        }
        Ok(())
    }

    /// Makes one entry; returns the frame of a directory to fill next.
    fn entry(
        &mut self,
        parent: &Arc<Dir>,
        e: DirEntry,
        depth: usize,
    ) -> Result<Option<Frame>, Error> {
        let fs = self.shared.fs;
        let overwrite = self.shared.opts.overwrite;
        let path = parent.path().join(&e.name);
        let m = fs.metadata(e.node).map_err(Self::read_err(&path))?;
        match m.kind {
            FileKind::Dir => {
                if depth >= MAX_DEPTH {
                    self.warn(format!(
                        "skipping {}: deeper than {MAX_DEPTH} directory levels",
                        Shown(&path)
                    ));
                    self.stats.skipped += 1;
                    return Ok(None);
                }
                if !self.dirs_seen.insert(e.node) {
                    self.warn(format!(
                        "skipping {}: the image lists this directory a second time (a loop, or two names for one directory)",
                        Shown(&path)
                    ));
                    self.stats.skipped += 1;
                    return Ok(None);
                }
                let entries = fs.read_dir(e.node).map_err(Self::read_err(&path))?;
                let dir = parent.make_dir(&e.name, overwrite)?;
                self.stats.dirs += 1;
                Ok(Some(Frame {
                    dir: Arc::new(dir),
                    entries: entries.into_iter(),
                    seen: HashSet::new(),
                    meta: Some(m),
                }))
            }
            FileKind::Symlink => {
                let target = fs.read_link(e.node).map_err(Self::read_err(&path))?;
                if target.is_empty() || target.contains('\0') {
                    self.warn(format!(
                        "skipping the symbolic link {}: its target {:?} cannot be stored",
                        Shown(&path),
                        target
                    ));
                    self.stats.skipped += 1;
                    return Ok(None);
                }
                parent.symlink(&e.name, &target, Some(&timestamps(&m)), overwrite)?;
                self.stats.symlinks += 1;
                Ok(None)
            }
            FileKind::File => {
                parent.check_free(&e.name, overwrite)?;
                let mode = self.mode(&m);
                if m.nlink > 1 {
                    if let Some(first) = self.first.get(&m.ino) {
                        self.links.push(Link {
                            src: first.clone(),
                            dst: (parent.rel.clone(), e.name),
                            ino: m.ino,
                        });
                        return Ok(None);
                    }
                    self.first
                        .insert(m.ino, (parent.rel.clone(), e.name.clone()));
                }
                if self
                    .batch
                    .first()
                    .is_some_and(|j| !Arc::ptr_eq(&j.dir, parent))
                {
                    self.flush()?;
                }
                let big = m.size >= 1 << 20;
                self.batch.push(Job {
                    node: e.node,
                    linked: m.nlink > 1,
                    meta: m,
                    mode,
                    dir: parent.clone(),
                    name: e.name,
                });
                if big || self.batch.len() >= 32 {
                    self.flush()?;
                }
                Ok(None)
            }
            other => {
                self.warn(format!(
                    "not creating {}: {} (extract makes no device nodes, FIFOs or sockets)",
                    Shown(&path),
                    kind_name(other)
                ));
                self.stats.special += 1;
                Ok(None)
            }
        }
    }

    fn flush(&mut self) -> Result<(), Error> {
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            // The workers only stop taking jobs once the queue closes: a failed send means
            // they are gone, which the join reports.
            self.jobs.send(batch).map_err(|_| Error::WorkerPanicked)?;
        }
        Ok(())
    }
}
