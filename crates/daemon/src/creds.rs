//! Who is asking, and opening files with their rights.
//!
//! The daemon reads the peer's uid, gid (`SO_PEERCRED`) and supplementary groups
//! (`SO_PEERGROUPS`) from the control socket. When the daemon runs as root and the peer is
//! someone else, every file access on the user's behalf (opening the image and its
//! companions, checking a mount point) runs on a short-lived thread whose filesystem
//! credentials are the user's: `setfsgid`, `setgroups` and `setfsuid` are per-thread system
//! calls on Linux (made with `syscall(2)`, so glibc does not apply them to every thread),
//! and a non-zero fsuid drops the thread's filesystem capabilities (`CAP_DAC_OVERRIDE`...).
//! The kernel therefore checks every path component and the file itself exactly as it would
//! for the user. The thread ends when the open returns, so these credentials never reach
//! another request. The open file descriptors it made stay valid for the daemon.

use serde::{Deserialize, Serialize};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

/// A user on whose behalf the daemon acts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user id.
    pub uid: u32,
    /// The primary group id.
    pub gid: u32,
    /// The supplementary groups.
    #[serde(default)]
    pub groups: Vec<u32>,
}

impl User {
    /// The daemon process itself.
    pub fn current() -> User {
        let (uid, gid) = spindle_sys::creds::effective_ids();
        User {
            uid,
            gid,
            groups: Vec::new(),
        }
    }

    /// True when acting for this user needs its own credentials (a root daemon serving
    /// another uid).
    pub fn needs_switch(&self) -> bool {
        let me = User::current();
        me.uid == 0 && self.uid != 0
    }
}

/// The credentials of the process at the other end of `stream`.
pub fn peer(stream: &UnixStream) -> io::Result<User> {
    let p = spindle_sys::creds::peer_credentials(stream.as_fd())?;
    Ok(User {
        uid: p.uid,
        gid: p.gid,
        groups: p.groups,
    })
}

/// Runs `f` with the filesystem rights of `user` (see the module docs): on this thread when
/// no switch is needed, else on a new thread with the user's fsuid, fsgid and groups.
pub fn as_user<T: Send + 'static>(
    user: &User,
    f: impl FnOnce() -> T + Send + 'static,
) -> io::Result<T> {
    if !user.needs_switch() {
        return Ok(f());
    }
    let user = user.clone();
    let handle = std::thread::Builder::new()
        .name("spindle-as-user".into())
        .spawn(move || {
            switch(&user)?;
            Ok::<T, io::Error>(f())
        })?;
    handle
        .join()
        .map_err(|_| io::Error::other("the opening thread panicked"))?
}

/// Like [`as_user`], always on a new thread, and giving up after `limit`: a path on a hung
/// filesystem (a FUSE server that never answers) then costs one stuck thread, which keeps
/// the user's credentials and ends if the call ever returns (its result is dropped), instead
/// of the request or the daemon.
///
/// Such threads are counted per uid ([`within_budget`]): a user who already has
/// [`WITHIN_PER_USER`] of them running (stuck on a hung filesystem, say) is refused
/// (`ResourceBusy`) until one returns, so stuck threads cannot pile up without bound.
pub fn as_user_within<T: Send + 'static>(
    user: &User,
    limit: std::time::Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> io::Result<T> {
    let permit = within_budget()
        .take(user.uid)
        .map_err(|m| io::Error::new(io::ErrorKind::ResourceBusy, m))?;
    let user = user.clone();
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("spindle-as-user".into())
        .spawn(move || {
            let r = if user.needs_switch() {
                switch(&user).map(|()| f())
            } else {
                Ok(f())
            };
            drop(permit);
            let _ = tx.send(r);
        })?;
    match rx.recv_timeout(limit) {
        Ok(r) => r,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "no answer within {} s (a hung filesystem?)",
                limit.as_secs()
            ),
        )),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Err(io::Error::other("the opening thread panicked"))
        }
    }
}

/// [`as_user_within`] threads one unprivileged user may have running at once.
pub const WITHIN_PER_USER: usize = 8;

/// The count of [`as_user_within`] threads running: [`WITHIN_PER_USER`] per unprivileged
/// user, 64 for them all, 16 more for root and the daemon's user (crate::limits).
pub fn within_budget() -> &'static std::sync::Arc<crate::limits::Budget> {
    static B: std::sync::OnceLock<std::sync::Arc<crate::limits::Budget>> =
        std::sync::OnceLock::new();
    B.get_or_init(|| crate::limits::Budget::new("file look-ups", WITHIN_PER_USER, 64, 16))
}

/// Sets this thread's filesystem credentials to `user`'s and drops its capabilities
/// ([`spindle_sys::creds::set_thread_fs_credentials`]). Never call it on a thread that lives
/// on.
fn switch(user: &User) -> io::Result<()> {
    spindle_sys::creds::set_thread_fs_credentials(user.uid, user.gid, &user.groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_of_a_socketpair_is_us() {
        let (a, _b) = UnixStream::pair().unwrap();
        let p = peer(&a).unwrap();
        assert_eq!(p.uid, User::current().uid);
    }

    #[test]
    fn as_user_denies_what_the_user_cannot_read() {
        if User::current().uid != 0 {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("secret");
        std::fs::write(&f, b"x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        let nobody = User {
            uid: 65534,
            gid: 65534,
            groups: vec![65534],
        };
        let f2 = f.clone();
        let r = as_user(&nobody, move || std::fs::read(&f2)).unwrap();
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::PermissionDenied);
        // This thread kept root's rights.
        assert!(std::fs::read(&f).is_ok());
        let f2 = f.clone();
        let r = as_user_within(&nobody, std::time::Duration::from_secs(10), move || {
            std::fs::read(&f2)
        })
        .unwrap();
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::PermissionDenied);
    }

    /// A root daemon's user thread cannot follow another user's `/proc/PID/cwd` into a
    /// private directory (it could with `CAP_SYS_PTRACE` kept), nor keep any capability.
    #[test]
    fn as_user_holds_no_capability() {
        if User::current().uid != 0 {
            return;
        }
        let nobody = User {
            uid: 65534,
            gid: 65534,
            groups: vec![65534],
        };
        let status = as_user(&nobody, || {
            std::fs::read_to_string("/proc/thread-self/status").unwrap()
        })
        .unwrap();
        for field in ["CapEff:", "CapPrm:"] {
            let line = status.lines().find(|l| l.starts_with(field)).unwrap();
            assert!(line.ends_with("0000000000000000"), "{line}");
        }
        // Our own process (root) from a thread with nobody's fsuid: /proc/1/cwd is init's.
        let r = as_user(&nobody, || std::fs::read_dir("/proc/1/cwd/").map(|_| ())).unwrap();
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::PermissionDenied);
    }

    #[test]
    fn as_user_within_gives_up() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let e = as_user_within(
            &User::current(),
            std::time::Duration::from_millis(100),
            move || rx.recv(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        drop(tx);
    }
}
