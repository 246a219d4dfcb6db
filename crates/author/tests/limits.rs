//! The format's limits are errors naming the path, found while planning (before a byte is
//! written): more directories than a path table numbers, more sectors than the medium has.

use spindle_author::{Error, FileData, Kind, Node, Options, Stamp, Tree, plan};
use std::path::PathBuf;

fn node(name: &str, parent: u32, kind: Kind) -> Node {
    Node {
        name: name.into(),
        parent,
        kind,
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtime: Stamp::default(),
        depth: u32::from(parent != 0 || !name.is_empty()),
    }
}

/// A root holding `dirs` empty folders and the given files (sizes), made in memory.
fn tree(dirs: u32, files: &[u64]) -> Tree {
    let mut t = Tree {
        nodes: vec![node("", 0, Kind::Dir(Vec::new()))],
        files: Vec::new(),
        paths: vec![PathBuf::from("/src")],
        skipped: Vec::new(),
    };
    let mut children = Vec::new();
    for i in 0..dirs {
        children.push(t.nodes.len() as u32);
        t.nodes
            .push(node(&format!("d{i:05}"), 0, Kind::Dir(Vec::new())));
        t.paths.push(PathBuf::from(format!("/src/d{i:05}")));
    }
    for (i, &size) in files.iter().enumerate() {
        let id = t.nodes.len() as u32;
        children.push(id);
        t.nodes
            .push(node(&format!("f{i}"), 0, Kind::File(i as u32)));
        t.paths.push(PathBuf::from(format!("/src/f{i}")));
        t.files.push(FileData {
            source: PathBuf::from(format!("/src/f{i}")),
            size,
            links: 1,
            first: id,
        });
    }
    t.nodes[0].kind = Kind::Dir(children);
    t
}

#[test]
fn more_directories_than_a_path_table_numbers() {
    // 65,534 folders and the root: 65,535, the most.
    assert!(plan(&tree(65_534, &[]), &Options::default()).is_ok());
    match plan(&tree(65_535, &[]), &Options::default()) {
        Err(Error::TooBig { path, what }) => {
            assert_eq!(path, PathBuf::from("/src/d65534"));
            assert!(what.contains("65,535 directories"), "{what}");
        }
        other => panic!("expected TooBig, got {other:?}"),
    }
}

#[test]
fn more_than_the_medium_holds() {
    let opts = Options {
        max_sectors: Some(1000),
        ..Options::default()
    };
    // 500 and 400 sectors of data fit after the metadata; 200 more do not.
    let t = tree(0, &[500 * 2048, 400 * 2048, 200 * 2048]);
    match plan(&t, &opts) {
        Err(Error::TooBig { path, what }) => {
            assert_eq!(path, PathBuf::from("/src/f2"));
            assert!(what.contains("holds 1000"), "{what}");
        }
        other => panic!("expected TooBig, got {other:?}"),
    }
    assert!(plan(&tree(0, &[500 * 2048, 400 * 2048]), &opts).is_ok());
    // ISO 9660's own limit: 2^32 - 1 sectors.
    let t = tree(0, &[(1 << 43) - 2048, 4096]);
    match plan(&t, &Options::default()) {
        Err(Error::TooBig { path, .. }) => assert_eq!(path, PathBuf::from("/src/f0")),
        other => panic!("expected TooBig, got {other:?}"),
    }
}
