//! Is the whole disc there? What the image's own structures declare, compared with what it
//! holds: the byte ranges the track layout reads from each file, the ISO 9660 volume space
//! size, and the end of every UDF partition and of the reserve volume descriptor sequence.
//!
//! A file cut short (the first megabyte of a bigger ISO, an interrupted download) still
//! opens: the format readers size the last track by the file. These checks say what is
//! missing, in sectors and bytes.

use serde::Serialize;
use spindle_disc::{ByteSource, Disc, ExtentData, SectorView};
use std::sync::Arc;

/// One place where the image holds less than it declares.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct MissingData {
    /// What declares the size (`ISO 9660 volume space size`, `UDF partition 0`...).
    pub declared_by: String,
    /// Sectors (2048 bytes) or bytes the structure declares, and the image holds.
    pub declared: u64,
    /// Sectors or bytes (as `unit` says) the image holds of them.
    pub present: u64,
    /// "sectors" or "bytes".
    pub unit: &'static str,
}

impl MissingData {
    /// Bytes missing.
    pub fn missing_bytes(&self) -> u64 {
        let n = self.declared - self.present;
        if self.unit == "sectors" { n * 2048 } else { n }
    }
}

impl std::fmt::Display for MissingData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} declares {} {} but the image holds {}: {} {} ({}) missing",
            self.declared_by,
            self.declared,
            self.unit,
            self.present,
            self.declared - self.present,
            self.unit,
            human(self.missing_bytes())
        )
    }
}

/// A byte count for people: "11.1 MiB, 11659264 bytes" (the container crate's wording).
fn human(n: u64) -> String {
    if n < 1024 {
        format!("{n} bytes")
    } else {
        format!("{}, {n} bytes", spindle_container::human(n))
    }
}

/// Every place where `disc` holds less than its structures declare.
pub fn missing_data(disc: &Arc<Disc>) -> Vec<MissingData> {
    let mut out = stored_ranges(disc);
    let end = disc
        .tracks()
        .map(|t| t.end().0.max(0) as u64)
        .max()
        .unwrap_or(0);
    let Ok(view) = SectorView::disc_user_data(disc.clone()) else {
        return out;
    };
    let read = |sector: u64| -> Option<Vec<u8>> {
        let mut b = vec![0u8; 2048];
        (view.read_at(&mut b, sector * 2048).ok()? == 2048).then_some(b)
    };
    let mut bases: Vec<u64> = disc
        .tracks()
        .filter(|t| t.mode.is_data())
        .map(|t| t.index1().0.max(0) as u64)
        .collect();
    bases.dedup();
    for base in bases {
        if let Some(vss) = iso_volume_end(&read, base)
            && vss > end
        {
            out.push(MissingData {
                declared_by: "the ISO 9660 volume space size".into(),
                declared: vss,
                present: end,
                unit: "sectors",
            });
        }
    }
    for (what, declared) in udf_extents(&read) {
        if declared > end {
            out.push(MissingData {
                declared_by: what,
                declared,
                present: end,
                unit: "sectors",
            });
        }
    }
    out
}

/// Each stored run of sectors that reaches past the end of its file.
fn stored_ranges(disc: &Disc) -> Vec<MissingData> {
    let mut out = Vec::new();
    for t in disc.tracks() {
        for e in &t.extents {
            if let ExtentData::Stored(s) = &e.data {
                let need = s.offset + e.sectors as u64 * s.stride(t.mode) as u64;
                let have = s.file.len();
                if need > have {
                    out.push(MissingData {
                        declared_by: format!(
                            "track {} (stored in {})",
                            t.number,
                            s.file.path().display()
                        ),
                        declared: need,
                        present: have,
                        unit: "bytes",
                    });
                }
            }
        }
    }
    out
}

/// The end (absolute sector) of the ISO 9660 volume whose descriptors start at `base + 16`.
fn iso_volume_end(read: &dyn Fn(u64) -> Option<Vec<u8>>, base: u64) -> Option<u64> {
    for s in base + 16..base + 32 {
        let d = read(s)?;
        if &d[1..6] != b"CD001" || d[0] == 0xFF {
            return None;
        }
        if d[0] == 1 {
            let vss = u32::from_le_bytes(d[80..84].try_into().ok()?) as u64;
            // A volume of a later session counts from LBA 0 (mkisofs -C); one written on
            // its own counts from its track.
            return Some(if vss > base { vss } else { base + vss });
        }
    }
    None
}

/// ECMA-167 3/10.5.7 access type of a write-once partition.
const WRITE_ONCE: u32 = 2;

/// The end of each UDF partition (but write-once ones) and of the reserve volume descriptor
/// sequence, from the anchor at sector 256 (2048-byte blocks).
fn udf_extents(read: &dyn Fn(u64) -> Option<Vec<u8>>) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let Some(anchor) = read(256).and_then(|b| spindle_udf::parse_anchor(&b).ok()) else {
        return out;
    };
    let sectors = |len: u32| (len as u64).div_ceil(2048);
    if anchor.reserve.len > 0 {
        out.push((
            "the UDF reserve volume descriptor sequence".to_string(),
            anchor.reserve.loc as u64 + sectors(anchor.reserve.len),
        ));
    }
    let (start, count) = (anchor.main.loc as u64, sectors(anchor.main.len).min(64));
    for s in start..start + count {
        let Some(b) = read(s) else { break };
        let Ok(tag) = spindle_udf::parse_tag(&b) else {
            break;
        };
        match tag.ident {
            spindle_udf::ident::PARTITION => {
                // A write-once partition (CD-R/DVD-R with a VAT) covers the blank space of
                // the disc too: an image of what was written is shorter, and whole.
                if let Ok(pd) = spindle_udf::parse_partition_desc(&b)
                    && pd.access_type != WRITE_ONCE
                {
                    out.push((
                        format!("UDF partition {}", pd.number),
                        pd.start as u64 + pd.len as u64,
                    ));
                }
            }
            spindle_udf::ident::TERMINATING => break,
            _ => {}
        }
    }
    out
}
