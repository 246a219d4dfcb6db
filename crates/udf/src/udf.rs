//! The reader: opening a volume (anchor, volume descriptor sequence, partitions, file set)
//! and the [`FileSystem`] over its ICBs and directories.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use spindle_fs::{DirEntry, FileKind, FileSystem, FsError, FsKind, Metadata, NodeId, Result};

use crate::descriptors::{
    Anchor, ExtentAd, LbAddr, LogicalVolume, LongAd, PartitionDesc, PartitionMap, has_nsr_sequence, parse_anchor, parse_file_set,
    parse_logical_volume, parse_partition_desc,
};
use crate::fid::parse_fids;
use crate::icb::{
    AdForm, ExtentKind, FileEntry, file_type, parse_alloc_extent, parse_allocation_descriptors, parse_file_entry, parse_symlink,
};
use crate::partition::{MetaRun, Partition, Volume, parse_vat};
use crate::tag::{corrupt, descriptor_name, ident, u16le, verify_tag};

/// Most extents one file may have (all allocation extent descriptors together).
const MAX_EXTENTS: usize = 1 << 20;
/// Most allocation extent descriptors followed for one file.
const MAX_AED_HOPS: usize = 1 << 16;
/// Most bytes read for a directory, a symbolic link target or a VAT.
const MAX_DIR_BYTES: u64 = 64 << 20;
const MAX_LINK_BYTES: u64 = 64 << 10;
const MAX_VAT_BYTES: u64 = 64 << 20;
/// Most ICB entries followed through indirect entries (strategy 4096 chains).
const MAX_ICB_HOPS: usize = 1024;
/// Deepest directory nesting accepted (cycle detection walks at most this far up).
const MAX_DEPTH: usize = 4096;
/// Most sectors of a volume descriptor sequence read (with its continuations).
const MAX_VDS_SECTORS: u64 = 1024;
/// Cached nodes; the cache is emptied when it grows past this.
const CACHE_LIMIT: usize = 1 << 16;
/// Cached directory entries (all directories together); likewise.
const DIR_CACHE_ENTRIES: usize = 1 << 20;
/// How many sectors from the end of the image are searched for the VAT's file entry.
const VAT_SEARCH: u64 = 512;

/// A file's data: embedded in its entry, or extents (with their offset in the file).
enum Data {
    Embedded(Vec<u8>),
    Extents(Vec<Piece>),
}

struct Piece {
    file_off: u64,
    len: u64,
    recorded: bool,
    loc: LbAddr,
}

struct Inode {
    meta: Metadata,
    file_type: u8,
    data: Data,
    /// A symbolic link's decoded target; then `data` holds its bytes and `meta.size` is
    /// their length (as [`Metadata::size`] wants), not that of the path component records.
    link: Option<String>,
}

fn node_of(a: LbAddr) -> NodeId {
    NodeId(((a.part as u64) << 32) | a.lbn as u64)
}

fn addr_of(n: NodeId) -> Result<LbAddr> {
    if n.0 >> 48 != 0 {
        return Err(corrupt(format!("node {} is not a UDF node", n.0)));
    }
    Ok(LbAddr {
        lbn: n.0 as u32,
        part: (n.0 >> 32) as u16,
    })
}

fn where_(a: LbAddr) -> String {
    format!("block {} of partition {}", a.lbn, a.part)
}

fn prefix(e: FsError, at: &str) -> FsError {
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
fn load_inode(vol: &Volume, addr: LbAddr) -> Result<Inode> {
    let mut at = addr;
    let mut current: Option<(LbAddr, FileEntry)> = None;
    let mut seen = HashSet::new();
    loop {
        if !seen.insert(at) || seen.len() > MAX_ICB_HOPS {
            if current.is_some() {
                break;
            }
            return Err(corrupt(format!("indirect entries loop from {}", where_(addr))));
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

fn build_inode(vol: &Volume, node: LbAddr, at: LbAddr, fe: FileEntry) -> Result<Inode> {
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
fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    ((major & 0xFFFF_F000) << 32) | ((major & 0xFFF) << 8) | ((minor & 0xFFFF_FF00) << 12) | (minor & 0xFF)
}

/// The file's extents, following allocation extent descriptors (ECMA-167 4/14.5) until the
/// file's size is covered. Loops and overlong chains are corruption.
fn collect_extents(vol: &Volume, fe: &FileEntry, part: u16) -> Result<Vec<Piece>> {
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
            return Err(corrupt(format!("allocation extent descriptors loop at {}", where_(c.loc))));
        }
        let len = (c.len as u64).min(vol.bs) as usize;
        let mut b = vec![0u8; len];
        vol.read_part(c.loc.part, c.loc.lbn, 0, &mut b)?;
        let ads = parse_alloc_extent(&b)?;
        list = parse_allocation_descriptors(ads, fe.form, part)?;
    }
}

/// Reads file data at `off` into `buf`; returns the bytes read.
fn read_data(vol: &Volume, ino: &Inode, off: u64, buf: &mut [u8]) -> Result<usize> {
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
                    return Err(corrupt(format!("file data ends at byte {pos}, before its size {size}")));
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

fn read_all(vol: &Volume, ino: &Inode, cap: u64, what: &str) -> Result<Vec<u8>> {
    if ino.meta.size > cap {
        return Err(corrupt(format!("{what} of {} bytes (more than {cap})", ino.meta.size)));
    }
    let mut b = vec![0u8; ino.meta.size as usize];
    read_data(vol, ino, 0, &mut b)?;
    Ok(b)
}

/// The prevailing descriptors of a volume descriptor sequence (ECMA-167 3/8.4.3).
struct Vds {
    lvd: LogicalVolume,
    pds: HashMap<u16, PartitionDesc>,
}

fn read_vds(vol: &Volume, ext: ExtentAd, which: &str) -> Result<Vds> {
    let mut lvd: Option<LogicalVolume> = None;
    let mut pds: HashMap<u16, PartitionDesc> = HashMap::new();
    let (mut sector, mut left) = (ext.loc as u64, (ext.len as u64 / vol.bs).max(1));
    let mut total = 0u64;
    'seq: while left > 0 {
        total += 1;
        if total > MAX_VDS_SECTORS {
            return Err(corrupt(format!(
                "{which} volume descriptor sequence longer than {MAX_VDS_SECTORS} sectors"
            )));
        }
        let b = vol.read_sector(sector)?;
        if b.iter().all(|&c| c == 0) {
            break;
        }
        let name = format!(
            "{} in the {which} volume descriptor sequence, sector {sector}",
            descriptor_name(u16le(&b, 0))
        );
        let tag = verify_tag(&b, &name)?;
        match tag.ident {
            ident::PARTITION => {
                let pd = parse_partition_desc(&b).map_err(|e| prefix_vds(e, &name))?;
                if pds.get(&pd.number).is_none_or(|old| pd.vds_number >= old.vds_number) {
                    pds.insert(pd.number, pd);
                }
            }
            ident::LOGICAL_VOLUME => {
                let l = parse_logical_volume(&b).map_err(|e| prefix_vds(e, &name))?;
                if lvd.as_ref().is_none_or(|old| l.vds_number >= old.vds_number) {
                    lvd = Some(l);
                }
            }
            ident::VOLUME_POINTER => {
                let next = ExtentAd::parse(&b, 20);
                (sector, left) = (next.loc as u64, (next.len as u64 / vol.bs).max(1));
                continue 'seq;
            }
            ident::TERMINATING => break,
            ident::PRIMARY_VOLUME | ident::IMPL_USE_VOLUME | ident::UNALLOCATED_SPACE | ident::LV_INTEGRITY => {}
            other => return Err(corrupt(format!("{name}: unexpected descriptor (tag identifier {other})"))),
        }
        sector += 1;
        left -= 1;
    }
    let lvd = lvd.ok_or_else(|| corrupt(format!("{which} volume descriptor sequence has no logical volume descriptor")))?;
    if pds.is_empty() {
        return Err(corrupt(format!("{which} volume descriptor sequence has no partition descriptor")));
    }
    Ok(Vds { lvd, pds })
}

fn prefix_vds(e: FsError, name: &str) -> FsError {
    match e {
        FsError::Corrupt { fs, what } => FsError::Corrupt {
            fs,
            what: format!("{name}: {what}"),
        },
        e => e,
    }
}

/// Finds a valid anchor for block size `bs`: at sector 256, else N-256, else N-1 (ECMA-167
/// 3/8.4.2.1; UDF 2.60 2.2.3). Returns the first error when none is valid.
fn find_anchor(vol: &Volume) -> Result<Anchor> {
    let n = vol.sectors();
    let mut first_err = None;
    for s in [
        Some(256),
        n.checked_sub(256).filter(|&s| s > 256),
        n.checked_sub(1).filter(|&s| s > 256),
    ]
    .into_iter()
    .flatten()
    {
        match vol.read_sector(s).and_then(|b| parse_anchor(&b)) {
            Ok(a) => return Ok(a),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or_else(|| corrupt("image too small for an anchor volume descriptor pointer")))
}

/// True when the volume recognition sequence names a UDF volume (BEA01, NSR02/NSR03,
/// TEA01) or there is an anchor volume descriptor pointer at sector 256.
pub fn detect(dev: spindle_fs::Device) -> bool {
    let mut area = vec![0u8; 2048 * 32];
    let n = (0..area.len())
        .step_by(2048)
        .take_while(|&o| spindle_fs::read_exact_at(&*dev, 32768 + o as u64, &mut area[o..o + 2048]).is_ok())
        .count();
    if has_nsr_sequence(&area[..n * 2048]) {
        return true;
    }
    let mut b = vec![0u8; 2048];
    spindle_fs::read_exact_at(&*dev, 256 * 2048, &mut b).is_ok() && parse_anchor(&b).is_ok()
}

/// Opens the UDF volume on `dev`.
pub fn open_udf(dev: spindle_fs::Device) -> Result<Arc<dyn FileSystem>> {
    Ok(Arc::new(Udf::open(dev)?))
}

type DirCache = HashMap<NodeId, Arc<Vec<DirEntry>>>;

/// A UDF volume.
pub struct Udf {
    vol: Volume,
    label: String,
    root: NodeId,
    /// Number of partition maps (`vol.parts` may hold extra, implied physical partitions).
    maps: usize,
    inodes: Mutex<HashMap<NodeId, Arc<Inode>>>,
    /// Decoded directories, and how many entries they hold together.
    dirs: Mutex<(DirCache, usize)>,
    parents: Mutex<HashMap<NodeId, NodeId>>,
}

impl Udf {
    pub fn open(dev: spindle_fs::Device) -> Result<Udf> {
        let mut vol = Volume {
            dev: dev.clone(),
            bs: 2048,
            parts: Vec::new(),
        };
        let mut found = None;
        let mut first_err = None;
        for bs in [2048u64, 512, 1024, 4096] {
            vol.bs = bs;
            match find_anchor(&vol) {
                Ok(a) => {
                    found = Some(a);
                    break;
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        let Some(anchor) = found else {
            let e = first_err.unwrap_or(FsError::NotFound("udf"));
            return Err(if detect(dev) { e } else { FsError::NotFound("udf") });
        };
        let vds = match read_vds(&vol, anchor.main, "main") {
            Ok(v) => v,
            Err(e) => read_vds(&vol, anchor.reserve, "reserve").map_err(|_| e)?,
        };
        let lvd = &vds.lvd;
        if lvd.block_size as u64 != vol.bs {
            return Err(corrupt(format!(
                "logical block size {} differs from the {}-byte sectors",
                lvd.block_size, vol.bs
            )));
        }
        vol.parts = build_partitions(&vol, &vds)?;
        let fsd_block = vol.read_block(lvd.fsd.loc.part, lvd.fsd.loc.lbn)?;
        let fsd = parse_file_set(&fsd_block)?;
        let label = lvd.label.clone();
        Ok(Udf {
            vol,
            label,
            root: node_of(fsd.root.loc),
            maps: lvd.maps.len(),
            inodes: Mutex::new(HashMap::new()),
            dirs: Mutex::new((HashMap::new(), 0)),
            parents: Mutex::new(HashMap::new()),
        })
    }

    /// The kind of each partition map, by partition reference number: "physical",
    /// "sparable", "virtual", "metadata" or "unsupported".
    pub fn partition_kinds(&self) -> Vec<&'static str> {
        let n = self.maps;
        self.vol.parts[..n]
            .iter()
            .map(|p| match p {
                Partition::Physical { .. } => "physical",
                Partition::Sparable { .. } => "sparable",
                Partition::Virtual { .. } => "virtual",
                Partition::Metadata { .. } => "metadata",
                Partition::Unusable => "unsupported",
            })
            .collect()
    }

    fn inode(&self, node: NodeId) -> Result<Arc<Inode>> {
        if let Some(i) = self.inodes.lock().unwrap().get(&node) {
            return Ok(i.clone());
        }
        let mut ino = load_inode(&self.vol, addr_of(node)?)?;
        if ino.meta.kind == FileKind::Symlink {
            let target = parse_symlink(&read_all(&self.vol, &ino, MAX_LINK_BYTES, "symbolic link")?)?;
            ino.meta.size = target.len() as u64;
            ino.data = Data::Embedded(target.clone().into_bytes());
            ino.link = Some(target);
        }
        let ino = Arc::new(ino);
        let mut cache = self.inodes.lock().unwrap();
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(node, ino.clone());
        Ok(ino)
    }

    /// Records `dir` as the parent of directory `child`, refusing cycles (a directory that is
    /// its own ancestor).
    fn check_cycle(&self, dir: NodeId, child: NodeId) -> Result<()> {
        if child == dir || child == self.root {
            return Err(corrupt(format!("directory {} contains itself or an ancestor", dir.0)));
        }
        let mut parents = self.parents.lock().unwrap();
        let mut cur = dir;
        for _ in 0..MAX_DEPTH {
            match parents.get(&cur) {
                Some(&p) if p == child => return Err(corrupt(format!("directory cycle through {}", child.0))),
                Some(&p) => cur = p,
                None => {
                    parents.entry(child).or_insert(dir);
                    return Ok(());
                }
            }
        }
        Err(corrupt(format!("directories nested deeper than {MAX_DEPTH}")))
    }

    fn entries(&self, dir: NodeId) -> Result<Arc<Vec<DirEntry>>> {
        if let Some(d) = self.dirs.lock().unwrap().0.get(&dir) {
            return Ok(d.clone());
        }
        let ino = self.inode(dir)?;
        if ino.meta.kind != FileKind::Dir {
            return Err(FsError::NotDir(format!("node {}", dir.0)));
        }
        let data = read_all(&self.vol, &ino, MAX_DIR_BYTES, "directory")?;
        let mut out = Vec::new();
        for fid in parse_fids(&data)? {
            if fid.is_deleted() || fid.is_parent() || fid.name.is_empty() {
                continue;
            }
            // UDF 1.50 2.3.13: the hidden root file "Non-Allocatable Space" marks defective
            // space on sparable media; it is a structure, not content (Linux hides it too).
            if fid.is_hidden() && dir == self.root && fid.name == "Non-Allocatable Space" {
                continue;
            }
            let node = node_of(fid.icb.loc);
            let kind = match self.inode(node) {
                Ok(i) => i.meta.kind,
                Err(_) if fid.is_dir() => FileKind::Dir,
                Err(_) => FileKind::File,
            };
            if kind == FileKind::Dir {
                self.check_cycle(dir, node)?;
            }
            // UDF 2.60 4.2.2.1.1: names are translated for the OS; '/' and NUL cannot appear.
            let name = fid.name.replace(['/', '\0'], "_");
            out.push(DirEntry { name, node, kind });
        }
        let out = Arc::new(out);
        let mut cache = self.dirs.lock().unwrap();
        if cache.0.len() >= CACHE_LIMIT || cache.1 + out.len() > DIR_CACHE_ENTRIES {
            cache.0.clear();
            cache.1 = 0;
        }
        cache.1 += out.len();
        if let Some(old) = cache.0.insert(dir, out.clone()) {
            cache.1 -= old.len();
        }
        Ok(out)
    }
}

/// Builds the partitions of the logical volume, one per partition map (UDF 2.60 2.2.4.5).
fn build_partitions(vol: &Volume, vds: &Vds) -> Result<Vec<Partition>> {
    let pd = |n: u16| {
        vds.pds
            .get(&n)
            .ok_or_else(|| corrupt(format!("partition map names partition {n}, which has no descriptor")))
    };
    let phys = |p: &PartitionDesc| Partition::Physical {
        start: p.start as u64,
        len: p.len as u64,
    };
    let mut parts = Vec::new();
    for m in &vds.lvd.maps {
        parts.push(match m {
            PartitionMap::Physical { number } => phys(pd(*number)?),
            PartitionMap::Sparable {
                number,
                packet_len,
                table_size,
                tables,
            } => {
                let p = pd(*number)?;
                if *packet_len == 0 {
                    return Err(corrupt("sparable partition with a packet length of 0"));
                }
                let tmp = Volume {
                    dev: vol.dev.clone(),
                    bs: vol.bs,
                    parts: Vec::new(),
                };
                let map = tmp.read_sparing_tables(tables, *table_size)?;
                Partition::Sparable {
                    start: p.start as u64,
                    len: p.len as u64,
                    packet: *packet_len as u64,
                    map,
                }
            }
            _ => Partition::Unusable,
        });
    }
    // The physical partition a virtual or metadata map is laid over: the type 1 (or
    // sparable) map of the same partition number, else one added for it.
    let under = |parts: &mut Vec<Partition>, number: u16| -> Result<usize> {
        let found = vds
            .lvd
            .maps
            .iter()
            .position(|m| matches!(m, PartitionMap::Physical { number: n } | PartitionMap::Sparable { number: n, .. } if *n == number));
        match found {
            Some(i) => Ok(i),
            None => {
                parts.push(phys(pd(number)?));
                Ok(parts.len() - 1)
            }
        }
    };
    for (i, m) in vds.lvd.maps.iter().enumerate() {
        match m {
            PartitionMap::Virtual { number } => {
                let ph = under(&mut parts, *number)?;
                let vol2 = Volume {
                    dev: vol.dev.clone(),
                    bs: vol.bs,
                    parts: parts.clone(),
                };
                parts[i] = Partition::Virtual {
                    phys: ph,
                    vat: find_vat(&vol2, ph)?,
                };
            }
            PartitionMap::Metadata { number, file, mirror, .. } => {
                let ph = under(&mut parts, *number)?;
                let vol2 = Volume {
                    dev: vol.dev.clone(),
                    bs: vol.bs,
                    parts: parts.clone(),
                };
                let runs = match metadata_runs(&vol2, ph, *file, file_type::METADATA) {
                    Ok(r) => r,
                    // UDF 2.60 2.2.13.1: the mirror holds the same data.
                    Err(e) => metadata_runs(&vol2, ph, *mirror, file_type::METADATA_MIRROR).map_err(|_| e)?,
                };
                parts[i] = Partition::Metadata { phys: ph, runs };
            }
            _ => {}
        }
    }
    Ok(parts)
}

/// The extents of the metadata (or mirror) file at block `lbn` of partition `ph`.
fn metadata_runs(vol: &Volume, ph: usize, lbn: u32, want: u8) -> Result<Vec<MetaRun>> {
    let ino = load_inode(vol, LbAddr { lbn, part: ph as u16 })?;
    if ino.file_type != want {
        return Err(corrupt(format!("metadata file has file type {} (expected {want})", ino.file_type)));
    }
    let Data::Extents(pieces) = &ino.data else {
        return Err(corrupt("metadata file with embedded data"));
    };
    let mut runs = Vec::with_capacity(pieces.len());
    let mut start = 0u64;
    for p in pieces {
        if p.loc.part as usize != ph && p.recorded {
            return Err(corrupt("metadata file extent outside its partition"));
        }
        let count = p.len.div_ceil(vol.bs);
        runs.push(MetaRun {
            start,
            count,
            phys_lbn: p.loc.lbn,
            recorded: p.recorded,
        });
        start += count;
    }
    Ok(runs)
}

/// Finds the VAT (UDF 2.60 2.2.11): its file entry is in the last recorded sectors of the
/// image (searched backwards), in physical partition `ph`.
fn find_vat(vol: &Volume, ph: usize) -> Result<Vec<u32>> {
    let Some(Partition::Physical { start, .. } | Partition::Sparable { start, .. }) = vol.parts.get(ph) else {
        return Err(corrupt("virtual partition over an unusable partition"));
    };
    let n = vol.sectors();
    for s in (n.saturating_sub(VAT_SEARCH)..n).rev() {
        if s < *start || s - start > u32::MAX as u64 {
            break;
        }
        let b = vol.read_sector(s)?;
        let id = u16le(&b, 0);
        if id != ident::FILE_ENTRY && id != ident::EXTENDED_FILE_ENTRY {
            continue;
        }
        let Ok(fe) = parse_file_entry(&b) else { continue };
        if fe.file_type != file_type::VAT && fe.file_type != file_type::UNSPECIFIED {
            continue;
        }
        let addr = LbAddr {
            lbn: (s - start) as u32,
            part: ph as u16,
        };
        let Ok(ino) = build_inode(vol, addr, addr, fe) else { continue };
        let Ok(data) = read_all(vol, &ino, MAX_VAT_BYTES, "VAT") else {
            continue;
        };
        if let Ok(vat) = parse_vat(&data, ino.file_type == file_type::VAT) {
            return Ok(vat);
        }
    }
    Err(corrupt("virtual partition without a VAT in the last sectors of the image"))
}

impl FileSystem for Udf {
    fn kind(&self) -> FsKind {
        FsKind::Udf
    }
    fn label(&self) -> String {
        self.label.clone()
    }
    fn root(&self) -> NodeId {
        self.root
    }
    fn metadata(&self, node: NodeId) -> Result<Metadata> {
        Ok(self.inode(node)?.meta.clone())
    }
    fn read_dir(&self, dir: NodeId) -> Result<Vec<DirEntry>> {
        Ok(self.entries(dir)?.as_ref().clone())
    }
    fn read(&self, node: NodeId, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let ino = self.inode(node)?;
        if ino.meta.kind == FileKind::Dir {
            return Err(FsError::IsDir(format!("node {}", node.0)));
        }
        read_data(&self.vol, &ino, offset, buf)
    }
    fn read_link(&self, node: NodeId) -> Result<String> {
        let ino = self.inode(node)?;
        if ino.meta.kind != FileKind::Symlink {
            return Err(FsError::NotSymlink(format!("node {}", node.0)));
        }
        ino.link.clone().ok_or_else(|| corrupt("symbolic link without a target"))
    }
    fn lookup(&self, dir: NodeId, name: &str) -> Result<Option<NodeId>> {
        Ok(self.entries(dir)?.iter().find(|e| e.name == name).map(|e| e.node))
    }
}
