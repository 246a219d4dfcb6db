//! An in-memory filesystem built entry by entry, with any names, kinds, modes, link targets,
//! repeats, hard links and even directory loops: what the unit tests and the `extract_paths`
//! fuzz target feed to [`extract`](crate::extract).

use spindle_fs::{DirEntry, FileKind, FileSystem, FsError, FsKind, Metadata, NodeId, Time};

struct Node {
    meta: Metadata,
    children: Vec<DirEntry>,
    target: String,
    data: Vec<u8>,
}

/// See the module documentation. Node 0 is the root directory.
pub struct MemFs {
    nodes: Vec<Node>,
}

impl Default for MemFs {
    fn default() -> Self {
        Self::new()
    }
}

impl MemFs {
    /// An empty filesystem: only the root directory (node 0, mode 0755).
    pub fn new() -> MemFs {
        let mut fs = MemFs { nodes: Vec::new() };
        fs.push(FileKind::Dir, 0o755, String::new(), Vec::new());
        fs
    }

    fn push(&mut self, kind: FileKind, mode: u32, target: String, data: Vec<u8>) -> NodeId {
        let id = self.nodes.len() as u64;
        let t = Time {
            secs: 1_000_000_000 + id as i64,
            nanos: 0,
        };
        self.nodes.push(Node {
            meta: Metadata {
                kind,
                size: if kind == FileKind::Symlink {
                    target.len()
                } else {
                    data.len()
                } as u64,
                mode: mode & 0o7777,
                nlink: 1,
                uid: 0,
                gid: 0,
                mtime: t,
                atime: t,
                ctime: t,
                rdev: 0,
                ino: id + 1,
            },
            children: Vec::new(),
            target,
            data,
        });
        NodeId(id)
    }

    /// Adds an entry `name` in `dir` for the existing node `node` (a hard link, or a
    /// directory seen twice). `dir` must be a directory node.
    pub fn link(&mut self, dir: NodeId, name: &str, node: NodeId) {
        let kind = self.nodes[node.0 as usize].meta.kind;
        self.nodes[node.0 as usize].meta.nlink += 1;
        self.nodes[dir.0 as usize].children.push(DirEntry {
            name: name.to_string(),
            node,
            kind,
        });
    }

    fn add(
        &mut self,
        dir: NodeId,
        name: &str,
        kind: FileKind,
        mode: u32,
        target: String,
        data: Vec<u8>,
    ) -> NodeId {
        let id = self.push(kind, mode, target, data);
        self.link(dir, name, id);
        self.nodes[id.0 as usize].meta.nlink = 1;
        id
    }

    /// Adds a directory `name` with permission bits `mode` in `dir`; returns its node.
    pub fn dir(&mut self, dir: NodeId, name: &str, mode: u32) -> NodeId {
        self.add(dir, name, FileKind::Dir, mode, String::new(), Vec::new())
    }

    /// Adds a regular file `name` holding `data` in `dir`; returns its node.
    pub fn file(&mut self, dir: NodeId, name: &str, mode: u32, data: &[u8]) -> NodeId {
        self.add(
            dir,
            name,
            FileKind::File,
            mode,
            String::new(),
            data.to_vec(),
        )
    }

    /// Adds a symbolic link `name` to `target` in `dir`; returns its node.
    pub fn symlink(&mut self, dir: NodeId, name: &str, target: &str) -> NodeId {
        self.add(
            dir,
            name,
            FileKind::Symlink,
            0o777,
            target.to_string(),
            Vec::new(),
        )
    }

    /// A device node, FIFO or socket (`kind`).
    pub fn special(&mut self, dir: NodeId, name: &str, kind: FileKind, mode: u32) -> NodeId {
        self.add(dir, name, kind, mode, String::new(), Vec::new())
    }

    /// The kind of `node`. Panics if there is no such node.
    pub fn kind(&self, node: NodeId) -> FileKind {
        self.nodes[node.0 as usize].meta.kind
    }

    fn node(&self, n: NodeId) -> Result<&Node, FsError> {
        self.nodes
            .get(n.0 as usize)
            .ok_or_else(|| FsError::NoEntry(format!("node {}", n.0)))
    }
}

impl FileSystem for MemFs {
    fn kind(&self) -> FsKind {
        FsKind::RockRidge
    }
    fn label(&self) -> String {
        String::new()
    }
    fn root(&self) -> NodeId {
        NodeId(0)
    }
    fn metadata(&self, node: NodeId) -> Result<Metadata, FsError> {
        Ok(self.node(node)?.meta.clone())
    }
    fn read_dir(&self, dir: NodeId) -> Result<Vec<DirEntry>, FsError> {
        Ok(self.node(dir)?.children.clone())
    }
    fn read(&self, node: NodeId, offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let d = &self.node(node)?.data;
        let start = offset.min(d.len() as u64) as usize;
        let n = buf.len().min(d.len() - start);
        buf[..n].copy_from_slice(&d[start..start + n]);
        Ok(n)
    }
    fn read_link(&self, node: NodeId) -> Result<String, FsError> {
        Ok(self.node(node)?.target.clone())
    }
}
