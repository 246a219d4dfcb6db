//! One QEMU boot: serial console captured, bounded by a time limit.

use crate::{Error, Result};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a boot printed.
pub(crate) struct Run {
    pub console: String,
    pub stderr: String,
    pub timed_out: bool,
    pub elapsed: Duration,
}

pub(crate) struct Boot<'a> {
    pub vmlinuz: &'a Path,
    pub initrd: &'a Path,
    pub memory_mb: u32,
    pub append: String,
    pub extra: &'a [OsString],
    pub timeout: Duration,
    pub log: PathBuf,
}

/// Holds an exclusive lock on `path` while alive (VMs run one at a time: each takes a core).
pub(crate) struct FileLock(std::fs::File);

impl FileLock {
    pub fn take(path: &Path) -> Result<FileLock> {
        use std::os::fd::AsRawFd;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(Error::io(path, std::io::Error::last_os_error()));
        }
        Ok(FileLock(file))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: unlocking a descriptor we own.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

pub(crate) fn qemu_binary() -> String {
    std::env::var("SPINDLE_VM_QEMU").unwrap_or_else(|_| "qemu-system-x86_64".to_string())
}

fn reader(
    mut from: impl Read + Send + 'static,
    sink: Arc<Mutex<Vec<u8>>>,
    mut log: Option<std::fs::File>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if let Some(f) = log.as_mut() {
                        use std::io::Write;
                        let _ = f.write_all(&buf[..n]);
                    }
                    sink.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend_from_slice(&buf[..n]);
                }
            }
        }
    })
}

pub(crate) fn boot(b: &Boot) -> Result<Run> {
    let qemu = qemu_binary();
    let mut cmd = Command::new(&qemu);
    cmd.args(["-accel", "tcg", "-cpu", "max", "-m"])
        .arg(b.memory_mb.to_string())
        .arg("-kernel")
        .arg(b.vmlinuz)
        .arg("-initrd")
        .arg(b.initrd)
        .arg("-append")
        .arg(&b.append)
        .args(["-nographic", "-no-reboot"])
        .args(b.extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The command line, NUL-separated, for scripts/vm/boot (the same VM, interactively).
    if let Some(dir) = b.log.parent() {
        let mut line = Vec::new();
        for a in std::iter::once(cmd.get_program()).chain(cmd.get_args()) {
            line.extend_from_slice(a.as_encoded_bytes());
            line.push(0);
        }
        let path = dir.join("qemu.args");
        std::fs::write(&path, line).map_err(|e| Error::io(&path, e))?;
    }
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::MissingTool {
            tool: qemu.clone(),
            hint: "apt-get install qemu-system-x86 (scripts/setup installs it)".into(),
        },
        _ => Error::Command {
            command: qemu.clone(),
            detail: e.to_string(),
        },
    })?;
    let log = std::fs::File::create(&b.log).map_err(|e| Error::io(&b.log, e))?;
    let console = Arc::new(Mutex::new(Vec::new()));
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let out_thread = reader(
        child.stdout.take().expect("piped stdout"),
        console.clone(),
        Some(log),
    );
    let err_thread = reader(
        child.stderr.take().expect("piped stderr"),
        stderr.clone(),
        None,
    );
    let mut timed_out = false;
    let mut done_at: Option<Instant> = None;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) => {}
            Err(e) => {
                return Err(Error::Command {
                    command: qemu,
                    detail: e.to_string(),
                });
            }
        }
        if start.elapsed() > b.timeout {
            timed_out = true;
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        // The guest powers off after DONE; if QEMU lingers, do not wait for the time limit.
        if done_at.is_none()
            && console
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .windows(11)
                .any(|w| w == b"VMTEST DONE")
        {
            done_at = Some(Instant::now());
        }
        if done_at.is_some_and(|t| t.elapsed() > Duration::from_secs(15)) {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let elapsed = start.elapsed();
    let _ = out_thread.join();
    let _ = err_thread.join();
    let text = |v: &Arc<Mutex<Vec<u8>>>| {
        String::from_utf8_lossy(&v.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    };
    Ok(Run {
        console: text(&console),
        stderr: text(&stderr),
        timed_out,
        elapsed,
    })
}
