//! Directories nested far deeper than any real disc (100,000 levels, built by `deep/`): walks
//! stop at `MAX_DEPTH` with a clear error, never recurse or loop; paths resolve down to the
//! limit; directory loops (a record or a Rock Ridge `CL` naming an ancestor) are errors.

use spindle_testkit::deep_images as deep;

use deep::Iso;
use spindle_disc::FileSource;
use spindle_fs::{
    FileKind, FileSystem, FsError, FsKind, MAX_DEPTH, NodeId, open_iso, resolve, walk_tree,
};
use std::path::Path;
use std::sync::Arc;

/// The image file read in place (a 200 MB image is not read into memory).
fn open(path: &Path, kind: FsKind) -> Arc<dyn FileSystem> {
    open_iso(Arc::new(FileSource::open(path).unwrap()), kind, 0).unwrap()
}

/// Walks the whole tree with `walk_tree`: (directories visited, the error that ended it).
fn walk_all(fs: &dyn FileSystem) -> (usize, Option<FsError>) {
    let mut dirs = 0;
    let r = walk_tree(fs, fs.root(), "/", &mut |_,
                                                depth,
                                                dir,
                                                subdirs|
     -> spindle_fs::Result<()> {
        assert!(depth <= dirs, "one directory per level");
        dirs += 1;
        for e in fs.read_dir(dir)? {
            if e.kind == FileKind::Dir {
                subdirs.push((e.name, e.node));
            }
        }
        Ok(())
    });
    (dirs, r.err())
}

fn chain(name: &str, n: usize) -> String {
    format!("/{name}").repeat(n)
}

fn check_deep(kind: Iso, view: FsKind, dir: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("deep.iso");
    deep::write_iso(&img, kind, 100_000).unwrap();
    let fs = open(&img, view);
    let (dirs, err) = walk_all(fs.as_ref());
    // The root and the directories at depths 1..=MAX_DEPTH are listed; the one at MAX_DEPTH
    // is not empty: its entry would lie deeper.
    assert_eq!(dirs, MAX_DEPTH, "{kind:?}");
    match err {
        Some(FsError::TooDeep { path, limit }) => {
            assert_eq!(limit, MAX_DEPTH);
            assert!(
                path.contains(&format!("({} components)", MAX_DEPTH + 1)),
                "{path}"
            );
        }
        other => panic!("{kind:?}: {other:?}"),
    }
    // Paths resolve down to the limit, not past it.
    let node = resolve(fs.as_ref(), &chain(dir, MAX_DEPTH)).unwrap();
    assert_eq!(fs.metadata(node).unwrap().kind, FileKind::Dir);
    let err = resolve(fs.as_ref(), &chain(dir, MAX_DEPTH + 1)).unwrap_err();
    assert!(matches!(err, FsError::TooDeep { .. }), "{err}");
    assert!(err.to_string().contains("nested deeper than 2048"), "{err}");
}

#[test]
fn plain_chain_of_100000() {
    check_deep(Iso::Plain, FsKind::Iso9660, "D");
}

#[test]
fn rock_ridge_chain_of_100000() {
    check_deep(Iso::RockRidge, FsKind::RockRidge, "d");
}

#[test]
fn relocated_chain_of_100000() {
    check_deep(Iso::Relocated, FsKind::RockRidge, "d");
}

/// Within the limit every level is there: the file at the bottom of a chain of
/// `MAX_DEPTH - 1` directories reads back, in every view.
#[test]
fn deepest_file_within_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    for (kind, view) in [
        (Iso::Plain, FsKind::Iso9660),
        (Iso::RockRidge, FsKind::RockRidge),
        (Iso::Relocated, FsKind::RockRidge),
    ] {
        let img = tmp.path().join("deep.iso");
        deep::write_iso(&img, kind, MAX_DEPTH - 1).unwrap();
        let fs = open(&img, view);
        let path = deep::deep_path(kind, MAX_DEPTH - 1);
        let node = resolve(fs.as_ref(), &path).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let mut buf = [0u8; 64];
        let n = fs.read(node, 0, &mut buf).unwrap();
        assert_eq!(&buf[..n], deep::CONTENT, "{kind:?}");
        let (dirs, err) = walk_all(fs.as_ref());
        assert!(err.is_none(), "{kind:?}: {err:?}");
        // With relocation, the root holds rr_moved too (its RE entries are hidden).
        assert_eq!(
            dirs,
            MAX_DEPTH + (kind == Iso::Relocated) as usize,
            "{kind:?}"
        );
    }
}

/// A directory whose record (or `CL` entry) names an ancestor: the walk ends with an error
/// saying so, quickly.
#[test]
fn directory_loops() {
    let tmp = tempfile::tempdir().unwrap();
    for (kind, view) in [
        (Iso::Cycle, FsKind::Iso9660),
        (Iso::CycleCl, FsKind::RockRidge),
    ] {
        let img = tmp.path().join("loop.iso");
        deep::write_iso(&img, kind, 5).unwrap();
        let fs = open(&img, view);
        let (dirs, err) = walk_all(fs.as_ref());
        let err = err.unwrap_or_else(|| panic!("{kind:?}: the loop went unnoticed"));
        assert!(matches!(err, FsError::Corrupt { .. }), "{kind:?}: {err}");
        assert!(err.to_string().contains("loop"), "{kind:?}: {err}");
        assert!(dirs <= 7, "{kind:?}: {dirs} directories");
    }
}

/// The walker's own guard, for a reader that does not refuse loops itself: a directory that
/// contains its parent.
#[test]
fn walker_refuses_a_directory_twice() {
    struct Loopy;
    impl FileSystem for Loopy {
        fn kind(&self) -> FsKind {
            FsKind::Udf
        }
        fn label(&self) -> String {
            String::new()
        }
        fn root(&self) -> NodeId {
            NodeId(0)
        }
        fn metadata(&self, _: NodeId) -> spindle_fs::Result<spindle_fs::Metadata> {
            unreachable!()
        }
        fn read_dir(&self, dir: NodeId) -> spindle_fs::Result<Vec<spindle_fs::DirEntry>> {
            // 0 holds 1, 1 holds 0.
            Ok(vec![spindle_fs::DirEntry {
                name: "x".into(),
                node: NodeId(1 - dir.0),
                kind: FileKind::Dir,
            }])
        }
        fn read(&self, _: NodeId, _: u64, _: &mut [u8]) -> spindle_fs::Result<usize> {
            unreachable!()
        }
        fn read_link(&self, _: NodeId) -> spindle_fs::Result<String> {
            unreachable!()
        }
    }
    let (dirs, err) = walk_all(&Loopy);
    assert_eq!(dirs, 2);
    let err = err.unwrap().to_string();
    assert!(
        err.contains("directory loop: /x/x is its own ancestor /"),
        "{err}"
    );
}
