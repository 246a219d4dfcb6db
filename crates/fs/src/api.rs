//! The interface every filesystem reader offers, so that the CLI and the FUSE mount treat
//! ISO 9660 (with Joliet or Rock Ridge) and UDF alike.
//!
//! Nodes are named by [`NodeId`]: an opaque, stable number the reader can turn back into the
//! node (FUSE hands it back as the inode number). Identity for hard links is
//! [`Metadata::ino`], which several `NodeId`s may share.

use std::io;
use std::sync::Arc;

/// Random-access bytes a filesystem is read from: normally a disc's user-data view.
pub trait BlockDevice: Send + Sync {
    /// Reads at `offset`; returns the bytes read (short only at the end).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl BlockDevice for spindle_disc::SectorView {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        spindle_disc::SectorView::read_at(self, offset, buf).map_err(io::Error::other)
    }
    fn len(&self) -> u64 {
        spindle_disc::SectorView::len(self)
    }
}

impl BlockDevice for Vec<u8> {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let start = (offset.min(self.len() as u64)) as usize;
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
    fn len(&self) -> u64 {
        self.len() as u64
    }
}

/// Reads exactly `buf.len()` bytes or fails with `UnexpectedEof`.
pub fn read_exact_at(dev: &dyn BlockDevice, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let n = dev.read_at(offset + done as u64, &mut buf[done..])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("read of {} bytes at {offset} runs past the end ({})", buf.len(), dev.len()),
            ));
        }
        done += n;
    }
    Ok(())
}

pub type Device = Arc<dyn BlockDevice>;

/// Names a node of one mounted filesystem. Stable for the life of the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
}

/// A point in time: seconds since the Unix epoch (may be negative) and nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Time {
    pub secs: i64,
    pub nanos: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub kind: FileKind,
    /// Bytes of content (for a symlink: of its target).
    pub size: u64,
    /// Permission bits (0o7777); readers without them report 0o555 (what xorriso and
    /// the Linux isofs driver give files and directories).
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: Time,
    pub atime: Time,
    pub ctime: Time,
    /// Device number for device nodes.
    pub rdev: u64,
    /// Identity for hard links: nodes with the same `ino` are the same file.
    pub ino: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub node: NodeId,
    pub kind: FileKind,
}

/// Which filesystem view of a disc.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FsKind {
    /// Plain ISO 9660 names (versions stripped).
    Iso9660,
    Joliet,
    RockRidge,
    Udf,
}

impl FsKind {
    pub fn name(self) -> &'static str {
        match self {
            FsKind::Iso9660 => "iso9660",
            FsKind::Joliet => "joliet",
            FsKind::RockRidge => "rockridge",
            FsKind::Udf => "udf",
        }
    }
    pub fn parse(s: &str) -> Option<FsKind> {
        [FsKind::Iso9660, FsKind::Joliet, FsKind::RockRidge, FsKind::Udf]
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("reading the filesystem: {0}")]
    Io(#[from] io::Error),
    #[error("no {0} filesystem on this disc")]
    NotFound(&'static str),
    #[error("corrupt {fs} filesystem: {what}")]
    Corrupt { fs: &'static str, what: String },
    #[error("{0}: no such file or directory")]
    NoEntry(String),
    #[error("{0}: not a directory")]
    NotDir(String),
    #[error("{0}: is a directory")]
    IsDir(String),
    #[error("{0}: not a symbolic link")]
    NotSymlink(String),
    #[error("{0}")]
    Unsupported(String),
}

pub type Result<T, E = FsError> = std::result::Result<T, E>;

/// A read-only filesystem.
pub trait FileSystem: Send + Sync {
    fn kind(&self) -> FsKind;
    /// Volume label.
    fn label(&self) -> String;
    fn root(&self) -> NodeId;
    fn metadata(&self, node: NodeId) -> Result<Metadata>;
    /// Entries of a directory, without `.` and `..`.
    fn read_dir(&self, dir: NodeId) -> Result<Vec<DirEntry>>;
    /// Reads file content at `offset`; returns the bytes read (0 at the end).
    fn read(&self, node: NodeId, offset: u64, buf: &mut [u8]) -> Result<usize>;
    /// The target of a symbolic link.
    fn read_link(&self, node: NodeId) -> Result<String>;
    /// Finds `name` in `dir`.
    fn lookup(&self, dir: NodeId, name: &str) -> Result<Option<NodeId>> {
        Ok(self.read_dir(dir)?.into_iter().find(|e| e.name == name).map(|e| e.node))
    }
}

/// Resolves a `/`-separated path from the root (symlinks are not followed).
pub fn resolve(fs: &dyn FileSystem, path: &str) -> Result<NodeId> {
    let mut node = fs.root();
    let mut walked = String::new();
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        walked.push('/');
        walked.push_str(part);
        if fs.metadata(node)?.kind != FileKind::Dir {
            return Err(FsError::NotDir(walked));
        }
        node = fs.lookup(node, part)?.ok_or_else(|| FsError::NoEntry(walked.clone()))?;
    }
    Ok(node)
}
