//! A synthetic filesystem behind a real mount: a file over 4 GiB with a checkable pattern,
//! hard links, a symlink, modes, times before 1970, a failing node, and the size of the
//! READ requests the kernel sends (1 MiB once `read_ahead_kb` is raised).

use spindle_fs::{DirEntry, FileKind, FileSystem, FsError, FsKind, Metadata, NodeId, Time};
use spindle_fuse::{MountOptions, mount_tree};
use spindle_testkit::mount_guard::{MountPoint, watchdog};
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::sync::Arc;

const BIG: u64 = 5 * 1024 * 1024 * 1024 + 123;

fn pattern(off: u64) -> u8 {
    (off.wrapping_mul(7) ^ (off >> 13) ^ (off >> 32)) as u8
}

struct Pattern;

fn meta(kind: FileKind, size: u64, mode: u32, nlink: u32, ino: u64, secs: i64) -> Metadata {
    let t = Time { secs, nanos: 500 };
    Metadata {
        kind,
        size,
        mode,
        nlink,
        uid: 1234,
        gid: 5678,
        mtime: t,
        atime: t,
        ctime: t,
        rdev: 0,
        ino,
    }
}

impl FileSystem for Pattern {
    fn kind(&self) -> FsKind {
        FsKind::RockRidge
    }
    fn label(&self) -> String {
        "PATTERN".into()
    }
    fn root(&self) -> NodeId {
        NodeId(1000)
    }
    fn metadata(&self, n: NodeId) -> spindle_fs::Result<Metadata> {
        Ok(match n.0 {
            1000 => meta(FileKind::Dir, 0, 0o755, 3, 1000, 1_000_000_000),
            1 => meta(FileKind::File, BIG, 0o644, 1, 1, 1_700_000_000),
            2 => meta(FileKind::Symlink, 3, 0o777, 1, 2, 0),
            // Two names of one file.
            3 | 4 => meta(FileKind::File, 5, 0o600, 2, 34, 1_000),
            5 => meta(FileKind::Dir, 0, 0o700, 2, 5, -86_400 * 365 * 10),
            6 => meta(FileKind::File, 10, 0o4755, 1, 6, -1),
            7 => meta(FileKind::File, 4096, 0o444, 1, 7, 0),
            _ => return Err(FsError::NoEntry(format!("node {}", n.0))),
        })
    }
    fn read_dir(&self, d: NodeId) -> spindle_fs::Result<Vec<DirEntry>> {
        let e = |name: &str, node, kind| DirEntry {
            name: name.into(),
            node: NodeId(node),
            kind,
        };
        match d.0 {
            1000 => Ok(vec![
                e("big", 1, FileKind::File),
                e("link", 2, FileKind::Symlink),
                e("a", 3, FileKind::File),
                e("b", 4, FileKind::File),
                e("old", 5, FileKind::Dir),
                e("bad", 7, FileKind::File),
            ]),
            5 => Ok(vec![e("setuid", 6, FileKind::File)]),
            _ => Err(FsError::NotDir(format!("node {}", d.0))),
        }
    }
    fn read(&self, n: NodeId, off: u64, buf: &mut [u8]) -> spindle_fs::Result<usize> {
        let size = self.metadata(n)?.size;
        if n.0 == 7 {
            return Err(FsError::Io(std::io::Error::other("sector 17 unreadable")));
        }
        let len = buf.len().min(size.saturating_sub(off) as usize);
        for (i, b) in buf[..len].iter_mut().enumerate() {
            *b = if n.0 == 1 {
                pattern(off + i as u64)
            } else {
                b'x'
            };
        }
        Ok(len)
    }
    fn read_link(&self, n: NodeId) -> spindle_fs::Result<String> {
        match n.0 {
            2 => Ok("big".into()),
            _ => Err(FsError::NotSymlink(format!("node {}", n.0))),
        }
    }
}

#[test]
fn attributes_links_and_big_files() {
    let _w = watchdog(60);
    let mp = MountPoint::new();
    let m = mount_tree(Arc::new(Pattern), &mp.path(), &MountOptions::default()).unwrap();
    let p = mp.path();
    let big = std::fs::metadata(p.join("big")).unwrap();
    assert_eq!(big.len(), BIG, "sizes over 4 GiB");
    assert_eq!((big.uid(), big.gid()), (1234, 5678));
    assert_eq!(big.mode() & 0o7777, 0o644);
    assert_eq!(big.mtime(), 1_700_000_000);
    assert_eq!(big.mtime_nsec(), 500);
    let f = std::fs::File::open(p.join("big")).unwrap();
    for off in [0u64, 4096, (4 << 30) - 10, (4 << 30) + 12345, BIG - 1000] {
        let mut b = vec![0u8; 1000];
        f.read_exact_at(&mut b, off).unwrap();
        assert!(
            b.iter()
                .enumerate()
                .all(|(i, &x)| x == pattern(off + i as u64)),
            "bytes at {off}"
        );
    }
    let mut tail = vec![0u8; 500];
    assert_eq!(
        f.read_at(&mut tail, BIG - 123).unwrap(),
        123,
        "short read at the end"
    );
    // Hard links: one inode, nlink 2; other nodes their own.
    let (a, b) = (
        std::fs::metadata(p.join("a")).unwrap(),
        std::fs::metadata(p.join("b")).unwrap(),
    );
    assert_eq!(a.ino(), b.ino());
    assert_eq!(a.nlink(), 2);
    assert_ne!(a.ino(), big.ino());
    assert_eq!(
        std::fs::read_link(p.join("link")).unwrap().to_str(),
        Some("big")
    );
    assert_eq!(std::fs::symlink_metadata(p.join("link")).unwrap().len(), 3);
    let old = std::fs::metadata(p.join("old")).unwrap();
    assert!(old.is_dir());
    assert_eq!(old.permissions().mode() & 0o7777, 0o700);
    assert_eq!(old.mtime(), -86_400 * 365 * 10, "times before 1970");
    let su = std::fs::metadata(p.join("old/setuid")).unwrap();
    assert_eq!(su.mode() & 0o7777, 0o4755);
    assert_eq!(std::fs::metadata(&p).unwrap().nlink(), 3);
    // A failing read is EIO, and the mount lives on.
    let e = std::fs::read(p.join("bad")).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EIO));
    assert_eq!(std::fs::read(p.join("a")).unwrap(), b"xxxxx");
    m.unmount().unwrap();
}

#[test]
fn buffered_reads_arrive_as_one_mib_requests() {
    let _w = watchdog(60);
    let mp = MountPoint::new();
    // Buffered: the page cache for every file (big would get direct I/O by default).
    let opts = MountOptions {
        direct_io_from: u64::MAX,
        ..MountOptions::default()
    };
    let m = mount_tree(Arc::new(Pattern), &mp.path(), &opts).unwrap();
    // 1024, or 1016 when spliced replies cap max_read at what a 1 MiB pipe holds.
    assert!(
        matches!(m.read_ahead_kb(), Some(1016 | 1024)),
        "{:?}",
        m.read_ahead_kb()
    );
    let f = std::fs::File::open(mp.path().join("big")).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let before = m.stats();
    for i in 0..64u64 {
        f.read_exact_at(&mut buf, (1 << 30) + i * (1 << 20))
            .unwrap();
    }
    let s = m.stats();
    let (reads, bytes) = (s.reads - before.reads, s.bytes - before.bytes);
    assert!(bytes >= 64 << 20, "{s:?}");
    assert!(
        bytes / reads >= 512 * 1024,
        "{reads} requests for {bytes} bytes: average under 512 KiB"
    );
    eprintln!("{reads} READ requests for {bytes} bytes");
    m.unmount().unwrap();
}

#[test]
fn direct_io_reads_ahead_of_a_sequential_reader() {
    let _w = watchdog(60);
    let mp = MountPoint::new();
    let opts = MountOptions {
        direct_io_from: 0,
        ..MountOptions::default()
    };
    let m = mount_tree(Arc::new(Pattern), &mp.path(), &opts).unwrap();
    let f = std::fs::File::open(mp.path().join("big")).unwrap();
    // 32 MiB from just under 4 GiB in 1 MiB reads, then 16 MiB in 128 KiB reads.
    let check = |buf: &[u8], off: u64| {
        buf.iter()
            .enumerate()
            .all(|(i, &x)| x == pattern(off + i as u64))
    };
    let start = (4 << 30) - (3 << 20);
    for (size, count) in [(1usize << 20, 32u64), (128 << 10, 128)] {
        let mut buf = vec![0u8; size];
        for i in 0..count {
            let off = start + i * size as u64;
            f.read_exact_at(&mut buf, off).unwrap();
            assert!(check(&buf, off), "{size}-byte read at {off}");
        }
    }
    // The end of the file: a short read.
    let mut tail = vec![0u8; 1 << 20];
    assert_eq!(f.read_at(&mut tail, BIG - 5000).unwrap(), 5000);
    assert!(check(&tail[..5000], BIG - 5000));
    let s = m.stats();
    assert!(s.direct_opens >= 1 && s.spliced == 0, "{s:?}");
    assert!(
        s.read_ahead_hits >= 150,
        "most sequential reads come from the read-ahead: {s:?}"
    );
    // A failing node with direct I/O is EIO too, and the mount lives on.
    let e = std::fs::read(mp.path().join("bad")).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EIO));
    assert_eq!(std::fs::read(mp.path().join("a")).unwrap(), b"xxxxx");
    m.unmount().unwrap();
}
