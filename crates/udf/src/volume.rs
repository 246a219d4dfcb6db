//! Opening a volume: the anchor, the volume descriptor sequence, the partitions (with the
//! VAT, sparing tables and metadata file they need), and UDF detection.

use std::collections::HashMap;

use spindle_fs::{FsError, Result};

use crate::descriptors::{
    Anchor, ExtentAd, LbAddr, LogicalVolume, PartitionDesc, PartitionMap, has_nsr_sequence,
    parse_anchor, parse_logical_volume, parse_partition_desc,
};
use crate::icb::{file_type, parse_file_entry};
use crate::inode::{Data, build_inode, load_inode, read_all};
use crate::limits::*;
use crate::partition::{MetaRun, Partition, Volume, parse_vat, vat_label};
use crate::tag::{corrupt, descriptor_name, ident, u16le, u32le, verify_tag};

/// The prevailing descriptors of a volume descriptor sequence (ECMA-167 3/8.4.3).
pub(crate) struct Vds {
    pub(crate) lvd: LogicalVolume,
    pub(crate) pds: HashMap<u16, PartitionDesc>,
}

/// Reads a volume descriptor sequence (ECMA-167 3/8.4.2): sector by sector from `ext`,
/// following volume descriptor pointers, until a terminating descriptor or an unrecorded
/// (all-zero) sector. Every tag is verified; the one that fails is named in the error.
pub(crate) fn read_vds(vol: &Volume, ext: ExtentAd, which: &str) -> Result<Vds> {
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
                if pds
                    .get(&pd.number)
                    .is_none_or(|old| pd.vds_number >= old.vds_number)
                {
                    pds.insert(pd.number, pd);
                }
            }
            ident::LOGICAL_VOLUME => {
                let l = parse_logical_volume(&b).map_err(|e| prefix_vds(e, &name))?;
                if lvd
                    .as_ref()
                    .is_none_or(|old| l.vds_number >= old.vds_number)
                {
                    lvd = Some(l);
                }
            }
            ident::VOLUME_POINTER => {
                let next = ExtentAd::parse(&b, 20);
                (sector, left) = (next.loc as u64, (next.len as u64 / vol.bs).max(1));
                continue 'seq;
            }
            ident::TERMINATING => break,
            ident::PRIMARY_VOLUME
            | ident::IMPL_USE_VOLUME
            | ident::UNALLOCATED_SPACE
            | ident::LV_INTEGRITY => {}
            other => {
                return Err(corrupt(format!(
                    "{name}: unexpected descriptor (tag identifier {other})"
                )));
            }
        }
        sector += 1;
        left -= 1;
    }
    let lvd = lvd.ok_or_else(|| {
        corrupt(format!(
            "{which} volume descriptor sequence has no logical volume descriptor"
        ))
    })?;
    if pds.is_empty() {
        return Err(corrupt(format!(
            "{which} volume descriptor sequence has no partition descriptor"
        )));
    }
    Ok(Vds { lvd, pds })
}

/// Prefixes a descriptor's parse error with where it was found.
pub(crate) fn prefix_vds(e: FsError, name: &str) -> FsError {
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
pub(crate) fn find_anchor(vol: &Volume) -> Result<(Anchor, bool)> {
    let n = vol.sectors();
    let mut first_err = None;
    let mut inexact = None;
    for s in [
        Some(256),
        n.checked_sub(256).filter(|&s| s > 256),
        n.checked_sub(1).filter(|&s| s > 256),
    ]
    .into_iter()
    .flatten()
    {
        match vol
            .read_sector(s)
            .and_then(|b| Ok((parse_anchor(&b)?, u32le(&b, 12) as u64 == s)))
        {
            // The tag location names the sector (ECMA-167 3/7.2.8): with the wrong block
            // size an anchor can be seen where it is not (the last 2048 bytes of a volume of
            // 4096-byte blocks hold its last anchor).
            Ok((a, true)) => return Ok((a, true)),
            Ok((a, false)) => {
                inexact.get_or_insert(a);
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if let Some(a) = inexact {
        return Ok((a, false));
    }
    Err(first_err
        .unwrap_or_else(|| corrupt("image too small for an anchor volume descriptor pointer")))
}

/// True when the volume recognition sequence names a UDF volume (BEA01, NSR02/NSR03,
/// TEA01) or there is an anchor volume descriptor pointer at sector 256.
pub fn detect(dev: spindle_fs::Device) -> bool {
    let mut area = vec![0u8; 32 * 2048];
    let mut n = 0;
    while n < area.len() {
        match dev.read_at(&mut area[n..], 32768 + n as u64) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    if [2048, 4096, 8192, 16384, 32768]
        .into_iter()
        .any(|record| has_nsr_sequence(&area[..n], record))
    {
        return true;
    }
    [2048u64, 512, 1024, 4096].into_iter().any(|bs| {
        let mut b = vec![0u8; 512];
        dev.read_exact_at(&mut b, 256 * bs).is_ok() && parse_anchor(&b).is_ok()
    })
}

/// Builds the partitions of the logical volume, one per partition map (UDF 2.60 2.2.4.5).
pub(crate) fn build_partitions(vol: &Volume, vds: &Vds) -> Result<Vec<Partition>> {
    let pd = |n: u16| {
        vds.pds.get(&n).ok_or_else(|| {
            corrupt(format!(
                "partition map names partition {n}, which has no descriptor"
            ))
        })
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
                let (vat, label) = find_vat(&vol2, ph)?;
                parts[i] = Partition::Virtual {
                    phys: ph,
                    vat,
                    label,
                };
            }
            PartitionMap::Metadata {
                number,
                file,
                mirror,
                ..
            } => {
                let ph = under(&mut parts, *number)?;
                let vol2 = Volume {
                    dev: vol.dev.clone(),
                    bs: vol.bs,
                    parts: parts.clone(),
                };
                // UDF 2.60 2.2.13.1: the mirror file holds the same data; it serves when the
                // metadata file is unreadable, and (see `Volume::mirror_view`) when what is read
                // through the metadata file is damaged.
                let main = metadata_runs(&vol2, ph, *file, file_type::METADATA);
                let mirror = if *mirror != *file {
                    metadata_runs(&vol2, ph, *mirror, file_type::METADATA_MIRROR).ok()
                } else {
                    None
                };
                parts[i] = match (main, mirror) {
                    (Ok(runs), mirror) => Partition::Metadata {
                        phys: ph,
                        runs,
                        mirror,
                    },
                    (Err(_), Some(runs)) => Partition::Metadata {
                        phys: ph,
                        runs,
                        mirror: None,
                    },
                    (Err(e), None) => return Err(e),
                };
            }
            _ => {}
        }
    }
    Ok(parts)
}

/// The extents of the metadata (or mirror) file at block `lbn` of partition `ph`.
pub(crate) fn metadata_runs(vol: &Volume, ph: usize, lbn: u32, want: u8) -> Result<Vec<MetaRun>> {
    let ino = load_inode(
        vol,
        LbAddr {
            lbn,
            part: ph as u16,
        },
    )?;
    if ino.file_type != want {
        return Err(corrupt(format!(
            "metadata file has file type {} (expected {want})",
            ino.file_type
        )));
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
pub(crate) fn find_vat(vol: &Volume, ph: usize) -> Result<(Vec<u32>, Option<String>)> {
    let Some(Partition::Physical { start, .. } | Partition::Sparable { start, .. }) =
        vol.parts.get(ph)
    else {
        return Err(corrupt("virtual partition over an unusable partition"));
    };
    let n = vol.sectors();
    let mut tried = 0;
    for s in (n.saturating_sub(VAT_SEARCH)..n).rev() {
        if s < *start || s - start > u32::MAX as u64 {
            break;
        }
        let b = vol.read_sector(s)?;
        let id = u16le(&b, 0);
        if id != ident::FILE_ENTRY && id != ident::EXTENDED_FILE_ENTRY {
            continue;
        }
        let Ok(fe) = parse_file_entry(&b) else {
            continue;
        };
        if fe.file_type != file_type::VAT && fe.file_type != file_type::UNSPECIFIED {
            continue;
        }
        // Each candidate may cost a chain of allocation extent descriptors: few are tried.
        tried += 1;
        if tried > VAT_CANDIDATES {
            break;
        }
        let addr = LbAddr {
            lbn: (s - start) as u32,
            part: ph as u16,
        };
        let Ok(ino) = build_inode(vol, addr, addr, fe) else {
            continue;
        };
        let Ok(data) = read_all(vol, &ino, MAX_VAT_BYTES, "VAT") else {
            continue;
        };
        let new_layout = ino.file_type == file_type::VAT;
        if let Ok(vat) = parse_vat(&data, new_layout) {
            return Ok((vat, if new_layout { vat_label(&data) } else { None }));
        }
    }
    Err(corrupt(
        "virtual partition without a VAT in the last sectors of the image",
    ))
}
