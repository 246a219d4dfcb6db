//! A [`SectorView`] as a source of the one byte layer: its reads, which runs the image stores
//! and which are synthesised (NBD `base:allocation`, sparse copies), and the one zero-copy
//! check: which 2048-byte runs are stored as they read in a plain file (FUSE passthrough,
//! `sendfile`, `copy_file_range`).

use crate::addr::Lba;
use crate::extent::{ExtentData, MainLayout, SubLayout};
use crate::model::{Track, TrackMode};
use crate::read::{MainFormat, SectorFormat, SubFormat};
use crate::views::SectorView;
use spindle_bytes::{Backing, ByteSource, Run, push_run};
use std::io;

impl SectorView {
    /// The one zero-copy check: where `[offset, offset + len)` starts in a plain file that
    /// stores it as it reads, up to the end of its extent, with the length of the source
    /// holding it.
    fn stored_at(&self, offset: u64, len: u64) -> Option<(u64, Backing<'_>)> {
        if self.format() != SectorFormat::USER_2048 || offset >= self.len() || len == 0 {
            return None;
        }
        let len = len.min(self.len() - offset);
        let lba = self.start().offset((offset / 2048) as i64);
        let within = offset % 2048;
        let (_, track) = self.disc().locate(lba)?;
        // As `Disc::read_sectors` reads directly: user data stored as is.
        if !matches!(track.mode, TrackMode::Mode1 | TrackMode::Mode2Form1) {
            return None;
        }
        let (first, left, data) = extent_at(track, lba)?;
        let ExtentData::Stored(s) = data else {
            return None;
        };
        if s.sub != SubLayout::None
            || s.scrambled
            || s.sub_stream.is_some()
            || s.main != MainLayout::USER
            || s.stride(track.mode) != 2048
        {
            return None;
        }
        let file_off = s.offset + lba.since(first) as u64 * 2048 + within;
        let run = (left as u64 * 2048 - within).min(len);
        // A truncated image reads as an error, never as a shorter copy.
        if file_off.checked_add(run)? > s.file.len() {
            return None;
        }
        Some((s.file.len(), s.file.backing(file_off, run)?))
    }

    /// Whether a synthesised sector of `mode` reads as zeros in this view's format.
    fn synthesised_is_zero(&self, mode: TrackMode) -> bool {
        let f = self.format();
        f.sub == SubFormat::None
            && match f.main {
                MainFormat::User2048 | MainFormat::User => true,
                MainFormat::Raw => mode.is_audio(),
                MainFormat::None => false,
            }
    }

    /// How many sectors from `lba` (at most `max`) share one kind: (count, stored, zero).
    fn sector_run(&self, lba: Lba, max: u32) -> (u32, bool, bool) {
        let disc = self.disc();
        match disc.locate(lba) {
            Some((_, t)) if t.mode.is_audio() && self.fills_gaps() => {
                (t.end().since(lba) as u32, false, true)
            }
            Some((_, t)) => match extent_at(t, lba) {
                Some((_, left, data)) => {
                    let stored = !matches!(data, ExtentData::Zero);
                    (
                        left.min(max),
                        stored,
                        !stored && self.synthesised_is_zero(t.mode),
                    )
                }
                None => (t.end().since(lba).max(1) as u32, false, false),
            },
            None => {
                let next = disc.tracks().map(|t| t.start).filter(|&s| s > lba).min();
                let n = next.map_or(max, |n| n.since(lba) as u32);
                (n, false, self.fills_gaps())
            }
        }
    }
}

/// The extent holding `lba` of `t`: its first sector, the sectors left in it from `lba`, and
/// its data.
fn extent_at(t: &Track, lba: Lba) -> Option<(Lba, u32, &ExtentData)> {
    let mut at = t.start;
    for e in &t.extents {
        let end = at.offset(e.sectors as i64);
        if lba >= at && lba < end {
            return Some((at, end.since(lba) as u32, &e.data));
        }
        at = end;
    }
    None
}

impl ByteSource for SectorView {
    fn len(&self) -> u64 {
        SectorView::len(self)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.read_bytes(buf, offset).map_err(io::Error::other)
    }

    /// Only the 2048-byte user-data view of Mode 1 and Mode 2 Form 1 sectors stored as bare
    /// user data (no subchannel, not scrambled, no compression) in a plain file maps one to
    /// one; the run ends with the extent.
    fn backing(&self, offset: u64, len: u64) -> Option<Backing<'_>> {
        let (_, b) = self.stored_at(offset, len)?;
        Some(b)
    }

    /// A view whose bytes are one image file, from its first byte to its last (a plain ISO):
    /// not when the file holds more than the view (a partial last sector, other tracks).
    fn plain_file(&self) -> Option<&std::fs::File> {
        let len = self.len();
        let (file_len, b) = self.stored_at(0, len)?;
        (b.offset == 0 && b.len == len && file_len == len).then_some(b.file)
    }

    fn runs(&self, offset: u64, len: u64) -> Vec<Run> {
        let end = offset.saturating_add(len).min(self.len());
        let mut out = Vec::new();
        if offset >= end {
            return out;
        }
        let ss = self.sector_size() as u64;
        let (first, last) = (offset / ss, (end - 1) / ss);
        let mut s = first;
        while s <= last {
            let lba = self.start().offset(s as i64);
            let max = (last - s + 1).min(u32::MAX as u64) as u32;
            let (n, stored, zero) = self.sector_run(lba, max);
            let n = n.clamp(1, max) as u64;
            let (a, b) = ((s * ss).max(offset), ((s + n) * ss).min(end));
            push_run(
                &mut out,
                Run {
                    len: b - a,
                    stored,
                    zero,
                },
            );
            s += n;
        }
        out
    }
}
