//! Guards for tests that make real FUSE mounts: a temporary mount point that never leaves a
//! spindle mount behind, and a watchdog that ends a hung test process after detaching every
//! spindle mount under the temporary directory.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// The filesystem type spindle's FUSE mounts show in mountinfo.
const SPINDLE_FSTYPE: &str = "fuse.spindle";

/// Lazily detaches the mount at `path`: `umount2(MNT_DETACH)` as root, else the setuid
/// `fusermount3 -u -z` (a user's own FUSE mount). Returns whether it was detached.
pub fn detach(path: &Path) -> bool {
    if spindle_sys::mount::detach(path).is_ok() {
        return true;
    }
    ["fusermount3", "fusermount"].iter().any(|helper| {
        std::process::Command::new(helper)
            .args(["-u", "-q", "-z", "--"])
            .arg(path)
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// A temporary mount point. On drop, whatever spindle mount is still on it is detached
/// (lazily, so even a failed test with open files leaves nothing behind).
pub struct MountPoint {
    dir: tempfile::TempDir,
}

impl MountPoint {
    /// A new empty directory under the temporary directory.
    pub fn new() -> MountPoint {
        MountPoint {
            dir: tempfile::Builder::new()
                .prefix("spindle-fuse-test")
                .tempdir()
                .unwrap(),
        }
    }

    /// Its canonical path (what mountinfo shows).
    pub fn path(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }
}

impl Default for MountPoint {
    fn default() -> Self {
        MountPoint::new()
    }
}

impl Drop for MountPoint {
    fn drop(&mut self) {
        let p = self.path();
        while spindle_sys::mountinfo::find(&p, SPINDLE_FSTYPE).is_some() {
            if !detach(&p) {
                break;
            }
        }
    }
}

/// Ends the whole test process with status 101 (after detaching every spindle mount under
/// the temporary directory) unless dropped within its time: a hung FUSE call cannot hang CI.
pub struct Watchdog(Option<mpsc::Sender<()>>);

/// A watchdog of `secs` seconds.
pub fn watchdog(secs: u64) -> Watchdog {
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(Duration::from_secs(secs)) {
            eprintln!("watchdog: test still running after {secs} s; detaching mounts and exiting");
            let tmp = std::env::temp_dir().canonicalize().unwrap();
            for m in spindle_sys::mountinfo::mounts() {
                if m.fstype == SPINDLE_FSTYPE && m.mount_point.starts_with(&tmp) {
                    detach(&m.mount_point);
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
