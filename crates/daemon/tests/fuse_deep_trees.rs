//! Real FUSE mounts of images whose directories nest 100,000 deep (built by
//! spindle_testkit::deep_images) and of directory loops: `find` over the mount and a lookup
//! chain down the tree end with a clear error (ENAMETOOLONG at `MAX_DEPTH`, EIO for a loop),
//! never a crash or hang, and the mount keeps serving.

mod fuse_common;

use deep::{Iso, Udf};
use fuse_common::*;
use spindle_fs::MAX_DEPTH;
use spindle_fuse::{MountOptions, mount_tree};
use spindle_testkit::deep_images as deep;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};

fn mount(img: &Path, mp: &MountPoint) -> spindle_fuse::Mount {
    let disc = std::sync::Arc::new(spindle_image::open_with(img, None).unwrap());
    let fs = spindle_image::filesystem(&disc, None).unwrap();
    mount_tree(fs, &mp.path(), &MountOptions::default()).unwrap()
}

/// `find` over `root`: (exit code, lines printed, stderr).
fn find(root: &Path) -> (i32, usize, String) {
    let out = Command::new("find")
        .arg(root)
        .stdin(Stdio::null())
        .output()
        .expect("find runs");
    let lines = out.stdout.iter().filter(|&&b| b == b'\n').count();
    (
        out.status.code().unwrap_or(-1),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn vm_rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let l = s.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    l.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Opens `name` in the directory `dir` as an O_PATH descriptor (a lookup, no open).
fn lookup(dir: &OwnedFd, name: &str) -> std::io::Result<OwnedFd> {
    let c = CString::new(name).unwrap();
    // SAFETY: dir is an open descriptor, c a NUL-terminated name; the result is checked.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd was just returned by openat and is ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn check_deep_mount(img: &Path, what: &str, dir: &str) {
    let mp = MountPoint::new();
    let rss0 = vm_rss_kb();
    let m = mount(img, &mp);
    let t = std::time::Instant::now();
    let (code, lines, err) = find(&mp.path());
    eprintln!(
        "{what}: find over the mount: exit {code}, {lines} lines in {:.1} s; server RSS {} -> {} KB",
        t.elapsed().as_secs_f64(),
        rss0,
        vm_rss_kb()
    );
    assert_ne!(code, 0, "{what}: find reports the refused directory");
    assert!(err.contains("File name too long"), "{what}: {err}");
    // The mount point and every directory down to MAX_DEPTH components.
    assert_eq!(lines, 1 + MAX_DEPTH, "{what}: {err}");
    // A lookup chain: MAX_DEPTH levels resolve, the next is refused.
    let root = std::fs::File::open(mp.path()).unwrap();
    let mut fd: OwnedFd = root.into();
    for level in 1..=MAX_DEPTH {
        fd = lookup(&fd, dir).unwrap_or_else(|e| panic!("{what}: level {level}: {e}"));
    }
    let e = lookup(&fd, dir).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENAMETOOLONG), "{what}: {e}");
    // The deepest path as one string: the kernel refuses it (PATH_MAX) before we see it.
    let deepest = mp.path().join(
        deep::deep_path(Iso::RockRidge, 100_000)
            .replace('d', dir)
            .trim_start_matches('/'),
    );
    let e = std::fs::metadata(&deepest).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENAMETOOLONG), "{what}: {e}");
    // Still serving.
    let names: Vec<_> = std::fs::read_dir(mp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(names.iter().any(|n| n == dir), "{what}: {names:?}");
    drop(fd);
    m.unmount().unwrap();
    assert!(!mounted(&mp.path()), "{what}: still mounted");
}

#[test]
fn iso_100000_levels() {
    let _w = watchdog(600);
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("deep.iso");
    deep::write_iso(&img, Iso::RockRidge, 100_000).unwrap();
    check_deep_mount(&img, "Rock Ridge ISO", "d");
}

#[test]
fn udf_100000_levels() {
    let _w = watchdog(600);
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("deep.udf.iso");
    deep::write_udf(&img, 100_000, Udf::Chain).unwrap();
    check_deep_mount(&img, "UDF", "d");
}

/// A directory that names its ancestor (an ISO record, a Rock Ridge CL, a UDF FID): `find`
/// ends with EIO for it, and the mount keeps serving.
#[test]
fn directory_loops() {
    let _w = watchdog(120);
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("loop.iso");
    for what in ["ISO record", "Rock Ridge CL", "UDF FID"] {
        match what {
            "ISO record" => deep::write_iso(&img, Iso::Cycle, 5).unwrap(),
            "Rock Ridge CL" => deep::write_iso(&img, Iso::CycleCl, 5).unwrap(),
            _ => deep::write_udf(&img, 5, Udf::Cycle).unwrap(),
        }
        let mp = MountPoint::new();
        let m = mount(&img, &mp);
        let (code, lines, err) = find(&mp.path());
        eprintln!("{what} loop: find exit {code}, {lines} lines, {err:?}");
        assert_ne!(code, 0, "{what}");
        assert!(err.contains("Input/output error"), "{what}: {err}");
        assert!(lines < 20, "{what}: {lines} lines");
        assert!(
            std::fs::read_dir(mp.path()).unwrap().count() > 0,
            "{what}: still serving"
        );
        m.unmount().unwrap();
    }
}
