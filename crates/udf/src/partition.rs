//! Partitions: turning (partition reference, logical block) into a device sector.
//!
//! - Type 1 maps: the partition descriptor's sectors as they are (ECMA-167 3/10.7.2).
//! - Sparable partitions (UDF 2.60 2.2.9, 2.2.12): packets listed in a sparing table are read
//!   from their replacement sectors.
//! - Virtual partitions (UDF 2.60 2.2.8, 2.2.11): the virtual allocation table (VAT) gives each
//!   virtual block its block in the underlying physical partition.
//! - Metadata partitions (UDF 2.60 2.2.10, 2.2.13): blocks are those of the metadata file,
//!   whose extents lie in the underlying physical partition.

use std::io;

use spindle_fs::{Device, Result};

use crate::descriptors::Regid;
use crate::tag::{corrupt, u16le, u32le, verify_tag};

/// At most this many bytes of a sparing table are read.
const MAX_SPARING_TABLE: u32 = 1 << 20;

#[derive(Clone, Debug)]
pub(crate) enum Partition {
    Physical {
        start: u64,
        len: u64,
    },
    Sparable {
        start: u64,
        len: u64,
        packet: u64,
        map: Vec<(u32, u32)>,
    },
    /// `label`: the logical volume identifier of a UDF 2.00+ VAT, which supersedes the
    /// logical volume descriptor's (the descriptor cannot be rewritten on write-once media;
    /// udftools' udflabel changes the label there).
    Virtual {
        phys: usize,
        vat: Vec<u32>,
        label: Option<String>,
    },
    /// `mirror`: the metadata mirror file's runs, when it is readable and distinct.
    Metadata {
        phys: usize,
        runs: Vec<MetaRun>,
        mirror: Option<Vec<MetaRun>>,
    },
    /// A map this reader does not know, or one not set up yet.
    Unusable,
}

/// A run of the metadata file: metadata blocks `start..start+count` are at `phys_lbn..` of
/// the underlying partition (or read as zeros when not recorded).
#[derive(Clone, Copy, Debug)]
pub(crate) struct MetaRun {
    pub start: u64,
    pub count: u64,
    pub phys_lbn: u32,
    pub recorded: bool,
}

/// Where a run of partition blocks is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mapped {
    /// `count` contiguous blocks starting at device sector `abs`.
    Sector { abs: u64, count: u64 },
    /// `count` blocks that read as zeros.
    Zero { count: u64 },
}

/// The device, its block size and the logical volume's partitions (indexed by partition
/// reference number).
pub(crate) struct Volume {
    pub dev: Device,
    pub bs: u64,
    pub parts: Vec<Partition>,
}

impl Volume {
    /// Number of whole blocks on the device.
    pub fn sectors(&self) -> u64 {
        self.dev.len() / self.bs
    }

    /// Reads exactly `buf.len()` bytes at device byte `offset`; reading past the end is
    /// corruption (the volume points outside the image).
    pub fn read_abs(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.dev.read_exact_at(buf, offset).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                corrupt(format!(
                    "{} bytes at byte {offset} lie past the end of the image ({} bytes)",
                    buf.len(),
                    self.dev.len()
                ))
            } else {
                e.into()
            }
        })
    }

    /// Reads device sector `sector` (one block).
    pub fn read_sector(&self, sector: u64) -> Result<Vec<u8>> {
        let mut b = vec![0u8; self.bs as usize];
        self.read_abs(sector.saturating_mul(self.bs), &mut b)?;
        Ok(b)
    }

    /// Where blocks `lbn..lbn+count` of partition `part` are (at least one block of them).
    /// A virtual or metadata partition lies over a physical (or sparable) one: one hop, in a
    /// loop (a translated partition over another translated one is refused).
    pub fn map(&self, part: u16, lbn: u64, count: u64) -> Result<Mapped> {
        let (mut part, mut lbn, mut count) = (part as usize, lbn, count.max(1));
        for hop in 0..2 {
            let bad = |len: u64| {
                corrupt(format!(
                    "block {lbn} lies outside partition {part} ({len} blocks)"
                ))
            };
            match self.parts.get(part) {
                None => {
                    return Err(corrupt(format!(
                        "partition reference {part} has no partition map"
                    )));
                }
                Some(Partition::Unusable) => {
                    return Err(corrupt(format!(
                        "partition {part} is of a kind this reader does not support"
                    )));
                }
                Some(Partition::Physical { start, len }) => {
                    if lbn >= *len {
                        return Err(bad(*len));
                    }
                    return Ok(Mapped::Sector {
                        abs: start + lbn,
                        count: count.min(len - lbn),
                    });
                }
                Some(Partition::Sparable {
                    start,
                    len,
                    packet,
                    map,
                }) => {
                    if lbn >= *len {
                        return Err(bad(*len));
                    }
                    let idx = map.partition_point(|e| e.0 as u64 <= lbn);
                    if idx > 0 {
                        let (orig, mapped) = map[idx - 1];
                        if lbn < orig as u64 + packet {
                            let within = lbn - orig as u64;
                            return Ok(Mapped::Sector {
                                abs: mapped as u64 + within,
                                count: count.min(packet - within),
                            });
                        }
                    }
                    let next = map.get(idx).map_or(u64::MAX, |e| e.0 as u64);
                    return Ok(Mapped::Sector {
                        abs: start + lbn,
                        count: count.min(len - lbn).min(next - lbn),
                    });
                }
                Some(Partition::Virtual { phys, vat, .. }) => {
                    if hop > 0 {
                        return Err(corrupt(
                            "a virtual partition is stacked on another translated partition",
                        ));
                    }
                    match vat.get(lbn as usize) {
                        Some(&p) if p != u32::MAX => (part, lbn, count) = (*phys, p as u64, 1),
                        Some(_) => {
                            return Err(corrupt(format!(
                                "virtual block {lbn} is not in use (VAT entry 0xFFFFFFFF)"
                            )));
                        }
                        None => return Err(bad(vat.len() as u64)),
                    }
                }
                Some(Partition::Metadata { phys, runs, .. }) => {
                    if hop > 0 {
                        return Err(corrupt(
                            "a metadata partition is stacked on another translated partition",
                        ));
                    }
                    let idx = runs.partition_point(|r| r.start + r.count <= lbn);
                    let Some(r) = runs.get(idx).filter(|r| r.start <= lbn) else {
                        return Err(corrupt(format!(
                            "metadata block {lbn} lies past the metadata file"
                        )));
                    };
                    let within = lbn - r.start;
                    count = count.min(r.count - within);
                    if !r.recorded {
                        return Ok(Mapped::Zero { count });
                    }
                    (part, lbn) = (*phys, r.phys_lbn as u64 + within);
                }
            }
        }
        Err(corrupt(
            "a translated partition is stacked on another translated partition",
        ))
    }

    /// The same volume read through the metadata mirror files instead of the metadata files,
    /// when there are mirrors (UDF 2.60 2.2.13.1).
    pub fn mirror_view(&self) -> Option<Volume> {
        let mut any = false;
        let parts = self
            .parts
            .iter()
            .map(|p| match p {
                Partition::Metadata {
                    phys,
                    mirror: Some(m),
                    ..
                } => {
                    any = true;
                    Partition::Metadata {
                        phys: *phys,
                        runs: m.clone(),
                        mirror: None,
                    }
                }
                other => other.clone(),
            })
            .collect();
        any.then(|| Volume {
            dev: self.dev.clone(),
            bs: self.bs,
            parts,
        })
    }

    /// Reads `buf.len()` bytes starting `offset` bytes into block `lbn` of partition `part`.
    pub fn read_part(&self, part: u16, lbn: u32, offset: u64, buf: &mut [u8]) -> Result<()> {
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let block = lbn as u64 + pos / self.bs;
            let within = pos % self.bs;
            let left = (buf.len() - done) as u64;
            let blocks = (within + left).div_ceil(self.bs);
            let (n, mapped) = match self.map(part, block, blocks)? {
                m @ Mapped::Sector { count, .. } | m @ Mapped::Zero { count } => {
                    ((count * self.bs - within).min(left) as usize, m)
                }
            };
            let dst = &mut buf[done..done + n];
            match mapped {
                Mapped::Sector { abs, .. } => self.read_abs(abs * self.bs + within, dst)?,
                Mapped::Zero { .. } => dst.fill(0),
            }
            done += n;
        }
        Ok(())
    }

    /// Reads block `lbn` of partition `part`.
    pub fn read_block(&self, part: u16, lbn: u32) -> Result<Vec<u8>> {
        let mut b = vec![0u8; self.bs as usize];
        self.read_part(part, lbn, 0, &mut b)?;
        Ok(b)
    }

    /// Reads the first valid of a sparable partition's sparing tables (UDF 2.60 2.2.12).
    pub fn read_sparing_tables(&self, tables: &[u32], size: u32) -> Result<Vec<(u32, u32)>> {
        let size = size.clamp(56, MAX_SPARING_TABLE) as usize;
        let mut first_err = None;
        for &t in tables {
            let mut b = vec![0u8; size];
            let r = self
                .read_abs(t as u64 * self.bs, &mut b)
                .and_then(|_| parse_sparing_table(&b));
            match r {
                Ok(map) => return Ok(map),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        Err(first_err.unwrap_or_else(|| corrupt("sparable partition without sparing tables")))
    }
}

/// Parses a sparing table (UDF 2.60 2.2.12): returns the (original, mapped) pairs in use,
/// sorted by original block.
pub fn parse_sparing_table(b: &[u8]) -> Result<Vec<(u32, u32)>> {
    let tag = verify_tag(b, "sparing table")?;
    if tag.ident != crate::tag::ident::SPARING_TABLE
        || !Regid::parse(b, 16).is("*UDF Sparing Table")
    {
        return Err(corrupt("sparing table: not a sparing table"));
    }
    let n = u16le(b, 48) as usize;
    let Some(entries) = b.get(56..56 + n * 8) else {
        return Err(corrupt(format!(
            "sparing table: {n} entries overrun the table"
        )));
    };
    let mut map: Vec<(u32, u32)> = entries
        .chunks_exact(8)
        .map(|e| (u32le(e, 0), u32le(e, 4)))
        .filter(|&(orig, _)| orig < 0xFFFF_FFF0)
        .collect();
    map.sort_unstable();
    map.dedup_by_key(|e| e.0);
    Ok(map)
}

/// Parses a VAT file's content (UDF 2.60 2.2.11; UDF 1.50 2.2.10): `new_layout` for the UDF
/// 2.00+ VAT (file type 248, a header first), else the 1.50 layout (entries, then the
/// "*UDF Virtual Alloc Tbl" regid and the previous VAT's location). Returns the entries.
pub fn parse_vat(b: &[u8], new_layout: bool) -> Result<Vec<u32>> {
    let entries = if new_layout {
        let header = u16le(b, 0) as usize;
        if b.len() < 152 || header < 152 || header > b.len() {
            return Err(corrupt(format!(
                "VAT: header length {header} does not fit the {}-byte VAT",
                b.len()
            )));
        }
        &b[header..]
    } else {
        if b.len() < 36 || !Regid::parse(b, b.len() - 36).is("*UDF Virtual Alloc Tbl") {
            return Err(corrupt(
                "VAT: no \"*UDF Virtual Alloc Tbl\" identifier at its end",
            ));
        }
        &b[..b.len() - 36]
    };
    Ok(entries.chunks_exact(4).map(|e| u32le(e, 0)).collect())
}

/// The logical volume identifier in a UDF 2.00+ VAT header (UDF 2.60 2.2.11, bytes 4-131),
/// when there is one.
pub fn vat_label(b: &[u8]) -> Option<String> {
    let label = crate::cs0::decode_dstring(b.get(4..132)?);
    (!label.is_empty()).then_some(label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn sparable_mapping() {
        let vol = Volume {
            dev: Arc::new(spindle_bytes::MemSource::new(vec![0u8; 4096], "udf.img")),
            bs: 2048,
            parts: vec![Partition::Sparable {
                start: 100,
                len: 1000,
                packet: 32,
                map: vec![(64, 5000)],
            }],
        };
        assert_eq!(
            vol.map(0, 10, 100).unwrap(),
            Mapped::Sector {
                abs: 110,
                count: 54
            }
        );
        assert_eq!(
            vol.map(0, 70, 100).unwrap(),
            Mapped::Sector {
                abs: 5006,
                count: 26
            }
        );
        assert_eq!(
            vol.map(0, 96, 2).unwrap(),
            Mapped::Sector { abs: 196, count: 2 }
        );
        assert!(vol.map(0, 1000, 1).is_err());
        assert!(vol.map(1, 0, 1).is_err());
    }

    #[test]
    fn vat_layouts() {
        let mut old = vec![1, 0, 0, 0, 2, 0, 0, 0];
        let mut regid = [0u8; 36];
        regid[1..23].copy_from_slice(b"*UDF Virtual Alloc Tbl");
        old.extend_from_slice(&regid);
        assert_eq!(parse_vat(&old, false).unwrap(), vec![1, 2]);
        assert!(parse_vat(&old[..10], false).is_err());
        let mut new = vec![0u8; 152];
        new[0] = 152;
        new.extend_from_slice(&7u32.to_le_bytes());
        assert_eq!(parse_vat(&new, true).unwrap(), vec![7]);
        new[0] = 0xFF;
        new[1] = 0xFF;
        assert!(parse_vat(&new, true).is_err());
    }
}
