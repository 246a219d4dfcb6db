//! Shared test helpers: xorriso as the oracle, a tree walker for our views, and (re-exported
//! from spindle-testkit) the samples folder, SHA-1 and the host-tree walk for extracted
//! directories.
#![allow(dead_code, unused_imports)]

use spindle_bytes::MemSource;
use spindle_fs::{Device, FileKind, FileSystem, FsKind, NodeId, detect, open_iso};
use spindle_testkit::tree::Kind;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

pub use spindle_testkit::digest::sha1_hex;
pub use spindle_testkit::samples::SAMPLES;
/// Makes a tree removable (extracted read-only directories).
pub use spindle_testkit::tree::make_removable as make_writable;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Dir { mode: u32 },
    File { mode: u32, size: u64, sha1: String },
    Link { target: String },
    Other,
}

pub fn device(path: &Path) -> Device {
    Arc::new(MemSource::new(std::fs::read(path).unwrap(), path))
}

/// The view xorriso shows: Rock Ridge, else Joliet, else ISO 9660.
pub fn xorriso_view(dev: &Device) -> FsKind {
    let v = detect(&**dev, 0).unwrap();
    if v.has_rock_ridge {
        FsKind::RockRidge
    } else if v.has_joliet {
        FsKind::Joliet
    } else {
        FsKind::Iso9660
    }
}

pub fn open(dev: &Device, kind: FsKind) -> Arc<dyn FileSystem> {
    open_iso(dev.clone(), kind, 0).unwrap()
}

/// Reads a whole file in odd-sized chunks (exercises offsets that are not block-aligned).
pub fn read_all(fs: &dyn FileSystem, node: NodeId) -> spindle_fs::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 70_001];
    loop {
        let n = fs.read(node, out.len() as u64, &mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Every path of our view (relative, `/`-joined) with what it is.
pub fn walk_ours(fs: &dyn FileSystem) -> BTreeMap<String, Item> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(String::new(), fs.root())];
    while let Some((path, dir)) = stack.pop() {
        for e in fs
            .read_dir(dir)
            .unwrap_or_else(|err| panic!("{path}: {err}"))
        {
            let p = if path.is_empty() {
                e.name.clone()
            } else {
                format!("{path}/{}", e.name)
            };
            let m = fs.metadata(e.node).unwrap();
            assert_eq!(m.kind, e.kind, "{p}");
            let item = match m.kind {
                FileKind::Dir => {
                    stack.push((p.clone(), e.node));
                    Item::Dir { mode: m.mode }
                }
                FileKind::File => {
                    let data = read_all(fs, e.node).unwrap_or_else(|err| panic!("{p}: {err}"));
                    assert_eq!(data.len() as u64, m.size, "{p}: size");
                    Item::File {
                        mode: m.mode,
                        size: m.size,
                        sha1: sha1_hex(&data),
                    }
                }
                FileKind::Symlink => Item::Link {
                    target: fs.read_link(e.node).unwrap(),
                },
                _ => Item::Other,
            };
            out.insert(p, item);
        }
    }
    out
}

/// Every path below `root` on the host.
pub fn walk_host(root: &Path) -> BTreeMap<String, Item> {
    let tree = spindle_testkit::tree::walk(root, sha1_hex);
    tree.into_iter()
        .map(|(rel, e)| {
            let item = match e.kind {
                Kind::Symlink => Item::Link { target: e.data },
                Kind::Dir => Item::Dir { mode: e.mode },
                Kind::File => Item::File {
                    mode: e.mode,
                    size: e.size,
                    sha1: e.data,
                },
                Kind::Other => Item::Other,
            };
            (rel, item)
        })
        .collect()
}

/// Extracts `iso` with xorriso into a fresh directory; `None` if xorriso fails.
pub fn xorriso_extract(iso: &Path, tmp: &Path) -> Option<PathBuf> {
    let dir = tmp.join("x");
    let st = Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .args(["-extract", "/"])
        .arg(&dir)
        .output()
        .expect("xorriso runs");
    if !st.status.success() {
        return None;
    }
    // xorriso leaves extracted directories writable by the owner only while it works; make
    // the tree removable.
    Some(dir)
}

/// Compares our view with the host tree; modes only when `modes`.
pub fn compare(
    ours: &BTreeMap<String, Item>,
    host: &BTreeMap<String, Item>,
    modes: bool,
    what: &str,
) {
    let strip = |i: &Item| match i {
        Item::Dir { .. } if !modes => Item::Dir { mode: 0 },
        Item::File { size, sha1, .. } if !modes => Item::File {
            mode: 0,
            size: *size,
            sha1: sha1.clone(),
        },
        other => other.clone(),
    };
    let a: BTreeMap<_, _> = ours.iter().map(|(k, v)| (k.clone(), strip(v))).collect();
    let b: BTreeMap<_, _> = host.iter().map(|(k, v)| (k.clone(), strip(v))).collect();
    if a != b {
        let mut msg = format!("{what}: our tree differs from xorriso's\n");
        for (k, v) in &a {
            match b.get(k) {
                None => msg += &format!("  only ours: {k} {v:?}\n"),
                Some(w) if w != v => {
                    msg += &format!("  differs: {k}\n    ours {v:?}\n    xorriso {w:?}\n")
                }
                _ => {}
            }
        }
        for (k, v) in &b {
            if !a.contains_key(k) {
                msg += &format!("  only xorriso: {k} {v:?}\n");
            }
        }
        panic!("{msg}");
    }
}
