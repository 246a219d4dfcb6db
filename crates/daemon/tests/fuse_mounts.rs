//! Mount lifecycles: eight trees at once read in parallel, unmounting with a file open
//! (fuser#686), swapping the disc under a mount, and reader errors (a truncated image).

mod fuse_common;

use fuse_common::*;
use spindle_fuse::{MountOptions, mount_tree};
use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;
use std::time::Instant;

const EIGHT: &[(&str, Option<&str>)] = &[
    ("libcdio/isofs-m1.cue", None),
    ("libcdio/joliet.iso", None),
    ("libcdio/copying-rr.iso", None),
    ("libarchive/test_read_format_iso_zisofs.iso", None),
    ("libcdio/test-udf1.iso", None),
    ("mdsx/test_pass_compress.mdx", Some("pass")),
    ("cditools/test.cdi", None),
    ("generated-chd/isofs-m1.chd", None),
];

#[test]
fn eight_trees_read_in_parallel() {
    let _w = watchdog(120);
    let t0 = Instant::now();
    let mut mounts = Vec::new();
    let mut points = Vec::new();
    let mut expected = Vec::new();
    for (rel, pw) in EIGHT {
        let d = disc(rel, *pw);
        let fs = fs_of(&d);
        expected.push(walk_fs(fs.as_ref()));
        let mp = MountPoint::new();
        mounts.push(mount_tree(fs, &mp.path(), &MountOptions::default()).unwrap());
        points.push(mp);
    }
    for mp in &points {
        assert!(mounted(&mp.path()));
    }
    let threads: Vec<_> = points
        .iter()
        .zip(expected)
        .zip(EIGHT)
        .map(|((mp, want), (rel, _))| {
            let path = mp.path();
            std::thread::spawn(move || {
                for _ in 0..3 {
                    let (got, _) = walk(&path);
                    assert_eq!(got, want, "{rel}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a reader thread failed");
    }
    for m in mounts {
        m.unmount().unwrap();
    }
    for mp in &points {
        assert!(
            !mounted(&mp.path()),
            "{} still mounted",
            mp.path().display()
        );
    }
    eprintln!("eight mounts, 24 walks: {:?}", t0.elapsed());
}

#[test]
fn unmount_with_a_file_open_leaves_no_mount() {
    let _w = watchdog(60);
    let d = disc("libcdio/copying.iso", None);
    let want = walk_fs(fs_of(&d).as_ref());
    let (name, ent) = want
        .iter()
        .find(|(_, e)| e.kind == 'f' && e.size > 4096)
        .expect("a file over 4 KiB");
    for by_drop in [false, true] {
        let mp = MountPoint::new();
        let m = mount_tree(fs_of(&d), &mp.path(), &MountOptions::default()).unwrap();
        let mut f = std::fs::File::open(mp.path().join(name)).unwrap();
        let mut head = vec![0u8; 100];
        f.read_exact(&mut head).unwrap();
        let t = Instant::now();
        if by_drop {
            drop(m);
        } else {
            m.unmount().unwrap();
        }
        assert!(
            t.elapsed().as_secs() < 5,
            "unmount blocked on the open file"
        );
        assert!(!mounted(&mp.path()), "the mount stayed behind (fuser#686)");
        // The lazily detached mount still serves the open file.
        let mut rest = Vec::new();
        f.read_to_end(&mut rest).unwrap();
        head.extend(rest);
        assert_eq!(sha1(&head), ent.data);
        drop(f);
    }
}

fn inodes(root: &std::path::Path) -> BTreeSet<u64> {
    walk(root).1.into_values().collect()
}

#[test]
fn swap_shows_the_new_disc() {
    let _w = watchdog(60);
    let a = disc("libcdio/joliet.iso", None);
    let b = disc("libcdio/copying-rr.iso", None);
    let (want_a, want_b) = (walk_fs(fs_of(&a).as_ref()), walk_fs(fs_of(&b).as_ref()));
    let mp = MountPoint::new();
    let m = mount_tree(fs_of(&a), &mp.path(), &MountOptions::default()).unwrap();
    assert_eq!(walk(&mp.path()).0, want_a);
    let inos_a = inodes(&mp.path());
    // A file of disc A held open across the swap.
    let (name_a, ent_a) = want_a.iter().find(|(_, e)| e.kind == 'f').unwrap();
    let mut held = std::fs::File::open(mp.path().join(name_a)).unwrap();
    // Something cached in a subdirectory, to check the old subtree goes too.
    let cwd_before = std::fs::metadata(mp.path()).unwrap().ino();
    m.swap(fs_of(&b)).unwrap();
    assert_eq!(m.label(), Some(fs_of(&b).label()));
    assert_eq!(
        walk(&mp.path()).0,
        want_b,
        "after the swap the mount shows disc B"
    );
    assert_eq!(
        std::fs::metadata(mp.path()).unwrap().ino(),
        cwd_before,
        "the root stays inode 1"
    );
    let inos_b = inodes(&mp.path());
    assert!(
        inos_a.is_disjoint(&inos_b),
        "inode numbers of A reused for B: {inos_a:?} {inos_b:?}"
    );
    let mut old = Vec::new();
    held.read_to_end(&mut old).unwrap();
    assert_eq!(
        sha1(&old),
        ent_a.data,
        "a file open across the swap reads disc A"
    );
    drop(held);
    // And back: A again, with new numbers.
    m.swap(fs_of(&a)).unwrap();
    assert_eq!(walk(&mp.path()).0, want_a);
    assert!(inodes(&mp.path()).is_disjoint(&inos_a));
    // Only a tree mount swaps.
    let other = MountPoint::new();
    let drives =
        spindle_fuse::mount_drives(Arc::new(NoDrives), &other.path(), &MountOptions::default())
            .unwrap();
    assert!(matches!(
        drives.swap(fs_of(&a)),
        Err(spindle_fuse::FuseError::NotATree { .. })
    ));
    drop(drives);
    m.unmount().unwrap();
    assert!(!mounted(&mp.path()));
}

struct NoDrives;
impl spindle_fuse::DriveTable for NoDrives {
    fn drives(&self) -> Vec<(u32, Option<Arc<spindle_disc::Disc>>)> {
        Vec::new()
    }
}

#[test]
fn a_truncated_image_reads_as_eio() {
    let _w = watchdog(60);
    let src = samples().join("libcdio/copying.iso");
    let d = disc("libcdio/copying.iso", None);
    let want = walk_fs(fs_of(&d).as_ref());
    let (name, _) = want
        .iter()
        .filter(|(_, e)| e.kind == 'f')
        .max_by_key(|(_, e)| e.size)
        .unwrap();
    // Cut the image in the middle of the largest file (directories stay readable).
    let fs = fs_of(&d);
    let node = spindle_fs::resolve(fs.as_ref(), name).unwrap();
    let size = fs.metadata(node).unwrap().size;
    let bytes = std::fs::read(&src).unwrap();
    // Find where the file's first 2048 bytes lie in the image, and cut after them.
    let mut first = vec![0u8; 2048.min(size as usize)];
    fs.read(node, 0, &mut first).unwrap();
    let at = bytes
        .windows(first.len())
        .position(|w| w == first.as_slice())
        .expect("file data in the image");
    let cut = (at + 2048).div_ceil(2048) * 2048;
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("cut.iso");
    std::fs::write(&img, &bytes[..cut]).unwrap();
    let cut_disc = Arc::new(spindle_image::open(&img).unwrap());
    let mp = MountPoint::new();
    let m = mount_tree(
        spindle_image::filesystem(&cut_disc, None).unwrap(),
        &mp.path(),
        &MountOptions::default(),
    )
    .unwrap();
    let r = std::fs::read(mp.path().join(name));
    let e = r.expect_err("reading past the end of a truncated image fails");
    assert_eq!(e.raw_os_error(), Some(libc::EIO), "{e}");
    assert!(m.stats().errors > 0);
    // The mount is still alive and serves the rest.
    assert!(std::fs::read_dir(mp.path()).unwrap().count() > 0);
    m.unmount().unwrap();
    assert!(!mounted(&mp.path()));
}

/// Run as a child process by `a_killed_server_leaves_a_stale_mount_that_detach_removes`:
/// mounts a tree at `$SPINDLE_FUSE_TEST_STALE` and waits to be killed.
#[test]
fn stale_mount_helper() {
    let Ok(at) = std::env::var("SPINDLE_FUSE_TEST_STALE") else {
        return;
    };
    let _w = watchdog(30);
    let d = disc("libcdio/joliet.iso", None);
    let m = mount_tree(
        fs_of(&d),
        std::path::Path::new(&at),
        &MountOptions::default(),
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(20));
    drop(m);
}

#[test]
fn a_killed_server_leaves_a_stale_mount_that_detach_removes() {
    let _w = watchdog(60);
    let mp = MountPoint::new();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "stale_mount_helper", "--nocapture"])
        .env("SPINDLE_FUSE_TEST_STALE", mp.path())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !mounted(&mp.path()) {
        assert!(t.elapsed().as_secs() < 20, "the helper did not mount");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!spindle_fuse::is_stale(&mp.path()));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(mounted(&mp.path()), "the mount outlives its killed server");
    assert!(
        spindle_fuse::is_stale(&mp.path()),
        "Transport endpoint is not connected"
    );
    spindle_fuse::detach(&mp.path()).unwrap();
    assert!(!mounted(&mp.path()));
}

/// Polls `alive` for up to five seconds: the session threads end (and drop the filesystem)
/// a moment after the kernel lets go of the connection.
fn dies_within_5s(alive: impl Fn() -> bool) -> bool {
    let t = Instant::now();
    while alive() {
        if t.elapsed().as_secs() >= 5 {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    true
}

#[test]
fn unmount_drops_the_filesystem_and_the_disc() {
    let _w = watchdog(60);
    let d = disc("libcdio/copying.iso", None);
    let want = walk_fs(fs_of(&d).as_ref());
    let (name, _) = want.iter().find(|(_, e)| e.kind == 'f').expect("a file");
    for (open_file, by_drop) in [(false, false), (false, true), (true, false)] {
        let disc = disc("libcdio/copying.iso", None);
        let fs = fs_of(&disc);
        let (weak_fs, weak_disc) = (Arc::downgrade(&fs), Arc::downgrade(&disc));
        drop(disc);
        let mp = MountPoint::new();
        let m = mount_tree(fs, &mp.path(), &MountOptions::default()).unwrap();
        // Every inode known to the mount's tables and the kernel's caches.
        assert_eq!(walk(&mp.path()).0, want);
        let f = open_file.then(|| std::fs::File::open(mp.path().join(name)).unwrap());
        if by_drop {
            drop(m);
        } else {
            m.unmount().unwrap();
        }
        assert!(!mounted(&mp.path()));
        if let Some(f) = f {
            // The detached mount still serves the open file, so the disc stays...
            std::thread::sleep(std::time::Duration::from_millis(300));
            assert!(
                weak_fs.upgrade().is_some(),
                "the filesystem went while a file was open"
            );
            drop(f);
        }
        // ... and goes with the last close.
        assert!(
            dies_within_5s(|| weak_fs.strong_count() > 0),
            "the filesystem outlived its mount"
        );
        assert!(
            dies_within_5s(|| weak_disc.strong_count() > 0),
            "the disc outlived its mount"
        );
    }
}
