//! The daemon as a service: what systemd's and launchd's guides ask of one.
//!
//! * Foreground only (never forks); logs on stderr.
//! * Socket activation: a listening socket passed as fd 3 with `LISTEN_FDS`/`LISTEN_PID`
//!   (systemd, `systemd-socket-activate`; on Linux a launchd-style supervisor passes it the
//!   same way), else it binds the socket itself (0600 in a 0700 directory for a user; 0666
//!   in a 0755 directory for a root daemon, which checks every peer's credentials), guarded
//!   by a lock file so two daemons never share a path. `READY=1` goes to `$NOTIFY_SOCKET`.
//! * SIGTERM/SIGINT (or the `shutdown` command): every drive ejected, every mount detached,
//!   exit 0, without touching the saved drives, so the next start restores them.
//! * `--idle-exit SECS`: exits when no drive is loaded and no request came for SECS, never
//!   sooner than [`MIN_UPTIME`] after start.
//! * At start: stale mounts a killed predecessor left (saved mount points, anything under
//!   the runtime dir) are detached, then the saved drives are restored.

use crate::limits::{Budget, Limits};
use crate::server::{self, Shared};
use crate::state::SavedState;
use crate::{DaemonError, Drives, Result, creds, paths, protocol};
use spindle_protocol::ErrorCode;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The shortest life of a daemon started with `--idle-exit`.
pub const MIN_UPTIME: Duration = Duration::from_secs(10);

/// How the daemon runs.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The control socket (`None`: [`paths::socket_path`]). Ignored when a socket is passed.
    pub socket: Option<PathBuf>,
    /// Exit after this long without drives or requests.
    pub idle_exit: Option<Duration>,
    /// Connections, request time and opens in flight (docs/daemon.md, "Limits").
    pub limits: Limits,
}

/// Keeps glibc's trim and mmap thresholds at their defaults (128 KiB) for good. Left alone,
/// glibc raises both (up to 32 MiB) after the first big block is freed: every mount's session
/// buffers then come from the heap, zeroed by hand (eight idle mounts: 58 MiB resident instead
/// of 7), and freed memory at the top of a thread's arena is never given back, which no
/// `malloc_trim` reaches either. With them fixed, an `eject --all` of eight walked
/// 100,000-entry discs goes back to about 8 MiB resident (from 165 MiB).
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc parameter (under the allocator's own lock).
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}

/// Raises the soft limit of open files to the hard limit: every tree mount holds a few
/// descriptors (its /dev/fuse fd and copy, a pipe pair per thread for spliced replies, the
/// image and its companions), so the common soft limit of 1024 would cap a daemon near 100
/// mounts. What systemd's documentation advises for such daemons.
fn raise_fd_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut l = getrlimit(Resource::Nofile);
    // `None` is unlimited.
    let below = match (l.current, l.maximum) {
        (Some(cur), Some(max)) => cur < max,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if below {
        l.current = l.maximum;
        let _ = setrlimit(Resource::Nofile, l);
    }
}

fn log(msg: impl AsRef<str>) {
    eprintln!("spindle-daemon: {}", msg.as_ref());
}

/// Runs the daemon until SIGTERM, SIGINT, `shutdown` or the idle timeout.
pub fn run(cfg: &Config) -> Result<()> {
    let start = Instant::now();
    tune_allocator();
    raise_fd_limit();
    // What the daemon reads from images lands in a kernel cache of its own (/dev/srN's, the
    // NBD device's, FUSE's pages): read them past the page cache, so each sector is cached
    // once and copied by the CPU once fewer (docs/tcmu.md "Speed"). Before the restore.
    spindle_disc::prefer_direct_reads(true);
    let passed = take_passed_socket();
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, stop.clone())
            .map_err(|e| DaemonError::io("installing signal handlers", e))?;
    }
    let root = paths::is_root();
    let runtime = paths::runtime_dir();
    private_dir(&runtime, root)?;
    let socket = cfg.socket.clone().unwrap_or_else(paths::socket_path);
    let (listener, bound) = match passed {
        Some(l) => {
            log("serving the socket passed by the service manager");
            (l, None)
        }
        None => {
            let (l, lock) = bind(&socket, root)?;
            log(format!(
                "listening on {} (pid {})",
                socket.display(),
                std::process::id()
            ));
            (l, Some(lock))
        }
    };
    listener
        .set_nonblocking(true)
        .map_err(|e| DaemonError::io("control socket", e))?;

    let state_file = paths::state_file();
    let saved = SavedState::load(&state_file).unwrap_or_else(|e| {
        log(format!(
            "{}: unreadable ({e}); starting with empty drives",
            state_file.display()
        ));
        None
    });
    clean_stale(&runtime, saved.as_ref());
    let mut drives = Drives::new(
        saved.as_ref().map_or(crate::DEFAULT_DRIVES, |s| s.count),
        paths::media_dir(),
        Some(state_file),
    );
    let raw_dir = paths::raw_dir();
    let raw_mount = std::fs::create_dir_all(&raw_dir)
        .map_err(|source| spindle_fuse::FuseError::Mount {
            path: raw_dir.clone(),
            source,
        })
        .and_then(|()| {
            let opts = spindle_fuse::MountOptions {
                fsname: "spindle-drives".into(),
                unmount_wait: Duration::from_millis(100),
                ..Default::default()
            };
            spindle_fuse::mount_drives(drives.table(), &raw_dir, &opts)
        });
    let raw_mount = match raw_mount {
        Ok(m) => {
            if let Some(r) = m.drives_refresh() {
                drives.table().notify(r);
            }
            Some(m)
        }
        Err(e) => {
            log(format!("raw views not mounted: {e}"));
            None
        }
    };
    if let Some(s) = &saved {
        drives.restore(s);
    }
    // After the restore: each device's first probe sees its identity and its disc.
    drives.attach_scsi(crate::scsi::Backend::choose());
    let host_events = drives.host_events();
    let nbd_path = paths::nbd_socket_path();
    let nbd = match crate::sharing::LocalNbd::start(drives.table(), &nbd_path) {
        Ok(n) => {
            log(format!("NBD exports on {}", nbd_path.display()));
            Some(n)
        }
        Err(e) => {
            log(format!("no NBD exports: {}", e.full_message()));
            None
        }
    };
    let shared = Arc::new(Shared {
        drives: Mutex::new(drives),
        raw: raw_mount.as_ref().map(|m| m.path().to_path_buf()),
        last_request: Mutex::new(Instant::now()),
        stop: stop.clone(),
        clients: Budget::new(
            "connections",
            cfg.limits.max_clients_per_user,
            cfg.limits.max_clients,
            cfg.limits.reserved_clients,
        ),
        opens: Budget::new(
            "file opens",
            cfg.limits.max_opens_per_user,
            cfg.limits.max_opens,
            cfg.limits.max_opens.div_ceil(4),
        ),
        limits: cfg.limits.clone(),
        nbd: Mutex::new(nbd),
    });
    if let Some(s) = &saved {
        for spec in &s.shares {
            if let Err(e) = server::start_share(&shared, spec.clone()) {
                log(format!(
                    "drive {}: cannot share on {} again: {}",
                    spec.share.drive,
                    spec.share.listen,
                    e.full_message()
                ));
            }
        }
    }
    if let Some(rx) = host_events {
        spawn_host_ejects(rx, Arc::downgrade(&shared));
    }
    notify("READY=1");

    while !stop.load(Ordering::SeqCst) {
        if wait_readable(listener.as_fd(), 100) {
            accept_all(&listener, &shared);
        }
        if let Some(idle) = cfg.idle_exit
            && start.elapsed() >= MIN_UPTIME
            && shared.idle_for() >= idle
            && shared.drives().loaded() == 0
        {
            log(format!("idle for {} s: exiting", idle.as_secs()));
            break;
        }
    }
    notify("STOPPING=1");
    log("stopping: ejecting every drive");
    // Each share's server stops (and waits for its connections) with the drives unlocked.
    let shares = shared.drives().take_shares();
    drop(shares);
    drop(shared.nbd.lock().unwrap_or_else(|e| e.into_inner()).take());
    shared.drives().shutdown();
    drop(raw_mount);
    if bound.is_some() {
        let _ = std::fs::remove_file(&socket);
    }
    log("stopped");
    Ok(())
}

/// Empties the slots whose tray the system opened (`eject /dev/srN`), one at a time, on a
/// thread of their own: the TCMU server thread that saw the command only sends the drive
/// number, so it never waits for the drives lock (which the daemon may hold while it waits
/// for that server, removing a device).
fn spawn_host_ejects(rx: std::sync::mpsc::Receiver<u32>, shared: std::sync::Weak<Shared>) {
    let spawned = std::thread::Builder::new()
        .name("spindle-host-eject".into())
        .spawn(move || {
            for n in rx {
                let Some(sh) = shared.upgrade() else { return };
                sh.drives().host_ejected(n);
            }
        });
    if spawned.is_err() {
        log("cannot start the host eject thread: `eject /dev/srN` will not empty drives");
    }
}

/// Accepts every pending connection. Nothing here blocks: the peer's credentials come from
/// the kernel, a refusal is written to the new socket while it is still non-blocking (a
/// client that does not read it loses it), and the connection is served on its own thread.
fn accept_all(listener: &UnixListener, shared: &Arc<Shared>) {
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let refuse = |s: &mut UnixStream, code: ErrorCode, msg: &str| {
                    let v = protocol::error_value(&serde_json::Value::Null, code, msg);
                    let _ = s.write_all(format!("{v}\n").as_bytes());
                };
                // accept(2) on Linux does not pass O_NONBLOCK on; set it for the refusals.
                let _ = stream.set_nonblocking(true);
                let user = match creds::peer(&stream) {
                    Ok(u) => u,
                    Err(e) => {
                        refuse(
                            &mut stream,
                            ErrorCode::Failed,
                            &format!("cannot read peer credentials: {e}"),
                        );
                        continue;
                    }
                };
                let permit = match shared.clients.take(user.uid) {
                    Ok(p) => p,
                    Err(msg) => {
                        refuse(&mut stream, ErrorCode::Busy, &msg);
                        continue;
                    }
                };
                if stream.set_nonblocking(false).is_err() {
                    continue;
                }
                let sh = shared.clone();
                let spawned = std::thread::Builder::new()
                    .name("spindle-client".into())
                    .spawn(move || server::serve(stream, user, permit, sh));
                if spawned.is_err() {
                    log("cannot start a client thread");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                log(format!("accept: {e}"));
                std::thread::sleep(Duration::from_millis(50));
                return;
            }
        }
    }
}

fn wait_readable(fd: BorrowedFd<'_>, ms: i64) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let timeout = Timespec {
        tv_sec: ms / 1000,
        tv_nsec: ms % 1000 * 1_000_000,
    };
    poll(&mut [PollFd::new(&fd, PollFlags::IN)], Some(&timeout)).is_ok_and(|n| n > 0)
}

/// The listening socket systemd (or a launchd-style supervisor) passed as fd 3, if any
/// (others passed after it are closed). The variables are removed so that nothing we start
/// inherits them.
fn take_passed_socket() -> Option<UnixListener> {
    // SAFETY: called at start, before any other thread exists; nothing else owns the
    // descriptors the service manager passed.
    let fds = unsafe { spindle_sys::activation::take_listen_fds() };
    fds.into_iter().next().map(UnixListener::from)
}

/// sd_notify(3) without libsystemd: one datagram to `$NOTIFY_SOCKET` (a path, or an
/// abstract name written `@name`).
pub fn notify(msg: &str) {
    let Some(addr) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = UnixDatagram::unbound() else {
        return;
    };
    let addr = addr.to_string_lossy().into_owned();
    let sent = if let Some(name) = addr.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|a| sock.send_to_addr(msg.as_bytes(), &a))
    } else {
        sock.send_to(msg.as_bytes(), &addr)
    };
    if let Err(e) = sent {
        log(format!("notify {addr}: {e}"));
    }
}

/// Creates `dir` (0700 for a user, 0755 for a root daemon) if needed.
fn private_dir(dir: &Path, root: bool) -> Result<()> {
    let mode = if root { 0o755 } else { 0o700 };
    if !dir.exists() {
        std::fs::create_dir_all(dir)
            .map_err(|e| DaemonError::io(format!("{}: creating", dir.display()), e))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
            .map_err(|e| DaemonError::io(format!("{}: chmod", dir.display()), e))?;
    }
    Ok(())
}

/// Binds the control socket, holding `<socket>.lock` (with our pid in it) for the daemon's
/// life.
fn bind(socket: &Path, root: bool) -> Result<(UnixListener, std::fs::File)> {
    let io = |what: &str, e| DaemonError::io(format!("{}: {what}", socket.display()), e);
    if let Some(dir) = socket.parent() {
        private_dir(dir, root)?;
    }
    let mut lock_name = socket.as_os_str().to_owned();
    lock_name.push(".lock");
    let mut lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_name)
        .map_err(|e| io("lock file", e))?;
    if rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
        return Err(DaemonError::AlreadyRunning(socket.to_path_buf()));
    }
    let _ = lock.set_len(0);
    let _ = writeln!(lock, "{}", std::process::id());
    if UnixStream::connect(socket).is_ok() {
        return Err(DaemonError::AlreadyRunning(socket.to_path_buf()));
    }
    let _ = std::fs::remove_file(socket);
    let l = UnixListener::bind(socket).map_err(|e| io("bind", e))?;
    let mode = if root { 0o666 } else { 0o600 };
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(mode))
        .map_err(|e| io("chmod", e))?;
    Ok((l, lock))
}

/// Detaches the stale mounts ("Transport endpoint is not connected") a killed daemon left:
/// at the saved mount points and anywhere under the runtime dir.
fn clean_stale(runtime: &Path, saved: Option<&SavedState>) {
    let runtime = runtime
        .canonicalize()
        .unwrap_or_else(|_| runtime.to_path_buf());
    let mut candidates: Vec<PathBuf> = spindle_sys::mountinfo::mounts()
        .into_iter()
        .filter(|m| {
            m.fstype == format!("fuse.{}", spindle_fuse::SUBTYPE)
                && m.mount_point.starts_with(&runtime)
        })
        .map(|m| m.mount_point)
        .collect();
    if let Some(s) = saved {
        candidates.extend(
            s.drives
                .iter()
                .flat_map(|d| d.mounts.iter().map(|m| m.path.clone())),
        );
    }
    candidates.sort();
    candidates.dedup();
    // Saved paths were chosen by users: each is resolved once, with no link in it, and only
    // a dead spindle mount rooted exactly there is detached, through its descriptor
    // (stacked stale mounts: one a round, at most 16).
    for p in candidates {
        for _ in 0..16 {
            match spindle_fuse::detach_if_stale(&p) {
                Ok(true) => log(format!("{}: detached a stale mount", p.display())),
                Ok(false) => break,
                Err(e) => {
                    log(format!("{}: cannot detach a stale mount: {e}", p.display()));
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_socket_is_private_and_locked() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("spindle/control.sock");
        let (_l, _lock) = bind(&sock, false).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&sock), 0o600);
        assert_eq!(mode(sock.parent().unwrap()), 0o700);
        // A second daemon on the same path is refused while the first holds the lock.
        assert!(matches!(
            bind(&sock, false),
            Err(DaemonError::AlreadyRunning(_))
        ));
    }

    #[test]
    fn notify_reaches_a_datagram_socket() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("notify");
        let rx = UnixDatagram::bind(&p).unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        // SAFETY: this test alone reads NOTIFY_SOCKET.
        unsafe { std::env::set_var("NOTIFY_SOCKET", &p) };
        notify("READY=1");
        // SAFETY: as above, no other thread reads NOTIFY_SOCKET.
        unsafe { std::env::remove_var("NOTIFY_SOCKET") };
        let mut buf = [0u8; 64];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
    }
}
