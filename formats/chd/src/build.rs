//! Metadata + hunk stream → a [`Disc`].
//!
//! Frame arithmetic (MAME `src/lib/util/cdrom.cpp`, `cdrom_file::cdrom_file`; libmirage
//! `image-chd/parser.c`):
//! * tracks follow one another in the hunk stream, each padded to a multiple of 4 frames
//!   (`TRACK_PADDING`): track n+1 starts at `chd_start(n) + round_up(FRAMES(n), 4)`;
//! * a pregap whose `PGTYPE` starts with `V` is stored: the first `PREGAP` of the track's
//!   `FRAMES` frames; any other pregap is not stored and comes before them;
//! * `POSTGAP` frames are never stored;
//! * on the disc, tracks are contiguous from LBA −150: track 1 gets the implicit 150-sector
//!   pregap of every CD (unstored) before its own, as in a CUE sheet.
//!
//! One session: CHD CD metadata has no session field.

use crate::error::{ChdError, Result};
use crate::hunks::Hunks;
use crate::metadata::{ChdSubType, ChdTrack};
use crate::source::TrackFrames;
use spindle_disc::cuesheet::DEFAULT_PREGAP;
use spindle_disc::{
    Disc, Extent, ExtentData, Lba, MAX_LBA, Medium, Session, SourceInfo, SubLayout, Track,
    TrackFlags,
};
use std::path::Path;
use std::sync::Arc;

/// Tracks are padded to a multiple of this many frames in the hunk stream.
pub const TRACK_PADDING: u64 = 4;

/// Builds the disc of `tracks` (in metadata order) over `hunks`.
pub fn build(
    tracks: &[ChdTrack],
    hunks: &Arc<Hunks>,
    path: &Path,
    variant: String,
) -> Result<Disc> {
    let corrupt = |message: String| ChdError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    if tracks.is_empty() {
        return Err(corrupt(
            "no CD track metadata (CHT2/CHTR): not a CD image".into(),
        ));
    }
    let stream_frames = hunks.header().frames();
    let mut chd_frame: u64 = 0;
    let mut lba: i64 = -(DEFAULT_PREGAP as i64);
    let mut out = Vec::with_capacity(tracks.len());
    for (i, t) in tracks.iter().enumerate() {
        if t.number as usize != i + 1 {
            return Err(corrupt(format!(
                "track metadata {}: TRACK:{} where track {} was expected",
                i + 1,
                t.number,
                i + 1
            )));
        }
        let (mode, main) = t.kind.mode_layout();
        let sub = match t.sub {
            ChdSubType::RwRaw => SubLayout::Pw96Interleaved,
            // Cooked R-W cannot be combined with synthesised P/Q yet (docs/chd.md).
            ChdSubType::Rw | ChdSubType::None => SubLayout::None,
        };
        let frames = t.frames as u64;
        if chd_frame + frames > stream_frames {
            return Err(corrupt(format!(
                "track {}: frames {chd_frame}..{} lie past the end of the hunk stream ({stream_frames} frames)",
                t.number,
                chd_frame + frames
            )));
        }
        let implicit = if i == 0 { DEFAULT_PREGAP } else { 0 };
        let unstored_pregap = if t.pregap_stored { 0 } else { t.pregap };
        let length = implicit as u64 + unstored_pregap as u64 + frames + t.postgap as u64;
        if lba + length as i64 > MAX_LBA.0 as i64 {
            return Err(corrupt(format!(
                "track {}: ends past sector {} (its gaps or frames are too long)",
                t.number, MAX_LBA
            )));
        }
        let mut extents = Vec::new();
        if implicit + unstored_pregap > 0 {
            extents.push(Extent::zero(implicit + unstored_pregap));
        }
        extents.push(Extent {
            sectors: t.frames,
            data: ExtentData::Custom(Arc::new(TrackFrames {
                hunks: hunks.clone(),
                first_frame: chd_frame,
                frames,
                mode,
                main,
                sub,
            })),
        });
        if t.postgap > 0 {
            extents.push(Extent::zero(t.postgap));
        }
        out.push(Track {
            number: t.number as u8,
            mode,
            flags: TrackFlags::default(),
            isrc: None,
            start: Lba(lba as i32),
            pregap: implicit + t.pregap,
            extra_indexes: Vec::new(),
            length: length as u32,
            postgap: t.postgap,
            extents,
        });
        lba += length as i64;
        chd_frame += frames.div_ceil(TRACK_PADDING) * TRACK_PADDING;
    }
    let mut disc = Disc::new(
        Medium::CdRom,
        SourceInfo {
            format: "chd".into(),
            variant,
            path: path.to_path_buf(),
            files: vec![path.to_path_buf()],
        },
    );
    disc.sessions.push(Session {
        number: 1,
        tracks: out,
        leadout: Lba(lba as i32),
    });
    disc.validate().map_err(|source| ChdError::Disc {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(disc)
}
