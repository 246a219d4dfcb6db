//! The raw views of every drive as one FUSE filesystem: `drives/<N>/...` (see the crate docs).
//!
//! Inode numbers: 1 is the root, 2 is `drives/`; a drive's directory keeps one number for
//! the life of the mount; every file (and `tracks/`) gets a number tied to the disc loaded
//! when it was first looked up, from a counter that never goes back. A load or an eject
//! changes which names `drives/<N>/` holds and which inodes they lead to; since names there
//! are never cached (entry TTL 0), the next lookup sees the new disc, while the pages of a
//! file, whose inode always means the same bytes, stay cached.

use crate::attr;
use crate::raw::{DiscFiles, passthrough_file, read_entry};
use crate::tree::reply_read;
use crate::{MountOptions, Stats};
use fuser::{
    BackingId, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, INodeNo, InitFlags,
    KernelConfig, LockOwner, OpenFlags, ReplyAttr, ReplyData, ReplyDirectory, ReplyDirectoryPlus,
    ReplyEmpty, ReplyEntry, ReplyOpen, Request,
};
use spindle_disc::{Disc, Entry};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

/// The drives a [`crate::mount_drives`] mount shows; the daemon implements it.
pub trait DriveTable: Send + Sync {
    /// Every drive slot, in order: its number (the directory name under `drives/`) and the
    /// disc loaded in it (`None`: empty). Called on every lookup and listing under
    /// `drives/`, so it should be cheap (a lock and a clone). A load is noticed by the
    /// identity of the `Arc<Disc>`: load a new `Arc` to show a new disc.
    fn drives(&self) -> Vec<(u32, Option<Arc<Disc>>)>;
}

const ROOT: u64 = 1;
const DRIVES: u64 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Drive(u32),
    /// `tracks/` of the disc at this address in this drive.
    Tracks(u32, usize),
    /// A file of a disc: drive, disc address, in `tracks/`, index.
    File(u32, usize, bool, usize),
}

#[derive(Default)]
pub(crate) struct Table {
    by_key: HashMap<Key, u64>,
    keys: HashMap<u64, Key>,
    /// Files of each loaded disc, by the disc's address.
    discs: HashMap<usize, Arc<DiscFiles>>,
}

enum Node {
    Root,
    Drives,
    Drive(u32),
    Tracks(u32, Arc<DiscFiles>),
    File(Entry),
}

struct Open {
    file: Entry,
    ino: u64,
}

pub(crate) struct DrivesFs {
    table_src: Arc<dyn DriveTable>,
    table: Arc<Mutex<Table>>,
    next_ino: AtomicU64,
    handles: Mutex<HashMap<u64, Open>>,
    next_fh: AtomicU64,
    /// Backing ids of passthrough files by inode, with their open count.
    backing: Mutex<HashMap<u64, (BackingId, usize)>>,
    passthrough: AtomicBool,
    ttl: Duration,
    owner: (u32, u32),
    mounted_at: SystemTime,
    stats: Arc<Stats>,
}

fn disc_key(d: &Arc<Disc>) -> usize {
    Arc::as_ptr(d) as usize
}

/// Drops the files (and so the `Arc<Disc>`) of every disc no longer in `now`.
fn forget_gone(t: &mut Table, now: &[(u32, Option<Arc<Disc>>)]) {
    let live: std::collections::HashSet<usize> = now
        .iter()
        .filter_map(|(_, d)| d.as_ref().map(disc_key))
        .collect();
    let gone: Vec<usize> = t
        .discs
        .keys()
        .copied()
        .filter(|k| !live.contains(k))
        .collect();
    if gone.is_empty() {
        return;
    }
    for k in &gone {
        t.discs.remove(k);
    }
    let stale: Vec<(Key, u64)> = t
        .by_key
        .iter()
        .filter(|(k, _)| matches!(k, Key::Tracks(_, d) | Key::File(_, d, _, _) if gone.contains(d)))
        .map(|(k, i)| (*k, *i))
        .collect();
    for (k, i) in stale {
        t.by_key.remove(&k);
        t.keys.remove(&i);
    }
}

/// Lets the owner of a drive table tell a drives mount that discs went (an eject, a swap),
/// so that the mount drops its files of them at once rather than at the next lookup under
/// `drives/`: an ejected disc (and its image file) is not kept open by a mount nobody
/// looks at. Holds the mount weakly; after the unmount it does nothing.
#[derive(Clone)]
pub struct DrivesRefresh {
    src: Weak<dyn DriveTable>,
    table: Weak<Mutex<Table>>,
}

impl DrivesRefresh {
    /// Forgets the discs the table no longer holds (files still open keep theirs). Call it
    /// after a change of the table, outside its lock.
    pub fn forget_ejected(&self) {
        let (Some(src), Some(table)) = (self.src.upgrade(), self.table.upgrade()) else {
            return;
        };
        let now = src.drives();
        forget_gone(&mut table.lock().unwrap(), &now);
    }
}

impl std::fmt::Debug for DrivesRefresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DrivesRefresh")
    }
}

impl DrivesFs {
    pub(crate) fn new(
        drives: Arc<dyn DriveTable>,
        opts: &MountOptions,
        stats: Arc<Stats>,
    ) -> DrivesFs {
        let owner = opts.owner.unwrap_or_else(spindle_sys::creds::real_ids);
        DrivesFs {
            table_src: drives,
            table: Arc::default(),
            next_ino: AtomicU64::new(3),
            handles: Mutex::new(HashMap::new()),
            next_fh: AtomicU64::new(1),
            backing: Mutex::new(HashMap::new()),
            passthrough: AtomicBool::new(opts.passthrough),
            ttl: opts.ttl,
            owner,
            mounted_at: SystemTime::now(),
            stats,
        }
    }

    /// Asks the drive table what is loaded; builds the files of new discs and forgets
    /// those of discs no longer loaded (their inode numbers are never given out again).
    fn refresh(&self) -> Vec<(u32, Option<Arc<DiscFiles>>)> {
        let now = self.table_src.drives();
        let mut t = self.table.lock().unwrap();
        forget_gone(&mut t, &now);
        now.into_iter()
            .map(|(n, d)| {
                let files = d.map(|d| {
                    t.discs
                        .entry(disc_key(&d))
                        .or_insert_with(|| Arc::new(DiscFiles::build(d.clone())))
                        .clone()
                });
                (n, files)
            })
            .collect()
    }

    /// What [`crate::Mount::drives_refresh`] hands out.
    pub(crate) fn refresher(&self) -> DrivesRefresh {
        DrivesRefresh {
            src: Arc::downgrade(&self.table_src),
            table: Arc::downgrade(&self.table),
        }
    }

    fn ino(&self, key: Key) -> u64 {
        let mut t = self.table.lock().unwrap();
        if let Some(&i) = t.by_key.get(&key) {
            return i;
        }
        let i = self.next_ino.fetch_add(1, Ordering::Relaxed);
        t.by_key.insert(key, i);
        t.keys.insert(i, key);
        i
    }

    fn node(&self, ino: u64) -> Result<Node, Errno> {
        match ino {
            ROOT => return Ok(Node::Root),
            DRIVES => return Ok(Node::Drives),
            _ => {}
        }
        let t = self.table.lock().unwrap();
        let key = *t.keys.get(&ino).ok_or(Errno::ESTALE)?;
        let files = |d: usize| t.discs.get(&d).cloned().ok_or(Errno::ESTALE);
        Ok(match key {
            Key::Drive(n) => Node::Drive(n),
            Key::Tracks(n, d) => Node::Tracks(n, files(d)?),
            Key::File(_, d, in_tracks, i) => {
                let f = files(d)?;
                let list = if in_tracks { &f.tracks } else { &f.top };
                Node::File(list.get(i).cloned().ok_or(Errno::ESTALE)?)
            }
        })
    }

    fn files_of(&self, n: u32) -> Result<Option<Arc<DiscFiles>>, Errno> {
        self.refresh()
            .into_iter()
            .find(|(m, _)| *m == n)
            .map(|(_, f)| f)
            .ok_or(Errno::ENOENT)
    }

    /// The entries of a directory: name, inode, kind. With `attrs`, also each entry's
    /// attributes and TTL.
    fn children(&self, ino: u64) -> Result<Vec<(String, u64)>, Errno> {
        Ok(match self.node(ino)? {
            Node::Root => vec![("drives".into(), DRIVES)],
            Node::Drives => self
                .refresh()
                .into_iter()
                .map(|(n, _)| (n.to_string(), self.ino(Key::Drive(n))))
                .collect(),
            Node::Drive(n) => match self.files_of(n)? {
                None => Vec::new(),
                Some(f) => {
                    let d = disc_key(&f.disc);
                    let mut v: Vec<(String, u64)> = f
                        .top
                        .iter()
                        .enumerate()
                        .map(|(i, file)| {
                            (file.file_name().into(), self.ino(Key::File(n, d, false, i)))
                        })
                        .collect();
                    if !f.tracks.is_empty() {
                        v.push(("tracks".into(), self.ino(Key::Tracks(n, d))));
                    }
                    v
                }
            },
            Node::Tracks(n, f) => {
                let d = disc_key(&f.disc);
                f.tracks
                    .iter()
                    .enumerate()
                    .map(|(i, file)| (file.file_name().into(), self.ino(Key::File(n, d, true, i))))
                    .collect()
            }
            Node::File(_) => return Err(Errno::ENOTDIR),
        })
    }

    /// Attributes of `ino` and their TTL (0 for the directories whose contents follow loads).
    fn attr(&self, ino: u64) -> Result<(FileAttr, Duration), Errno> {
        let dir = |nlink| {
            attr::synthetic(
                ino,
                FileType::Directory,
                0,
                nlink,
                self.owner,
                self.mounted_at,
            )
        };
        Ok(match self.node(ino)? {
            Node::Root => (dir(3), self.ttl),
            Node::Drives => (dir(2), Duration::ZERO),
            Node::Drive(_) => (dir(2), Duration::ZERO),
            Node::Tracks(..) => (dir(2), self.ttl),
            Node::File(f) => (
                attr::synthetic(
                    ino,
                    FileType::RegularFile,
                    f.len(),
                    1,
                    self.owner,
                    self.mounted_at,
                ),
                self.ttl,
            ),
        })
    }

    /// Entry TTL of names in directory `parent`: 0 where loads and ejects change them.
    fn entry_ttl(&self, parent: u64) -> Duration {
        match self.node(parent) {
            Ok(Node::Root | Node::Tracks(..)) => self.ttl,
            _ => Duration::ZERO,
        }
    }
}

impl Filesystem for DrivesFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> io::Result<()> {
        let _ = config
            .add_capabilities(InitFlags::FUSE_DO_READDIRPLUS | InitFlags::FUSE_READDIRPLUS_AUTO);
        let _ = config.add_capabilities(InitFlags::FUSE_PARALLEL_DIROPS);
        if self.passthrough.load(Ordering::Relaxed) {
            let ok = config.add_capabilities(InitFlags::FUSE_PASSTHROUGH).is_ok()
                && config.set_max_stack_depth(1).is_ok();
            self.passthrough.store(ok, Ordering::Relaxed);
        }
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let found = self.children(parent.0).and_then(|c| {
            c.into_iter()
                .find(|(n, _)| OsStr::new(n) == name)
                .ok_or(Errno::ENOENT)
        });
        match found.and_then(|(_, ino)| self.attr(ino)) {
            Ok((a, attr_ttl)) => reply.entry_with_ttls(
                &attr_ttl,
                &self.entry_ttl(parent.0),
                &a,
                fuser::Generation(0),
            ),
            Err(e) => reply.error(e),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        if let Some(fh) = fh
            && let Some(o) = self.handles.lock().unwrap().get(&fh.0)
        {
            let a = attr::synthetic(
                ino.0,
                FileType::RegularFile,
                o.file.len(),
                1,
                self.owner,
                self.mounted_at,
            );
            return reply.attr(&self.ttl, &a);
        }
        match self.attr(ino.0) {
            Ok((a, ttl)) => reply.attr(&ttl, &a),
            Err(e) => reply.error(e),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        if flags.0 & libc::O_ACCMODE != libc::O_RDONLY {
            return reply.error(Errno::EROFS);
        }
        let file = match self.node(ino.0) {
            Ok(Node::File(f)) => f,
            Ok(_) => return reply.error(Errno::EISDIR),
            Err(e) => return reply.error(e),
        };
        let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
        let plain = self.passthrough.load(Ordering::Relaxed);
        self.handles.lock().unwrap().insert(
            fh,
            Open {
                file: file.clone(),
                ino: ino.0,
            },
        );
        if plain && let Some(f) = passthrough_file(&file) {
            let mut backing = self.backing.lock().unwrap();
            if let Some((id, count)) = backing.get_mut(&ino.0) {
                *count += 1;
                self.stats.passthrough_opens.fetch_add(1, Ordering::Relaxed);
                return reply.opened_passthrough(FileHandle(fh), FopenFlags::empty(), id);
            }
            match reply.open_backing(f) {
                Ok(id) => {
                    self.stats.passthrough_opens.fetch_add(1, Ordering::Relaxed);
                    reply.opened_passthrough(FileHandle(fh), FopenFlags::empty(), &id);
                    backing.insert(ino.0, (id, 1));
                    return;
                }
                Err(e) => {
                    eprintln!(
                        "spindle-fuse: passthrough refused ({e}); serving raw views with reads"
                    );
                    self.passthrough.store(false, Ordering::Relaxed);
                }
            }
        }
        reply.opened(FileHandle(fh), FopenFlags::FOPEN_KEEP_CACHE);
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let file = match self.handles.lock().unwrap().get(&fh.0) {
            Some(o) => o.file.clone(),
            None => match self.node(ino.0) {
                Ok(Node::File(f)) => f,
                _ => return reply.error(Errno::EBADF),
            },
        };
        let what = || file.name().to_string();
        reply_read(&self.stats, reply, size, offset, &what, &|off, buf| {
            read_entry(&file, off, buf)
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
        reply: ReplyEmpty,
    ) {
        if let Some(o) = self.handles.lock().unwrap().remove(&fh.0) {
            let mut backing = self.backing.lock().unwrap();
            if let Some((_, count)) = backing.get_mut(&o.ino) {
                *count -= 1;
                if *count == 0 {
                    backing.remove(&o.ino);
                }
            }
        }
        reply.ok();
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let children = match self.children(ino.0) {
            Ok(c) => c,
            Err(e) => return reply.error(e),
        };
        for (i, (name, child)) in children.iter().enumerate().skip(offset as usize) {
            let kind = match self.node(*child) {
                Ok(Node::File(_)) => FileType::RegularFile,
                _ => FileType::Directory,
            };
            if reply.add(INodeNo(*child), i as u64 + 1, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn readdirplus(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        let children = match self.children(ino.0) {
            Ok(c) => c,
            Err(e) => return reply.error(e),
        };
        let entry_ttl = self.entry_ttl(ino.0);
        for (i, (name, child)) in children.iter().enumerate().skip(offset as usize) {
            let Ok((a, attr_ttl)) = self.attr(*child) else {
                continue;
            };
            // One TTL for both here: the shorter one.
            let ttl = attr_ttl.min(entry_ttl);
            if reply.add(
                INodeNo(*child),
                i as u64 + 1,
                name,
                &ttl,
                &a,
                fuser::Generation(0),
            ) {
                break;
            }
        }
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: fuser::ReplyStatfs) {
        reply.statfs(0, 0, 0, 0, 0, 2048, 255, 2048);
    }
}
