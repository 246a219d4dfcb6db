//! Mounting and unmounting: the `mount(2)` call, the fuser session with its threads, the
//! bdi read-ahead, and the lazy unmount that works around fuser 0.18's non-lazy root unmount
//! (cberner/fuser#686).
//!
//! As root (or with CAP_SYS_ADMIN) we call `mount(2)` ourselves with an fd of `/dev/fuse`
//! and hand that fd to [`fuser::Session::from_fd`], so fuser holds no mount handle and never
//! unmounts by path (which, after a lazy unmount with files still open, could hit a newer
//! mount at the same path). Without the right to mount, fuser's own path (fusermount3) is
//! used and its unmount (`fusermount -u -z`) is lazy already.

use crate::splice::Splicer;
use crate::{FuseError, MountOptions, Result};
use fuser::{BackgroundSession, Config, Filesystem, MountOption, Notifier, Session, SessionACL};
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
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
    /// True when we called mount(2) ourselves (else fuser/fusermount did).
    own_mount: bool,
    unmounted: bool,
    /// How long unmount waits for the loops to end.
    pub wait: Duration,
}

/// Mounts `fs` at `at`. With `splice`, READs may be answered by splice(2)
/// ([`crate::splice`]): when we mount ourselves and pipes are large enough, the cell gets a
/// [`Splicer`] before the session starts, the threads share one `/dev/fuse` descriptor and
/// `max_read` keeps every request within a pipe.
pub(crate) fn mount<FS: Filesystem>(fs: FS, at: &Path, opts: &MountOptions, splice: Option<&OnceLock<Splicer>>) -> Result<Running> {
    let err = |source: io::Error| FuseError::Mount {
        path: at.to_path_buf(),
        source,
    };
    let path = at.canonicalize().map_err(err)?;
    let mut config = Config::default();
    config.n_threads = Some(opts.threads.max(1));
    config.clone_fd = opts.threads > 1;
    // The kernel checks who may enter (user_id=, allow_other); fuser's own filter would
    // compare callers with the daemon's uid, which is wrong when root mounts for a user.
    config.acl = SessionACL::All;
    let pipes = splice.and_then(|_| Splicer::probe());
    let (session, own_mount, dev) = match mount_sys(&path, opts, pipes.map(|(_, data)| data)) {
        Ok(fd) => {
            if let (Some(cell), Some((pipe_bytes, _))) = (splice, pipes) {
                match fd.try_clone() {
                    Ok(dup) => {
                        let _ = cell.set(Splicer::new(dup, pipe_bytes));
                        config.clone_fd = false;
                    }
                    Err(e) => eprintln!("spindle-fuse: {}: no spliced reads ({e})", path.display()),
                }
            }
            // Ours is the topmost mount at the path now; remember which it is.
            let dev = find_mount(&path).map(|m| m.dev);
            let started = Session::from_fd(fs, fd, SessionACL::All, config).and_then(|s| {
                let n = s.notifier();
                s.spawn().map(|s| (s, n))
            });
            match started {
                Ok(s) => (s, true, dev),
                Err(e) => {
                    // Never leave the mount behind when the session could not start.
                    if dev.is_some() && find_mount(&path).map(|m| m.dev) == dev {
                        let _ = detach(&path);
                    }
                    return Err(err(e));
                }
            }
        }
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            // Not allowed to mount: fuser goes through fusermount3 (and unmounts on error).
            config.mount_options = vec![
                MountOption::FSName(opts.fsname.clone()),
                MountOption::Subtype(SUBTYPE.into()),
                MountOption::RO,
                MountOption::NoSuid,
                MountOption::NoDev,
            ];
            config.acl = if opts.allow_other { SessionACL::All } else { SessionACL::Owner };
            let s = Session::new(fs, &path, &config).map_err(err)?;
            let n = s.notifier();
            let s = s.spawn().map_err(err)?;
            let dev = find_mount(&path).map(|m| m.dev);
            ((s, n), false, dev)
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
        unmounted: false,
        wait: opts.unmount_wait,
    })
}

/// Opens `/dev/fuse` and mounts it at `path` (with `max_read` when given); returns the fd
/// for the session.
fn mount_sys(path: &Path, opts: &MountOptions, max_read: Option<usize>) -> io::Result<OwnedFd> {
    let dev: File = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open("/dev/fuse")?;
    // SAFETY: getuid/getgid cannot fail.
    let (uid, gid) = opts.owner.unwrap_or_else(|| unsafe { (libc::getuid(), libc::getgid()) });
    let mut data = format!("fd={},rootmode=40000,user_id={uid},group_id={gid}", dev.as_raw_fd());
    if opts.allow_other {
        data.push_str(",allow_other");
    }
    if let Some(m) = max_read {
        data.push_str(&format!(",max_read={m}"));
    }
    let c = |s: &[u8]| CString::new(s).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput));
    let source = c(opts.fsname.as_bytes())?;
    let target = c(path.as_os_str().as_bytes())?;
    let fstype = c(format!("fuse.{SUBTYPE}").as_bytes())?;
    let data = c(data.as_bytes())?;
    let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOATIME;
    // SAFETY: all pointers are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe { libc::mount(source.as_ptr(), target.as_ptr(), fstype.as_ptr(), flags, data.as_ptr().cast()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(dev.into())
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

/// True when `path` is a FUSE mount whose server is gone ("Transport endpoint is not
/// connected"): what a killed daemon leaves. The daemon [`detach`]es those at start.
pub fn is_stale(path: &Path) -> bool {
    // statfs always asks the server (a stat may be answered from cached attributes).
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: c is a valid path; st is written by the call.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statfs(c.as_ptr(), &mut st) };
    rc != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ENOTCONN)
}

/// One line of `/proc/self/mountinfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountInfo {
    pub dev: (u32, u32),
    pub mount_point: PathBuf,
    pub fstype: String,
    pub source: String,
}

/// Undoes the octal escapes (`\040` for a space; also tab, newline and backslash) of the
/// kernel's mount tables: `/proc/self/mountinfo`, `/proc/swaps`.
pub fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && let Some(d) = b.get(i + 1..i + 4)
            && d.iter().all(|c| (b'0'..=b'7').contains(c))
            && let Ok(v) = u8::try_from((d[0] - b'0') as u32 * 64 + (d[1] - b'0') as u32 * 8 + (d[2] - b'0') as u32)
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mounts a mountinfo text lists (lines it cannot read are skipped).
pub fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let f: Vec<&str> = left.split(' ').collect();
            let (maj, min) = f.get(2)?.split_once(':')?;
            let r: Vec<&str> = right.split(' ').collect();
            Some(MountInfo {
                dev: (maj.parse().ok()?, min.parse().ok()?),
                mount_point: PathBuf::from(unescape_octal(f.get(4)?)),
                fstype: r.first()?.to_string(),
                source: unescape_octal(r.get(1)?),
            })
        })
        .collect()
}

/// Every mount of this process's mount namespace.
pub fn mounts() -> Vec<MountInfo> {
    parse_mountinfo(&std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default())
}

/// The topmost spindle mount at `path` (canonical), if any.
pub fn find_mount(path: &Path) -> Option<MountInfo> {
    let fstype = format!("fuse.{SUBTYPE}");
    mounts().into_iter().rev().find(|m| m.mount_point == path && m.fstype == fstype)
}

/// Lazily detaches the spindle mount at `path` (`umount2(MNT_DETACH)`): it leaves the
/// namespace at once, and the kernel ends the connection when the last open file closes.
/// Used by [`crate::Mount::unmount`]; the daemon can also call it on stale mounts left by a
/// killed process ("Transport endpoint is not connected").
pub fn detach(path: &Path) -> io::Result<()> {
    let target = CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: target is a valid NUL-terminated path.
    if unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) } == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EPERM) {
        // Not root: the setuid helper can detach a mount of ours.
        for helper in ["fusermount3", "fusermount"] {
            if let Ok(st) = std::process::Command::new(helper).args(["-u", "-q", "-z", "--"]).arg(path).status()
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
        // Only when our mount is still at the path: never detach someone else's.
        let ours = match (find_mount(&self.path), self.dev) {
            (Some(m), Some(dev)) => m.dev == dev,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let result = if ours { detach(&self.path) } else { Ok(()) };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_fields_are_unescaped_and_bad_lines_skipped() {
        let t = "36 35 98:0 /mnt1 /mnt/with\\040space\\134 rw master:1 - ext3 /dev/root rw\n\
                 garbage line\n\
                 22 1 0:21 / /odd\\777\\04 rw - fuse.spindle spindle\\011x rw\n";
        let m = parse_mountinfo(t);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].dev, (98, 0));
        assert_eq!(m[0].mount_point, Path::new("/mnt/with space\\"));
        assert_eq!(m[0].fstype, "ext3");
        // Not escapes: a value over 255 and a short one stay as written.
        assert_eq!(m[1].mount_point, Path::new("/odd\\777\\04"));
        assert_eq!(m[1].source, "spindle\tx");
    }
}
