//! Inodes: loading an ICB (file entry or extended file entry, through indirect entries and
//! strategy 4096 chains), gathering its extents (through allocation extent descriptors) and
//! reading its data extent by extent.

use std::collections::HashSet;

use spindle_fs::{FsError, Metadata, NodeId, Result};

use crate::descriptors::{LbAddr, LongAd};
use crate::icb::{
    AdForm, ExtentKind, FileEntry, parse_alloc_extent, parse_allocation_descriptors,
    parse_file_entry,
};
use crate::limits::*;
use crate::partition::Volume;
use crate::tag::{corrupt, descriptor_name, ident, verify_tag};

/// A file's data: embedded in its entry, or extents (with their offset in the file).
pub(crate) enum Data {
    Embedded(Vec<u8>),
    Extents(Vec<Piece>),
}

pub(crate) struct Piece {
    pub(crate) file_off: u64,
    pub(crate) len: u64,
    pub(crate) recorded: bool,
    pub(crate) loc: LbAddr,
}

pub(crate) struct Inode {
    pub(crate) meta: Metadata,
    pub(crate) file_type: u8,
    pub(crate) data: Data,
    /// A symbolic link's decoded target; then `data` holds its bytes and `meta.size` is
    /// their length (as [`Metadata::size`] wants), not that of the path component records.
    pub(crate) link: Option<String>,
}

pub(crate) fn node_of(a: LbAddr) -> NodeId {
    NodeId(((a.part as u64) << 32) | a.lbn as u64)
}

pub(crate) fn addr_of(n: NodeId) -> Result<LbAddr> {
    if n.0 >> 48 != 0 {
        return Err(corrupt(format!("node {} is not a UDF node", n.0)));
    }
    Ok(LbAddr {
        lbn: n.0 as u32,
        part: (n.0 >> 32) as u16,
    })
}

pub(crate) fn where_(a: LbAddr) -> String {
    format!("block {} of partition {}", a.lbn, a.part)
}

pub(crate) fn prefix(e: FsError, at: &str) -> FsError {
    match e {
        FsError::Corrupt { fs, what } => FsError::Corrupt {
            fs,
            what: format!("{what} (ICB at {at})"),
        },
        e => e,
    }
}

/// Loads the ICB at `addr`. Indirect entries (ECMA-167 4/14.7) are followed. With strategy
/// 4096 (ECMA-167 4/A.6; UDF 2.60 2.3.5.1, write-once media) an ICB is a file entry and, in
/// the next block, an indirect entry to the next ICB, which may hold a newer file entry: the
/// newest one is used. Loops and overlong chains end at the newest entry found.
pub(crate) fn load_inode(vol: &Volume, addr: LbAddr) -> Result<Inode> {
    let mut at = addr;
    let mut current: Option<(LbAddr, FileEntry)> = None;
    let mut seen = HashSet::new();
    loop {
        if !seen.insert(at) || seen.len() > MAX_ICB_HOPS {
            if current.is_some() {
                break;
            }
            return Err(corrupt(format!(
                "indirect entries loop from {}",
                where_(addr)
            )));
        }
        let entry = vol.read_block(at.part, at.lbn).and_then(|b| {
            let tag = verify_tag(&b, "file entry").map_err(|e| prefix(e, &where_(at)))?;
            Ok((tag, b))
        });
        let (tag, b) = match entry {
            Ok(e) => e,
            Err(_) if current.is_some() => break,
            Err(e) => return Err(e),
        };
        match tag.ident {
            ident::INDIRECT_ENTRY => at = LongAd::parse(&b, 36).loc,
            ident::FILE_ENTRY | ident::EXTENDED_FILE_ENTRY => {
                let fe = match parse_file_entry(&b) {
                    Ok(fe) => fe,
                    Err(_) if current.is_some() => break,
                    Err(e) => return Err(prefix(e, &where_(at))),
                };
                let more = fe.strategy == 4096 && at.lbn < u32::MAX;
                current = Some((at, fe));
                if !more {
                    break;
                }
                at.lbn += 1;
            }
            _ if current.is_some() => break,
            other => {
                return Err(corrupt(format!(
                    "{} where a file entry was expected (ICB at {})",
                    descriptor_name(other),
                    where_(at)
                )));
            }
        }
    }
    let (at, fe) = current.ok_or_else(|| corrupt(format!("no file entry at {}", where_(addr))))?;
    build_inode(vol, addr, at, fe).map_err(|e| prefix(e, &where_(at)))
}

pub(crate) fn build_inode(vol: &Volume, node: LbAddr, at: LbAddr, fe: FileEntry) -> Result<Inode> {
    let data = if fe.form == AdForm::Embedded {
        if fe.info_len > fe.ad_bytes.len() as u64 {
            return Err(corrupt(format!(
                "embedded data of {} bytes claims a size of {}",
                fe.ad_bytes.len(),
                fe.info_len
            )));
        }
        Data::Embedded(fe.ad_bytes[..fe.info_len as usize].to_vec())
    } else {
        Data::Extents(collect_extents(vol, &fe, at.part)?)
    };
    let id = |v: u32| if v == u32::MAX { 0 } else { v };
    let meta = Metadata {
        kind: fe.kind(),
        size: fe.info_len,
        mode: fe.mode(),
        nlink: fe.link_count.max(1) as u32,
        uid: id(fe.uid),
        gid: id(fe.gid),
        mtime: fe.mtime,
        atime: fe.atime,
        ctime: fe.ctime,
        rdev: fe.device.map_or(0, |(major, minor)| makedev(major, minor)),
        ino: node_of(node).0,
    };
    Ok(Inode {
        link: None,
        meta,
        file_type: fe.file_type,
        data,
    })
}

/// Linux's encoding of a device number (glibc `makedev`).
pub(crate) fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    ((major & 0xFFFF_F000) << 32)
        | ((major & 0xFFF) << 8)
        | ((minor & 0xFFFF_FF00) << 12)
        | (minor & 0xFF)
}

/// The file's extents, following allocation extent descriptors (ECMA-167 4/14.5) until the
/// file's size is covered. Loops and overlong chains are corruption.
pub(crate) fn collect_extents(vol: &Volume, fe: &FileEntry, part: u16) -> Result<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut off = 0u64;
    let mut list = fe.extents(part)?;
    let mut seen = HashSet::new();
    loop {
        let mut next = None;
        for e in list {
            if e.kind == ExtentKind::Continuation {
                next = Some(e);
                break;
            }
            if pieces.len() >= MAX_EXTENTS {
                return Err(corrupt(format!("more than {MAX_EXTENTS} extents")));
            }
            pieces.push(Piece {
                file_off: off,
                len: e.len as u64,
                recorded: e.kind == ExtentKind::Recorded,
                loc: e.loc,
            });
            off += e.len as u64;
        }
        let Some(c) = next.filter(|_| off < fe.info_len) else {
            return Ok(pieces);
        };
        if !seen.insert(c.loc) || seen.len() > MAX_AED_HOPS {
            return Err(corrupt(format!(
                "allocation extent descriptors loop at {}",
                where_(c.loc)
            )));
        }
        let len = (c.len as u64).min(vol.bs) as usize;
        let mut b = vec![0u8; len];
        vol.read_part(c.loc.part, c.loc.lbn, 0, &mut b)?;
        let ads = parse_alloc_extent(&b)?;
        list = parse_allocation_descriptors(ads, fe.form, part)?;
    }
}

/// Reads file data at `off` into `buf`; returns the bytes read.
pub(crate) fn read_data(vol: &Volume, ino: &Inode, off: u64, buf: &mut [u8]) -> Result<usize> {
    let size = ino.meta.size;
    if off >= size || buf.is_empty() {
        return Ok(0);
    }
    let n = (buf.len() as u64).min(size - off) as usize;
    match &ino.data {
        Data::Embedded(d) => buf[..n].copy_from_slice(&d[off as usize..off as usize + n]),
        Data::Extents(pieces) => {
            let mut idx = pieces.partition_point(|p| p.file_off + p.len <= off);
            let mut done = 0usize;
            while done < n {
                let pos = off + done as u64;
                let Some(p) = pieces.get(idx) else {
                    return Err(corrupt(format!(
                        "file data ends at byte {pos}, before its size {size}"
                    )));
                };
                let within = pos - p.file_off;
                let take = (p.len - within).min((n - done) as u64) as usize;
                let dst = &mut buf[done..done + take];
                if p.recorded {
                    vol.read_part(p.loc.part, p.loc.lbn, within, dst)?;
                } else {
                    dst.fill(0);
                }
                done += take;
                idx += 1;
            }
        }
    }
    Ok(n)
}

pub(crate) fn read_all(vol: &Volume, ino: &Inode, cap: u64, what: &str) -> Result<Vec<u8>> {
    if ino.meta.size > cap {
        return Err(corrupt(format!(
            "{what} of {} bytes (more than {cap})",
            ino.meta.size
        )));
    }
    let mut b = vec![0u8; ino.meta.size as usize];
    read_data(vol, ino, 0, &mut b)?;
    Ok(b)
}
