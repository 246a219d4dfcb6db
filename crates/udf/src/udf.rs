//! The reader: [`Udf`], the [`FileSystem`] over a volume's ICBs and directories (with the
//! node and directory caches and directory cycle detection). Opening is in `volume.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use spindle_fs::{DirEntry, FileKind, FileSystem, FsError, FsKind, Metadata, NodeId, Result};

use crate::descriptors::{Anchor, parse_file_set};
use crate::fid::parse_fids;
use crate::icb::parse_symlink;
use crate::inode::{Data, Inode, addr_of, load_inode, node_of, read_all, read_data};
use crate::limits::*;
use crate::partition::{Partition, Volume};
use crate::tag::corrupt;
use crate::volume::{build_partitions, detect, find_anchor, read_vds};

/// Opens the UDF volume on `dev`.
pub fn open_udf(dev: spindle_fs::Device) -> Result<Arc<dyn FileSystem>> {
    Ok(Arc::new(Udf::open(dev)?))
}

type DirCache = HashMap<NodeId, Arc<Vec<DirEntry>>>;

/// A UDF volume.
pub struct Udf {
    vol: Volume,
    /// The volume read through the metadata mirror files, for ICBs and directories that are
    /// damaged as read through the metadata files.
    mirror: Option<Volume>,
    label: String,
    root: NodeId,
    /// Number of partition maps (`vol.parts` may hold extra, implied physical partitions).
    maps: usize,
    /// Loaded nodes, and the weight (extents, bytes of embedded data / 16) they hold together.
    inodes: Mutex<(HashMap<NodeId, Arc<Inode>>, usize)>,
    /// Decoded directories, and how many entries they hold together.
    dirs: Mutex<(DirCache, usize)>,
    /// Each directory listed so far: its parent and its depth below the root.
    parents: Mutex<HashMap<NodeId, (NodeId, usize)>>,
}

impl Udf {
    /// Opens the UDF volume on `dev`: [`spindle_fs::FsError::NotFound`] when it holds none,
    /// [`spindle_fs::FsError::Corrupt`] when its structures are damaged.
    pub fn open(dev: spindle_fs::Device) -> Result<Udf> {
        let mut vol = Volume {
            dev: dev.clone(),
            bs: 2048,
            parts: Vec::new(),
        };
        // Block sizes in turn; an anchor whose tag location is its sector wins, else the
        // first anchor seen.
        let mut found: Option<(u64, Anchor)> = None;
        let mut first_err = None;
        for bs in [2048u64, 512, 1024, 4096] {
            vol.bs = bs;
            match find_anchor(&vol) {
                Ok((a, true)) => {
                    found = Some((bs, a));
                    break;
                }
                Ok((a, false)) => {
                    found.get_or_insert((bs, a));
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        let Some((bs, anchor)) = found else {
            let e = first_err.unwrap_or(FsError::NotFound("udf"));
            return Err(if detect(dev) {
                e
            } else {
                FsError::NotFound("udf")
            });
        };
        vol.bs = bs;
        // The main volume descriptor sequence, else the reserve one (ECMA-167 3/8.4.2),
        // each as far as the file set descriptor.
        let mount = |which: &str, ext| -> Result<(Vec<Partition>, String, NodeId, usize)> {
            let vds = read_vds(&vol, ext, which)?;
            let lvd = &vds.lvd;
            if lvd.block_size as u64 != vol.bs {
                return Err(corrupt(format!(
                    "logical block size {} differs from the {}-byte sectors",
                    lvd.block_size, vol.bs
                )));
            }
            let parts = build_partitions(&vol, &vds)?;
            let with_parts = Volume {
                dev: vol.dev.clone(),
                bs: vol.bs,
                parts,
            };
            let fsd = parse_file_set(&with_parts.read_block(lvd.fsd.loc.part, lvd.fsd.loc.lbn)?)?;
            let vat_label = with_parts.parts.iter().find_map(|p| match p {
                Partition::Virtual { label, .. } => label.clone(),
                _ => None,
            });
            let label = vat_label.unwrap_or_else(|| lvd.label.clone());
            Ok((
                with_parts.parts,
                label,
                node_of(fsd.root.loc),
                lvd.maps.len(),
            ))
        };
        let (parts, label, root, maps) = match mount("main", anchor.main) {
            Ok(m) => m,
            Err(e) => mount("reserve", anchor.reserve).map_err(|_| e)?,
        };
        vol.parts = parts;
        Ok(Udf {
            mirror: vol.mirror_view(),
            vol,
            label,
            root,
            maps,
            inodes: Mutex::new((HashMap::new(), 0)),
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
        if let Some(i) = self.inodes.lock().unwrap().0.get(&node) {
            return Ok(i.clone());
        }
        let addr = addr_of(node)?;
        let mut ino = match (load_inode(&self.vol, addr), &self.mirror) {
            (Ok(i), _) => i,
            (Err(e), Some(m)) => load_inode(m, addr).map_err(|_| e)?,
            (Err(e), None) => return Err(e),
        };
        if ino.meta.kind == FileKind::Symlink {
            let target =
                parse_symlink(&read_all(&self.vol, &ino, MAX_LINK_BYTES, "symbolic link")?)?;
            ino.meta.size = target.len() as u64;
            ino.data = Data::Embedded(target.clone().into_bytes());
            ino.link = Some(target);
        }
        let weight = 1 + match &ino.data {
            Data::Embedded(d) => d.len() / 16,
            Data::Extents(p) => p.len(),
        };
        let ino = Arc::new(ino);
        let mut cache = self.inodes.lock().unwrap();
        if cache.0.len() >= CACHE_LIMIT || cache.1 + weight > INODE_CACHE_WEIGHT {
            cache.0.clear();
            cache.1 = 0;
        }
        if cache.0.insert(node, ino.clone()).is_none() {
            cache.1 += weight;
        }
        Ok(ino)
    }

    /// Records `dir` as the parent of directory `child`, refusing cycles (a directory that is
    /// its own ancestor), directories linked from two directories (UDF has no hard links to
    /// directories, and one directory shared by every level of a chain makes 2^depth paths, so
    /// that any walk would go on for ever; the ISO 9660 reader has the same one-owner rule) and
    /// nesting deeper than [`MAX_DEPTH`]. Constant time: each directory's depth is recorded
    /// with its parent, and a directory's ancestors all have a parent already (they were
    /// listed to reach it), so a directory named for the first time cannot be one of them.
    fn check_cycle(&self, dir: NodeId, child: NodeId) -> Result<()> {
        if child == dir || child == self.root {
            return Err(corrupt(format!(
                "directory {} contains itself or an ancestor",
                dir.0
            )));
        }
        let mut parents = self.parents.lock().unwrap();
        match parents.get(&child) {
            Some(&(p, _)) if p == dir => Ok(()),
            Some(&(p, _)) => {
                // Named before from elsewhere: an ancestor of `dir` (a cycle) or not.
                let mut cur = dir;
                for _ in 0..MAX_DEPTH {
                    match parents.get(&cur) {
                        Some(&(up, _)) if up == child => {
                            return Err(corrupt(format!("directory cycle through {}", child.0)));
                        }
                        Some(&(up, _)) => cur = up,
                        None => break,
                    }
                }
                Err(corrupt(format!(
                    "directory {} is linked twice, from directories {} and {}",
                    child.0, p.0, dir.0
                )))
            }
            None => {
                let depth = parents.get(&dir).map_or(0, |&(_, d)| d) + 1;
                if depth > MAX_DEPTH {
                    return Err(corrupt(format!(
                        "directories nested deeper than {MAX_DEPTH}"
                    )));
                }
                parents.insert(child, (dir, depth));
                Ok(())
            }
        }
    }

    fn entries(&self, dir: NodeId) -> Result<Arc<Vec<DirEntry>>> {
        if let Some(d) = self.dirs.lock().unwrap().0.get(&dir) {
            return Ok(d.clone());
        }
        let ino = self.inode(dir)?;
        if ino.meta.kind != FileKind::Dir {
            return Err(FsError::NotDir(format!("node {}", dir.0)));
        }
        let fids = |vol: &Volume| {
            read_all(vol, &ino, MAX_DIR_BYTES, "directory").and_then(|d| parse_fids(&d))
        };
        let fids = match (fids(&self.vol), &self.mirror) {
            (Ok(f), _) => f,
            (Err(e), Some(m)) => fids(m).map_err(|_| e)?,
            (Err(e), None) => return Err(e),
        };
        let mut out = Vec::new();
        let mut subdirs = std::collections::HashSet::new();
        for fid in fids {
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
                if !subdirs.insert(node) {
                    return Err(corrupt(format!(
                        "directory {} is linked twice from directory {}",
                        node.0, dir.0
                    )));
                }
            }
            // UDF 2.60 4.2.2.1.1: names are translated for the OS; '/' and NUL cannot appear,
            // and "." or ".." (only the parent flag may mean that) would let a caller that
            // builds paths walk out of the tree.
            let mut name = fid.name.replace(['/', '\0'], "_");
            if name == "." || name == ".." {
                name.insert(0, '_');
            }
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
        ino.link
            .clone()
            .ok_or_else(|| corrupt("symbolic link without a target"))
    }
    fn lookup(&self, dir: NodeId, name: &str) -> Result<Option<NodeId>> {
        Ok(self
            .entries(dir)?
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.node))
    }
}
