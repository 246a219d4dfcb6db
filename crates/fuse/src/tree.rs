//! The file tree of a disc (any `spindle_fs::FileSystem`) as a FUSE filesystem.
//!
//! Inode numbers: the root is 1; every other node gets a number the first time the kernel
//! sees it (lookup, readdirplus), keyed by its `Metadata::ino` (so hard links share one
//! inode and `nlink` holds), and keeps it for the life of the mount. Numbers come from one
//! counter that never goes back, so after a swap ([`TreeState::swap`]) no number of the old
//! disc names a file of the new one: the kernel's cached pages and attributes of an old
//! inode can never show up as new content.

use crate::splice::Splicer;
use crate::stream::{Served, Stream};
use crate::{Stats, attr};
use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, INodeNo, InitFlags,
    KernelConfig, LockOwner, Notifier, OpenFlags, ReplyAttr, ReplyData, ReplyDirectory,
    ReplyDirectoryPlus, ReplyEntry, ReplyOpen, ReplyStatfs, Request,
};
use spindle_fs::{DirEntry, FileSystem, NodeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

/// One disc shown by the mount: the filesystem and its swap generation.
pub(crate) struct Gen {
    pub fs: Arc<dyn FileSystem>,
    pub number: u64,
}

#[derive(Clone, Copy)]
struct Entry {
    node: NodeId,
    parent: u64,
    /// Components below the root (the root: 0). Nothing deeper than
    /// [`spindle_fs::MAX_DEPTH`] gets an inode: a hostile image may nest directories as deep
    /// as it likes, the mount shows what `spindle ls -R` shows.
    depth: u32,
}

struct Tables {
    shown: Arc<Gen>,
    /// `Metadata::ino` → inode number.
    by_ident: HashMap<u64, u64>,
    /// Inode number → node.
    nodes: HashMap<u64, Entry>,
}

enum Handle {
    /// An open file; with direct I/O, its read-ahead.
    File(Arc<Gen>, NodeId, Option<Arc<Stream>>),
    Dir {
        shown: Arc<Gen>,
        ino: u64,
        parent: u64,
        entries: Arc<Vec<DirEntry>>,
    },
}

/// What an open directory handle holds: the tree it lists, its inode, its parent's, its entries.
type DirHandle = (Arc<Gen>, u64, u64, Arc<Vec<DirEntry>>);

pub(crate) struct TreeState {
    tables: RwLock<Tables>,
    /// Held (shared) by handlers that hand out inode numbers until they have replied, and
    /// (exclusively) by a swap, so that no reply naming an old inode reaches the kernel
    /// after the swap's invalidations.
    swap_lock: RwLock<()>,
    next_ino: AtomicU64,
    handles: Mutex<HashMap<u64, Handle>>,
    next_fh: AtomicU64,
    ttl: Duration,
    capacity: u64,
    /// Files of at least this size open with `FOPEN_DIRECT_IO` ([`crate::MountOptions::direct_io_from`]).
    direct_io_from: u64,
    /// The kernel took `FUSE_DIRECT_IO_ALLOW_MMAP` (else direct I/O would break shared
    /// mmap, so no file gets it).
    direct_io_ok: AtomicBool,
    /// A spliced reply failed once (logged once per mount).
    splice_failed: AtomicBool,
    /// Replies by splice(2) (set at mount time when possible).
    pub(crate) splicer: OnceLock<Splicer>,
    pub(crate) stats: Arc<Stats>,
}

fn log(what: &str, e: &dyn std::fmt::Display) {
    eprintln!("spindle-fuse: {what}: {e}");
}

impl TreeState {
    /// The directory open as `fh`, if it is one.
    fn dir_handle(&self, fh: FileHandle) -> Option<DirHandle> {
        match self.handles.lock().unwrap().get(&fh.0) {
            Some(Handle::Dir {
                shown,
                ino,
                parent,
                entries,
            }) => Some((shown.clone(), *ino, *parent, entries.clone())),
            _ => None,
        }
    }

    pub(crate) fn new(
        fs: Arc<dyn FileSystem>,
        opts: &crate::MountOptions,
        stats: Arc<Stats>,
    ) -> spindle_fs::Result<TreeState> {
        let tables = Self::tables_for(fs, 1)?;
        Ok(TreeState {
            tables: RwLock::new(tables),
            swap_lock: RwLock::new(()),
            next_ino: AtomicU64::new(2),
            handles: Mutex::new(HashMap::new()),
            next_fh: AtomicU64::new(1),
            ttl: opts.ttl,
            capacity: opts.capacity,
            direct_io_from: opts.direct_io_from,
            direct_io_ok: AtomicBool::new(false),
            splice_failed: AtomicBool::new(false),
            splicer: OnceLock::new(),
            stats,
        })
    }

    fn tables_for(fs: Arc<dyn FileSystem>, number: u64) -> spindle_fs::Result<Tables> {
        let root = fs.root();
        let meta = fs.metadata(root)?;
        let mut by_ident = HashMap::new();
        by_ident.insert(meta.ino, 1);
        let mut nodes = HashMap::new();
        nodes.insert(
            1,
            Entry {
                node: root,
                parent: 1,
                depth: 0,
            },
        );
        Ok(Tables {
            shown: Arc::new(Gen { fs, number }),
            by_ident,
            nodes,
        })
    }

    /// Replaces the disc; returns the generation now shown. The caller invalidates the
    /// kernel's caches of the root afterwards ([`invalidate_root`]).
    pub(crate) fn swap(&self, fs: Arc<dyn FileSystem>) -> spindle_fs::Result<Vec<String>> {
        let _excl = self.swap_lock.write().unwrap();
        let mut t = self.tables.write().unwrap();
        let old_names = t
            .shown
            .fs
            .read_dir(t.shown.fs.root())
            .map(|v| v.into_iter().map(|e| e.name).collect())
            .unwrap_or_default();
        let number = t.shown.number + 1;
        *t = Self::tables_for(fs, number)?;
        Ok(old_names)
    }

    pub(crate) fn current(&self) -> Arc<Gen> {
        self.tables.read().unwrap().shown.clone()
    }

    fn entry(&self, ino: u64) -> Result<(Arc<Gen>, Entry), Errno> {
        let t = self.tables.read().unwrap();
        match t.nodes.get(&ino) {
            Some(e) => Ok((t.shown.clone(), *e)),
            // An inode of a disc swapped out (or never handed out).
            None => Err(Errno::ESTALE),
        }
    }

    /// The inode number of `node` (metadata `meta_ino`) seen in directory `parent`; `None`
    /// when the disc was swapped or `node` would lie deeper than [`spindle_fs::MAX_DEPTH`].
    fn ino_for(&self, shown: &Gen, meta_ino: u64, node: NodeId, parent: u64) -> Option<u64> {
        {
            let t = self.tables.read().unwrap();
            if t.shown.number != shown.number {
                return None;
            }
            if let Some(&i) = t.by_ident.get(&meta_ino) {
                return Some(i);
            }
        }
        let mut t = self.tables.write().unwrap();
        if t.shown.number != shown.number {
            return None;
        }
        if let Some(&i) = t.by_ident.get(&meta_ino) {
            return Some(i);
        }
        let depth = t.nodes.get(&parent)?.depth + 1;
        if depth as usize > spindle_fs::MAX_DEPTH {
            return None;
        }
        let i = self.next_ino.fetch_add(1, Ordering::Relaxed);
        t.by_ident.insert(meta_ino, i);
        t.nodes.insert(
            i,
            Entry {
                node,
                parent,
                depth,
            },
        );
        Some(i)
    }

    fn attr_of(&self, shown: &Gen, node: NodeId, parent: u64) -> Result<FileAttr, Errno> {
        let meta = shown.fs.metadata(node).map_err(|e| {
            log(&format!("metadata of node {}", node.0), &e);
            attr::errno(&e)
        })?;
        let ino = if node == shown.fs.root() {
            1
        } else {
            self.ino_for(shown, meta.ino, node, parent)
                .ok_or(Errno::ESTALE)?
        };
        Ok(attr::from_meta(ino, &meta))
    }

    fn add_handle(&self, h: Handle) -> FileHandle {
        let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
        self.handles.lock().unwrap().insert(fh, h);
        FileHandle(fh)
    }
}

/// Tells the kernel to forget what it cached of the root (attributes, directory pages) and
/// the dentries of `names` in it, so that the next lookups reach the new disc.
pub(crate) fn invalidate_root(n: &Notifier, names: &[String]) {
    if let Err(e) = n.inval_inode(INodeNo(1), 0, 0) {
        log("invalidating the root", &e);
    }
    for name in names {
        if let Err(e) = n.inval_entry(INodeNo(1), OsStr::new(name))
            && e.raw_os_error() != Some(libc::ENOENT)
        {
            log(&format!("invalidating {name:?}"), &e);
        }
    }
}

thread_local! {
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Fills `buf` from `read(offset, ...)` until it is full or the content ends.
pub(crate) fn fill(
    buf: &mut [u8],
    offset: u64,
    read: &dyn Fn(u64, &mut [u8]) -> io::Result<usize>,
) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        let n = read(offset + done as u64, &mut buf[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    Ok(done)
}

/// Answers a READ with `size` bytes from `read`, through a per-thread buffer.
pub(crate) fn reply_read(
    stats: &Stats,
    reply: ReplyData,
    size: u32,
    offset: u64,
    what: &dyn Fn() -> String,
    read: &dyn Fn(u64, &mut [u8]) -> io::Result<usize>,
) {
    stats.reads.fetch_add(1, Ordering::Relaxed);
    BUF.with(|b| {
        let mut b = b.borrow_mut();
        if b.len() < size as usize {
            b.resize(size as usize, 0);
        }
        match fill(&mut b[..size as usize], offset, read) {
            Ok(n) => {
                stats.bytes.fetch_add(n as u64, Ordering::Relaxed);
                reply.data(&b[..n])
            }
            Err(e) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                log(
                    &format!("reading {} bytes at {offset} of {}", size, what()),
                    &e,
                );
                reply.error(Errno::EIO);
            }
        }
    });
}

pub(crate) struct TreeFs(pub Arc<TreeState>);

impl Filesystem for TreeFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> io::Result<()> {
        for caps in [
            InitFlags::FUSE_DO_READDIRPLUS | InitFlags::FUSE_READDIRPLUS_AUTO,
            InitFlags::FUSE_PARALLEL_DIROPS,
            InitFlags::FUSE_CACHE_SYMLINKS,
        ] {
            let _ = config.add_capabilities(caps);
        }
        // Shared mmap of a direct-I/O file (kernel 6.6+); without it no file gets direct I/O.
        let mmap_ok = config
            .add_capabilities(InitFlags::FUSE_DIRECT_IO_ALLOW_MMAP)
            .is_ok();
        self.0.direct_io_ok.store(mmap_ok, Ordering::Relaxed);
        if !mmap_ok && self.0.direct_io_from != u64::MAX {
            eprintln!(
                "spindle-fuse: the kernel lacks FUSE_DIRECT_IO_ALLOW_MMAP (6.6+): every file is read through the page cache"
            );
        }
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let s = &self.0;
        let _shared = s.swap_lock.read().unwrap();
        let (shown, dir) = match s.entry(parent.0) {
            Ok(x) => x,
            Err(e) => return reply.error(e),
        };
        let Some(name) = name.to_str() else {
            return reply.error(Errno::ENOENT);
        };
        if dir.depth as usize >= spindle_fs::MAX_DEPTH {
            log(
                &format!("looking up {name:?} in node {}", dir.node.0),
                &format!("nested deeper than {} directories", spindle_fs::MAX_DEPTH),
            );
            return reply.error(Errno::ENAMETOOLONG);
        }
        match shown.fs.lookup(dir.node, name) {
            Ok(Some(node)) => match s.attr_of(&shown, node, parent.0) {
                Ok(a) => reply.entry(&s.ttl, &a, fuser::Generation(shown.number)),
                Err(e) => reply.error(e),
            },
            Ok(None) => reply.error(Errno::ENOENT),
            Err(e) => {
                log(&format!("looking up {name:?} in node {}", dir.node.0), &e);
                reply.error(attr::errno(&e));
            }
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        let s = &self.0;
        // An open file of a swapped-out disc still answers from its handle.
        if let Some(fh) = fh
            && let Some(Handle::File(shown, node, _)) = s.handles.lock().unwrap().get(&fh.0)
        {
            return match shown.fs.metadata(*node) {
                Ok(m) => reply.attr(&s.ttl, &attr::from_meta(ino.0, &m)),
                Err(e) => reply.error(attr::errno(&e)),
            };
        }
        match s
            .entry(ino.0)
            .and_then(|(shown, e)| s.attr_of(&shown, e.node, e.parent))
        {
            Ok(a) => reply.attr(&s.ttl, &a),
            Err(e) => reply.error(e),
        }
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        match self.0.entry(ino.0) {
            Ok((shown, e)) => match shown.fs.read_link(e.node) {
                Ok(t) => reply.data(t.as_bytes()),
                Err(err) => {
                    log(&format!("reading the link of node {}", e.node.0), &err);
                    reply.error(attr::errno(&err));
                }
            },
            Err(e) => reply.error(e),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        if flags.0 & libc::O_ACCMODE != libc::O_RDONLY {
            return reply.error(Errno::EROFS);
        }
        match self.0.entry(ino.0) {
            Ok((shown, e)) => {
                let s = &self.0;
                let size = shown.fs.metadata(e.node).map_or(0, |m| m.size);
                if size >= s.direct_io_from && s.direct_io_ok.load(Ordering::Relaxed) {
                    // Large: no page cache of ours (the image's own is there), read-ahead
                    // in the server instead of the kernel's.
                    let (g, node) = (shown.clone(), e.node);
                    let read: crate::stream::Reader = Arc::new(move |off, buf: &mut [u8]| {
                        g.fs.read(node, off, buf).map_err(io::Error::other)
                    });
                    let stream = Arc::new(Stream::new(size, read));
                    let fh = s.add_handle(Handle::File(shown, e.node, Some(stream)));
                    s.stats.direct_opens.fetch_add(1, Ordering::Relaxed);
                    reply.opened(
                        fh,
                        FopenFlags::FOPEN_DIRECT_IO | FopenFlags::FOPEN_KEEP_CACHE,
                    );
                } else {
                    let fh = s.add_handle(Handle::File(shown, e.node, None));
                    // Immutable content: keep the page cache across opens.
                    reply.opened(fh, FopenFlags::FOPEN_KEEP_CACHE);
                }
            }
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let found = match self.0.handles.lock().unwrap().get(&fh.0) {
            Some(Handle::File(shown, node, stream)) => Some((shown.clone(), *node, stream.clone())),
            _ => None,
        };
        let (shown, node, stream) = match found {
            Some(x) => x,
            None => match self.0.entry(ino.0) {
                Ok((g, e)) => (g, e.node, None),
                Err(e) => return reply.error(e),
            },
        };
        // Stored as is in a plain file: splice the image's pages into the reply.
        if let Some(sp) = self.0.splicer.get()
            && let Ok(Some(run)) = shown.fs.content_run(node, offset)
            && run.len >= size as u64
        {
            // Counted before the reply goes out: the reader may see its data (and read the
            // stats) before this thread runs again.
            let st = &self.0.stats;
            st.reads.fetch_add(1, Ordering::Relaxed);
            st.bytes.fetch_add(size as u64, Ordering::Relaxed);
            st.spliced.fetch_add(1, Ordering::Relaxed);
            match sp.reply(req.unique().0, run.file, run.offset, size as usize) {
                Ok(()) => {
                    // Consumes fuser's reply object: the kernel refuses this second answer.
                    reply.error(Errno::EIO);
                    return;
                }
                Err(e) => {
                    st.reads.fetch_sub(1, Ordering::Relaxed);
                    st.bytes.fetch_sub(size as u64, Ordering::Relaxed);
                    st.spliced.fetch_sub(1, Ordering::Relaxed);
                    if !self.0.splice_failed.swap(true, Ordering::Relaxed) {
                        log("a spliced read (answering with copies instead)", &e.0);
                    }
                }
            }
        }
        if let Some(stream) = stream
            && let Served::Window(w) = stream.serve(offset, size)
        {
            let st = &self.0.stats;
            st.reads.fetch_add(1, Ordering::Relaxed);
            st.bytes
                .fetch_add(w.bytes().len() as u64, Ordering::Relaxed);
            st.read_ahead_hits.fetch_add(1, Ordering::Relaxed);
            reply.data(w.bytes());
            stream.done(w);
            return;
        }
        let what = || format!("node {} of {:?}", node.0, shown.fs.label());
        reply_read(&self.0.stats, reply, size, offset, &what, &|off, buf| {
            shown.fs.read(node, off, buf).map_err(io::Error::other)
        });
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock: Option<LockOwner>,
        _flush: bool,
        reply: fuser::ReplyEmpty,
    ) {
        self.0.handles.lock().unwrap().remove(&fh.0);
        reply.ok();
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let s = &self.0;
        let (shown, e) = match s.entry(ino.0) {
            Ok(x) => x,
            Err(e) => return reply.error(e),
        };
        match shown.fs.read_dir(e.node) {
            // Its entries would lie deeper than the limit (lookups in it fail likewise).
            Ok(entries) if !entries.is_empty() && e.depth as usize >= spindle_fs::MAX_DEPTH => {
                log(
                    &format!("listing node {}", e.node.0),
                    &format!(
                        "its entries lie deeper than {} directories",
                        spindle_fs::MAX_DEPTH
                    ),
                );
                reply.error(Errno::ENAMETOOLONG);
            }
            Ok(entries) => {
                let fh = s.add_handle(Handle::Dir {
                    shown,
                    ino: ino.0,
                    parent: e.parent,
                    entries: Arc::new(entries),
                });
                reply.opened(
                    fh,
                    FopenFlags::FOPEN_KEEP_CACHE | FopenFlags::FOPEN_CACHE_DIR,
                );
            }
            Err(err) => {
                log(&format!("listing node {}", e.node.0), &err);
                reply.error(attr::errno(&err));
            }
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let s = &self.0;
        let _shared = s.swap_lock.read().unwrap();
        let Some((shown, ino, parent, entries)) = s.dir_handle(fh) else {
            return reply.error(Errno::EBADF);
        };
        for i in offset as usize..entries.len() + 2 {
            let (child, kind, name): (u64, FileType, &str) = match i {
                0 => (ino, FileType::Directory, "."),
                1 => (parent, FileType::Directory, ".."),
                _ => {
                    let e = &entries[i - 2];
                    // The number the kernel will get on lookup (allocated now if need be).
                    let child = match shown.fs.metadata(e.node) {
                        Ok(m) => s.ino_for(&shown, m.ino, e.node, ino).unwrap_or(u64::MAX),
                        Err(_) => u64::MAX,
                    };
                    (child, attr::kind(e.kind), e.name.as_str())
                }
            };
            if reply.add(INodeNo(child), i as u64 + 1, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn readdirplus(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        let s = &self.0;
        let _shared = s.swap_lock.read().unwrap();
        let Some((shown, ino, parent, entries)) = s.dir_handle(fh) else {
            return reply.error(Errno::EBADF);
        };
        let dot_attr = |i: u64| {
            s.entry(i)
                .and_then(|(g, e)| s.attr_of(&g, e.node, e.parent))
        };
        for i in offset as usize..entries.len() + 2 {
            let (a, name) = match i {
                0 => (dot_attr(ino), "."),
                1 => (dot_attr(parent).or_else(|_| dot_attr(ino)), ".."),
                _ => {
                    let e = &entries[i - 2];
                    (s.attr_of(&shown, e.node, ino), e.name.as_str())
                }
            };
            let a = match a {
                Ok(a) => a,
                // Logged by attr_of; the name stays out of the listing.
                Err(_) => continue,
            };
            if reply.add(
                a.ino,
                i as u64 + 1,
                name,
                &s.ttl,
                &a,
                fuser::Generation(shown.number),
            ) {
                break;
            }
        }
        reply.ok();
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: fuser::ReplyEmpty,
    ) {
        self.0.handles.lock().unwrap().remove(&fh.0);
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let files = self.0.tables.read().unwrap().nodes.len() as u64;
        reply.statfs(
            self.0.capacity.div_ceil(2048),
            0,
            0,
            files,
            0,
            2048,
            255,
            2048,
        );
    }
}
