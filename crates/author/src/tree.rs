//! The source tree: one pass over the folders given, with an explicit stack (the depth of a
//! tree never becomes the depth of our call stack), entries sorted by name, hard links found
//! by device and inode (used only to group names; no number reaches the image).

use crate::error::{Error, Result, read_err};
use crate::exclude::Exclude;
use std::collections::HashMap;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A time: seconds since the Unix epoch (negative before 1970) and nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Stamp {
    /// Seconds since 1970-01-01 00:00 UTC.
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

/// What a node is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A directory; its children (indices into [`Tree::nodes`]) sorted by name.
    Dir(Vec<u32>),
    /// A regular file: an index into [`Tree::files`] (hard links share one).
    File(u32),
    /// A symbolic link and its target.
    Symlink(Vec<u8>),
}

/// One name of the tree.
#[derive(Clone, Debug)]
pub struct Node {
    /// The name (empty for the root); valid UTF-8.
    pub name: String,
    /// The parent directory (the root is its own parent).
    pub parent: u32,
    /// What it is.
    pub kind: Kind,
    /// Permission bits (0o7777).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Modification time.
    pub mtime: Stamp,
    /// Depth below the root (the root is 0).
    pub depth: u32,
}

/// One file's content, shared by its hard links.
#[derive(Clone, Debug)]
pub struct FileData {
    /// Where the content is read from (the first of its names in tree order).
    pub source: PathBuf,
    /// Bytes.
    pub size: u64,
    /// How many names of the tree it has.
    pub links: u32,
    /// The node that names it first.
    pub first: u32,
}

/// The tree to write: nodes in a deterministic order (each directory's entries together, in
/// name order; the root is node 0).
#[derive(Clone, Debug)]
pub struct Tree {
    /// All names; `nodes[0]` is the root.
    pub nodes: Vec<Node>,
    /// File contents, in the order of their first names.
    pub files: Vec<FileData>,
    /// Where each node came from (for messages and for reading).
    pub paths: Vec<PathBuf>,
    /// Entries skipped: device nodes, FIFOs and sockets (paths).
    pub skipped: Vec<PathBuf>,
}

/// The deepest a tree may nest (as spindle's readers: [`spindle_fs::MAX_DEPTH`]).
pub const MAX_DEPTH: u32 = spindle_fs::MAX_DEPTH as u32;

impl Tree {
    /// The path of node `n` from the root (`/a/b`; `/` for the root).
    pub fn path_of(&self, n: u32) -> String {
        let mut parts = Vec::new();
        let mut at = n;
        while at != 0 {
            parts.push(self.nodes[at as usize].name.as_str());
            at = self.nodes[at as usize].parent;
        }
        if parts.is_empty() {
            return "/".into();
        }
        parts.iter().rev().fold(String::new(), |mut s, p| {
            s.push('/');
            s.push_str(p);
            s
        })
    }

    /// The newest modification time in the tree.
    pub fn newest_mtime(&self) -> Stamp {
        self.nodes.iter().map(|n| n.mtime).max().unwrap_or_default()
    }

    /// Reads the folders `roots` (their contents merged at the image's root; the first gives
    /// the root's mode, owner and time), leaving out what `exclude` names.
    pub fn scan(roots: &[PathBuf], exclude: &Exclude) -> Result<Tree> {
        Tree::scan_with(roots, exclude, &mut |_| {})
    }

    /// [`scan`](Tree::scan), calling `progress` with the number of entries found so far
    /// after each folder.
    pub fn scan_with(
        roots: &[PathBuf],
        exclude: &Exclude,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Tree> {
        let first = roots.first().ok_or_else(|| Error::Source {
            path: PathBuf::new(),
            what: "no source folder given".into(),
        })?;
        let meta = fs::metadata(first).map_err(read_err(first))?;
        if !meta.is_dir() {
            return Err(Error::Source {
                path: first.clone(),
                what: "not a directory".into(),
            });
        }
        let mut t = Tree {
            nodes: vec![node_of(String::new(), 0, Kind::Dir(Vec::new()), &meta, 0)],
            files: Vec::new(),
            paths: vec![first.clone()],
            skipped: Vec::new(),
        };
        let mut links: HashMap<(u64, u64), u32> = HashMap::new();
        // The root's entries from every folder, then a stack of (directory node, its path).
        let mut entries = Vec::new();
        for r in roots {
            let m = fs::metadata(r).map_err(read_err(r))?;
            if !m.is_dir() {
                return Err(Error::Source {
                    path: r.clone(),
                    what: "not a directory".into(),
                });
            }
            entries.extend(list(r, Path::new(""), exclude)?);
        }
        let mut stack = Vec::new();
        t.add_children(0, entries, &mut links, &mut stack)?;
        while let Some((dir, rel)) = stack.pop() {
            let path = t.paths[dir as usize].clone();
            let entries = list(&path, &rel, exclude)?;
            t.add_children(dir, entries, &mut links, &mut stack)?;
            progress(t.nodes.len() as u64 - 1);
        }
        Ok(t)
    }

    /// Adds a directory's entries (sorted; a name twice is an error) and pushes its
    /// subdirectories for the walk, the first on top.
    fn add_children(
        &mut self,
        dir: u32,
        mut entries: Vec<Entry>,
        links: &mut HashMap<(u64, u64), u32>,
        stack: &mut Vec<(u32, PathBuf)>,
    ) -> Result<()> {
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(w) = entries.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(Error::Source {
                path: w[1].path.clone(),
                what: format!(
                    "the name is given twice at the image's root (also {})",
                    w[0].path.display()
                ),
            });
        }
        let depth = self.nodes[dir as usize].depth + 1;
        let mut children = Vec::with_capacity(entries.len());
        let mut subdirs = Vec::new();
        for e in entries {
            let id = self.nodes.len() as u32;
            let ft = e.meta.file_type();
            let kind = if ft.is_dir() {
                if depth >= MAX_DEPTH {
                    return Err(Error::Source {
                        path: e.path,
                        what: format!("nested deeper than {MAX_DEPTH} directories"),
                    });
                }
                subdirs.push((id, e.rel));
                Kind::Dir(Vec::new())
            } else if ft.is_symlink() {
                let target = fs::read_link(&e.path).map_err(read_err(&e.path))?;
                if std::str::from_utf8(target.as_os_str().as_bytes()).is_err() {
                    return Err(Error::Source {
                        path: e.path,
                        what: "the symbolic link's target is not valid UTF-8".into(),
                    });
                }
                Kind::Symlink(target.as_os_str().as_bytes().to_vec())
            } else if ft.is_file() {
                let key = (e.meta.dev(), e.meta.ino());
                match links.get(&key).filter(|_| e.meta.nlink() > 1) {
                    Some(&f) => {
                        self.files[f as usize].links += 1;
                        Kind::File(f)
                    }
                    None => {
                        let f = self.files.len() as u32;
                        self.files.push(FileData {
                            source: e.path.clone(),
                            size: e.meta.len(),
                            links: 1,
                            first: id,
                        });
                        if e.meta.nlink() > 1 {
                            links.insert(key, f);
                        }
                        Kind::File(f)
                    }
                }
            } else {
                self.skipped.push(e.path);
                continue;
            };
            self.nodes.push(node_of(e.name, dir, kind, &e.meta, depth));
            self.paths.push(e.path);
            children.push(id);
        }
        self.nodes[dir as usize].kind = Kind::Dir(children);
        stack.extend(subdirs.into_iter().rev());
        Ok(())
    }
}

/// A directory entry read from the source.
struct Entry {
    name: String,
    path: PathBuf,
    rel: PathBuf,
    meta: fs::Metadata,
}

/// The entries of directory `dir` (at `rel` below its source folder) not excluded.
fn list(dir: &Path, rel: &Path, exclude: &Exclude) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).map_err(read_err(dir))? {
        let e = e.map_err(read_err(dir))?;
        let path = e.path();
        let raw = e.file_name();
        let r = rel.join(&raw);
        if exclude.excludes(raw.as_bytes(), r.as_os_str().as_bytes()) {
            continue;
        }
        let name = raw.into_string().map_err(|_| Error::Source {
            path: path.clone(),
            what: "the name is not valid UTF-8 (Joliet and the self-check need Unicode names)"
                .into(),
        })?;
        let meta = fs::symlink_metadata(&path).map_err(read_err(&path))?;
        if exclude.excludes_file(meta.dev(), meta.ino()) {
            continue;
        }
        out.push(Entry {
            name,
            path,
            rel: r,
            meta,
        });
    }
    Ok(out)
}

fn node_of(name: String, parent: u32, kind: Kind, m: &fs::Metadata, depth: u32) -> Node {
    Node {
        name,
        parent,
        kind,
        mode: m.mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
        mtime: Stamp {
            secs: m.mtime(),
            nanos: m.mtime_nsec() as u32,
        },
        depth,
    }
}
