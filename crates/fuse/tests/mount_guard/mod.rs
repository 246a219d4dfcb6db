//! Helpers for the real-mount tests of crates/fuse (which open no image): mount-point guards
//! that never leave a mount behind and a watchdog against hangs. The image-based FUSE tests
//! in crates/daemon/tests (fuse_*.rs) have the same two in their fuse_common module.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// A temporary mount point. On drop, whatever spindle mount is still on it is detached
/// (lazily, so even a failed test with open files leaves nothing behind).
pub struct MountPoint {
    dir: tempfile::TempDir,
}

impl MountPoint {
    pub fn new() -> MountPoint {
        MountPoint {
            dir: tempfile::Builder::new()
                .prefix("spindle-fuse-test")
                .tempdir()
                .unwrap(),
        }
    }
    pub fn path(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }
}

impl Drop for MountPoint {
    fn drop(&mut self) {
        let p = self.path();
        while spindle_fuse::find_mount(&p).is_some() {
            if spindle_fuse::detach(&p).is_err() {
                break;
            }
        }
    }
}

/// Fails the whole test process (after detaching every spindle mount under the temp dir)
/// if the test has not finished within `secs`: a hung FUSE call cannot hang CI.
pub struct Watchdog(Option<mpsc::Sender<()>>);

pub fn watchdog(secs: u64) -> Watchdog {
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(Duration::from_secs(secs)) {
            eprintln!("watchdog: test still running after {secs} s; detaching mounts and exiting");
            let tmp = std::env::temp_dir().canonicalize().unwrap();
            for m in spindle_fuse::mounts() {
                if m.fstype == "fuse.spindle" && m.mount_point.starts_with(&tmp) {
                    let _ = spindle_fuse::detach(&m.mount_point);
                }
            }
            std::process::exit(101);
        }
    });
    Watchdog(Some(tx))
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}
