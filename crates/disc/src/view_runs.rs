//! What a [`SectorView`]'s bytes are made of: which runs the image stores and which are
//! synthesised (NBD `base:allocation`, sparse copies), and the one plain file a user-data view
//! may be, byte for byte (FUSE passthrough, `sendfile`).

use crate::addr::Lba;
use crate::extent::{ByteSource, ExtentData, MainLayout, SubLayout};
use crate::model::{Track, TrackMode};
use crate::read::{MainFormat, SubFormat};
use crate::views::SectorView;
use std::sync::Arc;

/// A run of a view's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRun {
    pub len: u64,
    /// The image stores these sectors (else they are synthesised).
    pub stored: bool,
    /// Known to read as zeros (synthesised user data, unstored audio, gaps between tracks).
    pub zero: bool,
}

impl SectorView {
    /// The runs of `[offset, offset + len)` (clipped to the view), in order, the first one
    /// starting at `offset`; neighbours of the same kind are merged.
    pub fn runs(&self, offset: u64, len: u64) -> Vec<ByteRun> {
        let end = offset.saturating_add(len).min(self.len());
        let mut out: Vec<ByteRun> = Vec::new();
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
            match out.last_mut() {
                Some(r) if r.stored == stored && r.zero == zero => r.len += b - a,
                _ => out.push(ByteRun {
                    len: b - a,
                    stored,
                    zero,
                }),
            }
            s += n;
        }
        out
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
                Some((left, data)) => {
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

    /// The one plain file (no headers, no compression, 2048-byte sectors) whose bytes from
    /// the returned offset are this view's bytes, if there is one.
    pub fn plain_source(&self) -> Option<(Arc<dyn ByteSource>, u64)> {
        let f = self.format();
        if f.main != MainFormat::User2048 || f.sub != SubFormat::None || self.is_empty() {
            return None;
        }
        let t = self.disc().locate(self.start())?.1;
        if !matches!(t.mode, TrackMode::Mode1 | TrackMode::Mode2Form1) {
            return None;
        }
        let mut at = t.start;
        for e in &t.extents {
            let end = at.offset(e.sectors as i64);
            if self.start() >= at && self.start() < end {
                let ExtentData::Stored(s) = &e.data else {
                    return None;
                };
                let plain = self.start().offset(self.sectors() as i64) <= end
                    && s.main == MainLayout::USER
                    && s.sub == SubLayout::None
                    && !s.scrambled
                    && s.sub_stream.is_none()
                    && s.file.plain_file().is_some();
                let offset = s.offset + self.start().since(at) as u64 * 2048;
                return (plain && offset + self.len() <= s.file.len())
                    .then(|| (s.file.clone(), offset));
            }
            at = end;
        }
        None
    }
}

/// The extent holding `lba` of `t`: sectors left in it from `lba`, and its data.
fn extent_at(t: &Track, lba: Lba) -> Option<(u32, &ExtentData)> {
    let mut at = t.start;
    for e in &t.extents {
        let end = at.offset(e.sectors as i64);
        if lba >= at && lba < end {
            return Some((end.since(lba) as u32, &e.data));
        }
        at = end;
    }
    None
}

/// A view is a source of the one byte layer: its reads, its runs, and the one zero-copy check
/// (which 2048-byte runs are stored as they read in a plain file).
impl spindle_bytes::ByteSource for SectorView {
    fn len(&self) -> u64 {
        SectorView::len(self)
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        SectorView::read_at(self, offset, buf).map_err(std::io::Error::other)
    }
    fn backing(&self, offset: u64, len: u64) -> Option<spindle_bytes::Backing<'_>> {
        // Only the 2048-byte user-data view maps to stored bytes one to one.
        if self.format() != crate::read::SectorFormat::USER_2048 || offset >= self.len() || len == 0
        {
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
        let (left, data) = extent_at(track, lba)?;
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
        let file = s.file.plain_file()?;
        let mut at = track.start;
        for e in &track.extents {
            let end = at.offset(e.sectors as i64);
            if lba >= at && lba < end {
                break;
            }
            at = end;
        }
        let file_off = s.offset + lba.since(at) as u64 * 2048 + within;
        let run = (left as u64 * 2048 - within).min(len);
        (file_off + run <= s.file.len()).then_some(spindle_bytes::Backing {
            file,
            offset: file_off,
            len: run,
        })
    }
    fn runs(&self, offset: u64, len: u64) -> Vec<spindle_bytes::Run> {
        SectorView::runs(self, offset, len)
            .into_iter()
            .map(|r| spindle_bytes::Run {
                len: r.len,
                stored: r.stored,
                zero: r.zero,
            })
            .collect()
    }
}
