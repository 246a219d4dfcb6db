//! Mode 2 sectors that a 2048-byte image (ISO) cannot hold: Form 2 sectors (XA audio and
//! video, 2324 bytes of data) and formless Mode 2 (2336 bytes). Converting them to ISO would
//! keep only the first 2048 bytes of each, so `convert` refuses instead, before anything is
//! written.

use spindle_disc::{
    ByteSource, Disc, MainFormat, SectorFormat, SectorView, SubFormat, TrackMode, sector::is_form2,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Sectors of the track `number` that do not fit 2048 bytes, found by reading each sector's
/// subheader where the form is chosen per sector. `None` when a cancel came first.
pub(crate) fn oversized_sectors(
    disc: &Arc<Disc>,
    number: u8,
    cancel: Option<&AtomicBool>,
) -> Option<u64> {
    let track = disc.tracks().find(|t| t.number == number)?;
    match track.mode {
        TrackMode::Mode2Form2 | TrackMode::Mode2Formless => {
            return Some(u64::from(track.program_length()));
        }
        TrackMode::Mode2Mixed => {}
        _ => return Some(0),
    }
    // The sectors an ISO would hold: index 1 to the end, as the user-data view reads them.
    let raw = SectorFormat {
        main: MainFormat::Raw,
        sub: SubFormat::None,
    };
    let Ok(view) = SectorView::new(disc.clone(), track.index1(), track.program_length(), raw)
    else {
        return Some(0);
    };
    const BATCH: u64 = 256;
    let mut buf = vec![0u8; 2352 * BATCH as usize];
    let mut found = 0u64;
    let total = u64::from(view.sectors());
    let mut at = 0u64;
    while at < total {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return None;
        }
        let n = BATCH.min(total - at);
        let want = (n * 2352) as usize;
        // A sector that cannot be read is the writer's error to report, not this check's.
        let Ok(got) = view.read_at(&mut buf[..want], at * 2352) else {
            break;
        };
        found += buf[..got]
            .chunks_exact(2352)
            .filter(|s| s[15] == 2 && is_form2(&s[16..24]))
            .count() as u64;
        if got < want {
            break;
        }
        at += n;
    }
    Some(found)
}
