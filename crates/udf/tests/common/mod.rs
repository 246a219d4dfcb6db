//! Helpers shared by the integration tests: tree walking, external tools, mutation devices.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use spindle_bytes::{ByteSource, MemSource};
use spindle_fs::{FileKind, FileSystem, NodeId};
pub use spindle_testkit::tools::run;
use spindle_testkit::tree::Kind;

/// A libcdio sample.
pub fn sample(name: &str) -> PathBuf {
    spindle_testkit::sample("libcdio").join(name)
}

/// What a tree entry is: a directory, a file (size and FNV-1a hash of its content) or a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Dir,
    File { size: u64, hash: u64 },
    Link(String),
}

pub fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

/// Walks a UDF filesystem into path -> node (paths relative, '/'-separated), with
/// `spindle_fs::walk_tree` (no recursion, bounded depth, no directory twice).
pub fn walk_fs(fs: &dyn FileSystem) -> spindle_fs::Result<BTreeMap<String, Node>> {
    let mut out = BTreeMap::new();
    spindle_fs::walk_tree(fs, fs.root(), "", &mut |prefix,
                                                   _,
                                                   dir,
                                                   subdirs|
     -> spindle_fs::Result<()> {
        for e in fs.read_dir(dir)? {
            let path = if prefix.is_empty() {
                e.name.clone()
            } else {
                format!("{prefix}/{}", e.name)
            };
            let meta = fs.metadata(e.node)?;
            match meta.kind {
                FileKind::Dir => {
                    out.insert(path, Node::Dir);
                    subdirs.push((e.name, e.node));
                }
                FileKind::Symlink => {
                    out.insert(path, Node::Link(fs.read_link(e.node)?));
                }
                _ if meta.size > 1 << 28 => {
                    // Too big to hash here (a sparse test file): size only.
                    out.insert(
                        path,
                        Node::File {
                            size: meta.size,
                            hash: 0,
                        },
                    );
                }
                _ => {
                    let data = read_file(fs, e.node, meta.size)?;
                    out.insert(
                        path,
                        Node::File {
                            size: meta.size,
                            hash: fnv(&data),
                        },
                    );
                }
            }
        }
        Ok(())
    })?;
    Ok(out)
}

pub fn read_file(fs: &dyn FileSystem, node: NodeId, size: u64) -> spindle_fs::Result<Vec<u8>> {
    let mut data = Vec::with_capacity(size.min(1 << 26) as usize);
    let mut buf = vec![0u8; 70000]; // not a multiple of the sector size on purpose
    loop {
        let n = fs.read(node, data.len() as u64, &mut buf)?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
        assert!(data.len() as u64 <= size, "read past the file size");
    }
    assert_eq!(data.len() as u64, size, "short file");
    Ok(data)
}

/// Walks a host directory the same way.
pub fn walk_dir(root: &Path) -> BTreeMap<String, Node> {
    let tree = spindle_testkit::tree::walk(root, |data| fnv(data).to_string());
    tree.into_iter()
        .map(|(path, e)| {
            let node = match e.kind {
                Kind::Symlink => Node::Link(e.data),
                Kind::Dir => Node::Dir,
                _ => Node::File {
                    size: e.size,
                    hash: e.data.parse().unwrap(),
                },
            };
            (path, node)
        })
        .collect()
}

/// Checks that `prog` can be run. A missing tool fails the test: scripts/setup installs
/// every tool the tests use, so a missing one is a setup bug, not a reason to pass.
pub fn have(prog: &str) -> bool {
    assert!(
        Command::new(prog).arg("--help").output().is_ok(),
        "{prog} is not installed (scripts/setup installs it)"
    );
    true
}

pub fn have_pycdlib() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pycdlib"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "python3 with pycdlib is not available (scripts/setup installs it with pip)"
    );
    ok
}

/// Extracts `image` with 7z into a new directory under `tmp`.
pub fn extract_7z(image: &Path, tmp: &Path) -> PathBuf {
    let dest = tmp.join("7z-out");
    run(Command::new("7z")
        .arg("x")
        .arg("-y")
        .arg(format!("-o{}", dest.display()))
        .arg(image));
    dest
}

/// The archive type 7z picks for `image` ("Udf", "Iso", ...).
pub fn type_7z(image: &Path) -> String {
    let out = Command::new("7z").arg("l").arg(image).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("Type = "))
        .unwrap_or("")
        .to_string()
}

pub fn open_bytes(data: Vec<u8>) -> spindle_fs::Result<Arc<dyn FileSystem>> {
    spindle_udf::open_udf(Arc::new(MemSource::new(data, "udf.img")))
}

/// A device reading `base` with one byte XORed.
pub struct Mutated {
    pub base: Arc<Vec<u8>>,
    pub pos: u64,
    pub xor: u8,
    pub len: u64,
}

impl ByteSource for Mutated {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let end = self.len.min(self.base.len() as u64);
        let start = offset.min(end) as usize;
        let n = buf.len().min(end as usize - start);
        buf[..n].copy_from_slice(&self.base[start..start + n]);
        if self.pos >= offset && self.pos < offset + n as u64 {
            buf[(self.pos - offset) as usize] ^= self.xor;
        }
        Ok(n)
    }
    fn len(&self) -> u64 {
        self.len.min(self.base.len() as u64)
    }
}

/// A device reading `base` with some bytes replaced.
pub struct Patched {
    pub base: Arc<Vec<u8>>,
    pub patches: Vec<(u64, u8)>,
}

impl ByteSource for Patched {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let start = offset.min(self.base.len() as u64) as usize;
        let n = buf.len().min(self.base.len() - start);
        buf[..n].copy_from_slice(&self.base[start..start + n]);
        for &(pos, val) in &self.patches {
            if pos >= offset && pos < offset + n as u64 {
                buf[(pos - offset) as usize] = val;
            }
        }
        Ok(n)
    }
    fn len(&self) -> u64 {
        self.base.len() as u64
    }
}
