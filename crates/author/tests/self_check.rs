//! The self-check finds what differs: a flipped byte of content in the image, and a tree
//! whose modes, times, link targets, names or hard links are not what the image holds.

use spindle_author::{Error, Exclude, Kind, Options, Tree, check, plan, write};
use spindle_disc::FileSource;
use spindle_fs::{FileSystem, FsKind, open_iso};
use std::fs;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

fn source(root: &Path) {
    fs::create_dir_all(root.join("dir/sub")).unwrap();
    fs::write(root.join("dir/data.bin"), vec![7u8; 10_000]).unwrap();
    fs::write(root.join("top.txt"), b"top").unwrap();
    fs::hard_link(root.join("top.txt"), root.join("dir/sub/again.txt")).unwrap();
    std::os::unix::fs::symlink("../top.txt", root.join("dir/link")).unwrap();
}

fn views(iso: &Path) -> (Arc<dyn FileSystem>, Arc<dyn FileSystem>) {
    let dev: Arc<FileSource> = Arc::new(FileSource::open(iso).unwrap());
    (
        open_iso(dev.clone(), FsKind::RockRidge, 0).unwrap(),
        open_iso(dev, FsKind::Joliet, 0).unwrap(),
    )
}

fn node(tree: &Tree, path: &str) -> usize {
    (0..tree.nodes.len())
        .find(|&n| tree.path_of(n as u32) == path)
        .unwrap_or_else(|| panic!("no {path}"))
}

fn mismatch(r: Result<spindle_author::Checked, Error>) -> (String, String) {
    match r {
        Err(Error::Mismatch { path, what, .. }) => (path, what),
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn the_check_finds_each_kind_of_difference() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    source(&src);
    let tree = Tree::scan(std::slice::from_ref(&src), &Exclude::default()).unwrap();
    let p = plan(&tree, &Options::default()).unwrap();
    let iso = tmp.path().join("x.iso");
    write(&tree, &p, &iso, &mut |_, _| {}, &Default::default()).unwrap();
    let (rr, jo) = views(&iso);
    let c = check(&tree, &p, &iso, rr.as_ref(), Some(jo.as_ref())).unwrap();
    // 7 entries with the root in Rock Ridge, 6 in Joliet (no symlink); 10,003 bytes.
    assert_eq!((c.entries, c.bytes), (13, 10_003));

    let changed = |f: &dyn Fn(&mut Tree)| {
        let mut t = tree.clone();
        f(&mut t);
        mismatch(check(&t, &p, &iso, rr.as_ref(), Some(jo.as_ref())))
    };
    let (path, what) = changed(&|t| {
        let n = node(t, "/dir/sub");
        t.nodes[n].mode = 0o700
    });
    assert_eq!(path, "/dir/sub");
    assert!(what.contains("mode 755"), "{what}");
    let (path, what) = changed(&|t| {
        let n = node(t, "/top.txt");
        t.nodes[n].mtime.secs += 1
    });
    assert_eq!(path, "/top.txt");
    assert!(what.contains("modified at"), "{what}");
    let (path, what) = changed(&|t| {
        let n = node(t, "/dir/link");
        t.nodes[n].kind = Kind::Symlink(b"../elsewhere".to_vec());
    });
    assert_eq!(path, "/dir/link");
    assert!(what.contains("elsewhere"), "{what}");
    let (path, what) = changed(&|t| {
        let n = node(t, "/dir/data.bin");
        t.nodes[n].name = "other.bin".into();
    });
    // In name order the image's data.bin comes first: the folder has an entry too many.
    assert_eq!(path, "/dir");
    assert!(what.contains("\"data.bin\" the source has not"), "{what}");
    // The two names of top.txt made two files: the image's hard link is then wrong.
    let (path, what) = changed(&|t| {
        let (a, b) = (node(t, "/top.txt"), node(t, "/dir/sub/again.txt"));
        let Kind::File(f) = t.nodes[a].kind else {
            panic!("a file")
        };
        t.files[f as usize].links = 1;
        let mut copy = t.files[f as usize].clone();
        copy.first = b as u32;
        t.files.push(copy);
        t.nodes[b].kind = Kind::File(t.files.len() as u32 - 1);
    });
    assert!(path == "/dir/sub/again.txt" || path == "/top.txt", "{path}");
    assert!(what.contains("hard link"), "{what}");

    // A flipped byte of content in the image.
    let data = fs::read(src.join("dir/data.bin")).unwrap();
    let img = fs::read(&iso).unwrap();
    let at = img
        .windows(data.len())
        .position(|w| w == data.as_slice())
        .expect("the content in the image");
    let f = fs::OpenOptions::new().write(true).open(&iso).unwrap();
    f.write_all_at(&[8], (at + 4321) as u64).unwrap();
    let (rr, jo) = views(&iso);
    let (path, what) = mismatch(check(&tree, &p, &iso, rr.as_ref(), Some(jo.as_ref())));
    assert_eq!(path, "/dir/data.bin");
    assert_eq!(what, "content differs at byte 4321");
}

/// An error while writing leaves neither the output nor a temporary file.
#[test]
fn a_vanished_source_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    source(&src);
    let tree = Tree::scan(std::slice::from_ref(&src), &Exclude::default()).unwrap();
    let p = plan(&tree, &Options::default()).unwrap();
    fs::remove_file(src.join("dir/data.bin")).unwrap();
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    let e = write(
        &tree,
        &p,
        &out.join("x.iso"),
        &mut |_, _| {},
        &Default::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("dir/data.bin"), "{e}");
    assert_eq!(fs::read_dir(&out).unwrap().count(), 0);
}

/// A stop request (what SIGINT sets) ends the write with `Cancelled`, leaving nothing and a
/// previous output as it was.
#[test]
fn a_stop_request_leaves_the_previous_output() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    source(&src);
    let tree = Tree::scan(std::slice::from_ref(&src), &Exclude::default()).unwrap();
    let p = plan(&tree, &Options::default()).unwrap();
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("x.iso"), b"previous").unwrap();
    let stop = std::sync::atomic::AtomicBool::new(true);
    let e = write(&tree, &p, &out.join("x.iso"), &mut |_, _| {}, &stop).unwrap_err();
    assert!(matches!(e, Error::Cancelled { .. }), "{e}");
    assert_eq!(fs::read(out.join("x.iso")).unwrap(), b"previous");
    assert_eq!(fs::read_dir(&out).unwrap().count(), 1);
}
