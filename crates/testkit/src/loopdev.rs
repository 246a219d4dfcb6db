//! Real loop devices for the burn tests (crates/burn, crates/cli): sparse backing files
//! attached with `losetup`, detached (and unmounted) by Drop guards even when a test fails.
//! Needs root, as those tests do.

use crate::tools::tool as sh;
use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// `losetup -f` picks a free device and then claims it: serialise it between test threads.
static LOSETUP: Mutex<()> = Mutex::new(());

/// A loop device, detached on drop.
pub struct Loop {
    /// The device node (`/dev/loopN`).
    pub dev: PathBuf,
    /// What it reads and writes (its backing file or device).
    pub file: PathBuf,
}

impl Loop {
    /// A loop device over a new sparse file of `size` bytes; `extra` goes to losetup
    /// (`-r` read-only, `-b 4096` for 4 KiB logical blocks).
    pub fn new(dir: &Path, name: &str, size: u64, extra: &[&str]) -> Loop {
        let file = dir.join(name);
        let f = std::fs::File::create(&file).unwrap();
        f.set_len(size).unwrap();
        drop(f);
        let _g = LOSETUP.lock().unwrap_or_else(|p| p.into_inner());
        let mut args = vec!["-f", "--show"];
        args.extend_from_slice(extra);
        let fs = file.to_str().unwrap().to_string();
        args.push(&fs);
        let dev = sh("losetup", &args).trim().to_string();
        assert!(dev.starts_with("/dev/loop"), "losetup printed {dev:?}");
        Loop {
            dev: PathBuf::from(dev),
            file,
        }
    }

    /// A loop device over an existing file or block device (`target` is left as it is on
    /// drop; only the loop device is detached).
    pub fn over(target: &Path, extra: &[&str]) -> Loop {
        let _g = LOSETUP.lock().unwrap_or_else(|p| p.into_inner());
        let mut args = vec!["-f", "--show"];
        args.extend_from_slice(extra);
        let t = target.to_str().unwrap().to_string();
        args.push(&t);
        let dev = sh("losetup", &args).trim().to_string();
        assert!(dev.starts_with("/dev/loop"), "losetup printed {dev:?}");
        Loop {
            dev: PathBuf::from(dev),
            file: target.to_path_buf(),
        }
    }

    /// The device's kernel name (`loopN`).
    pub fn name(&self) -> String {
        self.dev.file_name().unwrap().to_string_lossy().into_owned()
    }
    /// The device node's path as text.
    pub fn path(&self) -> &str {
        self.dev.to_str().unwrap()
    }

    /// A hash of the whole device (read through the page cache, which direct writes keep
    /// coherent).
    pub fn hash(&self) -> u64 {
        let mut f = std::fs::File::open(&self.dev).unwrap();
        let mut h = DefaultHasher::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            h.write(&buf[..n]);
        }
        h.finish()
    }

    /// The first `n` bytes of the device.
    pub fn head(&self, n: usize) -> Vec<u8> {
        let mut f = std::fs::File::open(&self.dev).unwrap();
        let mut v = vec![0u8; n];
        f.read_exact(&mut v).unwrap();
        v
    }
}

impl Loop {
    /// Detaches the device and attaches a new sparse file of the same size to the same
    /// device node: what a stick unplugged and replaced under the same name looks like.
    pub fn replace_backing(&mut self, name: &str) {
        let size = std::fs::metadata(&self.file).unwrap().len();
        let file = self.file.with_file_name(name);
        std::fs::File::create(&file).unwrap().set_len(size).unwrap();
        let _g = LOSETUP.lock().unwrap_or_else(|p| p.into_inner());
        sh("losetup", &["-d", self.path()]);
        sh("losetup", &[self.path(), file.to_str().unwrap()]);
        self.file = file;
    }
}

impl Loop {
    /// Detaches the device and attaches `file` (an existing file) to the same device node.
    pub fn attach_instead(&mut self, file: &Path) {
        let _g = LOSETUP.lock().unwrap_or_else(|p| p.into_inner());
        sh("losetup", &["-d", self.path()]);
        sh("losetup", &[self.path(), file.to_str().unwrap()]);
        self.file = file.to_path_buf();
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.dev).status();
    }
}

/// A mounted filesystem, unmounted on drop (lazily, so a failing test still cleans up).
pub struct Mount {
    /// The mount point.
    pub dir: PathBuf,
}

impl Mount {
    /// `mkfs.ext4` on the device and mounts it on `dir`.
    pub fn ext4(dev: &Path, dir: &Path) -> Mount {
        sh(
            "mkfs.ext4",
            &[
                "-q",
                "-F",
                "-E",
                "lazy_itable_init=0,lazy_journal_init=0",
                dev.to_str().unwrap(),
            ],
        );
        std::fs::create_dir_all(dir).unwrap();
        sh(
            "mount",
            &["-t", "ext4", dev.to_str().unwrap(), dir.to_str().unwrap()],
        );
        Mount {
            dir: dir.to_path_buf(),
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// An ISO 9660 image of `mib` MiB of pseudo-random files made by xorriso (plain: no MBR).
pub fn make_iso(dir: &Path, name: &str, mib: usize) -> PathBuf {
    let tree = dir.join(format!("{name}.tree"));
    std::fs::create_dir_all(&tree).unwrap();
    for i in 0..mib {
        let file = tree.join(format!("file{i}.bin"));
        crate::pattern::write_file(&file, 1 << 20, (mib << 16 | i) as u64);
    }
    let iso = dir.join(name);
    sh(
        "xorriso",
        &[
            "-as",
            "mkisofs",
            "-quiet",
            "-V",
            "BURNTEST",
            "-o",
            iso.to_str().unwrap(),
            tree.to_str().unwrap(),
        ],
    );
    iso
}
