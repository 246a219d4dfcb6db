//! The drive's state behind its lock: the tray and the medium, and the one record of media
//! changes from which both GET EVENT STATUS NOTIFICATION's media events and the unit
//! attention 28/00 are derived.
//!
//! The Linux sr driver polls GESN and then sends TEST UNIT READY, and counts the polls where
//! GESN reports a media change but TUR shows none (no unit attention, no change of "medium
//! present"); after more than eight in a row it ignores GESN for good (drivers/scsi/sr.c,
//! `sr_check_events`). So neither report may consume the other (the way a single shared
//! event variable does): a change is recorded once, and GESN and the unit attention each
//! report it to their own reader.

use super::audio::Player;
use crate::events::MediaEvent;
use crate::mode::ErrorRecovery;
use crate::sense::{Asc, Sense, SenseKey};
use spindle_disc::{Disc, Lba};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use super::HostEvent;

/// Default page 0x01: read retries on, 16 of them.
pub(super) const DEFAULT_RECOVERY: ErrorRecovery = ErrorRecovery {
    flags: 0,
    read_retries: 16,
    write_retries: 0,
    time_limit: 0,
};

/// Page 0x0E (CD audio control) at power-on: SOTC clear, port 0 plays channel 0 and port 1
/// channel 1, both at full volume; ports 2 and 3 muted.
pub(super) const DEFAULT_AUDIO_PAGE: [u8; 16] = [
    0x0E, 0x0E, 0x04, 0, 0, 0, 0, 0, 0x01, 0xFF, 0x02, 0xFF, 0, 0, 0, 0,
];

pub(super) struct State {
    /// The disc in the tray (present to the host only when the tray is closed).
    pub disc: Option<Arc<Disc>>,
    pub tray_open: bool,
    pub prevent: bool,
    /// Unit attentions other than a medium change (29/00 after power-on or reset).
    pub unit_attention: VecDeque<Asc>,
    /// A medium change GESN has not reported yet: NewMedia when the medium is present
    /// after it, MediaRemoval when it is not.
    change_for_events: Option<MediaEvent>,
    /// A medium change owes the host a unit attention 28/00 (not after a load the host
    /// asked for itself: see shared/notes/tcmu.md).
    change_for_attention: bool,
    /// The eject button was pressed while removal was prevented.
    eject_request: bool,
    /// The sense of the last CHECK CONDITION, for a host that asks with REQUEST SENSE.
    pub last_sense: Option<Sense>,
    pub error_recovery: ErrorRecovery,
    pub audio_page: [u8; 16],
    /// kB/s set with SET CD SPEED or SET STREAMING (0: the maximum).
    pub read_speed: u32,
    /// The last sector read or sought (READ SUB-CHANNEL's position when not playing).
    pub position: Lba,
    pub player: Player,
    pub loaded_at: Instant,
    pub commands: u64,
    /// What the command being answered did that the listener must hear of.
    pub host_event: Option<HostEvent>,
}

impl State {
    pub fn new(disc: Option<Arc<Disc>>) -> State {
        State {
            change_for_events: disc.as_ref().map(|_| MediaEvent::NewMedia),
            disc,
            tray_open: false,
            prevent: false,
            unit_attention: VecDeque::from([Asc::POWER_ON_RESET]),
            change_for_attention: false,
            eject_request: false,
            last_sense: None,
            error_recovery: DEFAULT_RECOVERY,
            audio_page: DEFAULT_AUDIO_PAGE,
            read_speed: 0,
            position: Lba(0),
            player: Player::default(),
            loaded_at: Instant::now(),
            commands: 0,
            host_event: None,
        }
    }

    /// The medium the host can use: the disc, while the tray is closed.
    pub fn medium(&self) -> Option<&Arc<Disc>> {
        if self.tray_open {
            None
        } else {
            self.disc.as_ref()
        }
    }

    pub fn not_ready(&self) -> Sense {
        Sense::new(
            SenseKey::NotReady,
            if self.tray_open {
                Asc::MEDIUM_NOT_PRESENT_TRAY_OPEN
            } else {
                Asc::MEDIUM_NOT_PRESENT_TRAY_CLOSED
            },
        )
    }

    /// Records that the medium the host sees changed (it is present now or not). With
    /// `attention`, the host also gets UNIT ATTENTION 28/00 (a change it did not ask for);
    /// either way GESN reports it once, and the TUR that follows shows it (the attention,
    /// or NOT READY turning into ready and back).
    pub fn medium_changed(&mut self, attention: bool) {
        self.player.stop();
        self.change_for_events = Some(if self.medium().is_some() {
            self.loaded_at = Instant::now();
            MediaEvent::NewMedia
        } else {
            MediaEvent::MediaRemoval
        });
        self.change_for_attention |= attention;
    }

    /// The eject button pressed while the host prevents removal: an EjectRequest event.
    pub fn request_eject(&mut self) {
        self.eject_request = true;
    }

    /// The media event GESN reports now, each once: a medium change first, then an eject
    /// request.
    pub fn take_media_event(&mut self) -> MediaEvent {
        if let Some(e) = self.change_for_events.take() {
            e
        } else if std::mem::take(&mut self.eject_request) {
            MediaEvent::EjectRequest
        } else {
            MediaEvent::NoChange
        }
    }

    /// The unit attention a command must report now (and clears): 29/00 before 28/00.
    pub fn take_attention(&mut self) -> Option<Asc> {
        if let Some(a) = self.unit_attention.pop_front() {
            return Some(a);
        }
        std::mem::take(&mut self.change_for_attention).then_some(Asc::MEDIUM_MAY_HAVE_CHANGED)
    }

    /// A power cycle or bus reset: 29/00 replaces every pending attention.
    pub fn reset(&mut self) {
        self.prevent = false;
        self.error_recovery = DEFAULT_RECOVERY;
        self.audio_page = DEFAULT_AUDIO_PAGE;
        self.read_speed = 0;
        self.player.stop();
        self.unit_attention.clear();
        self.change_for_attention = false;
        self.unit_attention.push_back(Asc::POWER_ON_RESET);
    }
}
