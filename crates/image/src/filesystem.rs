//! Opening the filesystem of a disc: which reader, which view, where it starts.
//!
//! The device is the disc-addressed user-data view (`SectorView::disc_user_data`), so volumes
//! in later sessions resolve their absolute extents. ISO 9660 volume descriptors are looked
//! for at sector 16 of the last data track (the newest session's volume). Without a choice,
//! UDF wins on a bridge disc, then Rock Ridge, then Joliet, then plain ISO 9660.

use crate::ImageError;
use spindle_disc::{Disc, SectorView};
use spindle_fs::{Device, FileSystem, FsError, FsKind};
use std::sync::Arc;

/// The disc-addressed user data of `disc` as a filesystem device, and the LBA of the data
/// track whose volume descriptors (at that LBA + 16) describe the newest volume.
pub fn disc_device(disc: &Arc<Disc>) -> Result<(Device, u32), ImageError> {
    let view = SectorView::disc_user_data(disc.clone())?;
    let base = disc
        .last_data_track()
        .map(|t| t.index1().0.max(0) as u32)
        .unwrap_or(0);
    Ok((Arc::new(view), base))
}

/// The filesystem of `disc`, in the view `kind` names or the best one it has.
///
/// When the last data track holds no volume at all (a Video CD keeps its ISO 9660 volume in
/// track 1 and MPEG streams in the others), earlier data tracks are tried, newest first; a
/// volume that is there but damaged is an error, not a reason to fall back.
pub fn filesystem(
    disc: &Arc<Disc>,
    kind: Option<FsKind>,
) -> Result<Arc<dyn FileSystem>, ImageError> {
    let (dev, base) = disc_device(disc)?;
    let err = |source| ImageError::Filesystem {
        path: disc.source.path.clone(),
        source,
    };
    let first = match open_on(dev.clone(), base, kind) {
        Err(e @ FsError::NotFound(_)) => e,
        other => return other.map_err(err),
    };
    let mut bases: Vec<u32> = disc
        .tracks()
        .filter(|t| t.mode.is_data())
        .map(|t| t.index1().0.max(0) as u32)
        .collect();
    bases.dedup();
    for b in bases.into_iter().rev().filter(|&b| b != base) {
        if let Ok(fs) = open_on(dev.clone(), b, kind) {
            return Ok(fs);
        }
    }
    Err(err(first))
}

fn open_on(dev: Device, base: u32, kind: Option<FsKind>) -> Result<Arc<dyn FileSystem>, FsError> {
    match kind {
        Some(FsKind::Udf) => spindle_udf::open_udf(dev),
        Some(k) => {
            let v = spindle_fs::detect(dev.as_ref(), base)?;
            let present = match k {
                FsKind::Joliet => v.has_joliet,
                FsKind::RockRidge => v.has_rock_ridge,
                _ => true,
            };
            if !present {
                return Err(FsError::NotFound(k.name()));
            }
            spindle_fs::open_iso(dev, k, base)
        }
        None => {
            let iso = spindle_fs::detect(dev.as_ref(), base);
            // UDF first: on a bridge disc it is the richer view, and DVD/BD media may have only it.
            if spindle_udf::detect(dev.clone())
                && let Ok(fs) = spindle_udf::open_udf(dev.clone())
            {
                return Ok(fs);
            }
            let v = iso?;
            let k = if v.has_rock_ridge {
                FsKind::RockRidge
            } else if v.has_joliet {
                FsKind::Joliet
            } else {
                FsKind::Iso9660
            };
            spindle_fs::open_iso(dev, k, base)
        }
    }
}

/// A file of an ISO 9660 volume found by where its content starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsoFile {
    /// `/`-separated path from the root, ISO 9660 names without `;1`.
    pub path: String,
    /// Bytes of the file (its first extent).
    pub size: u64,
}

/// Directories and records a search of [`iso_file_at`] looks at, at most.
const MAX_DIRS: usize = 10_000;
const MAX_RECORDS: usize = 200_000;
/// Directory bytes a search reads, at most.
const MAX_DIR_BYTES: u64 = 256 << 20;

/// The file of the ISO 9660 volume described at `base + 16` whose extent starts at block
/// `lba`, as `xorriso` finds the file of a boot image. Walks the primary volume's directory
/// tree breadth-first with a queue (no recursion), each directory extent once, within
/// 10,000 directories, 200,000 records and 256 MiB of directory bytes. `None` when no file
/// starts there, the volume cannot be read, or a bound is reached first.
pub fn iso_file_at(dev: &dyn spindle_disc::ByteSource, base: u32, lba: u32) -> Option<IsoFile> {
    let read = |at: u64, len: usize| -> Option<Vec<u8>> {
        let mut b = vec![0u8; len];
        let mut n = 0;
        while n < len {
            match dev.read_at(&mut b[n..], at + n as u64) {
                Ok(0) | Err(_) => return None,
                Ok(k) => n += k,
            }
        }
        Some(b)
    };
    let pvd = (base as u64 + 16..base as u64 + 32).find_map(|s| {
        let d = read(s * 2048, 2048)?;
        (&d[1..6] == b"CD001" && d[0] == 1).then_some(d)
    })?;
    let le = |b: &[u8], at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let root = &pvd[156..190];
    let mut queue = std::collections::VecDeque::from([(String::new(), le(root, 2), le(root, 10))]);
    let mut seen = std::collections::HashSet::new();
    let mut records = 0usize;
    let mut budget = MAX_DIR_BYTES;
    while let Some((path, extent, size)) = queue.pop_front() {
        if !seen.insert(extent) || seen.len() > MAX_DIRS {
            continue;
        }
        if budget == 0 {
            return None;
        }
        let want = (size as u64).min(budget);
        budget -= want;
        let dir = read(extent as u64 * 2048, want as usize)?;
        let mut at = 0usize;
        while at < dir.len() {
            let len = dir[at] as usize;
            if len == 0 {
                // Records do not cross sector boundaries: go on at the next sector.
                at = (at / 2048 + 1) * 2048;
                continue;
            }
            records += 1;
            if records > MAX_RECORDS || at + len > dir.len() || len < 34 {
                return None;
            }
            let r = &dir[at..at + len];
            let name_len = r[32] as usize;
            let name = r.get(33..33 + name_len)?;
            at += len;
            if name == [0] || name == [1] {
                continue;
            }
            let name = String::from_utf8_lossy(name);
            let name = name
                .split(';')
                .next()
                .unwrap_or_default()
                .trim_end_matches('.');
            let child = format!("{path}/{name}");
            let (ext, sz) = (le(r, 2), le(r, 10));
            if r[25] & 2 != 0 {
                queue.push_back((child, ext, sz));
            } else if ext == lba && sz > 0 {
                return Some(IsoFile {
                    path: child,
                    size: sz as u64,
                });
            }
        }
    }
    None
}
