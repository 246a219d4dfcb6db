//! A description of a disc for `spindle info`: the summary itself lives in
//! [`spindle_disc::summary`] (so that the catalogue's `toc.json` needs only the disc); this
//! adds what only readers of formats and filesystems know ([`volume_facts`]).

use spindle_disc::summary::VolumeFacts;
pub use spindle_disc::summary::{DiscInfo, SessionInfo, TrackInfo};
use spindle_disc::{ByteSource, Disc, SectorView};
use std::sync::Arc;

/// The volume identifier of the ISO 9660 (or High Sierra) primary volume descriptor in the
/// first data track, read by crates/fs's descriptor scan (the reader the mounted filesystem uses).
pub fn iso_volume_label(disc: &Arc<Disc>) -> Option<String> {
    use spindle_fs::iso::volume;
    let view = SectorView::first_data_track(disc.clone()).ok()?;
    let found = volume::scan(&view, 0).ok()?;
    let mut pvd = [0u8; volume::SECTOR as usize];
    view.read_exact_at(&mut pvd, found.primary?).ok()?;
    Some(volume::primary_label(&pvd, found.high_sierra))
}

/// The label of the UDF volume, when there is one.
pub fn udf_volume_label(disc: &Arc<Disc>) -> Option<String> {
    let (dev, _) = crate::disc_device(disc).ok()?;
    if !spindle_udf::detect(dev.clone()) {
        return None;
    }
    spindle_udf::open_udf(dev).ok().map(|fs| fs.label())
}

/// What the disc model cannot tell of `disc` alone: the compressed file it was read from,
/// the UDF label when there is no ISO 9660 one, and what data with no known filesystem looks
/// like. The registry attaches this to every disc it opens ([`Disc::volume_probe`]).
pub fn volume_facts(disc: &Arc<Disc>) -> VolumeFacts {
    let (on_disk, container) = crate::verify::stored_image(disc);
    let iso_label = iso_volume_label(disc);
    VolumeFacts {
        stored: container.map(|c| (on_disk, c)),
        udf_label: match iso_label {
            Some(_) => None,
            None => udf_volume_label(disc),
        },
        iso_label,
        content: crate::content::unrecognised_content(disc),
    }
}

/// The summary of `disc` (what `spindle info --json` prints), whoever opened it.
pub fn info(disc: &Arc<Disc>) -> DiscInfo {
    DiscInfo::with_facts(disc, volume_facts(disc))
}
