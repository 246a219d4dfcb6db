//! Walking a host directory tree: every path below a root with what it is, for comparing an
//! extraction or a mount with what another tool made.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// What kind of node a path is (symlinks are not followed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A symbolic link.
    Symlink,
    /// Anything else (a device, a FIFO, a socket).
    Other,
}

/// One path of a host tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostEntry {
    /// What it is.
    pub kind: Kind,
    /// Its permission bits (`st_mode & 0o7777`).
    pub mode: u32,
    /// Its `st_size`.
    pub size: u64,
    /// Its modification time, in seconds.
    pub mtime: i64,
    /// Its inode number.
    pub ino: u64,
    /// A file's digest (of the bytes read), a symlink's target; empty for the rest.
    pub data: String,
}

/// Every path below `root` (relative, `/`-joined), files digested with `digest`. Fails the
/// test on any error, and when a file's bytes read are not its `st_size`.
pub fn walk(root: &Path, digest: impl Fn(&[u8]) -> String) -> BTreeMap<String, HostEntry> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let m = std::fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("{rel}: {e}"));
            let (kind, data) = if m.file_type().is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                (Kind::Symlink, target.to_string_lossy().into_owned())
            } else if m.is_dir() {
                stack.push(p.clone());
                (Kind::Dir, String::new())
            } else if m.is_file() {
                let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                assert_eq!(bytes.len() as u64, m.len(), "{rel}: bytes read and st_size");
                (Kind::File, digest(&bytes))
            } else {
                (Kind::Other, String::new())
            };
            let entry = HostEntry {
                kind,
                mode: m.permissions().mode() & 0o7777,
                size: m.len(),
                mtime: m.mtime(),
                ino: m.ino(),
                data,
            };
            out.insert(rel, entry);
        }
    }
    out
}

/// Makes a tree the test made read-only removable again (`chmod -R u+rwx`; xorriso keeps
/// read-only directory modes when it extracts).
pub fn make_removable(root: &Path) {
    let _ = std::process::Command::new("chmod")
        .args(["-R", "u+rwx"])
        .arg(root)
        .status();
}

/// Extracts the whole of `iso` into `to` with xorriso (`-abort_on FAILURE -osirrox on`), the
/// oracle for an extraction; false when xorriso cannot read it. Fails the test when xorriso is
/// missing.
pub fn xorriso_extract(iso: &Path, to: &Path) -> bool {
    let o = std::process::Command::new("xorriso")
        .args(["-abort_on", "FAILURE", "-osirrox", "on", "-indev"])
        .arg(iso)
        .args(["-extract", "/"])
        .arg(to)
        .output()
        .expect("xorriso must be installed (scripts/setup installs it)");
    o.status.success()
}

/// The names in `dir` (not below it), sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
