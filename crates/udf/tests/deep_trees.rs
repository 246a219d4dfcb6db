//! UDF directories nested 100,000 deep, a directory cycle and directories linked twice (built
//! by spindle_testkit::deep_images): walks stop at `MAX_DEPTH`, the reader's own lookups stop
//! at its nesting bound, cycles and shared directories are errors; nothing recurses.

use deep::Udf;
use spindle_bytes::ByteSource;
use spindle_fs::{FileKind, FileSystem, FsError, MAX_DEPTH, resolve, walk_tree};
use spindle_testkit::deep_images as deep;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

struct FileDev(std::fs::File, u64);

impl ByteSource for FileDev {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        self.0.read_at(buf, offset)
    }
    fn len(&self) -> u64 {
        self.1
    }
}

fn open(path: &Path) -> Arc<dyn FileSystem> {
    let f = std::fs::File::open(path).unwrap();
    let len = f.metadata().unwrap().len();
    spindle_udf::open_udf(Arc::new(FileDev(f, len))).unwrap()
}

fn walk_all(fs: &dyn FileSystem) -> (usize, Option<FsError>) {
    let mut dirs = 0;
    let r = walk_tree(fs, fs.root(), "/", &mut |_,
                                                _,
                                                dir,
                                                subdirs|
     -> spindle_fs::Result<()> {
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

#[test]
fn chain_of_100000() {
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("deep.udf");
    deep::write_udf(&img, 100_000, Udf::Chain).unwrap();
    let fs = open(&img);
    let (dirs, err) = walk_all(fs.as_ref());
    assert_eq!(dirs, MAX_DEPTH);
    assert!(matches!(err, Some(FsError::TooDeep { .. })), "{err:?}");
    let node = resolve(fs.as_ref(), &"/d".repeat(MAX_DEPTH)).unwrap();
    assert_eq!(fs.metadata(node).unwrap().kind, FileKind::Dir);
    assert!(matches!(
        resolve(fs.as_ref(), &deep::deep_path(deep::Iso::RockRidge, 100_000)),
        Err(FsError::TooDeep { .. })
    ));
    // Lookups one level at a time (as FUSE makes them) go past MAX_DEPTH only as far as the
    // reader's own nesting bound (4096, its cycle check's reach).
    let mut node = fs.root();
    let mut level = 0;
    let err = loop {
        match fs.lookup(node, "d") {
            Ok(Some(n)) => {
                node = n;
                level += 1;
            }
            Ok(None) => panic!("level {level}: no d"),
            Err(e) => break e,
        }
    };
    assert_eq!(level, 4096, "{err}");
    assert!(err.to_string().contains("nested deeper than 4096"), "{err}");
}

#[test]
fn within_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("deep.udf");
    deep::write_udf(&img, MAX_DEPTH - 1, Udf::Chain).unwrap();
    let fs = open(&img);
    let (dirs, err) = walk_all(fs.as_ref());
    assert!(err.is_none(), "{err:?}");
    assert_eq!(dirs, MAX_DEPTH);
    let node = resolve(
        fs.as_ref(),
        &deep::deep_path(deep::Iso::RockRidge, MAX_DEPTH - 1),
    )
    .unwrap();
    let mut buf = [0u8; 64];
    let n = fs.read(node, 0, &mut buf).unwrap();
    assert_eq!(&buf[..n], deep::CONTENT);
}

#[test]
fn cycle_and_shared_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("bad.udf");
    for (shape, says) in [(Udf::Cycle, "cycle"), (Udf::Dag, "linked twice")] {
        deep::write_udf(&img, 64, shape).unwrap();
        let fs = open(&img);
        let (dirs, err) = walk_all(fs.as_ref());
        let err = err.unwrap_or_else(|| panic!("{shape:?}: no error"));
        assert!(
            matches!(err, FsError::Corrupt { .. }) && err.to_string().contains(says),
            "{shape:?}: {err}"
        );
        assert!(dirs <= 65, "{shape:?}: {dirs}");
    }
}

/// A directory 4000 levels down holding 200,000 subdirectories: listing it costs the same as
/// anywhere else (each directory's depth is recorded with its parent; the cycle check used to
/// walk up all 4000 levels for each of the 200,000).
#[test]
fn wide_directory_far_down() {
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("wide.udf");
    deep::write_udf(&img, 4000, Udf::Wide(200_000)).unwrap();
    let fs = open(&img);
    let mut node = fs.root();
    for level in 1..=4000 {
        node = fs
            .lookup(node, "d")
            .unwrap()
            .unwrap_or_else(|| panic!("level {level}"));
    }
    let t = std::time::Instant::now();
    let entries = fs.read_dir(node).unwrap();
    eprintln!(
        "200,000 subdirectories 4000 levels down listed in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(entries.len(), 200_001);
    assert_eq!(
        entries.iter().filter(|e| e.kind == FileKind::Dir).count(),
        200_000
    );
    // Each reads as a directory that cannot be opened (its entry lies past the image's end).
    let w = fs.lookup(node, "w7").unwrap().unwrap();
    assert!(fs.read_dir(w).is_err());
}
