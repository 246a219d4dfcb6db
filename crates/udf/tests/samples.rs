//! The libcdio sample images, compared with 7-Zip's extraction.

mod common;

use std::sync::Arc;

use common::*;
use spindle_fs::{FileKind, FileSystem, FsKind};

fn check_against_7z(name: &str) -> Arc<dyn FileSystem> {
    let path = sample(name);
    let data = std::fs::read(&path).unwrap();
    assert!(spindle_udf::detect(Arc::new(
        spindle_bytes::MemSource::new(data.clone(), "udf.img")
    )));
    let fs = open_bytes(data).unwrap();
    assert_eq!(fs.kind(), FsKind::Udf);
    assert_eq!(fs.metadata(fs.root()).unwrap().kind, FileKind::Dir);
    let ours = walk_fs(&*fs).unwrap();
    if have("7z") {
        assert_eq!(
            type_7z(&path),
            "Udf",
            "7z must read these as UDF for the comparison to mean anything"
        );
        let tmp = tempfile::tempdir().unwrap();
        let theirs = walk_dir(&extract_7z(&path, tmp.path()));
        assert_eq!(ours, theirs);
    }
    eprintln!(
        "{name}: {} entries: {:?}",
        ours.len(),
        ours.keys().take(8).collect::<Vec<_>>()
    );
    assert!(!ours.is_empty());
    fs
}

#[test]
fn test_udf1_matches_7z() {
    let fs = check_against_7z("test-udf1.iso");
    assert_eq!(fs.label(), "CDROM");
}

#[test]
fn udf102_matches_7z() {
    let fs = check_against_7z("udf102.iso");
    assert_eq!(fs.label(), "FéжΘvrier");
}

#[test]
fn not_udf() {
    assert!(!spindle_udf::detect(Arc::new(
        spindle_bytes::MemSource::new(vec![0u8; 1 << 20], "zeros.img")
    )));
    assert!(open_bytes(vec![0u8; 1 << 20]).is_err());
    assert!(open_bytes(Vec::new()).is_err());
}
