//! Helpers for the daemon tests: a private runtime/state/socket per test, commands with
//! timeouts, and a guard that kills every daemon of the test and detaches its mounts even
//! when the test fails (plus a watchdog that does the same and exits if a test hangs).
#![allow(dead_code)]

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_spindle");

pub fn sample(rel: &str) -> PathBuf {
    let p = spindle_testkit::samples().join(rel);
    p.canonicalize().unwrap_or(p)
}

/// One test's world: `dir/run` (XDG_RUNTIME_DIR), `dir/state` (XDG_STATE_HOME), the socket
/// in `dir/run/spindle/control.sock`.
pub struct Env {
    dir: tempfile::TempDir,
    pub children: Vec<Child>,
    /// Their pids, for the watchdog.
    pids: std::sync::Arc<std::sync::Mutex<Vec<u32>>>,
    watchdog: Option<mpsc::Sender<()>>,
}

impl Env {
    pub fn new(timeout_secs: u64) -> Env {
        let dir = tempfile::Builder::new()
            .prefix("spindle-daemon-test")
            .tempdir()
            .unwrap();
        // Traversable by everyone: the security test runs the CLI as nobody.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        for d in ["run", "state"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
            std::fs::set_permissions(dir.path().join(d), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        let root = dir.path().canonicalize().unwrap();
        let (tx, rx) = mpsc::channel::<()>();
        let pids = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u32>::new()));
        let watched = pids.clone();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) =
                rx.recv_timeout(Duration::from_secs(timeout_secs))
            {
                eprintln!(
                    "watchdog: test still running after {timeout_secs} s; cleaning up and exiting"
                );
                for &pid in watched.lock().unwrap().iter() {
                    // SAFETY: plain kill(2) of a child of this test.
                    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                }
                kill_daemons_under(&root);
                detach_under(&root);
                std::process::exit(101);
            }
        });
        Env {
            dir,
            children: Vec::new(),
            pids,
            watchdog: Some(tx),
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }
    pub fn runtime(&self) -> PathBuf {
        self.root().join("run")
    }
    pub fn state(&self) -> PathBuf {
        self.root().join("state")
    }
    pub fn socket(&self) -> PathBuf {
        self.runtime().join("spindle/control.sock")
    }
    pub fn media(&self) -> PathBuf {
        self.runtime().join("spindle/media")
    }

    /// `spindle ARGS` with this test's environment.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("XDG_RUNTIME_DIR", self.runtime())
            .env("XDG_STATE_HOME", self.state())
            .env("SPINDLE_SOCKET", self.socket())
            .env_remove("LISTEN_FDS")
            .env_remove("LISTEN_PID")
            .env_remove("NOTIFY_SOCKET");
        c
    }

    /// Runs `spindle ARGS` (30 s at most).
    pub fn run(&self, args: &[&str]) -> Output {
        run_timeout(self.cmd(args), Duration::from_secs(30))
    }

    /// Runs `spindle ARGS`, which must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "spindle {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&o.stderr),
            self.log()
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// `spindle drives --json`, parsed.
    pub fn drives(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["drives", "--json"])).unwrap()
    }

    /// The log of daemons the CLI started.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.runtime().join("spindle/daemon.log")).unwrap_or_default()
    }

    /// The pid of the daemon holding the socket lock.
    pub fn daemon_pid(&self) -> Option<i32> {
        pid_of(&self.runtime().join("spindle/control.sock.lock"))
    }

    /// Starts `spindle daemon ARGS` as our child and waits until it answers.
    pub fn start_daemon(&mut self, args: &[&str]) -> usize {
        let mut a = vec!["daemon"];
        a.extend_from_slice(args);
        let child = self.cmd(&a).stdin(Stdio::null()).spawn().unwrap();
        let i = self.adopt(child);
        self.wait_ready();
        i
    }

    /// Kills `child` when the test ends (or the watchdog fires); returns its index.
    pub fn adopt(&mut self, child: Child) -> usize {
        self.pids.lock().unwrap().push(child.id());
        self.children.push(child);
        self.children.len() - 1
    }

    pub fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if spindle_daemon::client::ping(&self.socket()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no daemon answered on {}", self.socket().display());
    }

    /// Spindle tree mounts under this test's directory (the daemon's raw-views mount aside).
    pub fn tree_mounts(&self) -> Vec<PathBuf> {
        let raw = self.runtime().join("spindle/raw");
        spindle_mounts_under(&self.root())
            .into_iter()
            .filter(|p| *p != raw)
            .collect()
    }

    pub fn all_mounts(&self) -> Vec<PathBuf> {
        spindle_mounts_under(&self.root())
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        kill_daemons_under(&self.root());
        detach_under(&self.root());
        if let Some(tx) = self.watchdog.take() {
            let _ = tx.send(());
        }
    }
}

/// Kills the daemons of every socket lock file under `root` (the default socket's, and any
/// other socket a test named: a CLI pointed at a dead socket starts a daemon there).
fn kill_daemons_under(root: &Path) {
    let mut stack = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() && depth < 3 && spindle_fuse::find_mount(&p).is_none() {
                stack.push((p, depth + 1));
            } else if ft.is_file() && p.to_string_lossy().ends_with(".sock.lock") {
                kill_daemon_of(&p);
            }
        }
    }
}

fn pid_of(lock: &Path) -> Option<i32> {
    std::fs::read_to_string(lock).ok()?.trim().parse().ok()
}

/// SIGKILLs the daemon whose pid the lock file names, if it still holds the lock.
fn kill_daemon_of(lock: &Path) {
    if let Some(pid) = pid_of(lock) {
        // Only if that process is a spindle (pids are reused).
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "spindle" {
            // SAFETY: plain kill(2).
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let deadline = Instant::now() + Duration::from_secs(2);
            while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

pub fn spindle_mounts_under(root: &Path) -> Vec<PathBuf> {
    spindle_fuse::mounts()
        .into_iter()
        .filter(|m| m.fstype == "fuse.spindle" && m.mount_point.starts_with(root))
        .map(|m| m.mount_point)
        .collect()
}

fn detach_under(root: &Path) {
    for _ in 0..4 {
        let left = spindle_mounts_under(root);
        if left.is_empty() {
            return;
        }
        for p in left.iter().rev() {
            let _ = spindle_fuse::detach(p);
        }
    }
}

/// Runs a command, killing it after `limit`.
pub fn run_timeout(mut c: Command, limit: Duration) -> Output {
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let to = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let te = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{c:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: to.join().unwrap(),
        stderr: te.join().unwrap(),
    }
}

/// Waits for `child` to exit within `limit`.
pub fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "process still running after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Every file under `root`: relative path → content.
pub fn files(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p);
            } else if m.is_file() {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(
                    rel,
                    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
                );
            }
        }
    }
    out
}

/// Runs spindle with `args` as user nobody (group nogroup, no supplementary groups) against
/// `env`'s daemon; 30 s at most.
pub fn as_nobody(env: &Env, args: &[&str]) -> Output {
    let mut c = Command::new("setpriv");
    c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", BIN])
        .args(args)
        .env("XDG_RUNTIME_DIR", env.runtime())
        .env("SPINDLE_SOCKET", env.socket())
        .env_remove("XDG_STATE_HOME");
    run_timeout(c, Duration::from_secs(30))
}
