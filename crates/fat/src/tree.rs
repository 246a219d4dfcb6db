//! The files and directories to put on a volume, built from paths.

use crate::error::{FatError, Result};
use crate::names;
use spindle_bytes::ByteSource;
use std::collections::HashMap;
use std::sync::Arc;

/// FAT's largest file: 4 GiB - 1 bytes.
pub const MAX_FILE: u64 = 0xFFFF_FFFF;

/// What a node is.
pub(crate) enum Kind {
    /// A directory and its children, in the order they were added.
    Dir {
        children: Vec<usize>,
        /// Children by folded name.
        index: HashMap<String, usize>,
    },
    /// A file and where its bytes come from.
    File(Arc<dyn ByteSource>),
}

/// One file or directory.
pub(crate) struct Node {
    pub name: String,
    pub parent: usize,
    pub mtime: i64,
    pub kind: Kind,
}

/// A tree of directories and files, with names as they are to appear (case kept). Node 0 is
/// the root. Directories named in a path are created as needed.
pub struct Tree {
    pub(crate) nodes: Vec<Node>,
    default_time: i64,
}

impl Tree {
    /// An empty tree; directories created implicitly get `time` (Unix seconds, UTC), as does
    /// the root.
    pub fn new(time: i64) -> Tree {
        Tree {
            nodes: vec![Node {
                name: String::new(),
                parent: 0,
                mtime: time,
                kind: Kind::Dir {
                    children: Vec::new(),
                    index: HashMap::new(),
                },
            }],
            default_time: time,
        }
    }

    /// The number of files and directories, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether only the root is there.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }

    /// Adds a directory (and its parents) at `path` (`/`-separated), modified at `mtime`. An
    /// existing directory takes the new time.
    pub fn add_dir(&mut self, path: &str, mtime: i64) -> Result<()> {
        let at = self.dir_at(path)?;
        self.nodes[at].mtime = mtime;
        Ok(())
    }

    /// Adds a file at `path` whose bytes `data` holds, modified at `mtime`.
    pub fn add_file(&mut self, path: &str, data: Arc<dyn ByteSource>, mtime: i64) -> Result<()> {
        if data.len() > MAX_FILE {
            return Err(FatError::FileTooLarge {
                path: path.into(),
                size: data.len(),
            });
        }
        let (dir, name) = match path.trim_matches('/').rsplit_once('/') {
            Some((d, n)) => (self.dir_at(d)?, n),
            None => (0, path.trim_matches('/')),
        };
        self.insert(dir, name, path, mtime, Kind::File(data))?;
        Ok(())
    }

    /// The directory at `path`, created with its parents when missing.
    fn dir_at(&mut self, path: &str) -> Result<usize> {
        let mut at = 0;
        for comp in path.split('/').filter(|c| !c.is_empty()) {
            let Kind::Dir { index, .. } = &self.nodes[at].kind else {
                unreachable!("walks only directories");
            };
            at = match index.get(&names::fold(comp)) {
                Some(&i) => match self.nodes[i].kind {
                    // Names compare without case on FAT: `efi/boot` is `EFI/BOOT`.
                    Kind::Dir { .. } => i,
                    Kind::File(_) => return Err(FatError::NotADirectory { path: path.into() }),
                },
                None => {
                    let dir = Kind::Dir {
                        children: Vec::new(),
                        index: HashMap::new(),
                    };
                    self.insert(at, comp, path, self.default_time, dir)?
                }
            };
        }
        Ok(at)
    }

    fn insert(
        &mut self,
        dir: usize,
        name: &str,
        path: &str,
        mtime: i64,
        kind: Kind,
    ) -> Result<usize> {
        if let Some(reason) = names::invalid(name) {
            return Err(FatError::InvalidName {
                path: path.into(),
                reason,
            });
        }
        let id = self.nodes.len();
        let Kind::Dir { children, index } = &mut self.nodes[dir].kind else {
            unreachable!("inserts only into directories");
        };
        match index.entry(names::fold(name)) {
            std::collections::hash_map::Entry::Occupied(_) => {
                return Err(FatError::Duplicate { path: path.into() });
            }
            std::collections::hash_map::Entry::Vacant(v) => v.insert(id),
        };
        children.push(id);
        self.nodes.push(Node {
            name: name.into(),
            parent: dir,
            mtime,
            kind,
        });
        Ok(id)
    }

    /// The path of node `id`, for messages.
    pub(crate) fn path_of(&self, mut id: usize) -> String {
        let mut parts = Vec::new();
        while id != 0 {
            parts.push(self.nodes[id].name.as_str());
            id = self.nodes[id].parent;
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }
}
