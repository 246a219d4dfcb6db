//! The ISO 9660 [`FileSystem`]: one view (plain ISO 9660, Joliet or Rock Ridge) of a volume.
//!
//! A [`NodeId`] is the byte position of the node's (first) directory record on the device; the
//! root's is the position of the root record inside its volume descriptor, which no directory
//! record can share. Directories are parsed once and cached with their nodes, so `lookup` and
//! `metadata` after a `read_dir` cost a hash lookup; a node not yet seen is re-read from its
//! record. One-shot walks (`walk_dir`: `ls -lR`) read records straight from the directory
//! extent, borrowed from one buffer (no copy of names or system use areas, SUSP entries
//! interpreted in place), and cache only subdirectories.
//!
//! Hostile input is bounded: every extent is checked against the device; each directory extent
//! may be listed by one node only (a second directory record pointing at an extent already
//! listed, e.g. an ancestor's, is a loop and reads as `Corrupt`), so walking terminates and
//! reads every directory byte at most once; SUSP continuation chains are bounded
//! ([`super::susp`]); zisofs blocks are checked ([`super::zisofs`]).
//!
//! Files: `open.rs` finds the views of a volume and opens one; `nodes.rs` builds nodes from
//! directory records; `dirs.rs` lists and walks directories; `content.rs` reads file data
//! (stored, interleaved, zisofs). This file holds the reader's state and the
//! [`FileSystem`] trait over it.

mod content;
mod dirs;
mod nodes;
mod open;

pub use open::{IsoVolumes, detect};

use crate::api::{
    ContentRun, DirEntry, EntryInfo, FileKind, FileSystem, FsError, FsKind, Metadata, NodeId,
    Result, Time,
};
use crate::iso::joliet::joliet_name;
use crate::iso::record::{
    DirRecord, FLAG_ASSOCIATED, FLAG_MULTI_EXTENT, RecordRef, iso_name, parse_directory_record,
    parse_record_ref,
};
use crate::iso::rockridge::{
    RockRidge, RrBuilder, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFSOCK,
};
use crate::iso::susp::{MAX_LISTING_CE_BYTES, collect_entries, parse_susp, visit_entries};
use crate::iso::volume::{self, SECTOR};
use crate::iso::zisofs::ZisofsFile;
use spindle_bytes::ByteSource;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Largest directory extent read (a 100 000-entry directory is about 10 MiB).
pub const MAX_DIR_BYTES: u64 = 256 << 20;

fn corrupt(what: String) -> FsError {
    FsError::Corrupt {
        fs: "iso9660",
        what,
    }
}

/// One piece of a file's data.
#[derive(Clone, Copy, Debug)]
struct Extent {
    /// Offset of the piece within the file.
    file_off: u64,
    /// First data byte on the device (after any extended attribute record).
    dev_off: u64,
    len: u64,
    /// Interleaving in bytes: `unit` bytes of data then `gap` bytes skipped (0 = contiguous).
    unit: u64,
    gap: u64,
}

struct Node {
    kind: FileKind,
    meta: Metadata,
    /// Stored data (files) or the directory extent (directories).
    extents: Vec<Extent>,
    stored_size: u64,
    symlink: Option<String>,
    zf: Option<u32>,
    zfile: OnceLock<Arc<ZisofsFile>>,
    /// What is wrong with the node's own record when that makes its content unreadable (a
    /// truncated `ZF` entry): listing the parent still works, reading the node fails with it.
    damage: Option<String>,
}

/// An inflated zisofs block: (node, block index, bytes).
type ZBlock = (u64, usize, Arc<Vec<u8>>);

struct Dir {
    entries: Vec<DirEntry>,
    by_name: HashMap<String, NodeId>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Names {
    Iso,
    Joliet,
    RockRidge,
}

/// An opened view of an ISO 9660 volume.
pub struct IsoFs {
    dev: crate::api::Device,
    kind: FsKind,
    label: String,
    names: Names,
    high_sierra: bool,
    /// SUSP skip length when the volume uses SUSP (and the view reads it).
    susp_skip: Option<usize>,
    root: NodeId,
    nodes: Mutex<HashMap<u64, Arc<Node>>>,
    dirs: Mutex<HashMap<u64, Arc<Dir>>>,
    /// Directory block → the node whose listing holds it.
    owners: Mutex<HashMap<u64, u64>>,
    /// Last inflated zisofs block: (node, block index, bytes).
    zcache: Mutex<Option<ZBlock>>,
    /// Joliet view of a volume whose primary tree uses SUSP: the base block to open that tree.
    primary_base: Option<u32>,
    /// Joliet view: data offset → uncompressed size of every zisofs file of the primary tree,
    /// built on first need (the Joliet tree has no SUSP of its own).
    joliet_zf: OnceLock<HashMap<u64, u32>>,
}

/// Opens one view of the volume whose descriptors start at block `base_lba + 16` (16 for an
/// ordinary disc; track start for a later session). `kind` is `Iso9660`, `Joliet` or
/// `RockRidge`; a view the volume lacks is `NotFound`.
pub fn open_iso(
    dev: crate::api::Device,
    kind: FsKind,
    base_lba: u32,
) -> Result<Arc<dyn FileSystem>> {
    Ok(Arc::new(IsoFs::open(dev, kind, base_lba)?))
}

impl FileSystem for IsoFs {
    fn kind(&self) -> FsKind {
        self.kind
    }
    fn label(&self) -> String {
        self.label.clone()
    }
    fn root(&self) -> NodeId {
        self.root
    }
    fn metadata(&self, node: NodeId) -> Result<Metadata> {
        Ok(self.node(node)?.meta.clone())
    }
    fn read_dir(&self, dir: NodeId) -> Result<Vec<DirEntry>> {
        Ok(self.list(dir)?.entries.clone())
    }
    fn lookup(&self, dir: NodeId, name: &str) -> Result<Option<NodeId>> {
        Ok(self.list(dir)?.by_name.get(name).copied())
    }
    fn walk_dir(&self, dir: NodeId, f: &mut dyn FnMut(EntryInfo<'_>) -> Result<()>) -> Result<()> {
        if let Some(d) = self.dirs.lock().unwrap().get(&dir.0).cloned() {
            for e in &d.entries {
                let node = self.node(e.node)?;
                f(EntryInfo {
                    name: &e.name,
                    node: e.node,
                    meta: &node.meta,
                    symlink: node.symlink.as_deref(),
                })?;
            }
            return Ok(());
        }
        // Straight from the directory extent: only subdirectories' nodes are kept (so that
        // walking into them costs no re-read of their records).
        self.scan_dir(dir, &mut |name, id, node| {
            f(EntryInfo {
                name,
                node: id,
                meta: &node.meta,
                symlink: node.symlink.as_deref(),
            })?;
            if node.kind == FileKind::Dir {
                self.nodes
                    .lock()
                    .unwrap()
                    .entry(id.0)
                    .or_insert_with(|| Arc::new(node));
            }
            Ok(())
        })
    }
    fn content_run(&self, id: NodeId, offset: u64) -> Result<Option<ContentRun<'_>>> {
        let node = self.readable_node(id)?;
        if node.kind != FileKind::File || node.zf.is_some() {
            return Ok(None);
        }
        let Some((dev_off, run)) = Self::stored_run(&node, offset) else {
            return Ok(None);
        };
        Ok(self.dev.backing(dev_off, run))
    }
    fn read(&self, id: NodeId, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let node = self.readable_node(id)?;
        match node.kind {
            FileKind::Dir => return Err(FsError::IsDir(format!("node {}", id.0))),
            FileKind::File => {}
            _ => return Ok(0),
        }
        if node.zf.is_some() {
            return self.read_zisofs(id, &node, offset, buf);
        }
        self.read_stored(&node, offset, buf)
    }
    fn read_link(&self, id: NodeId) -> Result<String> {
        let node = self.readable_node(id)?;
        match (&node.symlink, node.kind) {
            (Some(t), _) => Ok(t.clone()),
            (None, FileKind::Symlink) => Err(FsError::Corrupt {
                fs: "rockridge",
                what: format!("symbolic link (node {}) without an SL entry", id.0),
            }),
            (None, _) => Err(FsError::NotSymlink(format!("node {}", id.0))),
        }
    }
}
