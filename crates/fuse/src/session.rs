//! Mounting and unmounting: the mount calls, the fuser session with its threads, the bdi
//! read-ahead, and the lazy unmount that works around fuser 0.18's non-lazy root unmount
//! (cberner/fuser#686).
//!
//! As root (or with CAP_SYS_ADMIN) we mount ourselves, with an fd of `/dev/fuse` that we
//! hand to [`fuser::Session::from_fd`], so fuser holds no mount handle. The mount is made
//! with the new mount API and placed on a directory *descriptor*, never on a path:
//! `fsopen("fuse")`, `fsconfig`, `fsmount`, then `move_mount(MOVE_MOUNT_T_EMPTY_PATH)` onto
//! the `O_PATH` descriptor the caller resolved and checked (see the daemon's mount-point
//! checks). The descriptor `fsmount` returned is kept: it names our mount and nothing else,
//! so the unmount (`umount2` of `/proc/self/fd/N`, `MNT_DETACH`) can never hit another mount
//! that a rename or a symlink put at the same path. Without the right to mount, fuser's own
//! path (fusermount3) is used and its unmount (`fusermount -u -z`) is lazy already.

use crate::splice::Splicer;
use crate::{FuseError, MountOptions, Result};
use fuser::{BackgroundSession, Config, Filesystem, MountOption, Notifier, Session, SessionACL};
use spindle_sys::mountinfo::MountInfo;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The filesystem type shown in `/proc/self/mountinfo`: `fuse.spindle`.
pub const SUBTYPE: &str = "spindle";

/// A running session: its threads and how it was mounted.
pub(crate) struct Running {
    pub path: PathBuf,
    pub session: Option<BackgroundSession>,
    pub notifier: Notifier,
    /// `major:minor` of the mount (from mountinfo), when found.
    pub dev: Option<(u32, u32)>,
    pub read_ahead_kb: Option<u32>,
    /// True when we mounted ourselves (else fuser/fusermount did).
    own_mount: bool,
    /// Our mount, as `fsmount` returned it (the root of the mount): what [`Running::unmount`]
    /// detaches. `None` for a fusermount mount.
    mnt: Option<OwnedFd>,
    unmounted: bool,
    /// How long unmount waits for the loops to end.
    pub wait: Duration,
}

/// Mounts `fs` on the directory `dir` refers to (an `O_PATH` descriptor is enough); `at` is
/// its path, for mountinfo look-ups, fusermount and messages. With `splice`, READs may be answered by splice(2)
/// ([`crate::splice`]): when we mount ourselves and pipes are large enough, the cell gets a
/// [`Splicer`] before the session starts, the threads share one `/dev/fuse` descriptor and
/// `max_read` keeps every request within a pipe.
pub(crate) fn mount<FS: Filesystem>(
    fs: FS,
    dir: BorrowedFd<'_>,
    at: &Path,
    opts: &MountOptions,
    splice: Option<&OnceLock<Splicer>>,
) -> Result<Running> {
    let err = |source: io::Error| FuseError::Mount {
        path: at.to_path_buf(),
        source,
    };
    let path = at.to_path_buf();
    let mut config = Config::default();
    config.n_threads = Some(opts.threads.max(1));
    config.clone_fd = opts.threads > 1;
    // The kernel checks who may enter (user_id=, allow_other); fuser's own filter would
    // compare callers with the daemon's uid, which is wrong when root mounts for a user.
    config.acl = SessionACL::All;
    let pipes = splice.and_then(|_| Splicer::probe());
    let (session, own_mount, dev, mnt) = match mount_sys(dir, opts, pipes.map(|(_, data)| data)) {
        Ok((fd, mnt)) => {
            if let (Some(cell), Some((pipe_bytes, _))) = (splice, pipes) {
                match fd.try_clone() {
                    Ok(dup) => {
                        let _ = cell.set(Splicer::new(dup, pipe_bytes));
                        config.clone_fd = false;
                    }
                    Err(e) => eprintln!("spindle-fuse: {}: no spliced reads ({e})", path.display()),
                }
            }
            let started = Session::from_fd(fs, fd, SessionACL::All, config).and_then(|s| {
                let n = s.notifier();
                s.spawn().map(|s| (s, n))
            });
            match started {
                Ok(s) => {
                    let dev = mount_dev(&mnt);
                    (s, true, dev, Some(mnt))
                }
                Err(e) => {
                    // Never leave the mount behind when the session could not start.
                    let _ = detach_fd(&mnt);
                    return Err(err(e));
                }
            }
        }
        // A root process never falls back to a mount by path (that would bring back the
        // rename and symlink races the descriptor mount closes): a policy that forbids the new
        // mount API to root (seccomp, an LSM) is an error to report.
        Err(e)
            if e.raw_os_error() == Some(libc::EPERM) && !rustix::process::geteuid().is_root() =>
        {
            // Not allowed to mount: fuser goes through fusermount3 (and unmounts on error).
            config.mount_options = vec![
                MountOption::FSName(opts.fsname.clone()),
                MountOption::Subtype(SUBTYPE.into()),
                MountOption::RO,
                MountOption::NoSuid,
                MountOption::NoDev,
            ];
            config.acl = if opts.allow_other {
                SessionACL::All
            } else {
                SessionACL::Owner
            };
            let s = Session::new(fs, &path, &config).map_err(err)?;
            let n = s.notifier();
            let s = s.spawn().map_err(err)?;
            let dev = find_mount(&path).map(|m| m.dev);
            ((s, n), false, dev, None)
        }
        Err(e) => return Err(err(e)),
    };
    let (session, notifier) = session;
    // With a smaller max_read, read-ahead windows of the same size keep one request each.
    let kb = match (opts.read_ahead_kb, pipes) {
        (0, _) | (_, None) => opts.read_ahead_kb,
        (kb, Some((_, data))) => kb.min((data / 1024) as u32),
    };
    let read_ahead_kb = dev.and_then(|(maj, min)| set_read_ahead(maj, min, kb));
    Ok(Running {
        path,
        session: Some(session),
        notifier,
        dev,
        read_ahead_kb,
        own_mount,
        mnt,
        unmounted: false,
        wait: opts.unmount_wait,
    })
}

/// Opens `/dev/fuse`, makes a FUSE mount of it (with `max_read` when given) and puts it on
/// the directory `dir` refers to; returns the fd for the session and the mount's own fd.
fn mount_sys(
    dir: BorrowedFd<'_>,
    opts: &MountOptions,
    max_read: Option<usize>,
) -> io::Result<(OwnedFd, OwnedFd)> {
    use rustix::mount::{
        FsMountFlags, FsOpenFlags, MountAttrFlags, MoveMountFlags, fsconfig_create,
        fsconfig_set_flag, fsconfig_set_string, fsmount, fsopen, move_mount,
    };
    let dev: File = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open("/dev/fuse")?;
    let (uid, gid) = opts.owner.unwrap_or_else(spindle_sys::creds::real_ids);
    let fs = fsopen("fuse", FsOpenFlags::FSOPEN_CLOEXEC)?;
    fsconfig_set_string(&fs, "source", opts.fsname.as_str())?;
    fsconfig_set_string(&fs, "subtype", SUBTYPE)?;
    fsconfig_set_string(&fs, "fd", dev.as_raw_fd().to_string().as_str())?;
    fsconfig_set_string(&fs, "rootmode", "40000")?;
    fsconfig_set_string(&fs, "user_id", uid.to_string().as_str())?;
    fsconfig_set_string(&fs, "group_id", gid.to_string().as_str())?;
    if opts.allow_other {
        fsconfig_set_flag(&fs, "allow_other")?;
    }
    if let Some(m) = max_read {
        fsconfig_set_string(&fs, "max_read", m.to_string().as_str())?;
    }
    fsconfig_create(&fs)?;
    let attrs = MountAttrFlags::MOUNT_ATTR_RDONLY
        | MountAttrFlags::MOUNT_ATTR_NOSUID
        | MountAttrFlags::MOUNT_ATTR_NODEV
        | MountAttrFlags::MOUNT_ATTR_NOATIME;
    let mnt = fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, attrs)?;
    // Onto the descriptor itself: no path is looked up again.
    move_mount(
        &mnt,
        "",
        dir,
        "",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    )?;
    Ok((dev.into(), mnt))
}

/// `major:minor` of the mount whose root `mnt` is. `AT_STATX_DONT_SYNC`: the attributes the
/// kernel has (the device is the superblock's), without a request to the server.
fn mount_dev(mnt: &OwnedFd) -> Option<(u32, u32)> {
    use rustix::fs::{AtFlags, StatxFlags, statx};
    let st = statx(
        mnt,
        "",
        AtFlags::EMPTY_PATH | AtFlags::STATX_DONT_SYNC,
        StatxFlags::BASIC_STATS,
    )
    .ok()?;
    Some((st.stx_dev_major, st.stx_dev_minor))
}

/// Lazily detaches the mount whose root `mnt` is (and only that one). `Ok` when it is gone
/// already (someone unmounted it).
fn detach_fd(mnt: &OwnedFd) -> io::Result<()> {
    let target = format!("/proc/self/fd/{}", mnt.as_fd().as_raw_fd());
    match rustix::mount::unmount(target.as_str(), rustix::mount::UnmountFlags::DETACH) {
        Ok(()) => Ok(()),
        // Not mounted in our namespace any more.
        Err(e) if e == rustix::io::Errno::INVAL => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Writes the mount's bdi `read_ahead_kb` so that buffered reads arrive as requests of
/// that size (the kernel's INIT offer is 128 KiB); returns the value now in effect.
fn set_read_ahead(maj: u32, min: u32, kb: u32) -> Option<u32> {
    let p = format!("/sys/class/bdi/{maj}:{min}/read_ahead_kb");
    if kb > 0 && std::fs::write(&p, format!("{kb}\n")).is_err() {
        eprintln!("spindle-fuse: cannot set {p} to {kb} (requests stay at the kernel's default)");
    }
    std::fs::read_to_string(&p).ok()?.trim().parse().ok()
}

/// Detaches the spindle mount at `path` if, and only if, its server is gone, resolving the
/// path once: it is opened `O_PATH` with no symbolic or magic link anywhere
/// (`RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS`), the descriptor must be the root of a
/// `fuse.spindle` mount mounted at exactly `path` that answers `ENOTCONN`, and that mount
/// is detached through the descriptor. A path swapped for a link (or its parent) between
/// any two steps therefore detaches nothing else. `Ok(true)` when one was detached.
pub fn detach_if_stale(path: &Path) -> io::Result<bool> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let resolve = ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
    let fd = match rustix::fs::openat2(rustix::fs::CWD, path, flags, Mode::empty(), resolve) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let ours = spindle_sys::mountinfo::mount_of_fd(fd.as_fd())
        .is_some_and(|m| m.fstype == format!("fuse.{SUBTYPE}") && m.mount_point == path);
    // fstatfs asks the server (as statfs does); a dead one answers ENOTCONN.
    let stale = matches!(rustix::fs::fstatfs(&fd), Err(rustix::io::Errno::NOTCONN));
    if !ours || !stale {
        return Ok(false);
    }
    detach_fd(&fd)?;
    Ok(true)
}

/// True when `path` is a FUSE mount whose server is gone ("Transport endpoint is not
/// connected"): what a killed daemon leaves. The daemon [`detach`]es those at start.
pub fn is_stale(path: &Path) -> bool {
    // statfs always asks the server (a stat may be answered from cached attributes).
    matches!(rustix::fs::statfs(path), Err(rustix::io::Errno::NOTCONN))
}

/// The topmost spindle mount at `path` (canonical), if any.
pub fn find_mount(path: &Path) -> Option<MountInfo> {
    spindle_sys::mountinfo::find(path, &format!("fuse.{SUBTYPE}"))
}

/// Lazily detaches the spindle mount at `path` (`umount2(MNT_DETACH | UMOUNT_NOFOLLOW)`: a
/// symlink in place of the mount point is not followed): it leaves the
/// namespace at once, and the kernel ends the connection when the last open file closes.
/// Used by [`crate::Mount::unmount`]; the daemon can also call it on stale mounts left by a
/// killed process ("Transport endpoint is not connected").
pub fn detach(path: &Path) -> io::Result<()> {
    let Err(e) = spindle_sys::mount::detach(path) else {
        return Ok(());
    };
    if e.raw_os_error() == Some(libc::EPERM) {
        // Not root: the setuid helper can detach a mount of ours.
        for helper in ["fusermount3", "fusermount"] {
            if let Ok(st) = std::process::Command::new(helper)
                .args(["-u", "-q", "-z", "--"])
                .arg(path)
                .status()
                && st.success()
            {
                return Ok(());
            }
        }
    }
    Err(e)
}

impl Running {
    /// Detaches the mount, then waits up to `wait` for the session threads to end (they end
    /// as soon as no file is open; else they keep serving the open files in the background
    /// and end at the last close).
    pub fn unmount(&mut self, wait: Duration) -> io::Result<()> {
        if self.unmounted {
            return Ok(());
        }
        self.unmounted = true;
        let result = if let Some(mnt) = self.mnt.take() {
            // Our own mount, by its descriptor; closing that descriptor afterwards lets the
            // kernel end the connection once no file is open.
            detach_fd(&mnt)
        } else {
            // Only when our mount is still at the path: never detach someone else's.
            let ours = match (find_mount(&self.path), self.dev) {
                (Some(m), Some(dev)) => m.dev == dev,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if ours { detach(&self.path) } else { Ok(()) }
        };
        if let Some(session) = self.session.take() {
            let deadline = Instant::now() + wait;
            while !session.guard.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if session.guard.is_finished() {
                let _ = session.join();
            } else if self.own_mount {
                // Files are still open: leave the threads to serve them (the mount is gone
                // from the namespace already). Dropping the handle detaches the thread.
                drop(session);
            } else {
                // fuser's own mount handle: forget it, so that its Drop never unmounts by
                // path (which could hit a newer mount at the same place).
                std::mem::forget(session);
            }
        }
        result
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Err(e) = self.unmount(self.wait) {
            eprintln!("spindle-fuse: unmounting {}: {e}", self.path.display());
        }
    }
}
