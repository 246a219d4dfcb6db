//! Images made here with xorriso and genisoimage, each compared with xorriso's extraction:
//! Rock Ridge + Joliet, relocated deep directories, long names and symlink targets, zisofs,
//! hard links, a multi-extent file over 4 GiB.

mod common;
use common::*;
use spindle_bytes::ByteSource;
use spindle_fs::{Device, FileKind, FileSystem, FsKind, detect, resolve};
use spindle_testkit::pattern::bytes as pseudo_random;
use spindle_testkit::tools::run;
use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

const LONG_NAME_LEN: usize = 200;

fn long_target() -> String {
    format!(
        "/{}/{}/{}",
        "x".repeat(60),
        "y".repeat(150),
        "z".repeat(187)
    )
}

/// A source tree with everything the tests look for.
fn make_tree(root: &Path) {
    let w = |p: &str, data: &[u8]| {
        let p = root.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    w("text.txt", &b"hello\n".repeat(40_000));
    w("rand.bin", &pseudo_random(300_001, 7));
    w("empty", b"");
    w(&"n".repeat(LONG_NAME_LEN), b"long name\n");
    w("héllo wörld ✓.txt", b"unicode\n");
    w("MixedCase.Txt", b"mixed\n");
    w("private", b"0600\n");
    std::fs::set_permissions(root.join("private"), std::fs::Permissions::from_mode(0o600)).unwrap();
    w("script.sh", b"#!/bin/sh\n");
    std::fs::set_permissions(
        root.join("script.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let deep: Vec<String> = (1..=12).map(|i| format!("d{i}")).collect();
    w(
        &format!("{}/deep.txt", deep.join("/")),
        b"twelve levels down\n",
    );
    w("d1/d2/mid.txt", b"two levels\n");
    for i in 0..300 {
        w(
            &format!("many/entry_with_a_longish_name_{i:04}.dat"),
            format!("{i}\n").as_bytes(),
        );
    }
    std::os::unix::fs::symlink("text.txt", root.join("short_link")).unwrap();
    std::os::unix::fs::symlink(long_target(), root.join("long_link")).unwrap();
    std::os::unix::fs::symlink("../../text.txt", root.join("d1/d2/up_link")).unwrap();
    w("hard_a", b"linked content\n");
    std::fs::hard_link(root.join("hard_a"), root.join("hard_b")).unwrap();
}

struct Built {
    _tmp: tempfile::TempDir,
    iso: PathBuf,
    extracted: PathBuf,
}

impl Drop for Built {
    fn drop(&mut self) {
        make_writable(self._tmp.path());
    }
}

/// Makes a source tree, runs `build(src, iso)`, extracts with xorriso.
fn build(f: impl FnOnce(&Path, &Path)) -> Built {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    make_tree(&src);
    let iso = tmp.path().join("out.iso");
    f(&src, &iso);
    let extracted = xorriso_extract(&iso, tmp.path()).expect("xorriso extracts its own kind");
    Built {
        _tmp: tmp,
        iso,
        extracted,
    }
}

/// Compares the Rock Ridge view with xorriso's extraction; `xorriso_truncates_sl`: xorriso
/// 1.5.4 cuts genisoimage's over-long `SL` entry (length byte wrapped) short, so the source
/// tree's target stands in for its answer there. The Joliet view must hold the same contents
/// (zisofs files decompressed too, found through the primary tree).
fn check_rr(b: &Built, xorriso_truncates_sl: bool) -> Arc<dyn FileSystem> {
    let dev = device(&b.iso);
    let v = detect(&*dev, 0).unwrap();
    assert!(v.has_rock_ridge && v.has_joliet, "{v:?}");
    let fs = open(&dev, FsKind::RockRidge);
    let ours = walk_ours(&*fs);
    let mut host = walk_host(&b.extracted);
    if xorriso_truncates_sl {
        let x = host.insert(
            "long_link".into(),
            Item::Link {
                target: long_target(),
            },
        );
        assert!(matches!(x, Some(Item::Link { target }) if long_target().starts_with(&target)));
    }
    compare(&ours, &host, true, "rock ridge view");
    assert!(ours.contains_key(&"n".repeat(LONG_NAME_LEN)));
    let deep = (1..=12)
        .map(|i| format!("d{i}"))
        .collect::<Vec<_>>()
        .join("/")
        + "/deep.txt";
    assert!(ours.contains_key(&deep), "relocated directories followed");
    assert_eq!(
        ours["long_link"],
        Item::Link {
            target: long_target()
        }
    );
    // The Joliet view holds the same file contents under its own names.
    let joliet = open(&dev, FsKind::Joliet);
    let j = walk_ours(&*joliet);
    let rr_hashes: std::collections::HashSet<_> = ours
        .values()
        .filter_map(|i| match i {
            Item::File { sha1, .. } => Some(sha1.clone()),
            _ => None,
        })
        .collect();
    let mut files = 0;
    for (p, i) in &j {
        if let Item::File { sha1, .. } = i {
            assert!(rr_hashes.contains(sha1), "joliet {p}");
            files += 1;
        }
    }
    assert!(files >= 300, "{files} joliet files");
    assert!(j.contains_key("héllo wörld ✓.txt") && j.contains_key("MixedCase.Txt"));
    // The plain view walks too (relocation directory and all).
    walk_ours(&*open(&dev, FsKind::Iso9660));
    fs
}

#[test]
fn xorriso_rock_ridge_joliet_hard_links() {
    let b = build(|src, iso| {
        run(Command::new("xorriso")
            .args([
                "-hardlinks",
                "on",
                "-joliet",
                "on",
                "-volid",
                "SPINDLE_T",
                "-outdev",
            ])
            .arg(iso)
            .arg("-map")
            .arg(src)
            .args(["/", "-commit"]));
    });
    let fs = check_rr(&b, false);
    assert_eq!(fs.label(), "SPINDLE_T");
    let a = fs.metadata(resolve(&*fs, "hard_a").unwrap()).unwrap();
    let bb = fs.metadata(resolve(&*fs, "hard_b").unwrap()).unwrap();
    let t = fs.metadata(resolve(&*fs, "text.txt").unwrap()).unwrap();
    assert_eq!(a.ino, bb.ino, "hard links share an inode");
    assert_eq!((a.nlink, bb.nlink), (2, 2));
    assert_ne!(a.ino, t.ino);
    let e1 = fs.metadata(resolve(&*fs, "empty").unwrap()).unwrap();
    let e2 = fs
        .metadata(resolve(&*fs, "d1/d2/mid.txt").unwrap())
        .unwrap();
    assert_ne!(e1.ino, e2.ino);
    let dev = device(&b.iso);
    let j = open(&dev, FsKind::Joliet);
    assert_eq!(j.label(), "SPINDLE_T");
    // TF times: the source's modification time, to the second (its access time moves as
    // xorriso reads it).
    use std::os::unix::fs::MetadataExt;
    let src = std::fs::metadata(b._tmp.path().join("src/text.txt")).unwrap();
    assert_eq!(t.mtime.secs, src.mtime());
    assert_eq!((t.uid, t.gid), (src.uid(), src.gid()));
}

#[test]
fn genisoimage_rock_ridge_joliet_relocated() {
    let b = build(|src, iso| {
        // No -D: directories deeper than 8 levels are relocated (CL/PL/RE).
        run(Command::new("genisoimage")
            .args(["-quiet", "-R", "-J", "-joliet-long", "-V", "GENISO", "-o"])
            .arg(iso)
            .arg(src));
    });
    let fs = check_rr(&b, true);
    // The CL entry reads as the directory it stands for.
    let d8 = resolve(&*fs, "d1/d2/d3/d4/d5/d6/d7/d8").unwrap();
    assert_eq!(fs.metadata(d8).unwrap().kind, FileKind::Dir);
    assert_eq!(fs.read_dir(d8).unwrap().len(), 1);
    // Depth 8 is where relocation starts: the plain view has the moved directory elsewhere.
    let dev = device(&b.iso);
    let plain = open(&dev, FsKind::Iso9660);
    let root: Vec<String> = plain
        .read_dir(plain.root())
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(
        root.iter().any(|n| n.eq_ignore_ascii_case("rr_moved")),
        "{root:?}"
    );
}

#[test]
fn xorriso_zisofs() {
    let b = build(|src, iso| {
        run(Command::new("xorriso")
            .args(["-joliet", "on", "-zisofs", "default", "-outdev"])
            .arg(iso)
            .arg("-map")
            .arg(src)
            .args(["/", "-set_filter_r", "--zisofs", "/", "--", "-commit"]));
    });
    let fs = check_rr(&b, false);
    // Compressed on disc, the full size through the reader.
    let text = resolve(&*fs, "text.txt").unwrap();
    assert_eq!(fs.metadata(text).unwrap().size, 240_000);
    let mut buf = vec![0u8; 10];
    assert_eq!(fs.read(text, 239_995, &mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"ello\n");
    // The Joliet tree has no SUSP: its view finds the ZF entries through the primary tree.
    let dev = device(&b.iso);
    let j = open(&dev, FsKind::Joliet);
    let jt = resolve(&*j, "text.txt").unwrap();
    assert_eq!(j.metadata(jt).unwrap().size, 240_000);
    assert_eq!(read_all(&*j, jt).unwrap(), b"hello\n".repeat(40_000));
    // The plain ISO 9660 view decompresses too (it reads SUSP for ZF only).
    let plain = open(&dev, FsKind::Iso9660);
    assert_eq!(
        plain
            .metadata(resolve(&*plain, "TEXT.TXT").unwrap())
            .unwrap()
            .size,
        240_000
    );
}

#[test]
fn plain_level1_genisoimage() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("readme"), b"no extension\n").unwrap();
    std::fs::write(src.join("a.txt"), pseudo_random(5000, 3)).unwrap();
    std::fs::write(src.join("sub/b.dat"), b"b\n").unwrap();
    let iso = tmp.path().join("plain.iso");
    run(Command::new("genisoimage")
        .args(["-quiet", "-o"])
        .arg(&iso)
        .arg(&src));
    let x = xorriso_extract(&iso, tmp.path()).unwrap();
    let dev = device(&iso);
    let v = detect(&*dev, 0).unwrap();
    assert!(!v.has_rock_ridge && !v.has_joliet);
    assert!(open_err(&dev, FsKind::RockRidge));
    let fs = open(&dev, FsKind::Iso9660);
    let ours = walk_ours(&*fs);
    assert!(
        ours.contains_key("README") && ours.contains_key("SUB/B.DAT"),
        "{ours:?}"
    );
    compare(&ours, &walk_host(&x), false, "plain level 1");
    let m = fs.metadata(resolve(&*fs, "A.TXT").unwrap()).unwrap();
    assert_eq!((m.mode, m.nlink), (0o555, 1));
    make_writable(tmp.path());
}

fn open_err(dev: &Device, kind: FsKind) -> bool {
    spindle_fs::open_iso(dev.clone(), kind, 0).is_err()
}

/// A device keeping only the non-zero blocks of a stream.
struct Sparse {
    blocks: HashMap<u64, Box<[u8]>>,
    len: u64,
}

impl ByteSource for Sparse {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let n = buf.len().min(self.len.saturating_sub(offset) as usize);
        let mut done = 0;
        while done < n {
            let off = offset + done as u64;
            let (blk, within) = (off / 2048, (off % 2048) as usize);
            let k = (2048 - within).min(n - done);
            match self.blocks.get(&blk) {
                Some(b) => buf[done..done + k].copy_from_slice(&b[within..within + k]),
                None => buf[done..done + k].fill(0),
            }
            done += k;
        }
        Ok(n)
    }
    fn len(&self) -> u64 {
        self.len
    }
}

/// A sparse file just over 4 GiB: xorriso writes it as several extents (ISO level 3). The image
/// streams through a pipe into a sparse in-memory device; a few offsets are read back.
#[test]
fn multi_extent_file_over_4_gib() {
    const SIZE: u64 = (4 << 30) + 300_000;
    // Reading the holes of a sparse file fills the page cache with zeros on disk filesystems
    // (4 GiB of it, seconds); tmpfs serves holes from the zero page. The file stays sparse.
    let tmp = tempfile::Builder::new()
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let f = std::fs::File::create(src.join("big")).unwrap();
    f.set_len(SIZE).unwrap();
    use std::os::unix::fs::FileExt;
    let marks: [(u64, &[u8]); 4] = [
        (0, b"start"),
        ((4 << 30) - 2, b"ABCD"),
        ((4 << 30) - 2048 - 1, b"xy"),
        (SIZE - 3, b"end"),
    ];
    for (off, data) in marks {
        f.write_all_at(data, off).unwrap();
    }
    drop(f);
    std::fs::write(src.join("after"), b"after the big one\n").unwrap();
    let mut child = Command::new("xorriso")
        .args(["-file_size_limit", "off", "--", "-outdev", "-", "-map"])
        .arg(&src)
        .args(["/", "-commit"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    // A 1 MiB pipe instead of 64 KiB: two to three times faster through 4 GiB.
    // SAFETY: fcntl on a pipe descriptor we own; failure only leaves the default size.
    unsafe {
        use std::os::fd::AsRawFd;
        libc::fcntl(out.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20);
    }
    let mut blocks = HashMap::new();
    let mut len = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    let zero = [0u8; 2048];
    loop {
        // Fill whole blocks.
        let mut got = 0;
        while got < buf.len() {
            let n = out.read(&mut buf[got..]).unwrap();
            if n == 0 {
                break;
            }
            got += n;
        }
        for (i, c) in buf[..got].chunks(2048).enumerate() {
            if c != &zero[..c.len()] {
                let mut b = vec![0u8; 2048];
                b[..c.len()].copy_from_slice(c);
                blocks.insert(len / 2048 + i as u64, b.into_boxed_slice());
            }
        }
        len += got as u64;
        if got < buf.len() {
            break;
        }
    }
    assert!(child.wait().unwrap().success());
    assert!(len > SIZE);
    let dev: Device = Arc::new(Sparse { blocks, len });
    let fs = open(&dev, FsKind::RockRidge);
    let big = resolve(&*fs, "big").unwrap();
    assert_eq!(fs.metadata(big).unwrap().size, SIZE);
    for (off, data) in marks {
        let mut got = vec![0u8; data.len() + 2];
        let n = fs.read(big, off.saturating_sub(1), &mut got).unwrap();
        let want: Vec<u8> = if off == 0 {
            [data, &[0, 0]].concat()
        } else {
            [&[0u8][..], data, &[0][..]].concat()
        };
        let n_want = if off + data.len() as u64 == SIZE {
            data.len() + 1
        } else {
            data.len() + 2
        };
        assert_eq!(n, n_want, "at {off}");
        assert_eq!(&got[..n], &want[..n], "at {off}");
    }
    let after = resolve(&*fs, "after").unwrap();
    assert_eq!(read_all(&*fs, after).unwrap(), b"after the big one\n");
    // The plain view agrees.
    let plain = open(&dev, FsKind::Iso9660);
    assert_eq!(
        plain
            .metadata(resolve(&*plain, "BIG").unwrap())
            .unwrap()
            .size,
        SIZE
    );
}
