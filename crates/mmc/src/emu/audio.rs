//! Audio play without sound: PLAY AUDIO(10)/(12)/MSF, PAUSE/RESUME and STOP PLAY/SCAN move a
//! position along the disc at 75 sectors a second on the system clock, so READ SUB-CHANNEL
//! and MECHANISM STATUS report what a playing drive reports (audio status 0x11, an advancing
//! position). No samples go anywhere: a drive's analogue output has no place here.

use crate::sense::{Asc, Sense, SenseKey};
use crate::subq::audio_status;
use spindle_disc::{Disc, Lba};
use std::time::Instant;

/// Sectors a second at 1x.
const SECTORS_PER_SECOND: u64 = 75;

#[derive(Clone, Copy, Debug, Default)]
enum Play {
    /// Nothing played since the last status report.
    #[default]
    Idle,
    /// Playing `from`..`end` since `since`.
    Playing { from: Lba, end: Lba, since: Instant },
    /// Paused at `at` of a play that ends at `end`.
    Paused { at: Lba, end: Lba },
    /// A play reached its end; reported once.
    Completed,
}

/// The play state.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Player {
    play: Play,
}

impl Player {
    /// Settles a play that has run past its end.
    fn settle(&mut self) {
        if let Play::Playing { end, .. } = self.play
            && self.position().is_some_and(|p| p >= end)
        {
            self.play = Play::Completed;
        }
    }

    /// The sector under the head while a play is in progress (playing or paused).
    pub fn position(&self) -> Option<Lba> {
        match self.play {
            Play::Playing { from, end, since } => {
                let run = since.elapsed().as_millis() as u64 * SECTORS_PER_SECOND / 1000;
                let at = from.0 as i64 + run as i64;
                Some(Lba(at.min(end.0 as i64) as i32))
            }
            Play::Paused { at, .. } => Some(at),
            _ => None,
        }
    }

    /// True while a play is in progress (not paused).
    pub fn playing(&mut self) -> bool {
        self.settle();
        matches!(self.play, Play::Playing { .. })
    }

    /// READ SUB-CHANNEL's audio status; "completed" is reported once, then "no status".
    pub fn take_status(&mut self) -> u8 {
        self.settle();
        match self.play {
            Play::Idle => audio_status::NO_STATUS,
            Play::Playing { .. } => audio_status::PLAYING,
            Play::Paused { .. } => audio_status::PAUSED,
            Play::Completed => {
                self.play = Play::Idle;
                audio_status::COMPLETED
            }
        }
    }

    /// Starts playing `from`..`end` of `disc`: every sector must be audio (05/64/00
    /// otherwise) and inside the disc (05/21/00). An empty range plays nothing.
    pub fn play(&mut self, disc: &Disc, from: i64, end: i64) -> Result<(), Sense> {
        if end <= from {
            return Ok(());
        }
        let first = disc.tracks().next().map(|t| t.start.0).unwrap_or(0) as i64;
        if from < first || end > disc.leadout().0 as i64 {
            let lba = if from < first { from } else { end };
            return Err(Sense::new(SenseKey::IllegalRequest, Asc::LBA_OUT_OF_RANGE)
                .with_information(lba as u32));
        }
        let (from, end) = (Lba(from as i32), Lba(end as i32));
        for t in disc.tracks() {
            let overlaps = t.start < end && t.end() > from;
            if overlaps && !t.mode.is_audio() {
                let at = if t.start > from { t.start } else { from };
                return Err(
                    Sense::new(SenseKey::IllegalRequest, Asc::ILLEGAL_MODE_FOR_TRACK)
                        .with_information(at.0 as u32),
                );
            }
        }
        self.play = Play::Playing {
            from,
            end,
            since: Instant::now(),
        };
        Ok(())
    }

    /// PAUSE/RESUME: 05/2C/00 when no play is in progress.
    pub fn pause_resume(&mut self, resume: bool) -> Result<(), Sense> {
        self.settle();
        self.play = match (self.play, resume) {
            (Play::Playing { end, .. }, false) => Play::Paused {
                at: self.position().unwrap_or(end),
                end,
            },
            (Play::Paused { at, end }, true) => Play::Playing {
                from: at,
                end,
                since: Instant::now(),
            },
            (p @ (Play::Playing { .. } | Play::Paused { .. }), _) => p,
            _ => {
                return Err(Sense::new(
                    SenseKey::IllegalRequest,
                    Asc::COMMAND_SEQUENCE_ERROR,
                ));
            }
        };
        Ok(())
    }

    /// STOP PLAY/SCAN, a seek or a read: the play ends (the position is where it stopped).
    pub fn stop(&mut self) -> Option<Lba> {
        let at = self.position();
        if matches!(self.play, Play::Playing { .. } | Play::Paused { .. }) {
            self.play = Play::Idle;
        }
        at
    }
}
