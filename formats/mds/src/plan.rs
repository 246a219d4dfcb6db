//! What the MDS and MDX writers store of a disc, decided once for both: per track the
//! stored layout, the first stored sector (unstored leading pregap stays unstored, except
//! that track 1 is always stored from LBA 0, and the part of its pregap before LBA 0 never
//! is), and the full-TOC blocks.

use crate::error::{MdsError, Result};
use crate::layout::TrackFormat;
use spindle_disc::{
    Disc, ExtentData, Lba, MainFormat, MainLayout, Medium, SectorFormat, SubFormat, SubLayout,
    TocEntry, Track, TrackMode, WriteOptions,
};

/// One track as written.
#[derive(Clone, Debug)]
pub struct TrackPlan {
    /// The session the track is in, from 1.
    pub session: u8,
    /// Track number, from 1.
    pub number: u8,
    /// How its sectors are stored.
    pub format: TrackFormat,
    /// What to ask the disc for to get the stored bytes.
    pub read: SectorFormat,
    /// The track's first sector (index 0 when it has a pregap).
    pub start: Lba,
    /// The track's index 1.
    pub index1: Lba,
    /// Pregap sectors (from `start` to `index1`).
    pub pregap: u32,
    /// First stored sector (`first_stored .. end` are written).
    pub first_stored: Lba,
    /// The sector after the track's last.
    pub end: Lba,
}

impl TrackPlan {
    /// Sectors written for the track.
    pub fn stored_sectors(&self) -> u64 {
        self.end.since(self.first_stored) as u64
    }
    /// Bytes per sector written.
    pub fn stride(&self) -> usize {
        self.format.stride()
    }
}

/// True when any track of `disc` carries subchannel data worth writing.
pub fn has_subchannel(disc: &Disc) -> bool {
    disc.tracks()
        .flat_map(|t| &t.extents)
        .any(|e| match &e.data {
            ExtentData::Stored(s) => s.sub != SubLayout::None || s.sub_stream.is_some(),
            ExtentData::Custom(c) => c.sub_layout() != SubLayout::None,
            ExtentData::Zero => false,
        })
}

/// True when every stored sector of the track holds its 2048 bytes of user data only, so
/// that writing 2048-byte sectors keeps everything.
fn user_only(t: &Track) -> bool {
    matches!(t.mode, TrackMode::Mode1 | TrackMode::Mode2Form1)
        && t.extents.iter().all(|e| match &e.data {
            ExtentData::Zero => true,
            ExtentData::Stored(s) => {
                s.main == MainLayout::USER && s.sub == SubLayout::None && s.sub_stream.is_none()
            }
            ExtentData::Custom(c) => {
                c.main_layout() == MainLayout::USER && c.sub_layout() == SubLayout::None
            }
        })
}

fn leading_zero(t: &Track) -> u32 {
    t.extents
        .iter()
        .take_while(|e| e.is_zero())
        .map(|e| e.sectors)
        .sum::<u32>()
        .min(t.pregap)
}

/// Refuses a disc the MDS family cannot describe (a BD); `what` names the format in the
/// message.
pub fn check_medium(disc: &Disc, what: &str) -> Result<()> {
    if matches!(disc.medium, Medium::BdRom | Medium::BdR | Medium::BdRe) {
        return Err(MdsError::Unrepresentable(format!(
            "{what} has no Blu-ray medium type; write this {} as ISO",
            disc.medium
        )));
    }
    Ok(())
}

/// Plans every track. Tracks keep raw 2352-byte sectors (plus 96 bytes of PW subchannel when
/// the disc has any), except Mode 1/Form 1 tracks that only ever had user data, and DVDs.
pub fn plan(disc: &Disc) -> Vec<TrackPlan> {
    let sub = disc.medium.is_cd() && has_subchannel(disc);
    let mut out = Vec::new();
    let mut first = true;
    for s in &disc.sessions {
        for t in &s.tracks {
            let (format, read) = if !disc.medium.is_cd() {
                (
                    TrackFormat {
                        mode: TrackMode::Mode1,
                        main: MainLayout::USER,
                        sub: SubLayout::None,
                    },
                    SectorFormat::USER_2048,
                )
            } else if !sub && user_only(t) {
                (
                    TrackFormat {
                        mode: t.mode,
                        main: MainLayout::USER,
                        sub: SubLayout::None,
                    },
                    SectorFormat::USER_2048,
                )
            } else {
                (
                    TrackFormat {
                        mode: t.mode,
                        main: MainLayout::RAW,
                        sub: if sub {
                            SubLayout::Pw96Interleaved
                        } else {
                            SubLayout::None
                        },
                    },
                    SectorFormat {
                        main: MainFormat::Raw,
                        sub: if sub {
                            SubFormat::Pw96
                        } else {
                            SubFormat::None
                        },
                    },
                )
            };
            let mut first_stored = t.start.offset(leading_zero(t) as i64);
            if first && disc.medium.is_cd() {
                // Track 1 is stored from LBA 0 (or its index 1, when earlier): readers take
                // a pregap reaching past LBA 0 (a cue sheet's PREGAP, a hidden track) as
                // stored there, so its unstored part is written out as the disc reads it.
                first_stored = Lba::ZERO.min(t.index1());
            }
            first = false;
            out.push(TrackPlan {
                session: s.number,
                number: t.number,
                format,
                read,
                start: t.start,
                index1: t.index1(),
                pregap: t.pregap,
                first_stored,
                end: t.end(),
            });
        }
    }
    out
}

/// The full-TOC entries of session `n` that are not tracks (A0, A1, A2, B0, C0...), split
/// into those before the tracks (A0–AF) and after (B0 and up).
pub fn lead_in_entries(disc: &Disc, n: u8) -> (Vec<TocEntry>, Vec<TocEntry>) {
    let all: Vec<TocEntry> = disc
        .full_toc_entries()
        .into_iter()
        .filter(|e| e.session == n && !(1..=99).contains(&e.point))
        .collect();
    all.into_iter().partition(|e| e.point < 0xB0)
}

/// Sectors read per batch when writing.
pub const BATCH_SECTORS: u32 = 448;

/// Fills `buf` (whole sectors of the plan's stride) with the track's stored sectors from
/// `first` (counted from `first_stored`), in batches of [`BATCH_SECTORS`].
pub fn read_stored(disc: &Disc, p: &TrackPlan, first: u64, buf: &mut [u8]) -> Result<()> {
    let stride = p.stride();
    for (i, chunk) in buf.chunks_mut(BATCH_SECTORS as usize * stride).enumerate() {
        let lba = p
            .first_stored
            .offset((first + i as u64 * BATCH_SECTORS as u64) as i64);
        let n = (chunk.len() / stride) as u32;
        disc.read_sectors(lba, n, p.read, chunk)
            .map_err(|e| MdsError::Unrepresentable(format!("reading the disc: {e}")))?;
    }
    Ok(())
}

/// Calls `f` with each batch of the track's stored sectors and the index of its first one;
/// stops with [`spindle_disc::Cancelled`] between batches once `options.cancel` is set.
pub fn for_each_batch(
    disc: &Disc,
    p: &TrackPlan,
    options: &WriteOptions,
    mut f: impl FnMut(u64, &mut [u8]) -> Result<()>,
) -> Result<()> {
    let stride = p.stride();
    let total = p.stored_sectors();
    let mut buf = Vec::new();
    let mut first = 0u64;
    while first < total {
        options.check_cancel()?;
        let n = (total - first).min(BATCH_SECTORS as u64);
        buf.resize(n as usize * stride, 0);
        read_stored(disc, p, first, &mut buf)?;
        f(first, &mut buf)?;
        first += n;
    }
    Ok(())
}

/// A write error as an [`MdsError`].
pub fn write_err(e: std::io::Error) -> MdsError {
    MdsError::Unrepresentable(format!("writing: {e}"))
}
