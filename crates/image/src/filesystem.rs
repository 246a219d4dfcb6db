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
    let base = disc.last_data_track().map(|t| t.index1().0.max(0) as u32).unwrap_or(0);
    Ok((Arc::new(view), base))
}

/// The filesystem of `disc`, in the view `kind` names or the best one it has.
///
/// When the last data track holds no volume at all (a Video CD keeps its ISO 9660 volume in
/// track 1 and MPEG streams in the others), earlier data tracks are tried, newest first; a
/// volume that is there but damaged is an error, not a reason to fall back.
pub fn filesystem(disc: &Arc<Disc>, kind: Option<FsKind>) -> Result<Arc<dyn FileSystem>, ImageError> {
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
