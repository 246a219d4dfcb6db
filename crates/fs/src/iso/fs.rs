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

use crate::api::{
    ContentRun, DirEntry, EntryInfo, FileKind, FileSystem, FsError, FsKind, Metadata, NodeId,
    Result, Time,
};
use spindle_bytes::ByteSource;
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
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Largest directory extent read (a 100 000-entry directory is about 10 MiB).
pub const MAX_DIR_BYTES: u64 = 256 << 20;

/// Which views a volume offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsoVolumes {
    /// Primary volume identifier.
    pub label: String,
    pub has_joliet: bool,
    /// Joliet UCS-2 level (1-3).
    pub joliet_level: Option<u8>,
    /// Joliet volume identifier.
    pub joliet_label: Option<String>,
    pub has_rock_ridge: bool,
    /// An NSR02/NSR03 descriptor follows: the disc is a UDF bridge.
    pub has_udf_marker: bool,
    pub high_sierra: bool,
    /// Block of the El Torito boot catalog.
    pub boot_catalog: Option<u32>,
}

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

/// The SUSP state of a volume from the root directory's `.` record: `Some(skip)` when it has
/// an `SP` entry (or, leniently, Rock Ridge entries without one), and whether Rock Ridge is
/// present.
fn probe_susp(dev: &dyn ByteSource, root: &DirRecord) -> Result<(Option<usize>, bool)> {
    let start = root.extent as u64 * SECTOR;
    if start + SECTOR > dev.len() {
        return Err(corrupt(format!(
            "root directory at block {} lies past the end of the device",
            root.extent
        )));
    }
    let mut buf = vec![0u8; SECTOR as usize];
    dev.read_exact_at(&mut buf, start)?;
    let Some(dot) = parse_directory_record(&buf, false)? else {
        return Err(corrupt("root directory has no '.' record".into()));
    };
    let su = &dot.system_use;
    let skip = if su.len() >= 7 && &su[0..2] == b"SP" && su[4] == 0xBE && su[5] == 0xEF {
        Some(su[6] as usize)
    } else {
        let (e, _) = parse_susp(su);
        e.iter()
            .any(|e| matches!(&e.sig, b"PX" | b"NM" | b"TF" | b"RR"))
            .then_some(0)
    };
    let Some(skip) = skip else {
        return Ok((None, false));
    };
    // A CE loop here must not make the volume unopenable: treat it as no Rock Ridge.
    let entries = collect_entries(dev, su, skip, &mut { MAX_LISTING_CE_BYTES }).unwrap_or_default();
    let rr = RockRidge::from_entries(&entries).any
        || entries.iter().any(|e| {
            &e.sig == b"ER" && {
                let id = String::from_utf8_lossy(&e.data);
                id.contains("RRIP") || id.contains("IEEE_P1282") || id.contains("IEEE_1282")
            }
        });
    Ok((Some(skip), rr))
}

fn root_record(
    dev: &dyn ByteSource,
    vd_off: u64,
    high_sierra: bool,
) -> Result<(Vec<u8>, DirRecord, u64)> {
    let mut vd = vec![0u8; SECTOR as usize];
    dev.read_exact_at(&mut vd, vd_off)?;
    let (block_size_at, root_at) = if high_sierra { (136, 180) } else { (128, 156) };
    let bs = u16::from_le_bytes([vd[block_size_at], vd[block_size_at + 1]]);
    if bs != 2048 {
        return Err(FsError::Unsupported(format!(
            "logical block size {bs} (only 2048 is supported)"
        )));
    }
    let mut root = parse_directory_record(&vd[root_at..], high_sierra)?
        .ok_or_else(|| corrupt("empty root directory record".into()))?;
    // Some writers store a longer length than the 34 bytes the descriptor has room for.
    root.system_use.clear();
    Ok((vd, root, vd_off + root_at as u64))
}

/// Which views the volume whose descriptors start at block `base_lba + 16` has.
pub fn detect(dev: &dyn ByteSource, base_lba: u32) -> Result<IsoVolumes> {
    let d = volume::scan(dev, base_lba)?;
    let pvd_off = d.primary.expect("scan ensures a primary descriptor");
    let (pvd, root, _) = root_record(dev, pvd_off, d.high_sierra)?;
    let has_rock_ridge = if d.high_sierra {
        false
    } else {
        probe_susp(dev, &root)?.1
    };
    let joliet_label = match d.joliet {
        Some((off, _)) => {
            let mut svd = vec![0u8; SECTOR as usize];
            dev.read_exact_at(&mut svd, off)?;
            Some(volume::joliet_label(&svd))
        }
        None => None,
    };
    Ok(IsoVolumes {
        label: volume::primary_label(&pvd, d.high_sierra),
        has_joliet: d.joliet.is_some(),
        joliet_level: d.joliet.map(|j| j.1),
        joliet_label,
        has_rock_ridge,
        has_udf_marker: d.udf_marker,
        high_sierra: d.high_sierra,
        boot_catalog: d.boot_catalog,
    })
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

impl IsoFs {
    /// Like [`open_iso`], keeping the concrete type.
    pub fn open(dev: crate::api::Device, kind: FsKind, base_lba: u32) -> Result<IsoFs> {
        let d = volume::scan(&*dev, base_lba)?;
        let pvd_off = d.primary.expect("scan ensures a primary descriptor");
        let (pvd, pvd_root, _) = root_record(&*dev, pvd_off, d.high_sierra)?;
        let (susp_skip, has_rr) = if d.high_sierra {
            (None, false)
        } else {
            probe_susp(&*dev, &pvd_root)?
        };
        let pvd_susp = susp_skip;
        let (vd_off, names, label, high_sierra, susp_skip) = match kind {
            FsKind::Iso9660 => (
                pvd_off,
                Names::Iso,
                volume::primary_label(&pvd, d.high_sierra),
                d.high_sierra,
                susp_skip,
            ),
            FsKind::RockRidge => {
                if !has_rr {
                    return Err(FsError::NotFound("Rock Ridge"));
                }
                (
                    pvd_off,
                    Names::RockRidge,
                    volume::primary_label(&pvd, false),
                    false,
                    susp_skip,
                )
            }
            FsKind::Joliet => {
                let (off, _) = d.joliet.ok_or(FsError::NotFound("Joliet"))?;
                let mut svd = vec![0u8; SECTOR as usize];
                dev.read_exact_at(&mut svd, off)?;
                (off, Names::Joliet, volume::joliet_label(&svd), false, None)
            }
            FsKind::Udf => {
                return Err(FsError::Unsupported(
                    "UDF is not part of the ISO 9660 reader".into(),
                ));
            }
        };
        let (_, root_rec, root_pos) = root_record(&*dev, vd_off, high_sierra)?;
        let fs = IsoFs {
            dev,
            kind,
            label,
            names,
            high_sierra,
            susp_skip,
            root: NodeId(root_pos),
            nodes: Mutex::new(HashMap::new()),
            dirs: Mutex::new(HashMap::new()),
            owners: Mutex::new(HashMap::new()),
            zcache: Mutex::new(None),
            primary_base: (kind == FsKind::Joliet && pvd_susp.is_some()).then_some(base_lba),
            joliet_zf: OnceLock::new(),
        };
        // The root's attributes are those of its own '.' record (where SP lives).
        let start = root_rec.extent as u64 * SECTOR;
        if start + SECTOR > fs.dev.len() {
            return Err(corrupt(format!(
                "root directory at block {} lies past the end of the device",
                root_rec.extent
            )));
        }
        let mut buf = vec![0u8; SECTOR as usize];
        fs.dev.read_exact_at(&mut buf, start)?;
        let dot = parse_directory_record(&buf, high_sierra)?.unwrap_or_else(|| root_rec.clone());
        let mut dot = dot;
        dot.extent = root_rec.extent;
        dot.size = root_rec.size;
        dot.flags |= crate::iso::record::FLAG_DIRECTORY;
        let (_, root) = fs.make_node(&[(root_pos, dot.as_ref())], true, &mut {
            MAX_LISTING_CE_BYTES
        })?;
        fs.nodes.lock().unwrap().insert(root_pos, Arc::new(root));
        Ok(fs)
    }

    fn rock_ridge(&self, system_use: &[u8], budget: &mut u64) -> Result<Option<RockRidge>> {
        let Some(skip) = self.susp_skip else {
            return Ok(None);
        };
        let mut b = RrBuilder::default();
        match visit_entries(&*self.dev, system_use, skip, budget, &mut |sig, _, d| {
            b.push(sig, d)
        }) {
            Ok(()) => Ok(Some(b.rr)),
            Err(e) if self.names == Names::RockRidge => Err(e),
            // The plain view reads SUSP only for zisofs; broken SUSP leaves the file as stored.
            Err(_) => Ok(None),
        }
    }

    /// Builds a node from its records (more than one for a multi-extent file); returns its
    /// display name too. `is_root` skips the CL/name handling.
    /// The name is `None` for an entry the view hides (Rock Ridge `RE`, unusable names).
    /// `budget`: continuation bytes and relocated-directory reads left for this listing.
    fn make_node(
        &self,
        recs: &[(u64, RecordRef<'_>)],
        is_root: bool,
        budget: &mut u64,
    ) -> Result<(Option<String>, Node)> {
        let (pos, first) = &recs[0];
        let mut rr = self.rock_ridge(first.system_use, budget)?;
        let use_rr = self.names == Names::RockRidge;
        // A relocated directory is reached through its CL entry only.
        let hidden = use_rr && rr.as_ref().is_some_and(|r| r.relocated);
        // The name is taken out of `rr` (it is not needed afterwards): no copy.
        let rr_name = rr.as_mut().and_then(|r| r.name.take());
        let mut dot_attrs: Option<RockRidge> = None;
        let mut dir_extent: Option<(u32, u32)> =
            first.is_dir().then_some((first.extent, first.size));
        let child_link = rr
            .as_ref()
            .and_then(|r| r.child_link)
            .filter(|_| use_rr && !is_root);
        if let Some(target) = child_link {
            // A relocated directory (RRIP §4.1.5.1): its attributes are those of the '.'
            // record at the CL block.
            *budget = budget.checked_sub(SECTOR).ok_or_else(|| {
                corrupt("relocated directories of one directory exceed the read budget".into())
            })?;
            let dot = self.dot_record(target)?;
            let dot_rr = self.rock_ridge(&dot.system_use, budget)?;
            dir_extent = Some((target, dot.size));
            dot_attrs = dot_rr.filter(|d| d.has_px);
        }
        let rr_attrs: Option<&RockRidge> = match &dot_attrs {
            Some(d) => Some(d),
            None if use_rr => rr.as_ref(),
            None => None,
        };
        let name = if is_root || hidden {
            None
        } else {
            let mut n = match self.names {
                Names::Joliet => joliet_name(first.name),
                Names::Iso => iso_name(first.name),
                Names::RockRidge => match rr_name {
                    Some(n) => String::from_utf8(n)
                        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                    None => iso_name(first.name),
                },
            };
            if n.contains(['/', '\0']) {
                n = n.replace(['/', '\0'], "_");
            }
            (!n.is_empty() && n != "." && n != "..").then_some(n)
        };
        let px = rr_attrs.filter(|r| r.has_px);
        let kind = match px.map(|r| r.mode & S_IFMT) {
            _ if dir_extent.is_some() => FileKind::Dir,
            Some(S_IFLNK) => FileKind::Symlink,
            Some(S_IFCHR) => FileKind::CharDevice,
            Some(S_IFBLK) => FileKind::BlockDevice,
            Some(S_IFIFO) => FileKind::Fifo,
            Some(S_IFSOCK) => FileKind::Socket,
            // PX says directory but the record does not: the record decides (no extent to list).
            Some(S_IFDIR) => FileKind::File,
            _ if use_rr && rr_attrs.is_some_and(|r| r.symlink.is_some()) => FileKind::Symlink,
            _ => FileKind::File,
        };
        let symlink = if kind == FileKind::Symlink {
            rr_attrs
                .and_then(|r| r.symlink.as_ref())
                .map(|t| String::from_utf8_lossy(t).into_owned())
        } else {
            None
        };
        let mut extents = Vec::new();
        let mut stored = 0u64;
        if let Some((lba, size)) = dir_extent {
            extents.push(Extent {
                file_off: 0,
                dev_off: lba as u64 * SECTOR,
                len: size as u64,
                unit: 0,
                gap: 0,
            });
            stored = size as u64;
        } else if kind == FileKind::File {
            for (_, r) in recs {
                extents.push(Extent {
                    file_off: stored,
                    dev_off: (r.extent as u64 + r.ext_attr_len as u64) * SECTOR,
                    len: r.size as u64,
                    unit: r.unit_size as u64 * SECTOR,
                    gap: r.gap_size as u64 * SECTOR,
                });
                stored += r.size as u64;
            }
        }
        let zf = match (kind, self.names) {
            (FileKind::File, Names::Joliet) => extents
                .first()
                .filter(|_| self.primary_base.is_some() && recs.len() == 1)
                .and_then(|e| self.joliet_zisofs().get(&e.dev_off).copied()),
            (FileKind::File, _) => rr.as_ref().and_then(|r| r.zf).map(|z| z.uncompressed_size),
            _ => None,
        };
        let size = match kind {
            FileKind::Symlink => symlink.as_ref().map_or(0, |s| s.len() as u64),
            _ => zf.map_or(stored, |z| z as u64),
        };
        let damage = rr.as_ref().and_then(|r| r.bad_zf).map(|n| {
            format!(
                "the ZF (zisofs) entry of {:?} (record at byte {pos}) is {n} bytes long, too short for its parameters (16 needed)",
                match (&name, is_root) {
                    (Some(n), _) => n.clone(),
                    (None, true) => "/".to_string(),
                    (None, false) => iso_name(first.name),
                }
            )
        });
        let t = |f: fn(&RockRidge) -> Option<Time>| rr_attrs.and_then(f).unwrap_or(first.recorded);
        let ino = match px.and_then(|r| r.ino).filter(|&i| i != 0) {
            Some(i) => (1 << 63) | i as u64,
            None if kind == FileKind::File && stored > 0 => (1 << 62) | recs[0].1.extent as u64,
            None => *pos,
        };
        let meta = Metadata {
            kind,
            size,
            mode: match px {
                Some(r) => r.mode & 0o7777,
                // As xorriso and the Linux isofs driver do: r-x for everyone, files included.
                None => 0o555,
            },
            nlink: px.map_or(if kind == FileKind::Dir { 2 } else { 1 }, |r| {
                r.nlink.max(1)
            }),
            uid: px.map_or(0, |r| r.uid),
            gid: px.map_or(0, |r| r.gid),
            mtime: t(|r| r.mtime),
            atime: t(|r| r.atime),
            ctime: t(|r| r.ctime),
            rdev: rr_attrs.and_then(|r| r.rdev).unwrap_or(0),
            ino,
        };
        Ok((
            name,
            Node {
                kind,
                meta,
                extents,
                stored_size: stored,
                symlink,
                zf,
                zfile: OnceLock::new(),
                damage,
            },
        ))
    }

    /// zisofs files of the primary tree by data offset, for the Joliet view: the primary tree
    /// is walked once (with the same bounds as any walk); a damaged part is left out.
    fn joliet_zisofs(&self) -> &HashMap<u64, u32> {
        self.joliet_zf.get_or_init(|| {
            let mut map = HashMap::new();
            let Some(base) = self.primary_base else {
                return map;
            };
            let Ok(plain) = IsoFs::open(self.dev.clone(), FsKind::Iso9660, base) else {
                return map;
            };
            let mut stack = vec![plain.root];
            while let Some(dir) = stack.pop() {
                let Ok(listing) = plain.list(dir) else {
                    continue;
                };
                for e in &listing.entries {
                    let Ok(node) = plain.node(e.node) else {
                        continue;
                    };
                    match (node.kind, node.zf, node.extents.first()) {
                        (FileKind::Dir, _, _) => stack.push(e.node),
                        (FileKind::File, Some(size), Some(x)) => {
                            map.insert(x.dev_off, size);
                        }
                        _ => {}
                    }
                }
            }
            map
        })
    }

    /// The `.` record of the directory at `block`.
    fn dot_record(&self, block: u32) -> Result<DirRecord> {
        let start = block as u64 * SECTOR;
        if start + SECTOR > self.dev.len() {
            return Err(corrupt(format!(
                "relocated directory at block {block} lies past the end of the device"
            )));
        }
        let mut buf = vec![0u8; SECTOR as usize];
        self.dev.read_exact_at(&mut buf, start)?;
        parse_directory_record(&buf, self.high_sierra)?
            .filter(|r| r.is_dot())
            .ok_or_else(|| {
                corrupt(format!(
                    "relocated directory at block {block} has no '.' record"
                ))
            })
    }

    /// The node, unless its record is damaged in a way that makes its content unreadable.
    fn readable_node(&self, id: NodeId) -> Result<Arc<Node>> {
        let node = self.node(id)?;
        match &node.damage {
            Some(what) => Err(FsError::Corrupt {
                fs: "zisofs",
                what: what.clone(),
            }),
            None => Ok(node),
        }
    }

    fn node(&self, id: NodeId) -> Result<Arc<Node>> {
        if let Some(n) = self.nodes.lock().unwrap().get(&id.0) {
            return Ok(n.clone());
        }
        // Not listed yet: re-read the record at that position.
        let node = Arc::new(self.load_node_at(id.0)?);
        self.nodes.lock().unwrap().insert(id.0, node.clone());
        Ok(node)
    }

    /// Reads the node whose first record is at device byte `pos` (with following records of a
    /// multi-extent file).
    fn load_node_at(&self, pos: u64) -> Result<Node> {
        let bad = || corrupt(format!("no directory record at byte {pos}"));
        let sector_start = pos - pos % SECTOR;
        let window = (self.dev.len().saturating_sub(sector_start)).min(64 * SECTOR);
        if window <= pos - sector_start {
            return Err(bad());
        }
        let mut buf = vec![0u8; window as usize];
        self.dev.read_exact_at(&mut buf, sector_start)?;
        let mut recs = Vec::new();
        self.walk_records(
            &buf,
            (pos - sector_start) as usize,
            sector_start,
            &mut |p, r| {
                let more = r.flags & FLAG_MULTI_EXTENT != 0;
                recs.push((p, r));
                Ok(more)
            },
        )?;
        if recs.is_empty() || recs[0].1.is_dot() || recs[0].1.is_dotdot() {
            return Err(bad());
        }
        Ok(self
            .make_node(&recs, false, &mut { MAX_LISTING_CE_BYTES })?
            .1)
    }

    /// Calls `f` with each record of `buf` from `from` on (device position, record) until it
    /// returns false or the buffer ends; zero bytes skip to the next sector.
    fn walk_records<'b>(
        &self,
        buf: &'b [u8],
        from: usize,
        base: u64,
        f: &mut dyn FnMut(u64, RecordRef<'b>) -> Result<bool>,
    ) -> Result<()> {
        let mut pos = from;
        while pos < buf.len() {
            let sector_end = ((pos / SECTOR as usize) + 1) * SECTOR as usize;
            let end = sector_end.min(buf.len());
            match parse_record_ref(&buf[pos..end], self.high_sierra) {
                Ok(Some(r)) => {
                    let len = r.len as usize;
                    if !f(base + pos as u64, r)? {
                        return Ok(());
                    }
                    pos += len;
                }
                Ok(None) => pos = sector_end,
                Err(FsError::Corrupt { what, .. }) => {
                    return Err(corrupt(format!("{what} (at byte {})", base + pos as u64)));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn list(&self, dir: NodeId) -> Result<Arc<Dir>> {
        if let Some(d) = self.dirs.lock().unwrap().get(&dir.0) {
            return Ok(d.clone());
        }
        let mut entries = Vec::new();
        let mut by_name = HashMap::new();
        let mut new_nodes = Vec::new();
        self.scan_dir(dir, &mut |name, id, node| {
            let name = name.to_string();
            by_name.entry(name.clone()).or_insert(id);
            entries.push(DirEntry {
                name,
                node: id,
                kind: node.kind,
            });
            new_nodes.push((id.0, Arc::new(node)));
            Ok(())
        })?;
        {
            let mut nodes = self.nodes.lock().unwrap();
            for (id, n) in new_nodes {
                nodes.entry(id).or_insert(n);
            }
        }
        let d = Arc::new(Dir { entries, by_name });
        self.dirs.lock().unwrap().insert(dir.0, d.clone());
        Ok(d)
    }

    /// Reads the directory `dir` and calls `f` with each visible entry (name, node id, node),
    /// caching nothing but the ownership of its blocks (for loop detection).
    fn scan_dir(
        &self,
        dir: NodeId,
        f: &mut dyn FnMut(&str, NodeId, Node) -> Result<()>,
    ) -> Result<()> {
        let node = self.readable_node(dir)?;
        if node.kind != FileKind::Dir {
            return Err(FsError::NotDir(format!("node {}", dir.0)));
        }
        let ext = *node
            .extents
            .first()
            .ok_or_else(|| corrupt(format!("directory at record byte {} has no extent", dir.0)))?;
        if ext.len > MAX_DIR_BYTES {
            return Err(corrupt(format!(
                "directory of {} bytes (limit {MAX_DIR_BYTES})",
                ext.len
            )));
        }
        if ext.dev_off + ext.len > self.dev.len() {
            return Err(corrupt(format!(
                "directory extent at block {} ({} bytes) runs past the end of the device ({} bytes)",
                ext.dev_off / SECTOR,
                ext.len,
                self.dev.len()
            )));
        }
        {
            // Each directory block belongs to one directory: a second directory whose extent
            // overlaps one already listed (an ancestor's: a loop) is refused, so every record,
            // and so every node, is reachable from one parent only and walks terminate.
            let first = ext.dev_off / SECTOR;
            let blocks = first..first + ext.len.div_ceil(SECTOR);
            let mut owners = self.owners.lock().unwrap();
            if let Some((b, owner)) = blocks
                .clone()
                .find_map(|b| owners.get(&b).filter(|&&o| o != dir.0).map(|&o| (b, o)))
            {
                return Err(corrupt(format!(
                    "directory loop: the directory at record byte {} uses block {b} of the directory at record byte {owner}",
                    dir.0
                )));
            }
            for b in blocks {
                owners.insert(b, dir.0);
            }
        }
        let mut buf = vec![0u8; ext.len as usize];
        self.dev.read_exact_at(&mut buf, ext.dev_off)?;
        // Records of the visible entries, and where each entry's group (several records for
        // a multi-extent file) ends in `recs`.
        let mut recs: Vec<(u64, RecordRef<'_>)> = Vec::new();
        let mut ends: Vec<usize> = Vec::new();
        let mut pending = false;
        let mut records = 0usize;
        self.walk_records(&buf, 0, ext.dev_off, &mut |p, r| {
            records += 1;
            if r.is_dot() || r.is_dotdot() || r.flags & FLAG_ASSOCIATED != 0 {
                return Ok(true);
            }
            let more = r.flags & FLAG_MULTI_EXTENT != 0 && !r.is_dir();
            recs.push((p, r));
            pending = more;
            if !more {
                ends.push(recs.len());
            }
            Ok(true)
        })?;
        if pending {
            ends.push(recs.len());
        }
        if records == 0 {
            // Every directory holds at least its '.' and '..' records (ECMA-119 6.8.2.2): one
            // that holds none (a zero length, or an extent of zeros) is not an empty directory
            // but a broken record, as in libarchive's test_read_format_iso_rockridge_zf_overflow.
            return Err(corrupt(format!(
                "the directory at block {} ({} bytes, record at byte {}) holds no records, not even '.' and '..'",
                ext.dev_off / SECTOR,
                ext.len,
                dir.0
            )));
        }
        let mut budget = MAX_LISTING_CE_BYTES;
        let mut start = 0usize;
        for &end in &ends {
            let g = &recs[start..end];
            start = end;
            let (name, node) = self.make_node(g, false, &mut budget)?;
            let Some(name) = name else { continue };
            f(&name, NodeId(g[0].0), node)?;
        }
        Ok(())
    }

    /// Where the stored bytes of `node` at `offset` lie on the device: (device offset, bytes
    /// in one contiguous run), or `None` at the end of the data.
    fn stored_run(node: &Node, off: u64) -> Option<(u64, u64)> {
        if off >= node.stored_size {
            return None;
        }
        let i = node.extents.partition_point(|e| e.file_off + e.len <= off);
        let e = node.extents.get(i)?;
        let rel = off - e.file_off;
        Some(match rel.checked_div(e.unit) {
            None => (e.dev_off + rel, e.len - rel),
            Some(chunk) => {
                let within = rel % e.unit;
                (
                    e.dev_off + chunk * (e.unit + e.gap) + within,
                    (e.unit - within).min(e.len - rel),
                )
            }
        })
    }

    /// Reads stored (not decompressed) bytes of a file at `offset`.
    fn read_stored(&self, node: &Node, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let mut done = 0usize;
        while done < buf.len() {
            let off = offset + done as u64;
            let Some((dev_off, run)) = Self::stored_run(node, off) else {
                break;
            };
            let want = ((buf.len() - done) as u64).min(run) as usize;
            // A run ending inside a sector is read up to the sector's end when the buffer has
            // room (the device reads whole sectors in one go, a partial one through a copy);
            // only `want` bytes count.
            let whole = (want as u64).next_multiple_of(SECTOR) as usize;
            let read = if dev_off % SECTOR == 0
                && whole <= buf.len() - done
                && dev_off + whole as u64 <= self.dev.len()
            {
                whole
            } else {
                want
            };
            let n = self
                .dev
                .read_at(&mut buf[done..done + read], dev_off)?
                .min(want);
            if n == 0 {
                return Err(corrupt(format!(
                    "file data at byte {dev_off} lies past the end of the device ({} bytes)",
                    self.dev.len()
                )));
            }
            done += n;
        }
        Ok(done)
    }

    fn read_stored_exact(&self, node: &Node, offset: u64, buf: &mut [u8]) -> Result<()> {
        let n = self.read_stored(node, offset, buf)?;
        if n < buf.len() {
            return Err(FsError::Corrupt {
                fs: "zisofs",
                what: format!(
                    "compressed data ends at {} of {} stored bytes",
                    offset + n as u64,
                    node.stored_size
                ),
            });
        }
        Ok(())
    }

    fn zisofs(&self, node: &Node) -> Result<Arc<ZisofsFile>> {
        if let Some(z) = node.zfile.get() {
            return Ok(z.clone());
        }
        let z = Arc::new(ZisofsFile::open(
            node.stored_size,
            node.zf.unwrap_or(0) as u64,
            &mut |o, b| self.read_stored_exact(node, o, b),
        )?);
        Ok(node.zfile.get_or_init(|| z).clone())
    }

    fn read_zisofs(&self, id: NodeId, node: &Node, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let z = self.zisofs(node)?;
        let mut done = 0usize;
        while done < buf.len() {
            let off = offset + done as u64;
            if off >= z.uncompressed_size {
                break;
            }
            let bi = (off / z.block_size as u64) as usize;
            let cached = self
                .zcache
                .lock()
                .unwrap()
                .as_ref()
                .filter(|c| c.0 == id.0 && c.1 == bi)
                .map(|c| c.2.clone());
            let block = match cached {
                Some(b) => b,
                None => {
                    let b = Arc::new(z.block(bi, &mut |o, b| self.read_stored_exact(node, o, b))?);
                    *self.zcache.lock().unwrap() = Some((id.0, bi, b.clone()));
                    b
                }
            };
            let within = (off % z.block_size as u64) as usize;
            let n = (block.len() - within).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&block[within..within + n]);
            done += n;
        }
        Ok(done)
    }
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
