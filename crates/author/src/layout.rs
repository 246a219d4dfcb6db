//! Where everything goes, computed once from the tree before a byte is written.
//!
//! Sectors: 0-15 system area, 16 primary volume descriptor, 17 Joliet's supplementary
//! descriptor, the terminator, the four path tables (primary L and M, Joliet L and M), the
//! primary directories, their Rock Ridge continuation areas, the Joliet directories, then
//! the file contents in tree order (a hard-linked file once). Directories of each namespace
//! go in path-table order: breadth first, each directory's subdirectories in record order.

use crate::error::{Error, Result};
use crate::names;
use crate::rrip;
use crate::tree::{Kind, Tree};
use std::collections::VecDeque;

/// Bytes per sector.
pub const SECTOR: u64 = 2048;
/// The largest extent of a file section: 4 GiB less one sector (ISO 9660 level 3 splits
/// larger files into several records).
pub const MAX_EXTENT: u64 = 0xFFFF_F800;

/// Which record of a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `.` (the directory itself).
    Dot,
    /// `..` (its parent).
    DotDot,
    /// An entry; for a subdirectory, its index in the namespace's directories.
    Child(Option<u32>),
}

/// A continuation area: `bytes` (entries, without the `CE` to the next area) at `offset` in
/// sector `sector` of the continuation region.
#[derive(Clone, Debug)]
pub struct Area {
    /// Sector within the continuation region.
    pub sector: u32,
    /// Byte offset within that sector.
    pub offset: u32,
    /// The entries.
    pub bytes: Vec<u8>,
}

/// One directory record to write (several for a multi-extent file: see [`extents`]).
#[derive(Clone, Debug)]
pub struct Rec {
    /// The tree node it names (for `..`: the parent).
    pub node: u32,
    /// The identifier as recorded (`[0]` for `.`, `[1]` for `..`).
    pub ident: Vec<u8>,
    /// Which record.
    pub role: Role,
    /// System use entries kept in the record (without the trailing `CE`).
    pub inline: Vec<u8>,
    /// Continuation areas, in chain order (empty: no `CE`).
    pub chain: Vec<Area>,
}

impl Rec {
    /// Length of one directory record (even, at most 255).
    pub fn len(&self) -> usize {
        let fi = self.ident.len();
        let mut n = 33 + fi + usize::from(fi.is_multiple_of(2)) + self.inline.len();
        if !self.chain.is_empty() {
            n += rrip::CE_LEN;
        }
        n + n % 2
    }
}

/// A directory of one namespace.
#[derive(Clone, Debug)]
pub struct Dir {
    /// Its tree node.
    pub node: u32,
    /// Its parent's index in the namespace (the root's is 0).
    pub parent: u32,
    /// Its identifier (`[0]` for the root).
    pub ident: Vec<u8>,
    /// `.`, `..`, then the entries in identifier order.
    pub recs: Vec<Rec>,
    /// Bytes (whole sectors).
    pub size: u64,
    /// First sector.
    pub lba: u32,
    /// Its link count (2 and one per subdirectory), for the `..` records of its children.
    pub nlink: u32,
}

/// How many sections (records) a file of `size` bytes takes.
pub fn extents(size: u64) -> u64 {
    size.div_ceil(MAX_EXTENT).max(1)
}

/// The namespaces' directories: Rock Ridge over ISO 9660 (`joliet` false) or Joliet.
pub fn namespace(tree: &Tree, joliet: bool, ce: &mut CeAlloc) -> Result<Vec<Dir>> {
    let mut dirs = vec![Dir {
        node: 0,
        parent: 0,
        ident: vec![0],
        recs: Vec::new(),
        size: 0,
        lba: 0,
        nlink: 0,
    }];
    let mut queue = VecDeque::from([0u32]);
    while let Some(d) = queue.pop_front() {
        let node = dirs[d as usize].node;
        let Kind::Dir(children) = &tree.nodes[node as usize].kind else {
            unreachable!("namespace directories are directories");
        };
        let children: Vec<u32> = children
            .iter()
            .copied()
            .filter(|&c| !joliet || !matches!(tree.nodes[c as usize].kind, Kind::Symlink(_)))
            .collect();
        let idents: Vec<Vec<u8>> = if joliet {
            children
                .iter()
                .map(|&c| names::joliet_name(&tree.nodes[c as usize].name))
                .collect()
        } else {
            names::iso_names(children.iter().map(|&c| {
                let n = &tree.nodes[c as usize];
                (n.name.as_str(), matches!(n.kind, Kind::Dir(_)))
            }))
        };
        let mut order: Vec<(Vec<u8>, u32)> = idents.into_iter().zip(children).collect();
        if joliet {
            order.sort();
            if let Some(w) = order.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(Error::Source {
                    path: tree.paths[w[1].1 as usize].clone(),
                    what: format!(
                        "its Joliet name (at most {} UTF-16 units, `*/:;?\\` as `_`) is the same as that of {}",
                        names::JOLIET_MAX,
                        tree.paths[w[0].1 as usize].display()
                    ),
                });
            }
        } else {
            order.sort_by(|a, b| names::iso_order(&a.0, &b.0));
        }
        let parent = dirs[d as usize].parent;
        let pnode = dirs[parent as usize].node;
        // The parent was laid out first (breadth first): its link count is known, and
        // counting its subdirectories again for each child would be quadratic.
        dirs[d as usize].nlink = links_and_serial(tree, node).0;
        let parent_nlink = dirs[parent as usize].nlink;
        let mut recs = vec![
            record(tree, node, vec![0], Role::Dot, joliet, ce, None),
            record(
                tree,
                pnode,
                vec![1],
                Role::DotDot,
                joliet,
                ce,
                Some(parent_nlink),
            ),
        ];
        for (ident, c) in order {
            let sub = if matches!(tree.nodes[c as usize].kind, Kind::Dir(_)) {
                let i = dirs.len() as u32;
                if i >= 0xFFFF {
                    return Err(Error::TooBig {
                        path: tree.paths[c as usize].clone(),
                        what:
                            "more than 65,535 directories, the root included (the most an ISO 9660 path table numbers)"
                                .into(),
                    });
                }
                dirs.push(Dir {
                    node: c,
                    parent: d,
                    ident: ident.clone(),
                    recs: Vec::new(),
                    size: 0,
                    lba: 0,
                    nlink: 0,
                });
                queue.push_back(i);
                Some(i)
            } else {
                None
            };
            recs.push(record(tree, c, ident, Role::Child(sub), joliet, ce, None));
        }
        let mut size = 0u64;
        for r in &recs {
            let n = if let Role::Child(None) = r.role {
                match tree.nodes[r.node as usize].kind {
                    Kind::File(f) => extents(tree.files[f as usize].size),
                    _ => 1,
                }
            } else {
                1
            };
            for _ in 0..n {
                let len = r.len() as u64;
                if size % SECTOR + len > SECTOR {
                    size = size.next_multiple_of(SECTOR);
                }
                size += len;
            }
        }
        dirs[d as usize].size = size.next_multiple_of(SECTOR);
        dirs[d as usize].recs = recs;
    }
    Ok(dirs)
}

/// Number of links and serial number of a node for `PX`.
fn links_and_serial(tree: &Tree, n: u32) -> (u32, u32) {
    match &tree.nodes[n as usize].kind {
        Kind::Dir(ch) => {
            let subdirs = ch
                .iter()
                .filter(|&&c| matches!(tree.nodes[c as usize].kind, Kind::Dir(_)))
                .count();
            (2 + subdirs as u32, n + 1)
        }
        Kind::File(f) => {
            let fd = &tree.files[*f as usize];
            (fd.links, fd.first + 1)
        }
        Kind::Symlink(_) => (1, n + 1),
    }
}

/// The record naming `n`; `nlink` when the caller knows the link count already.
fn record(
    tree: &Tree,
    n: u32,
    ident: Vec<u8>,
    role: Role,
    joliet: bool,
    ce: &mut CeAlloc,
    nlink: Option<u32>,
) -> Rec {
    let mut rec = Rec {
        node: n,
        ident,
        role,
        inline: Vec::new(),
        chain: Vec::new(),
    };
    if joliet {
        return rec;
    }
    let node = &tree.nodes[n as usize];
    let mut entries = Vec::new();
    if n == 0 && role == Role::Dot {
        entries.push(rrip::sp());
    }
    let (nlink, serial) = match nlink {
        Some(l) => (l, n + 1),
        None => links_and_serial(tree, n),
    };
    entries.push(rrip::px(node, nlink, serial));
    entries.push(rrip::tf(node.mtime));
    if let Role::Child(_) = role {
        entries.extend(rrip::nm(node.name.as_bytes()));
    }
    if let (Kind::Symlink(t), Role::Child(_)) = (&node.kind, role) {
        entries.extend(rrip::sl(t));
    }
    if n == 0 && role == Role::Dot {
        entries.push(rrip::er());
    }
    let base = rec.len();
    let room = 254 - base;
    let total: usize = entries.iter().map(Vec::len).sum();
    let mut it = entries.into_iter().peekable();
    if total <= room {
        rec.inline = it.flatten().collect();
        return rec;
    }
    while let Some(e) = it.peek() {
        if rec.inline.len() + e.len() + rrip::CE_LEN > room {
            break;
        }
        rec.inline.extend(it.next().expect("peeked"));
    }
    let rest: Vec<Vec<u8>> = it.collect();
    rec.chain = ce.place(rest);
    rec
}

/// Places continuation areas in the continuation region, none across a sector boundary.
#[derive(Debug, Default)]
pub struct CeAlloc {
    /// Sectors used so far (the one being filled included).
    pub sectors: u32,
    offset: u32,
}

impl CeAlloc {
    /// Places `entries` in areas of at most one sector, each but the last keeping room for
    /// the `CE` to the next.
    fn place(&mut self, entries: Vec<Vec<u8>>) -> Vec<Area> {
        let mut areas: Vec<Vec<u8>> = vec![Vec::new()];
        let total: usize = entries.iter().map(Vec::len).sum();
        let mut left = total;
        for e in entries {
            let cur = areas.last().expect("one area").len();
            let need_ce = left > e.len();
            if cur + e.len() + if need_ce { rrip::CE_LEN } else { 0 } > SECTOR as usize {
                areas.push(Vec::new());
            }
            left -= e.len();
            areas.last_mut().expect("one area").extend(e);
        }
        let n = areas.len();
        areas
            .into_iter()
            .enumerate()
            .map(|(i, bytes)| {
                let len = bytes.len() as u32 + if i + 1 < n { rrip::CE_LEN as u32 } else { 0 };
                if self.sectors == 0 || self.offset + len > SECTOR as u32 {
                    self.sectors += 1;
                    self.offset = 0;
                }
                let a = Area {
                    sector: self.sectors - 1,
                    offset: self.offset,
                    bytes,
                };
                self.offset += len;
                a
            })
            .collect()
    }
}

/// Sectors of a path table of `dirs`, and its bytes.
pub fn path_table_bytes(dirs: &[Dir]) -> u64 {
    dirs.iter()
        .map(|d| 8 + d.ident.len() as u64 + d.ident.len() as u64 % 2)
        .sum()
}
