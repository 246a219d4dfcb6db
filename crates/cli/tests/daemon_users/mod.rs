//! Throwaway unprivileged users for the daemon tests (made with `useradd`, deleted with
//! `userdel` when the guard drops, even on a panic), the CLI run as one of them (`setpriv`),
//! and control connections made as one of them from this (root) process.
#![allow(dead_code)]

use crate::daemon_common::{BIN, Env, run_timeout};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A user that exists for one test.
pub struct TestUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// A private directory of theirs (0700) under the test's directory: their HOME and
    /// XDG_RUNTIME_DIR.
    pub home: PathBuf,
}

fn id(flag: &str, name: &str) -> u32 {
    let o = Command::new("id").args([flag, name]).output().unwrap();
    assert!(
        o.status.success(),
        "id {flag} {name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap().trim().parse().unwrap()
}

impl TestUser {
    /// A new user `sp<tag><pid>x<n>` with its own group and a home under `env`'s directory.
    pub fn new(env: &Env, tag: &str) -> TestUser {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        // One useradd at a time in this process; another process holding the passwd or group
        // lock makes it fail with exit 1 or 10: then try again.
        static SERIAL: Mutex<()> = Mutex::new(());
        let name = format!(
            "sp{tag}{}x{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let mut tries = 0;
        loop {
            let o = Command::new("useradd")
                .args([
                    "--no-create-home",
                    "--user-group",
                    "--shell",
                    "/usr/sbin/nologin",
                    &name,
                ])
                .output()
                .unwrap();
            if o.status.success() {
                break;
            }
            tries += 1;
            assert!(
                matches!(o.status.code(), Some(1 | 10)) && tries < 50,
                "useradd {name}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        // From here on the guard deletes it.
        let mut u = TestUser {
            uid: 0,
            gid: 0,
            home: env.root().join(format!("home-{name}")),
            name,
        };
        u.uid = id("-u", &u.name);
        u.gid = id("-g", &u.name);
        std::fs::create_dir(&u.home).unwrap();
        std::os::unix::fs::chown(&u.home, Some(u.uid), Some(u.gid)).unwrap();
        std::fs::set_permissions(&u.home, std::fs::Permissions::from_mode(0o700)).unwrap();
        u
    }

    /// `prog ARGS` as this user (no supplementary groups), with HOME and XDG_RUNTIME_DIR
    /// their private directory, the test daemon's socket, 60 s at most.
    pub fn run(&self, env: &Env, prog: &str, args: &[&str]) -> Output {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .arg("--clear-groups")
            .arg(prog)
            .args(args)
            .env("HOME", &self.home)
            .env("XDG_RUNTIME_DIR", &self.home)
            .env("SPINDLE_SOCKET", env.socket())
            .env_remove("XDG_STATE_HOME")
            .env_remove("LISTEN_FDS")
            .env_remove("LISTEN_PID");
        run_timeout(c, Duration::from_secs(60))
    }

    /// `spindle ARGS` as this user.
    pub fn spindle(&self, env: &Env, args: &[&str]) -> Output {
        self.run(env, BIN, args)
    }

    /// `n` connections to `socket` made as this user: from a thread that takes the user's
    /// ids for itself (raw per-thread system calls, as the daemon's opening threads do) and
    /// ends afterwards. The daemon reads them with SO_PEERCRED, fixed at connect time.
    /// Each is `Err` when the connect failed.
    pub fn connect(&self, socket: &Path, n: usize) -> Vec<std::io::Result<UnixStream>> {
        let (uid, gid, socket) = (self.uid, self.gid, socket.to_path_buf());
        std::thread::spawn(move || {
            // SAFETY: raw per-thread credential calls with valid arguments; this thread ends
            // right after and nothing else runs on it.
            unsafe {
                assert_eq!(
                    libc::syscall(libc::SYS_setgroups, 0usize, std::ptr::null::<libc::gid_t>()),
                    0
                );
                assert_eq!(libc::syscall(libc::SYS_setresgid, gid, gid, gid), 0);
                assert_eq!(libc::syscall(libc::SYS_setresuid, uid, uid, uid), 0);
            }
            (0..n).map(|_| UnixStream::connect(&socket)).collect()
        })
        .join()
        .unwrap()
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
        for _ in 0..50 {
            let o = Command::new("userdel").arg(&self.name).output();
            match o {
                Ok(o) if o.status.success() => return,
                // 1, 10: the passwd or group file is locked by another process.
                Ok(o) if matches!(o.status.code(), Some(1 | 10)) => {
                    std::thread::sleep(Duration::from_millis(200))
                }
                o => {
                    eprintln!("userdel {}: {o:?}", self.name);
                    return;
                }
            }
        }
    }
}

/// Raises this process's soft limit of open files to its hard limit (tests that hold
/// thousands of connections).
pub fn raise_fd_limit() {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) == 0 && l.rlim_cur < l.rlim_max {
            l.rlim_cur = l.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}

/// The number of threads of process `pid`.
pub fn threads(pid: i32) -> usize {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}
