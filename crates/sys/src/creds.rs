//! Credentials: who is at the other end of a Unix socket (`SO_PEERCRED`, `SO_PEERGROUPS`),
//! and one thread's filesystem credentials and capabilities, which a root daemon sets on a
//! short-lived thread to open files exactly as a user could.
//!
//! `setfsuid`, `setfsgid` and `setgroups` are per-thread system calls on Linux; glibc's
//! wrappers apply `setgroups` to every thread of the process, so they are made with
//! `syscall(2)` here. A non-zero fsuid drops only the file-access capabilities, hence
//! [`drop_thread_capabilities`].

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The credentials of a socket's peer, fixed when it connected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerCred {
    /// Its process id (in our pid namespace; 0 when it is in none we can see).
    pub pid: i32,
    /// Its effective uid.
    pub uid: u32,
    /// Its effective gid.
    pub gid: u32,
    /// Its supplementary groups (`SO_PEERGROUPS`, Linux 4.13+; empty where unavailable).
    pub groups: Vec<u32>,
}

/// The most supplementary groups [`peer_credentials`] reads (the kernel's `NGROUPS_MAX` is
/// 65536; 256 is more than any login has).
const MAX_GROUPS: usize = 256;

/// The credentials of the process at the other end of the Unix socket `sock`.
pub fn peer_credentials(sock: BorrowedFd<'_>) -> io::Result<PeerCred> {
    let fd = sock.as_raw_fd();
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: cred and len are valid for writing; the kernel writes at most len bytes.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&raw mut cred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut groups = vec![0 as libc::gid_t; MAX_GROUPS];
    let mut glen = (groups.len() * std::mem::size_of::<libc::gid_t>()) as libc::socklen_t;
    // SAFETY: groups has glen bytes of room; the kernel writes at most glen bytes.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERGROUPS,
            groups.as_mut_ptr().cast(),
            &mut glen,
        )
    };
    if rc == 0 {
        groups.truncate(glen as usize / std::mem::size_of::<libc::gid_t>());
    } else {
        groups.clear();
    }
    Ok(PeerCred {
        pid: cred.pid,
        uid: cred.uid,
        gid: cred.gid,
        groups,
    })
}

/// The effective uid and gid of this process.
pub fn effective_ids() -> (u32, u32) {
    (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    )
}

/// The real uid and gid of this process.
pub fn real_ids() -> (u32, u32) {
    (
        rustix::process::getuid().as_raw(),
        rustix::process::getgid().as_raw(),
    )
}

/// Sets the calling thread's filesystem credentials: supplementary groups `groups` (just
/// `gid` when empty), fsgid `gid`, fsuid `uid`, then clears every capability of the thread
/// ([`drop_thread_capabilities`]). Other threads keep theirs. There is no way back (the
/// capabilities are gone): call it only on a thread that ends after its task.
pub fn set_thread_fs_credentials(uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
    let groups: Vec<libc::gid_t> = if groups.is_empty() {
        vec![gid]
    } else {
        groups.to_vec()
    };
    // SAFETY: setgroups reads groups.len() gids from a live buffer; this thread only.
    if unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: setfsgid and setfsuid take plain integers and act on this thread only; they
    // return the previous value and never fail visibly, so the values are read back below
    // (an argument of -1 changes nothing and returns the current one).
    let (fsgid, fsuid) = unsafe {
        libc::syscall(libc::SYS_setfsgid, gid);
        libc::syscall(libc::SYS_setfsuid, uid);
        (
            libc::syscall(libc::SYS_setfsgid, u32::MAX) as u32,
            libc::syscall(libc::SYS_setfsuid, u32::MAX) as u32,
        )
    };
    if fsuid != uid || fsgid != gid {
        return Err(io::Error::other(
            "cannot take the user's filesystem credentials",
        ));
    }
    drop_thread_capabilities()
}

/// Clears every capability of the calling thread (effective, permitted, inheritable) with
/// `capset` (pid 0: this thread only). A non-zero fsuid drops only the file-access ones
/// (`CAP_DAC_OVERRIDE`, `CAP_FOWNER`...): with `CAP_SYS_PTRACE` left, an open of
/// `/proc/PID/cwd/...` would pass through another user's private directories (the kernel
/// checks those magic links with `ptrace_may_access`, which that capability satisfies).
pub fn drop_thread_capabilities() -> io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: header and data are valid, laid out as the kernel's (version 3 takes two data
    // structs) and outlive the call; the kernel only reads data.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &raw mut header, data.as_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn the_peer_of_a_socketpair_is_this_process() {
        let (a, _b) = UnixStream::pair().unwrap();
        let p = peer_credentials(a.as_fd()).unwrap();
        assert_eq!((p.uid, p.gid), effective_ids());
        assert_eq!(p.pid as u32, std::process::id());
        let mut mine = rustix::process::getgroups()
            .unwrap()
            .iter()
            .map(|g| g.as_raw())
            .collect::<Vec<_>>();
        let mut got = p.groups.clone();
        mine.sort_unstable();
        got.sort_unstable();
        mine.dedup();
        got.dedup();
        assert_eq!(got, mine);
    }

    #[test]
    fn a_socket_that_is_not_unix_has_no_peer() {
        let f = std::fs::File::open("/proc/self/status").unwrap();
        let e = peer_credentials(f.as_fd()).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTSOCK));
    }

    #[test]
    fn fs_credentials_hold_on_their_thread_only() {
        if effective_ids().0 != 0 {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, b"x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let s = secret.clone();
        let (read, status) = std::thread::spawn(move || {
            set_thread_fs_credentials(65534, 65534, &[]).unwrap();
            (
                std::fs::read(&s).map_err(|e| e.kind()),
                std::fs::read_to_string("/proc/thread-self/status").unwrap(),
            )
        })
        .join()
        .unwrap();
        assert_eq!(read, Err(io::ErrorKind::PermissionDenied));
        for field in ["CapEff:", "CapPrm:"] {
            let line = status.lines().find(|l| l.starts_with(field)).unwrap();
            assert!(line.ends_with("0000000000000000"), "{line}");
        }
        assert!(status.contains("Groups:\t65534"), "{status}");
        // This thread kept root's rights.
        assert!(std::fs::read(&secret).is_ok());
    }
}
