//! # spindle-fuse: discs as mounted filesystems
//!
//! Two kinds of mount, both read-only, served by fuser 0.18 (pinned) with several threads:
//!
//! * [`mount_tree`]: the file tree of one disc (any [`spindle_fs::FileSystem`]: ISO 9660,
//!   Joliet, Rock Ridge, UDF). The disc is immutable, so the kernel caches hard: pages are
//!   kept across opens (`FOPEN_KEEP_CACHE`), directory listings too (`FOPEN_CACHE_DIR`), and
//!   entries and attributes live [`MountOptions::ttl`] (a day). [`Mount::swap`] shows another
//!   disc behind the same mount point (`spindle load DRIVE IMAGE`).
//! * [`mount_drives`]: one mount with the raw views of every drive of a [`DriveTable`]:
//!
//!   ```text
//!   drives/<N>/disc.iso       user data of the first data track (passthrough for a plain ISO)
//!   drives/<N>/disc.cue       CUE sheet naming disc.bin (CDs)
//!   drives/<N>/disc.bin       the raw sectors that sheet describes (CDs)
//!   drives/<N>/disc.raw       every sector raw from the first track's start, gaps zero (CDs)
//!   drives/<N>/toc.json       sessions, tracks, modes, addresses (as `spindle info --json`)
//!   drives/<N>/tracks/NN.wav  audio tracks with a RIFF header
//!   drives/<N>/tracks/NN.iso  user data of data tracks
//!   drives/<N>/tracks/NN.bin  raw sectors of each track, pregap included (CDs)
//!   ```
//!
//!   The names and bytes are the disc's [`spindle_disc::Catalogue`] (the daemon's NBD
//!   exports are the same); its docs give `disc.raw`'s layout. An empty drive is an empty
//!   directory. Loads and ejects show at once: names under
//!   `drives/` are never cached by the kernel (entry TTL 0), while each file's inode belongs
//!   to one loaded disc and is cached hard.
//!
//! The caller opens the discs: this crate sees only a [`spindle_fs::FileSystem`] (the
//! daemon gets one from the image registry). Mounting one and swapping another in:
//!
//! ```no_run
//! use spindle_fs::FileSystem;
//! use std::{path::Path, sync::Arc};
//!
//! /// Shows `game` at a user's mount point, then `other` behind the same mount point (what
//! /// `spindle load 0 other.iso` does), then unmounts.
//! fn show(game: Arc<dyn FileSystem>, other: Arc<dyn FileSystem>) -> spindle_fuse::Result<()> {
//!     let at = Path::new("/run/user/1000/spindle/GAME");
//!     let mount = spindle_fuse::mount_tree(game, at, &Default::default())?;
//!     mount.swap(other)?;
//!     mount.unmount() // or drop it
//! }
//! ```
//!
//! Unmounting (on [`Mount::unmount`] or drop) is always lazy (`umount2(MNT_DETACH)`): the
//! mount leaves `/proc/self/mountinfo` at once even with files open, which keep reading the
//! old disc until they close (fuser 0.18's own unmount as root is not lazy and leaves the
//! mount behind with `EBUSY`: cberner/fuser#686). docs/fuse.md has the whole policy.

mod attr;
mod drives;
mod raw;
mod session;
mod splice;
mod stream;
mod tree;

pub use drives::{DriveTable, DrivesRefresh};
pub use session::{SUBTYPE, detach, detach_if_stale, find_mount, is_stale};
/// The mount table, re-exported from [`spindle_sys::mountinfo`] (the one parser and type) for
/// the tests and tools that look for spindle mounts.
pub use spindle_sys::mountinfo::{MountInfo, mounts};

use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Why mounting, unmounting or swapping failed. Each error names the mount point it concerns
/// (or wraps the filesystem's own error, which names what it could not read).
#[derive(Debug, thiserror::Error)]
pub enum FuseError {
    /// The mount point could not be opened, or the kernel (or fusermount3) refused the mount,
    /// or its session did not start.
    #[error("{}: cannot mount: {source}", path.display())]
    Mount {
        /// The mount point.
        path: PathBuf,
        /// What the system answered.
        #[source]
        source: std::io::Error,
    },
    /// Detaching the mount failed (it may still be in the mount table).
    #[error("{}: cannot unmount: {source}", path.display())]
    Unmount {
        /// The mount point, as [`Mount::path`] reports it.
        path: PathBuf,
        /// What the system answered.
        #[source]
        source: std::io::Error,
    },
    /// [`Mount::swap`] was called on a drives mount, which has no single disc to replace.
    #[error("{}: only a tree mount can swap its disc", path.display())]
    NotATree {
        /// The mount point of the drives mount.
        path: PathBuf,
    },
    /// The filesystem failed while the mount read its root (at mount time or on a swap).
    #[error("reading the disc's filesystem: {0}")]
    Fs(#[from] spindle_fs::FsError),
}

/// The result of this crate's mount, unmount and swap calls.
pub type Result<T, E = FuseError> = std::result::Result<T, E>;

/// Counters of one mount ([`Mount::stats`]), for `spindle drives --json` and tests.
#[derive(Debug, Default)]
pub struct Stats {
    /// READ requests answered (passthrough reads never reach us).
    pub reads: std::sync::atomic::AtomicU64,
    /// Bytes those requests returned.
    pub bytes: std::sync::atomic::AtomicU64,
    /// Opens served by FUSE passthrough.
    pub passthrough_opens: std::sync::atomic::AtomicU64,
    /// Requests answered EIO because the reader failed (each also logged on stderr).
    pub errors: std::sync::atomic::AtomicU64,
    /// Opens of tree files with direct I/O ([`MountOptions::direct_io_from`]).
    pub direct_opens: std::sync::atomic::AtomicU64,
    /// READ requests of direct-I/O files answered from the server's read-ahead.
    pub read_ahead_hits: std::sync::atomic::AtomicU64,
    /// READ requests answered by splice(2) from the image file (tree mounts; as root).
    pub spliced: std::sync::atomic::AtomicU64,
}

/// A copy of [`Stats`] at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// READ requests answered ([`Stats::reads`]).
    pub reads: u64,
    /// Bytes those requests returned ([`Stats::bytes`]).
    pub bytes: u64,
    /// Opens served by FUSE passthrough ([`Stats::passthrough_opens`]).
    pub passthrough_opens: u64,
    /// Requests answered EIO ([`Stats::errors`]).
    pub errors: u64,
    /// Opens of tree files with direct I/O ([`Stats::direct_opens`]).
    pub direct_opens: u64,
    /// READ requests answered from the read-ahead ([`Stats::read_ahead_hits`]).
    pub read_ahead_hits: u64,
    /// READ requests answered by splice(2) ([`Stats::spliced`]).
    pub spliced: u64,
}

impl Stats {
    /// Reads every counter (each on its own, relaxed: the copy is not one atomic moment,
    /// which counters that only grow do not need).
    pub fn snapshot(&self) -> StatsSnapshot {
        use std::sync::atomic::Ordering::Relaxed;
        StatsSnapshot {
            reads: self.reads.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            passthrough_opens: self.passthrough_opens.load(Relaxed),
            errors: self.errors.load(Relaxed),
            direct_opens: self.direct_opens.load(Relaxed),
            read_ahead_hits: self.read_ahead_hits.load(Relaxed),
            spliced: self.spliced.load(Relaxed),
        }
    }
}

/// How to mount. `Default` is what the daemon wants: 4 threads, 1 MiB read-ahead, a day of
/// caching, passthrough where possible, only the calling user may enter.
#[derive(Clone, Debug)]
pub struct MountOptions {
    /// Let other users in (`allow_other`; for a non-root caller, `/etc/fuse.conf` must say
    /// `user_allow_other`).
    pub allow_other: bool,
    /// Owner of the mount (`user_id`, `group_id`): who may enter without `allow_other`, and
    /// the owner of the raw-view files. `None`: the calling process's real uid and gid. A
    /// root daemon mounting for a user passes the user's.
    pub owner: Option<(u32, u32)>,
    /// The source shown in mountinfo (`spindle`, or the image path). The type is always
    /// `fuse.spindle`.
    pub fsname: String,
    /// Request-serving threads, each with its own `/dev/fuse` fd (`clone_fd`).
    pub threads: usize,
    /// The mount's bdi `read_ahead_kb`, which sets the size of buffered READ requests
    /// (the kernel caps it at `max_pages_limit`, 1 MiB by default). 0 leaves the default.
    pub read_ahead_kb: u32,
    /// Entry and attribute TTL of immutable nodes (the tree; raw-view files).
    pub ttl: Duration,
    /// Serve `disc.iso` of a plain 2048-byte ISO image with FUSE passthrough (needs kernel
    /// 6.9+ and CAP_SYS_ADMIN; falls back to ordinary reads when refused).
    pub passthrough: bool,
    /// Tree mounts: files of at least this many bytes open with direct I/O
    /// (`FOPEN_DIRECT_IO`, with `FUSE_DIRECT_IO_ALLOW_MMAP` so that mmap keeps working) and
    /// the server reads ahead of a sequential reader; smaller files go through the page
    /// cache and keep it across opens. `u64::MAX`: never. Kernels before 6.6 (no
    /// `FUSE_DIRECT_IO_ALLOW_MMAP`) get the page cache for every file.
    pub direct_io_from: u64,
    /// Tree mounts: answer READs of bytes stored as is in a plain file (an ISO image) by
    /// splice(2) from the image file, one copy instead of two. Only when we call `mount(2)`
    /// ourselves (as root): the session threads then share one `/dev/fuse` descriptor
    /// instead of one clone each, and `max_read` is 1016 KiB unless pipes may hold 2 MiB.
    pub splice: bool,
    /// Bytes reported by `statfs` for a tree mount (`df`): the disc's size, if known.
    pub capacity: u64,
    /// How long [`Mount::unmount`] waits for the session threads to end after detaching:
    /// they end within milliseconds when no file is open; with files open they keep serving
    /// them in the background, so a daemon stopping many mounts can pass 0.
    pub unmount_wait: Duration,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            allow_other: false,
            owner: None,
            fsname: SUBTYPE.to_string(),
            threads: 4,
            read_ahead_kb: 1024,
            ttl: Duration::from_secs(24 * 3600),
            passthrough: true,
            direct_io_from: DIRECT_IO_FROM,
            splice: true,
            capacity: 0,
            unmount_wait: Duration::from_millis(250),
        }
    }
}

/// The default [`MountOptions::direct_io_from`]: 16 MiB.
pub const DIRECT_IO_FROM: u64 = 16 << 20;

enum Kind {
    Tree(Arc<tree::TreeState>),
    Drives(DrivesRefresh),
}

/// A live mount. Dropping it unmounts (lazily), like [`Mount::unmount`].
pub struct Mount {
    running: session::Running,
    stats: Arc<Stats>,
    kind: Kind,
}

impl std::fmt::Debug for Mount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mount")
            .field("path", &self.running.path)
            .field("dev", &self.running.dev)
            .finish()
    }
}

/// Opens the directory `at` (canonical from then on) for mounting on it.
fn open_dir(at: &Path) -> Result<(OwnedFd, PathBuf)> {
    let err = |source: std::io::Error| FuseError::Mount {
        path: at.to_path_buf(),
        source,
    };
    let path = at.canonicalize().map_err(err)?;
    let flags = rustix::fs::OFlags::PATH
        | rustix::fs::OFlags::DIRECTORY
        | rustix::fs::OFlags::CLOEXEC
        | rustix::fs::OFlags::NOFOLLOW;
    let fd =
        rustix::fs::open(&path, flags, rustix::fs::Mode::empty()).map_err(|e| err(e.into()))?;
    Ok((fd, path))
}

/// Mounts the file tree of `fs` at `at` (an existing directory).
pub fn mount_tree(
    fs: Arc<dyn spindle_fs::FileSystem>,
    at: &Path,
    opts: &MountOptions,
) -> Result<Mount> {
    let (dir, path) = open_dir(at)?;
    mount_tree_at(fs, std::os::fd::AsFd::as_fd(&dir), &path, opts)
}

/// Mounts the file tree of `fs` on the directory `dir` refers to (an `O_PATH` descriptor
/// the caller resolved and checked): no path is looked up to mount (as root; a non-root
/// caller goes through fusermount3, which takes `path`). `path` is the mount point as
/// [`Mount::path`] reports it.
pub fn mount_tree_at(
    fs: Arc<dyn spindle_fs::FileSystem>,
    dir: BorrowedFd<'_>,
    path: &Path,
    opts: &MountOptions,
) -> Result<Mount> {
    let stats = Arc::new(Stats::default());
    let state = Arc::new(tree::TreeState::new(fs, opts, stats.clone())?);
    let running = session::mount(
        tree::TreeFs(state.clone()),
        dir,
        path,
        opts,
        opts.splice.then_some(&state.splicer),
    )?;
    Ok(Mount {
        running,
        stats,
        kind: Kind::Tree(state),
    })
}

/// Mounts the raw views of every drive of `drives` at `at` (an existing directory).
pub fn mount_drives(drives: Arc<dyn DriveTable>, at: &Path, opts: &MountOptions) -> Result<Mount> {
    let (dir, path) = open_dir(at)?;
    let stats = Arc::new(Stats::default());
    let fs = drives::DrivesFs::new(drives, opts, stats.clone());
    let refresh = fs.refresher();
    let running = session::mount(fs, std::os::fd::AsFd::as_fd(&dir), &path, opts, None)?;
    Ok(Mount {
        running,
        stats,
        kind: Kind::Drives(refresh),
    })
}

impl Mount {
    /// The mount point: canonical for [`mount_tree`] and [`mount_drives`], as given for
    /// [`mount_tree_at`]. (A rename of a parent directory moves the mount; this stays.)
    pub fn path(&self) -> &Path {
        &self.running.path
    }

    /// `major:minor` of the mount (its `st_dev`), when mountinfo showed it.
    pub fn device(&self) -> Option<(u32, u32)> {
        self.running.dev
    }

    /// Request counters of this mount.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// The bdi `read_ahead_kb` in effect after mounting (`None`: unknown).
    pub fn read_ahead_kb(&self) -> Option<u32> {
        self.running.read_ahead_kb
    }

    /// Shows `fs` instead of the current disc (a tree mount only). New lookups see the new
    /// disc at once; the kernel's cached root attributes, root listing and root entries are
    /// invalidated through the FUSE notifier, so the old subtree becomes unreachable. Files
    /// already open keep reading the old disc until they close. Inode numbers of the new
    /// disc never repeat old ones.
    pub fn swap(&self, fs: Arc<dyn spindle_fs::FileSystem>) -> Result<()> {
        let Kind::Tree(state) = &self.kind else {
            return Err(FuseError::NotATree {
                path: self.running.path.clone(),
            });
        };
        let names = state.swap(fs)?;
        tree::invalidate_root(&self.running.notifier, &names);
        Ok(())
    }

    /// The label of the disc a tree mount shows now.
    pub fn label(&self) -> Option<String> {
        match &self.kind {
            Kind::Tree(s) => Some(s.current().fs.label()),
            Kind::Drives(_) => None,
        }
    }

    /// For a drives mount: the handle its [`DriveTable`]'s owner calls after an eject or a
    /// swap ([`DrivesRefresh::forget_ejected`]), so that the mount lets go of the old disc
    /// at once.
    pub fn drives_refresh(&self) -> Option<DrivesRefresh> {
        match &self.kind {
            Kind::Drives(r) => Some(r.clone()),
            Kind::Tree(_) => None,
        }
    }

    /// Unmounts lazily (`umount2(MNT_DETACH)`): the mount is gone from the namespace when
    /// this returns, even with files open (they keep working until closed; the session
    /// threads end after the last close). Only detaches the mount this `Mount` made, never a
    /// newer one at the same path.
    pub fn unmount(mut self) -> Result<()> {
        let wait = self.running.wait;
        self.running
            .unmount(wait)
            .map_err(|source| FuseError::Unmount {
                path: self.running.path.clone(),
                source,
            })
    }
}
