//! One track's frames in the hunk stream, as a [`SectorSource`] for the disc model.
//!
//! A CHD holds every track in one stream of 2448-byte frames: the sector bytes at the start
//! of the frame (2048, 2324, 2336 or 2352 of them, by track type) and 96 bytes of
//! subchannel at offset 2352. Each extent gets a wrapper with its first frame in the stream.

use crate::header::FRAME_BYTES;
use crate::hunks::Hunks;
use spindle_disc::{MainLayout, SectorSource, SubLayout, TrackMode};
use std::io;
use std::sync::Arc;

/// Where the subchannel sits in a frame.
const SUB_OFFSET: usize = 2352;

/// `frames` frames of one track, from frame `first_frame` of the hunk stream.
pub struct TrackFrames {
    /// The hunk stream.
    pub hunks: Arc<Hunks>,
    /// Index of the track's first frame in the stream.
    pub first_frame: u64,
    /// Frames of the track.
    pub frames: u64,
    /// The track's mode.
    pub mode: TrackMode,
    /// What each frame's first 2352 bytes store.
    pub main: MainLayout,
    /// What its last 96 bytes store.
    pub sub: SubLayout,
}

impl SectorSource for TrackFrames {
    fn main_layout(&self) -> MainLayout {
        self.main
    }

    fn sub_layout(&self) -> SubLayout {
        self.sub
    }

    fn read_sectors(&self, first: u64, count: u32, buf: &mut [u8]) -> io::Result<()> {
        let main = self.main.size(self.mode);
        let sub = self.sub.size();
        let stride = main + sub;
        let end = first
            .checked_add(count as u64)
            .filter(|&e| e <= self.frames);
        if end.is_none() || buf.len() < count as usize * stride {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{}: frames {first}+{count} outside the track's {} frames",
                    self.describe(),
                    self.frames
                ),
            ));
        }
        let per_hunk = self.hunks.header().frames_per_hunk() as u64;
        let mut current: Option<(u64, Arc<[u8]>)> = None;
        for i in 0..count as usize {
            let frame = self.first_frame + first + i as u64;
            let (hunk_no, in_hunk) = (frame / per_hunk, (frame % per_hunk) as usize);
            let bytes = match &current {
                Some((h, b)) if *h == hunk_no => b.clone(),
                _ => {
                    let b = self.hunks.hunk(hunk_no as u32)?;
                    current = Some((hunk_no, b.clone()));
                    b
                }
            };
            let at = in_hunk * FRAME_BYTES as usize;
            let out = &mut buf[i * stride..(i + 1) * stride];
            out[..main].copy_from_slice(&bytes[at..at + main]);
            if sub > 0 {
                out[main..].copy_from_slice(&bytes[at + SUB_OFFSET..at + SUB_OFFSET + sub]);
            }
        }
        Ok(())
    }

    fn describe(&self) -> String {
        self.hunks.path().display().to_string()
    }
}
