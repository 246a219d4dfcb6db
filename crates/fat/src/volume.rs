//! A whole FAT volume as pieces of bytes: boot sector, FSInfo, the two FATs, the directories
//! and the files' bytes, each file in one run of clusters.

use crate::error::{FatError, Result};
use crate::layout::{self, FatType, Geometry, SECTOR};
use crate::names::{self, ShortNames};
use crate::sectors::{boot_sector, encode_fat, fs_info};
use crate::time::{FatTime, fat_time};
use crate::tree::{Kind, Tree};
use spindle_bytes::{ByteSource, Concat, Piece};
use std::sync::Arc;

/// Attribute bits of a directory entry.
const ATTR_LABEL: u8 = 0x08;
const ATTR_DIR: u8 = 0x10;
const ATTR_ARCHIVE: u8 = 0x20;

/// How to make the volume.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The FAT type; by default FAT32 from 512 MiB, else FAT16, else FAT12.
    pub fat_type: Option<FatType>,
    /// Bytes per cluster; by default from the volume's size (4 KiB up to 8 GiB for FAT32).
    pub cluster_bytes: Option<u32>,
    /// The volume serial number (the caller picks it, so that the bytes are reproducible).
    pub serial: u32,
    /// Volume label, up to 11 characters valid in a short name (stored upper-case).
    pub label: Option<String>,
    /// Sectors before the volume on its disk (the partition's start), for the boot sector.
    pub hidden_sectors: u32,
    /// Code for the boot sector after the BPB: up to 420 bytes on FAT32 (offset 90), 448 on
    /// FAT12/16 (offset 62). By default `int 0x18` (boot the next device) and a halt loop.
    pub boot_code: Option<Vec<u8>>,
    /// More boot code for reserved sectors 2 to 5 (FAT32 only; up to 2048 bytes), which the
    /// boot sector's code loads ([`crate::boot`]).
    pub boot_sectors: Option<Vec<u8>>,
}

/// A laid-out volume. As a [`ByteSource`] it is the whole volume (free clusters read as
/// zeros); [`Volume::content`] is the part that must be written.
pub struct Volume {
    /// Where everything is.
    pub geometry: Geometry,
    /// Bytes from the volume's start up to the end of the last used cluster.
    content: Concat,
    /// The whole volume.
    whole: Concat,
}

impl Volume {
    /// Lays out `tree` on a volume of `bytes` bytes (rounded down to whole sectors).
    pub fn build(tree: &Tree, opts: &Options, bytes: u64) -> Result<Volume> {
        let total = bytes / SECTOR;
        if total > u64::from(u32::MAX) {
            return Err(FatError::Geometry {
                size: bytes,
                reason: "over 2 TiB, more sectors than FAT can count".into(),
            });
        }
        let label = label_bytes(opts.label.as_deref())?;
        if let Some(code) = &opts.boot_code {
            let room = if opts.fat_type == Some(FatType::Fat32) {
                420
            } else {
                448
            };
            if code.len() > room {
                return Err(FatError::BootCode {
                    len: code.len(),
                    room,
                });
            }
        }
        let shorts = short_names(tree)?;
        let mut counts = vec![0usize; tree.nodes.len()];
        for (id, node) in tree.nodes.iter().enumerate() {
            if let Kind::Dir { children, .. } = &node.kind {
                let own = if id == 0 {
                    usize::from(label.is_some())
                } else {
                    2
                };
                let n = own + children.iter().map(|&c| entries_of(tree, c)).sum::<usize>();
                if n > 65536 {
                    return Err(FatError::DirectoryTooLarge {
                        path: tree.path_of(id),
                        entries: n,
                    });
                }
                counts[id] = n;
            }
        }
        let geometry = layout::plan(total, opts.fat_type, opts.cluster_bytes, counts[0])?;
        let g = &geometry;
        let cb = g.cluster_bytes();
        let fat32 = g.fat_type == FatType::Fat32;

        // Clusters: directories first (the FAT32 root at cluster 2), then files, in tree order.
        let mut first = vec![0u64; tree.nodes.len()];
        let mut len = vec![0u64; tree.nodes.len()];
        let mut next = 2u64;
        let mut order = Vec::new();
        let dirs = tree
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.kind, Kind::Dir { .. }));
        let files = tree
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.kind, Kind::File(_)));
        for (id, node) in dirs.chain(files) {
            let bytes = match &node.kind {
                Kind::Dir { .. } if id == 0 && !fat32 => continue,
                Kind::Dir { .. } => (counts[id] as u64 * 32).max(1),
                Kind::File(data) => data.len(),
            };
            let n = bytes.div_ceil(cb);
            if n > 0 {
                first[id] = next;
                len[id] = n;
                next += n;
                order.push(id);
            }
        }
        if next - 2 > g.clusters {
            return Err(FatError::Geometry {
                size: bytes,
                reason: format!(
                    "the files need {} clusters of {cb} bytes ({} bytes), the volume has {}",
                    next - 2,
                    (next - 2) * cb,
                    g.clusters
                ),
            });
        }

        // Directory contents.
        let mut dir_bytes: Vec<Option<Vec<u8>>> = vec![None; tree.nodes.len()];
        for (id, node) in tree.nodes.iter().enumerate() {
            let Kind::Dir { children, .. } = &node.kind else {
                continue;
            };
            let mut d = Vec::with_capacity(counts[id] * 32);
            let t = fat_time(node.mtime);
            if id == 0 {
                if let Some(l) = &label {
                    d.extend_from_slice(&entry(l, ATTR_LABEL, 0, 0, t));
                }
            } else {
                let parent = node.parent;
                d.extend_from_slice(&entry(b".          ", ATTR_DIR, first[id], 0, t));
                let up = if parent == 0 { 0 } else { first[parent] };
                let pt = fat_time(tree.nodes[parent].mtime);
                d.extend_from_slice(&entry(b"..         ", ATTR_DIR, up, 0, pt));
            }
            for &c in children {
                let child = &tree.nodes[c];
                let short = shorts[c];
                if names::exact_short(&child.name).is_none() {
                    for e in names::lfn_entries(&child.name, &short) {
                        d.extend_from_slice(&e);
                    }
                }
                let (attr, size) = match &child.kind {
                    Kind::Dir { .. } => (ATTR_DIR, 0),
                    Kind::File(data) => (ATTR_ARCHIVE, data.len() as u32),
                };
                d.extend_from_slice(&entry(&short, attr, first[c], size, fat_time(child.mtime)));
            }
            dir_bytes[id] = Some(d);
        }

        // The FAT: each run of clusters chained, its last one the end of chain.
        let eoc: u32 = match g.fat_type {
            FatType::Fat12 => 0xFFF,
            FatType::Fat16 => 0xFFFF,
            FatType::Fat32 => 0x0FFF_FFFF,
        };
        let mut fat = vec![0u32; next as usize];
        fat[0] = eoc & !7; // the media byte 0xF8 in the low bits, the rest set
        fat[1] = eoc;
        for &id in &order {
            let (s, n) = (first[id], len[id]);
            for c in s..s + n - 1 {
                fat[c as usize] = (c + 1) as u32;
            }
            fat[(s + n - 1) as usize] = eoc;
        }
        let fat: Arc<[u8]> = encode_fat(&fat, g.fat_type).into();

        let mut pieces = Vec::new();
        let boot = boot_sector(g, opts, label.as_ref());
        if fat32 {
            let info = fs_info(g.clusters - (next - 2), next);
            let mut head = vec![0u8; 8 * SECTOR as usize];
            head[..512].copy_from_slice(&boot);
            head[512..1024].copy_from_slice(&info);
            head[6 * 512..7 * 512].copy_from_slice(&boot);
            head[7 * 512..8 * 512].copy_from_slice(&info);
            if let Some(more) = &opts.boot_sectors {
                head[1024..1024 + more.len()].copy_from_slice(more);
            }
            pieces.push(Piece::Data(head.into()));
            pieces.push(Piece::Zeros((g.reserved - 8) * SECTOR));
        } else {
            pieces.push(Piece::Data(boot.to_vec().into()));
            pieces.push(Piece::Zeros((g.reserved - 1) * SECTOR));
        }
        for _ in 0..2 {
            pieces.push(Piece::Data(fat.clone()));
            pieces.push(Piece::Zeros(g.fat_sectors * SECTOR - fat.len() as u64));
        }
        if !fat32 {
            let root = dir_bytes[0].take().unwrap_or_default();
            let room = g.root_sectors() * SECTOR;
            let pad = room - root.len() as u64;
            pieces.push(Piece::Data(root.into()));
            pieces.push(Piece::Zeros(pad));
        }
        // Padding between the root region and the aligned data area is already in `reserved`.
        for &id in &order {
            let used = match &tree.nodes[id].kind {
                Kind::Dir { .. } => {
                    let d = dir_bytes[id].take().unwrap_or_default();
                    let n = d.len() as u64;
                    pieces.push(Piece::Data(d.into()));
                    n
                }
                Kind::File(data) => {
                    pieces.push(Piece::Source(data.clone()));
                    data.len()
                }
            };
            pieces.push(Piece::Zeros(len[id] * cb - used));
        }
        let content = Concat::new(pieces.clone(), "FAT volume");
        let end = g.total_sectors * SECTOR;
        pieces.push(Piece::Zeros(end - content.len()));
        let whole = Concat::new(pieces, "FAT volume");
        Ok(Volume {
            geometry,
            content,
            whole,
        })
    }

    /// The bytes that must be written: everything up to the end of the last used cluster.
    /// The rest of the volume is free clusters, whose contents do not matter.
    pub fn content(&self) -> &Concat {
        &self.content
    }

    /// The whole volume, free clusters as zeros.
    pub fn whole(&self) -> &Concat {
        &self.whole
    }
}

impl ByteSource for Volume {
    fn len(&self) -> u64 {
        self.whole.len()
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        self.whole.read_at(buf, offset)
    }
    fn runs(&self, offset: u64, len: u64) -> Vec<spindle_bytes::Run> {
        self.whole.runs(offset, len)
    }
}

/// How many directory entries node `id` takes in its parent.
fn entries_of(tree: &Tree, id: usize) -> usize {
    names::entry_count(&tree.nodes[id].name)
}

/// The short name of every node (the root's is unused), directory by directory: exact 8.3
/// names first, then aliases in the order the names were added.
fn short_names(tree: &Tree) -> Result<Vec<[u8; 11]>> {
    let mut out = vec![[b' '; 11]; tree.nodes.len()];
    for node in &tree.nodes {
        let Kind::Dir { children, .. } = &node.kind else {
            continue;
        };
        let mut taken = ShortNames::default();
        for &c in children {
            if let Some(s) = names::exact_short(&tree.nodes[c].name) {
                taken.reserve(s);
                out[c] = s;
            }
        }
        for &c in children {
            let name = &tree.nodes[c].name;
            if names::exact_short(name).is_none() {
                out[c] = taken.alias(name).ok_or_else(|| FatError::NoAlias {
                    path: tree.path_of(c),
                })?;
            }
        }
    }
    Ok(out)
}

/// The volume label as 11 bytes, checked.
fn label_bytes(label: Option<&str>) -> Result<Option<[u8; 11]>> {
    let Some(l) = label else { return Ok(None) };
    let bad = |reason| FatError::Label {
        label: l.into(),
        reason,
    };
    let up = l.to_ascii_uppercase();
    if up.is_empty() || up.len() > 11 {
        return Err(bad("must be 1 to 11 characters"));
    }
    if !up.bytes().all(|c| {
        c == b' '
            || c.is_ascii_uppercase()
            || c.is_ascii_digit()
            || b"!#$%&'()-@^_`{}~".contains(&c)
    }) {
        return Err(bad(
            "only letters, digits, spaces and ! # $ % & ' ( ) - @ ^ _ ` { } ~",
        ));
    }
    let mut out = [b' '; 11];
    out[..up.len()].copy_from_slice(up.as_bytes());
    Ok(Some(out))
}

/// One short directory entry.
fn entry(name: &[u8; 11], attr: u8, first: u64, size: u32, t: FatTime) -> [u8; 32] {
    let mut e = [0u8; 32];
    e[..11].copy_from_slice(name);
    e[11] = attr;
    e[13] = t.hundredths;
    e[14..16].copy_from_slice(&t.time.to_le_bytes());
    e[16..18].copy_from_slice(&t.date.to_le_bytes());
    e[18..20].copy_from_slice(&t.date.to_le_bytes());
    e[20..22].copy_from_slice(&((first >> 16) as u16).to_le_bytes());
    e[22..24].copy_from_slice(&t.time.to_le_bytes());
    e[24..26].copy_from_slice(&t.date.to_le_bytes());
    e[26..28].copy_from_slice(&(first as u16).to_le_bytes());
    e[28..32].copy_from_slice(&size.to_le_bytes());
    e
}
