//! Helpers for the real-mount FUSE tests of images (fuse_*.rs): sample discs and their file
//! trees, mount-point guards that never leave a mount behind, a watchdog against hangs, and
//! tree walks to compare.
#![allow(dead_code)]

use spindle_fs::{FileKind, FileSystem, NodeId};
use spindle_testkit::tree::{self, Kind};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub use spindle_testkit::digest::sha1_hex as sha1;
pub use spindle_testkit::mount_guard::{MountPoint, watchdog};
pub use spindle_testkit::samples;

pub fn disc(rel: &str, password: Option<&str>) -> Arc<spindle_disc::Disc> {
    let p = samples().join(rel);
    Arc::new(
        spindle_image::open_with(&p, password.map(String::from))
            .unwrap_or_else(|e| panic!("{rel}: {e}")),
    )
}

pub fn fs_of(disc: &Arc<spindle_disc::Disc>) -> Arc<dyn FileSystem> {
    spindle_image::filesystem(disc, None).unwrap()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ent {
    pub kind: char,
    pub mode: u32,
    pub size: u64,
    /// sha1 of the content, or the symlink target.
    pub data: String,
}

/// Every node under `root` through std::fs: path → entry (and the inode of each path).
pub fn walk(root: &Path) -> (BTreeMap<String, Ent>, BTreeMap<String, u64>) {
    let mut out = BTreeMap::new();
    let mut inos = BTreeMap::new();
    for (rel, e) in tree::walk(root, sha1) {
        inos.insert(rel.clone(), e.ino);
        let (kind, mode, size) = match e.kind {
            Kind::Symlink => ('l', 0, e.size),
            Kind::Dir => ('d', e.mode, 0),
            Kind::File => ('f', e.mode, e.size),
            Kind::Other => ('o', e.mode, 0),
        };
        let data = e.data;
        out.insert(
            rel,
            Ent {
                kind,
                mode,
                size,
                data,
            },
        );
    }
    (out, inos)
}

/// Every node of `fs` read directly: path → entry.
pub fn walk_fs(fs: &dyn FileSystem) -> BTreeMap<String, Ent> {
    let mut out = BTreeMap::new();
    let mut stack: Vec<(String, NodeId)> = vec![(String::new(), fs.root())];
    while let Some((prefix, dir)) = stack.pop() {
        for e in fs.read_dir(dir).unwrap() {
            let rel = if prefix.is_empty() {
                e.name.clone()
            } else {
                format!("{prefix}/{}", e.name)
            };
            let m = fs.metadata(e.node).unwrap();
            let ent = match m.kind {
                FileKind::Symlink => Ent {
                    kind: 'l',
                    mode: 0,
                    size: m.size,
                    data: fs.read_link(e.node).unwrap(),
                },
                FileKind::Dir => {
                    stack.push((rel.clone(), e.node));
                    Ent {
                        kind: 'd',
                        mode: m.mode & 0o7777,
                        size: 0,
                        data: String::new(),
                    }
                }
                FileKind::File => {
                    let mut data = vec![0u8; m.size as usize];
                    let mut done = 0;
                    while done < data.len() {
                        let n = fs.read(e.node, done as u64, &mut data[done..]).unwrap();
                        assert!(n > 0, "{rel}: short read");
                        done += n;
                    }
                    Ent {
                        kind: 'f',
                        mode: m.mode & 0o7777,
                        size: m.size,
                        data: sha1(&data),
                    }
                }
                _ => Ent {
                    kind: 'o',
                    mode: m.mode & 0o7777,
                    size: 0,
                    data: String::new(),
                },
            };
            out.insert(rel, ent);
        }
    }
    out
}

/// True when `path` is a mount point of a spindle mount in this namespace.
pub fn mounted(path: &Path) -> bool {
    spindle_fuse::find_mount(path).is_some()
}
