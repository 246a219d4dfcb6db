//! Extraction of in-memory trees with hostile names, repeats, links and loops.

use crate::memfs::MemFs;
use crate::{Error, Options, OutError, Report, extract};
use spindle_fs::{FileKind, FileSystem, NodeId};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

struct Setup {
    _t: tempfile::TempDir,
    outside: std::path::PathBuf,
    out: std::path::PathBuf,
}

fn setup() -> Setup {
    let t = tempfile::tempdir().unwrap();
    let outside = t.path().join("outside");
    std::fs::create_dir_all(outside.join("dir")).unwrap();
    std::fs::write(outside.join("secret"), b"secret").unwrap();
    std::fs::set_permissions(
        outside.join("secret"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    Setup {
        out: t.path().join("out"),
        outside,
        _t: t,
    }
}

fn run(fs: &MemFs, node: NodeId, name: &str, out: &Path, opts: Options) -> (Report, Vec<String>) {
    let warnings = Mutex::new(Vec::new());
    let r = extract(fs, node, name, out, &opts, &AtomicBool::new(false), &|w| {
        warnings.lock().unwrap().push(w.to_string())
    });
    (r, warnings.into_inner().unwrap())
}

fn untouched(s: &Setup) {
    assert_eq!(std::fs::read(s.outside.join("secret")).unwrap(), b"secret");
    let m = std::fs::metadata(s.outside.join("secret")).unwrap();
    assert_eq!(m.permissions().mode() & 0o7777, 0o600);
    assert_eq!(std::fs::read_dir(s.outside.join("dir")).unwrap().count(), 0);
    assert_eq!(
        std::fs::read_dir(s.out.parent().unwrap()).unwrap().count(),
        2
    );
}

#[test]
fn repeated_names_through_links_are_skipped() {
    let s = setup();
    let mut fs = MemFs::new();
    let root = fs.root();
    fs.symlink(root, "x", s.outside.join("dir").to_str().unwrap());
    let x = fs.dir(root, "x", 0o755);
    fs.file(x, "planted", 0o644, b"PWNED");
    fs.symlink(root, "f", s.outside.join("secret").to_str().unwrap());
    fs.file(root, "f", 0o4777, b"PWNED");
    let (r, w) = run(&fs, root, "", &s.out, Options::default());
    r.result.unwrap();
    untouched(&s);
    assert_eq!(r.stats.skipped, 2);
    assert_eq!(r.stats.symlinks, 2);
    assert!(
        w.iter().all(|w| w.contains("the name appears again")),
        "{w:?}"
    );
    assert_eq!(
        std::fs::read_link(s.out.join("x")).unwrap(),
        s.outside.join("dir")
    );
}

#[test]
fn names_that_are_paths_are_refused() {
    let s = setup();
    let mut fs = MemFs::new();
    let root = fs.root();
    let abs = s.outside.join("abs");
    for n in [
        "..",
        ".",
        "",
        "/",
        "a/b",
        "../escape",
        abs.to_str().unwrap(),
        "x\0y",
    ] {
        fs.file(root, n, 0o644, b"PWNED");
    }
    let d = fs.dir(root, "..", 0o755);
    fs.file(d, "deeper", 0o644, b"PWNED");
    fs.file(root, "ok", 0o644, b"fine");
    let (r, w) = run(&fs, root, "", &s.out, Options::default());
    r.result.unwrap();
    untouched(&s);
    assert_eq!(r.stats.skipped, 9, "{w:?}");
    assert_eq!(r.stats.files, 1);
    assert_eq!(std::fs::read_dir(&s.out).unwrap().count(), 1);
    // A single entry asked for under a path-like name.
    let f = fs.file(root, "ok2", 0o644, b"x");
    let (r, _) = run(&fs, f, "..", &s.out, Options::default());
    r.result.unwrap();
    assert_eq!(r.stats.skipped, 1);
    untouched(&s);
}

#[test]
fn loops_and_shared_directories_are_extracted_once() {
    let s = setup();
    let mut fs = MemFs::new();
    let root = fs.root();
    let a = fs.dir(root, "a", 0o755);
    fs.file(a, "f", 0o644, b"1");
    fs.link(a, "again", a);
    fs.link(a, "root", root);
    fs.link(root, "b", a);
    let (r, w) = run(&fs, root, "", &s.out, Options::default());
    r.result.unwrap();
    assert_eq!(
        (r.stats.dirs, r.stats.files, r.stats.skipped),
        (1, 1, 3),
        "{w:?}"
    );
}

#[test]
fn hard_links_share_the_inode_written_here() {
    let s = setup();
    let mut fs = MemFs::new();
    let root = fs.root();
    let f = fs.file(root, "one", 0o640, b"shared");
    let d = fs.dir(root, "d", 0o755);
    fs.link(d, "two", f);
    let (r, _) = run(&fs, root, "", &s.out, Options::default());
    r.result.unwrap();
    assert_eq!(r.stats.hardlinks, 1);
    let (a, b) = (
        std::fs::metadata(s.out.join("one")).unwrap(),
        std::fs::metadata(s.out.join("d/two")).unwrap(),
    );
    assert_eq!((a.ino(), a.nlink()), (b.ino(), 2));
}

#[test]
fn special_bits_and_special_files() {
    let s = setup();
    let mut fs = MemFs::new();
    let root = fs.root();
    fs.file(root, "suid", 0o4755, b"x");
    let d = fs.dir(root, "sticky", 0o1777);
    fs.special(d, "fifo", FileKind::Fifo, 0o644);
    fs.special(root, "dev", FileKind::BlockDevice, 0o660);
    let (r, w) = run(&fs, root, "", &s.out, Options::default());
    r.result.unwrap();
    assert_eq!((r.stats.bits_dropped, r.stats.special), (2, 2), "{w:?}");
    let mode = |p: &str| {
        std::fs::symlink_metadata(s.out.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!((mode("suid"), mode("sticky")), (0o755, 0o777));
    assert!(!s.out.join("dev").exists() && !s.out.join("sticky/fifo").exists());
    let kept = s.out.with_file_name("kept");
    let opts = Options {
        keep_special_bits: true,
        ..Options::default()
    };
    let (r, _) = run(&fs, root, "", &kept, opts);
    r.result.unwrap();
    let mode = |p: &str| {
        std::fs::symlink_metadata(kept.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!((mode("suid"), mode("sticky")), (0o4755, 0o1777));
    // A caller's umask clears what the image gives: no world-writable folder.
    let masked = s.out.with_file_name("masked");
    let opts = Options {
        umask: 0o022,
        ..Options::default()
    };
    let (r, _) = run(&fs, root, "", &masked, opts);
    r.result.unwrap();
    let mode = |p: &str| {
        std::fs::symlink_metadata(masked.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!((mode("suid"), mode("sticky")), (0o755, 0o755));
}

#[test]
fn existing_entries_refused_then_replaced() {
    let s = setup();
    let mut fs = MemFs::new();
    let root = fs.root();
    fs.file(root, "f", 0o644, b"image");
    std::fs::create_dir(&s.out).unwrap();
    std::os::unix::fs::symlink(s.outside.join("secret"), s.out.join("f")).unwrap();
    let (r, _) = run(&fs, root, "", &s.out, Options::default());
    assert!(
        matches!(r.result, Err(Error::Out(OutError::Exists(_)))),
        "{:?}",
        r.result
    );
    untouched(&s);
    let opts = Options {
        overwrite: true,
        ..Options::default()
    };
    let (r, _) = run(&fs, root, "", &s.out, opts);
    r.result.unwrap();
    untouched(&s);
    assert_eq!(std::fs::read(s.out.join("f")).unwrap(), b"image");
}

#[test]
fn a_cancel_stops_before_anything_is_half_made() {
    let s = setup();
    let mut fs = MemFs::new();
    let root = fs.root();
    fs.file(root, "f", 0o644, &vec![0u8; 3 << 20]);
    let r = extract(
        &fs,
        root,
        "",
        &s.out,
        &Options::default(),
        &AtomicBool::new(true),
        &|_| {},
    );
    assert!(
        matches!(r.result, Err(Error::Interrupted)),
        "{:?}",
        r.result
    );
    assert_eq!(std::fs::read_dir(&s.out).unwrap().count(), 0);
}
