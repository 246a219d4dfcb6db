//! Large files with direct I/O, small ones through the page cache, on a real ISO built with
//! xorriso: contents, mmap (shared and private) of a direct-I/O file, a program run from the
//! mount, the page cache keeping small files across opens (the second read sends no READ),
//! spliced replies and the read-ahead path, and an image truncated under the mount.

mod fuse_common;

use fuse_common::*;
use spindle_fuse::{DIRECT_IO_FROM, MountOptions, mount_tree};
use spindle_testkit::pattern::bytes as random;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// big (20 MiB: direct I/O by default), small (100 KiB), edge (one byte under the
/// threshold) and prog (a copy of sha1sum, mode 755), in an ISO with Rock Ridge.
fn make_iso(dir: &Path) -> (PathBuf, Vec<u8>, Vec<u8>) {
    let src = dir.join("src");
    std::fs::create_dir(&src).unwrap();
    let big = random(20 << 20, 7);
    let small = random(100 << 10, 9);
    std::fs::write(src.join("big"), &big).unwrap();
    std::fs::write(src.join("small"), &small).unwrap();
    std::fs::write(src.join("edge"), random(DIRECT_IO_FROM as usize - 1, 11)).unwrap();
    let sha1sum = which("sha1sum");
    std::fs::copy(&sha1sum, src.join("prog")).unwrap();
    let iso = dir.join("t.iso");
    let st = Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-R", "-J", "-o"])
        .arg(&iso)
        .arg(&src)
        .status()
        .expect("xorriso (scripts/setup installs it)");
    assert!(st.success());
    (iso, big, small)
}

fn which(prog: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{prog} not found"))
}

fn tree_of(iso: &Path) -> Arc<dyn spindle_fs::FileSystem> {
    let disc = Arc::new(spindle_image::open(iso).unwrap());
    spindle_image::filesystem(&disc, None).unwrap()
}

fn root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The whole file through mmap (MAP_SHARED or MAP_PRIVATE).
fn mapped(path: &Path, flags: libc::c_int) -> Vec<u8> {
    let f = std::fs::File::open(path).unwrap();
    let len = f.metadata().unwrap().len() as usize;
    // SAFETY: a read-only mapping of an open file, copied out and unmapped before returning.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            flags,
            f.as_raw_fd(),
            0,
        );
        assert_ne!(
            p,
            libc::MAP_FAILED,
            "mmap of {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        );
        let v = std::slice::from_raw_parts(p as *const u8, len).to_vec();
        libc::munmap(p, len);
        v
    }
}

fn read_all(path: &Path) -> Vec<u8> {
    let mut v = Vec::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_end(&mut v)
        .unwrap();
    v
}

#[test]
fn large_files_direct_small_files_cached_mmap_and_programs_work() {
    let _w = watchdog(120);
    let tmp = tempfile::tempdir().unwrap();
    let (iso, big, small) = make_iso(tmp.path());
    let mp = MountPoint::new();
    let m = mount_tree(tree_of(&iso), &mp.path(), &MountOptions::default()).unwrap();
    let p = mp.path();

    // Large: direct I/O, every read reaches the server; spliced from the image as root,
    // from a cold image too (its pages dropped: splice then reads them in, it does not fail).
    let f = std::fs::File::open(&iso).unwrap();
    f.sync_all().unwrap();
    assert_eq!(
        // SAFETY: advice on an open descriptor.
        unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) },
        0
    );
    drop(f);
    let s0 = m.stats();
    assert!(read_all(&p.join("big")) == big, "big through read(2)");
    let s1 = m.stats();
    assert_eq!(s1.direct_opens - s0.direct_opens, 1, "{s1:?}");
    assert!(s1.bytes - s0.bytes >= big.len() as u64, "{s1:?}");
    if root() {
        assert!(
            s1.spliced - s0.spliced >= 20,
            "spliced replies as root: {s1:?}"
        );
    }
    assert!(read_all(&p.join("big")) == big);
    let s2 = m.stats();
    assert!(
        s2.bytes - s1.bytes >= big.len() as u64,
        "a direct-I/O file is read again: {s2:?}"
    );

    // mmap of a direct-I/O file (FUSE_DIRECT_IO_ALLOW_MMAP): shared and private.
    assert!(
        mapped(&p.join("big"), libc::MAP_SHARED) == big,
        "MAP_SHARED of big"
    );
    assert!(
        mapped(&p.join("big"), libc::MAP_PRIVATE) == big,
        "MAP_PRIVATE of big"
    );

    // Small: page cache, kept across opens: the second open and read sends no READ.
    assert!(read_all(&p.join("small")) == small);
    let s3 = m.stats();
    assert!(read_all(&p.join("small")) == small);
    assert!(mapped(&p.join("small"), libc::MAP_SHARED) == small);
    let s4 = m.stats();
    assert_eq!(
        (s4.reads, s4.direct_opens),
        (s3.reads, s3.direct_opens),
        "small re-read from the page cache"
    );
    // One byte under the threshold: page cache too.
    read_all(&p.join("edge"));
    assert_eq!(
        m.stats().direct_opens,
        s4.direct_opens,
        "edge is under the threshold"
    );

    m.unmount().unwrap();

    // Every file with direct I/O: a program runs from the mount (execve maps it privately)
    // and reads a direct-I/O file.
    let mp = MountPoint::new();
    let opts = MountOptions {
        direct_io_from: 0,
        ..MountOptions::default()
    };
    let m = mount_tree(tree_of(&iso), &mp.path(), &opts).unwrap();
    let p = mp.path();
    let out = Command::new(p.join("prog"))
        .arg(p.join("small"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        printed.split_whitespace().next(),
        Some(sha1(&small).as_str())
    );
    assert!(m.stats().direct_opens >= 2, "{:?}", m.stats());
    assert!(mapped(&p.join("small"), libc::MAP_SHARED) == small);
    m.unmount().unwrap();
}

#[test]
fn without_splice_the_server_reads_ahead() {
    let _w = watchdog(120);
    let tmp = tempfile::tempdir().unwrap();
    let (iso, big, _) = make_iso(tmp.path());
    let mp = MountPoint::new();
    let opts = MountOptions {
        splice: false,
        ..MountOptions::default()
    };
    let m = mount_tree(tree_of(&iso), &mp.path(), &opts).unwrap();
    let p = mp.path();
    // 1 MiB and 128 KiB sequential reads, and reads that jump about.
    assert!(read_all(&p.join("big")) == big);
    let f = std::fs::File::open(p.join("big")).unwrap();
    let mut buf = vec![0u8; 128 << 10];
    let mut off = 0u64;
    while off < big.len() as u64 {
        let n = std::os::unix::fs::FileExt::read_at(&f, &mut buf, off).unwrap();
        assert!(
            n > 0 && buf[..n] == big[off as usize..off as usize + n],
            "128 KiB read at {off}"
        );
        off += n as u64;
    }
    for (i, off) in [5u64 << 20, 123, (19 << 20) + 77, 0, (20 << 20) - 10]
        .into_iter()
        .enumerate()
    {
        let n = std::os::unix::fs::FileExt::read_at(&f, &mut buf, off).unwrap();
        let want = &big[off as usize..(off as usize + buf.len()).min(big.len())];
        assert!(buf[..n] == *want, "jump {i} to {off}");
    }
    let s = m.stats();
    assert_eq!(s.spliced, 0, "{s:?}");
    assert!(
        s.read_ahead_hits > 20,
        "sequential reads answered from the read-ahead: {s:?}"
    );
    m.unmount().unwrap();
}

#[test]
fn an_image_truncated_under_the_mount_reads_as_eio() {
    let _w = watchdog(120);
    // Spliced replies (as root) and the server's read-ahead (splice off) alike.
    for splice in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let (iso, big, _) = make_iso(tmp.path());
        let mp = MountPoint::new();
        let opts = MountOptions {
            splice,
            ..MountOptions::default()
        };
        let m = mount_tree(tree_of(&iso), &mp.path(), &opts).unwrap();
        let p = mp.path();
        // Cut the image in the middle of big (whichever file lies there).
        let len = std::fs::metadata(&iso).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&iso)
            .unwrap()
            .set_len(len / 2)
            .unwrap();
        let edge = random(DIRECT_IO_FROM as usize - 1, 11);
        let mut failed = 0;
        for (name, want) in [("big", &big), ("edge", &edge)] {
            let mut v = Vec::new();
            match std::fs::File::open(p.join(name))
                .unwrap()
                .read_to_end(&mut v)
            {
                Err(e) => {
                    assert_eq!(
                        e.raw_os_error(),
                        Some(libc::EIO),
                        "{name} (splice {splice}): {e}"
                    );
                    failed += 1;
                }
                // Never a silently short (or wrong) file.
                Ok(n) => assert!(
                    v == *want,
                    "{name} (splice {splice}): {n} bytes read without an error, not its {} bytes",
                    want.len()
                ),
            }
        }
        assert!(
            failed >= 1,
            "a file past the cut reads as EIO (splice {splice})"
        );
        assert!(m.stats().errors >= 1);
        // The mount lives on.
        assert!(std::fs::read_dir(&p).unwrap().count() >= 4);
        m.unmount().unwrap();
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn mounts_read_and_unmounted_leave_no_descriptors_behind() {
    // Counted in a process of its own: the other tests of this binary open and close
    // descriptors at the same time.
    if std::env::var_os("SPINDLE_FD_COUNT_CHILD").is_none() {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "mounts_read_and_unmounted_leave_no_descriptors_behind",
                "--exact",
                "--test-threads=1",
            ])
            .env("SPINDLE_FD_COUNT_CHILD", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "the child ran the test"
        );
        return;
    }
    let _w = watchdog(120);
    let tmp = tempfile::tempdir().unwrap();
    let (iso, big, _) = make_iso(tmp.path());
    let fs = tree_of(&iso);
    // One round first: the read-ahead workers and other process-wide state start once.
    let round = || {
        let mp = MountPoint::new();
        let m = mount_tree(fs.clone(), &mp.path(), &MountOptions::default()).unwrap();
        assert!(read_all(&mp.path().join("big")) == big);
        m.unmount().unwrap();
    };
    round();
    let before = open_fds();
    for _ in 0..6 {
        round();
    }
    // Session threads end shortly after the unmount; their pipes and the /dev/fuse
    // descriptors (the session's and the splicer's duplicate) must go with them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while open_fds() > before && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        open_fds() <= before,
        "{} descriptors before, {} after six mounts",
        before,
        open_fds()
    );
}
