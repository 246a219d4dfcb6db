//! The one definition of a disc's per-track files as redump datfiles list them, shared by
//! `spindle verify` (crates/image) and a rip's hash log (crates/rip), so that both always
//! hash the same bytes.
//!
//! A CD track file holds the track's raw 2352-byte sectors from its pregap (index 0) to the
//! next track, pregap sectors the image did not store included (as a drive reads them),
//! except that track 1 starts at LBA 0: the 150 sectors before LBA 0 are never read. A DVD
//! or BD track file holds 2048-byte user data the same way, and so does a CD image that
//! stores nothing but user data (an ISO, a rip read as user data): its raw sectors would be
//! made up, and the hash of the one track is then that of the ISO file itself.

use crate::addr::Lba;
use crate::error::Result;
use crate::extent::{ExtentData, MainLayout};
use crate::model::{Disc, Track};
use crate::read::SectorFormat;

/// The sectors of one track file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrackFile {
    /// Track number (1..=99).
    pub track: u8,
    /// First sector in the file.
    pub first: Lba,
    /// One past the last.
    pub end: Lba,
}

impl TrackFile {
    /// Sectors in the file.
    pub fn sectors(&self) -> u32 {
        self.end.since(self.first).max(0) as u32
    }
}

/// The track file of `t`: its sectors from index 0 (never before LBA 0) to its end.
pub fn track_file(t: &Track) -> TrackFile {
    let first = if t.start < Lba(0) {
        Lba(0).min(t.end())
    } else {
        t.start
    };
    TrackFile {
        track: t.number,
        first,
        end: t.end(),
    }
}

/// Every track file of `disc`, in disc order.
pub fn track_files(disc: &Disc) -> Vec<TrackFile> {
    disc.tracks().map(track_file).collect()
}

/// The sector format and size of track files: raw 2352 (`raw`) or 2048-byte user data.
pub fn track_file_format(raw: bool) -> (SectorFormat, usize) {
    if raw {
        (SectorFormat::RAW, 2352)
    } else {
        (SectorFormat::USER_2048, 2048)
    }
}

/// True when the track files of `disc` are raw 2352-byte sectors: a CD whose image stores
/// more than user data (an audio track, or data sectors with sync, header, subheader or
/// EDC/ECC). False for DVD and BD, and for a CD image of user data only.
pub fn raw_track_files(disc: &Disc) -> bool {
    let more_than_user = |l: MainLayout| l.sync || l.header || l.subheader || l.edc_ecc;
    disc.medium.is_cd()
        && disc.tracks().any(|t| {
            t.mode.is_audio()
                || t.extents.iter().any(|e| match &e.data {
                    ExtentData::Stored(s) => more_than_user(s.main),
                    ExtentData::Custom(c) => more_than_user(c.main_layout()),
                    ExtentData::Zero => false,
                })
        })
}

/// Sectors handed to `sink` at a time.
pub const TRACK_FILE_CHUNK: u32 = 64;

/// Reads every track file of `disc` in order and hands `sink` (the index of the track file in
/// [`track_files`], its first sector in this piece, the bytes). `raw` picks raw 2352-byte
/// sectors or user data; the form both `verify` and a rip's hash log use is
/// [`raw_track_files`].
pub fn read_track_files(
    disc: &Disc,
    raw: bool,
    sink: &mut dyn FnMut(usize, Lba, &[u8]),
) -> Result<()> {
    let (fmt, size) = track_file_format(raw);
    let mut buf = vec![0u8; TRACK_FILE_CHUNK as usize * size];
    for (i, f) in track_files(disc).into_iter().enumerate() {
        let mut at = f.first;
        // A track with no sectors in its file still gets its (empty) digest.
        sink(i, at, &[]);
        while at < f.end {
            let n = (f.end.since(at) as u32).min(TRACK_FILE_CHUNK);
            let got = disc.read_sectors(at, n, fmt, &mut buf)?;
            sink(i, at, &buf[..got]);
            at = at.offset(n as i64);
        }
    }
    Ok(())
}
