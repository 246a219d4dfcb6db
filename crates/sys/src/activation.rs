//! Sockets passed in by a service manager (socket activation, `sd_listen_fds(3)`): systemd,
//! `systemd-socket-activate`, or a launchd-style supervisor on Linux, hand them over as the
//! descriptors from 3 on and say so in `LISTEN_PID` and `LISTEN_FDS`.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// The first descriptor a service manager passes (`SD_LISTEN_FDS_START`).
pub const LISTEN_FDS_START: RawFd = 3;

/// The most descriptors [`take_listen_fds`] takes (a guard against a nonsensical count).
const MAX_FDS: u32 = 1024;

/// The `LISTEN_FDS` count when `LISTEN_PID` names `pid` (0 for none or another process).
fn passed_count(listen_pid: Option<&str>, listen_fds: Option<&str>, pid: u32) -> u32 {
    let (Some(p), Some(n)) = (listen_pid, listen_fds) else {
        return 0;
    };
    match (p.parse::<u32>(), n.parse::<u32>()) {
        (Ok(p), Ok(n)) if p == pid => n.min(MAX_FDS),
        _ => 0,
    }
}

/// Takes the descriptors a service manager passed to this process: `LISTEN_FDS` of them from
/// fd 3 on, when `LISTEN_PID` is our pid (empty otherwise). Each is marked close-on-exec and
/// checked to be open. `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` are removed from the
/// environment either way, so that nothing this process starts inherits them.
///
/// # Safety
///
/// No other thread may read or write the environment while this runs (call it at start,
/// before any thread exists), and nothing else in the process may own the descriptors from
/// [`LISTEN_FDS_START`] on: they are owned by the returned values from then on.
pub unsafe fn take_listen_fds() -> Vec<OwnedFd> {
    let pid = std::env::var("LISTEN_PID").ok();
    let fds = std::env::var("LISTEN_FDS").ok();
    // SAFETY: the caller guarantees no other thread touches the environment.
    unsafe {
        std::env::remove_var("LISTEN_PID");
        std::env::remove_var("LISTEN_FDS");
        std::env::remove_var("LISTEN_FDNAMES");
    }
    let n = passed_count(pid.as_deref(), fds.as_deref(), std::process::id());
    let mut out = Vec::new();
    for fd in (0..n).map(|i| LISTEN_FDS_START + i as RawFd) {
        // SAFETY: F_SETFD on any integer is memory-safe; it fails with EBADF when the
        // descriptor is not open, which is checked before anything owns it.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
            break;
        }
        // SAFETY: fd is open (checked above) and, as the caller guarantees, owned by nothing
        // else in this process: the service manager passed it to us.
        out.push(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_is_ours_only_when_the_pid_is() {
        assert_eq!(passed_count(Some("42"), Some("2"), 42), 2);
        assert_eq!(passed_count(Some("41"), Some("2"), 42), 0);
        assert_eq!(passed_count(None, Some("2"), 42), 0);
        assert_eq!(passed_count(Some("42"), None, 42), 0);
        assert_eq!(passed_count(Some("42"), Some("x"), 42), 0);
        assert_eq!(passed_count(Some("42"), Some("-1"), 42), 0);
        assert_eq!(passed_count(Some("42"), Some("99999999"), 42), MAX_FDS);
    }
}
