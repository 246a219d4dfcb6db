//! A description of a disc for `spindle info`: the summary itself lives in
//! [`spindle_disc::summary`] (so that the catalogue's `toc.json` needs only the disc); this
//! adds what only readers of formats and filesystems know ([`volume_facts`]).

use spindle_disc::Disc;
use spindle_disc::summary::VolumeFacts;
pub use spindle_disc::summary::iso_volume_label;
pub use spindle_disc::summary::{DiscInfo, SessionInfo, TrackInfo};
use std::sync::Arc;

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
    VolumeFacts {
        stored: container.map(|c| (on_disk, c)),
        udf_label: match iso_volume_label(disc) {
            Some(_) => None,
            None => udf_volume_label(disc),
        },
        content: crate::content::unrecognised_content(disc),
    }
}

/// The summary of `disc` (what `spindle info --json` prints), whoever opened it.
pub fn info(disc: &Arc<Disc>) -> DiscInfo {
    DiscInfo::with_facts(disc, volume_facts(disc))
}
