//! The interface every filesystem reader offers, so that the CLI and the FUSE mount treat
//! ISO 9660 (with Joliet or Rock Ridge) and UDF alike.
//!
//! Nodes are named by [`NodeId`]: an opaque, stable number the reader can turn back into the
//! node (FUSE hands it back as the inode number). Identity for hard links is
//! [`Metadata::ino`], which several `NodeId`s may share.

use spindle_bytes::ByteSource;
use std::io;
use std::sync::Arc;

/// The bytes a filesystem is read from: normally a disc's user-data view
/// ([`spindle_disc::SectorView::disc_user_data`]), a [`spindle_bytes::MemSource`] in tests.
/// Copies that need not read through ask [`ByteSource::backing`].
pub type Device = Arc<dyn ByteSource>;

/// Names a node of one mounted filesystem. Stable for the life of the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u64);

/// What kind of node a [`Metadata`] describes (the file types of POSIX `st_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A character device node.
    CharDevice,
    /// A block device node.
    BlockDevice,
    /// A FIFO (named pipe).
    Fifo,
    /// A Unix domain socket.
    Socket,
}

/// A point in time: seconds since the Unix epoch (may be negative) and nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Time {
    /// Whole seconds since 1970-01-01 00:00 UTC.
    pub secs: i64,
    /// Nanoseconds within the second (0..1_000_000_000).
    pub nanos: u32,
}

/// What `stat` tells of a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// The node's type.
    pub kind: FileKind,
    /// Bytes of content (for a symlink: of its target).
    pub size: u64,
    /// Permission bits (0o7777); readers without them report 0o555 (what xorriso and
    /// the Linux isofs driver give files and directories).
    pub mode: u32,
    /// Number of hard links.
    pub nlink: u32,
    /// Owner's user id.
    pub uid: u32,
    /// Owner's group id.
    pub gid: u32,
    /// Last modification time.
    pub mtime: Time,
    /// Last access time (readers that have none report the modification time).
    pub atime: Time,
    /// Last attribute change time (readers that have none report the modification time).
    pub ctime: Time,
    /// Device number for device nodes.
    pub rdev: u64,
    /// Identity for hard links: nodes with the same `ino` are the same file.
    pub ino: u64,
}

/// One entry of a directory walk ([`FileSystem::walk_dir`]).
#[derive(Clone, Copy, Debug)]
pub struct EntryInfo<'a> {
    /// The entry's name.
    pub name: &'a str,
    /// The entry's node.
    pub node: NodeId,
    /// The node's metadata.
    pub meta: &'a Metadata,
    /// The target of a symbolic link when the reader has it at hand (`None`: ask
    /// [`FileSystem::read_link`]).
    pub symlink: Option<&'a str>,
}

/// Where a run of a file's content is stored as is in a plain file ([`FileSystem::content_run`]):
/// the byte layer's [`Backing`](spindle_bytes::Backing).
pub type ContentRun<'a> = spindle_bytes::Backing<'a>;

/// One entry of [`FileSystem::read_dir`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name in the view read (no `/`, never `.` or `..`).
    pub name: String,
    /// The entry's node.
    pub node: NodeId,
    /// The node's type.
    pub kind: FileKind,
}

/// Which filesystem view of a disc.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FsKind {
    /// Plain ISO 9660 names (versions stripped).
    Iso9660,
    /// The Joliet supplementary volume (UCS-2 names up to 64 characters).
    Joliet,
    /// ISO 9660 with the Rock Ridge (RRIP over SUSP) POSIX extensions.
    RockRidge,
    /// UDF (ECMA-167), as on DVDs and Blu-rays.
    Udf,
}

impl FsKind {
    /// The view's lower-case name, as options and messages spell it (`iso9660`, `joliet`,
    /// `rockridge`, `udf`).
    pub fn name(self) -> &'static str {
        match self {
            FsKind::Iso9660 => "iso9660",
            FsKind::Joliet => "joliet",
            FsKind::RockRidge => "rockridge",
            FsKind::Udf => "udf",
        }
    }
    /// The view named `s` (as [`name`](FsKind::name) spells it, any case); `None` for an
    /// unknown name.
    pub fn parse(s: &str) -> Option<FsKind> {
        [
            FsKind::Iso9660,
            FsKind::Joliet,
            FsKind::RockRidge,
            FsKind::Udf,
        ]
        .into_iter()
        .find(|k| k.name().eq_ignore_ascii_case(s))
    }
}

/// What reading a filesystem can fail with.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// Reading the device failed.
    #[error("reading the filesystem: {0}")]
    Io(#[from] io::Error),
    /// The disc has no filesystem of the kind asked for (named here).
    #[error("no {0} filesystem on this disc")]
    NotFound(&'static str),
    /// The filesystem's structures contradict themselves or the limits we enforce.
    #[error("corrupt {fs} filesystem: {what}")]
    Corrupt {
        /// The filesystem or encoding (`iso9660`, `zisofs`, `udf`...).
        fs: &'static str,
        /// What is wrong, and where.
        what: String,
    },
    /// A path component does not exist (the path walked so far).
    #[error("{0}: no such file or directory")]
    NoEntry(String),
    /// A path goes through something that is not a directory.
    #[error("{0}: not a directory")]
    NotDir(String),
    /// A file operation was asked of a directory.
    #[error("{0}: is a directory")]
    IsDir(String),
    /// A symbolic link's target was asked of something else.
    #[error("{0}: not a symbolic link")]
    NotSymlink(String),
    /// A feature of the filesystem that this reader does not implement; the text says which.
    #[error("{0}")]
    Unsupported(String),
    /// A path or a directory nested deeper than [`crate::MAX_DEPTH`] components.
    #[error(
        "{path}: nested deeper than {limit} directories (spindle's limit: the most a path the kernel accepts can have)"
    )]
    TooDeep {
        /// The path (shortened for the message).
        path: String,
        /// The limit: [`crate::MAX_DEPTH`].
        limit: usize,
    },
}

/// Result with [`FsError`] as the default error type.
pub type Result<T, E = FsError> = std::result::Result<T, E>;

/// A read-only filesystem.
pub trait FileSystem: Send + Sync {
    /// Which view of the disc this reader shows.
    fn kind(&self) -> FsKind;
    /// Volume label.
    fn label(&self) -> String;
    /// The root directory's node.
    fn root(&self) -> NodeId;
    /// The metadata of `node`.
    fn metadata(&self, node: NodeId) -> Result<Metadata>;
    /// Entries of a directory, without `.` and `..`.
    fn read_dir(&self, dir: NodeId) -> Result<Vec<DirEntry>>;
    /// Reads file content at `offset`; returns the bytes read (0 at the end).
    fn read(&self, node: NodeId, offset: u64, buf: &mut [u8]) -> Result<usize>;
    /// The target of a symbolic link.
    fn read_link(&self, node: NodeId) -> Result<String>;
    /// Finds `name` in `dir`.
    fn lookup(&self, dir: NodeId, name: &str) -> Result<Option<NodeId>> {
        Ok(self
            .read_dir(dir)?
            .into_iter()
            .find(|e| e.name == name)
            .map(|e| e.node))
    }
    /// Calls `f` with each entry of a directory (without `.` and `..`) and its metadata, in
    /// directory order: for one-shot walks (`ls -lR`), where a reader may read the entries
    /// straight from the directory without caching them. Nodes of subdirectories stay
    /// valid for `walk_dir`, `read_dir` and the rest.
    fn walk_dir(&self, dir: NodeId, f: &mut dyn FnMut(EntryInfo<'_>) -> Result<()>) -> Result<()> {
        for e in self.read_dir(dir)? {
            let meta = self.metadata(e.node)?;
            f(EntryInfo {
                name: &e.name,
                node: e.node,
                meta: &meta,
                symlink: None,
            })?;
        }
        Ok(())
    }
    /// Where the content of file `node` from `offset` is stored as is in a plain file, for a
    /// copy that does not read through (`copy_file_range`); `None` when it must be read with
    /// [`read`](Self::read) (compressed, interleaved, not in a plain file, or at the end).
    fn content_run(&self, node: NodeId, offset: u64) -> Result<Option<ContentRun<'_>>> {
        let _ = (node, offset);
        Ok(None)
    }
}

/// Copies `len` bytes from `src` at `src_off` to `dst` at `dst_off` inside the kernel
/// (`copy_file_range`); returns the bytes copied, short (or 0) when the source ends early or
/// the kernel stops part way. An error (nothing copied) means the kernel cannot copy between
/// these files: copy by reading instead.
pub fn copy_file_range(
    src: &std::fs::File,
    src_off: u64,
    dst: &std::fs::File,
    dst_off: u64,
    len: u64,
) -> io::Result<u64> {
    use std::os::fd::AsRawFd;
    let mut done = 0u64;
    while done < len {
        let mut si = (src_off + done) as libc::loff_t;
        let mut di = (dst_off + done) as libc::loff_t;
        let want = (len - done).min(1 << 30) as usize;
        // SAFETY: both descriptors are open for the call; the offsets are our own variables.
        let n = unsafe {
            libc::copy_file_range(src.as_raw_fd(), &mut si, dst.as_raw_fd(), &mut di, want, 0)
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            if done > 0 {
                break;
            }
            return Err(e);
        }
        if n == 0 {
            break;
        }
        done += n as u64;
    }
    Ok(done)
}

/// Resolves a `/`-separated path from the root (symlinks are not followed). A path of more
/// than [`crate::MAX_DEPTH`] components is refused ([`FsError::TooDeep`]).
pub fn resolve(fs: &dyn FileSystem, path: &str) -> Result<NodeId> {
    if crate::walk::depth_of(path) > crate::MAX_DEPTH {
        return Err(FsError::TooDeep {
            path: crate::walk::short_path(path),
            limit: crate::MAX_DEPTH,
        });
    }
    let mut node = fs.root();
    let mut walked = String::new();
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        walked.push('/');
        walked.push_str(part);
        if fs.metadata(node)?.kind != FileKind::Dir {
            return Err(FsError::NotDir(walked));
        }
        node = fs
            .lookup(node, part)?
            .ok_or_else(|| FsError::NoEntry(walked.clone()))?;
    }
    Ok(node)
}
