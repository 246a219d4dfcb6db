//! GET EVENT STATUS NOTIFICATION (media class), GET PERFORMANCE, and drive speeds.

use crate::error::{ParseError, need};

/// Notification class numbers and their request bits.
pub mod class {
    /// Operational change events (class 1).
    pub const OPERATIONAL_CHANGE: u8 = 1;
    /// Power management events (class 2).
    pub const POWER_MANAGEMENT: u8 = 2;
    /// External request events (class 3): front panel buttons.
    pub const EXTERNAL_REQUEST: u8 = 3;
    /// Media events (class 4): insertion, removal, eject requests.
    pub const MEDIA: u8 = 4;
    /// Multiple host events (class 5).
    pub const MULTI_HOST: u8 = 5;
    /// Device busy events (class 6).
    pub const DEVICE_BUSY: u8 = 6;
    /// The request bit of a class.
    pub const fn bit(class: u8) -> u8 {
        1 << class
    }
}

/// Media event codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaEvent {
    /// Code 0: nothing changed.
    NoChange,
    /// Code 1: the user asked for an eject (pressed the button).
    EjectRequest,
    /// Code 2: a medium was inserted.
    NewMedia,
    /// Code 3: the medium was removed.
    MediaRemoval,
    /// Code 4: the medium was changed.
    MediaChanged,
    /// Any other code (low 4 bits).
    Other(u8),
}

impl MediaEvent {
    /// The event code (descriptor byte 0 bits 3-0).
    pub fn code(self) -> u8 {
        match self {
            MediaEvent::NoChange => 0,
            MediaEvent::EjectRequest => 1,
            MediaEvent::NewMedia => 2,
            MediaEvent::MediaRemoval => 3,
            MediaEvent::MediaChanged => 4,
            MediaEvent::Other(c) => c & 0xF,
        }
    }
    /// The event for a code (its low 4 bits).
    pub fn from_code(c: u8) -> MediaEvent {
        match c & 0xF {
            0 => MediaEvent::NoChange,
            1 => MediaEvent::EjectRequest,
            2 => MediaEvent::NewMedia,
            3 => MediaEvent::MediaRemoval,
            4 => MediaEvent::MediaChanged,
            c => MediaEvent::Other(c),
        }
    }
}

/// A media class event descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaStatus {
    /// The event since the last report.
    pub event: MediaEvent,
    /// Door or Tray open (byte 1 bit 0).
    pub tray_open: bool,
    /// Media Present (byte 1 bit 1).
    pub present: bool,
}

/// A GET EVENT STATUS NOTIFICATION answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventStatus {
    /// No event available (none of the requested classes is supported).
    pub nea: bool,
    /// The class of the event returned.
    pub class: u8,
    /// Supported event classes (bit per class).
    pub supported: u8,
    /// The media event descriptor, when the class returned is media.
    pub media: Option<MediaStatus>,
}

impl EventStatus {
    /// The answer: a 4-byte header, then the media descriptor if there is one.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![
            0,
            0,
            ((self.nea as u8) << 7) | (self.class & 7),
            self.supported,
        ];
        if let Some(m) = self.media {
            b.extend_from_slice(&[
                m.event.code(),
                (m.tray_open as u8) | ((m.present as u8) << 1),
                0,
                0,
            ]);
        }
        // The event data length counts the bytes after the 4-byte header (what the Linux
        // sr driver checks against the 4-byte media descriptor, and what QEMU sends).
        let len = (b.len() - 4) as u16;
        b[0..2].copy_from_slice(&len.to_be_bytes());
        b
    }
    /// Decodes an answer; [`ParseError::Short`] under the 4-byte header. A media descriptor
    /// cut short is left out.
    pub fn parse(b: &[u8]) -> Result<EventStatus, ParseError> {
        need("event status header", b, 4)?;
        let len = u16::from_be_bytes([b[0], b[1]]) as usize;
        let class = b[2] & 7;
        let media = (class == class::MEDIA && len >= 4 && b.len() >= 8).then(|| MediaStatus {
            event: MediaEvent::from_code(b[4]),
            tray_open: b[5] & 1 != 0,
            present: b[5] & 2 != 0,
        });
        Ok(EventStatus {
            nea: b[2] & 0x80 != 0,
            class,
            supported: b[3],
            media,
        })
    }
}

/// One GET PERFORMANCE (type 0) descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerformanceDescriptor {
    /// First LBA of the range.
    pub start_lba: u32,
    /// kB/s (1000 bytes).
    pub start_performance: u32,
    /// Last LBA of the range.
    pub end_lba: u32,
    /// Speed at `end_lba` in kB/s (1000 bytes).
    pub end_performance: u32,
}

/// A GET PERFORMANCE answer (performance data, type 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Performance {
    /// Write (header byte 4 bit 1): write performance rather than read.
    pub write: bool,
    /// Except (header byte 4 bit 0): the nominal performance has exceptions.
    pub except: bool,
    /// Descriptors, 16 bytes each on the wire.
    pub descriptors: Vec<PerformanceDescriptor>,
}

impl Performance {
    /// The answer: an 8-byte header, then the descriptors.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; 8];
        b[4] = ((self.write as u8) << 1) | self.except as u8;
        for d in &self.descriptors {
            for v in [
                d.start_lba,
                d.start_performance,
                d.end_lba,
                d.end_performance,
            ] {
                b.extend_from_slice(&v.to_be_bytes());
            }
        }
        let len = (b.len() - 4) as u32;
        b[0..4].copy_from_slice(&len.to_be_bytes());
        b
    }
    /// Decodes an answer; [`ParseError::Short`] under the 8-byte header. Trailing bytes short of
    /// a whole descriptor are ignored.
    pub fn parse(b: &[u8]) -> Result<Performance, ParseError> {
        need("performance header", b, 8)?;
        let total = (u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .saturating_add(4)
            .min(b.len());
        let d = |c: &[u8], i: usize| u32::from_be_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
        Ok(Performance {
            write: b[4] & 2 != 0,
            except: b[4] & 1 != 0,
            descriptors: b[8..total]
                .chunks_exact(16)
                .map(|c| PerformanceDescriptor {
                    start_lba: d(c, 0),
                    start_performance: d(c, 4),
                    end_lba: d(c, 8),
                    end_performance: d(c, 12),
                })
                .collect(),
        })
    }
}

/// kB/s (1000 bytes) of 1x for CD (75 sectors of 2352 bytes), DVD and BD.
pub const CD_1X_KBS: u32 = 176;
/// kB/s of 1x DVD.
pub const DVD_1X_KBS: u32 = 1385;
/// kB/s of 1x BD.
pub const BD_1X_KBS: u32 = 4496;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let e = EventStatus {
            nea: false,
            class: class::MEDIA,
            supported: class::bit(class::MEDIA),
            media: Some(MediaStatus {
                event: MediaEvent::NewMedia,
                tray_open: false,
                present: true,
            }),
        };
        let b = e.to_bytes();
        assert_eq!(b, vec![0, 4, 4, 0x10, 2, 2, 0, 0]);
        assert_eq!(EventStatus::parse(&b).unwrap(), e);
        let p = Performance {
            write: false,
            except: false,
            descriptors: vec![PerformanceDescriptor {
                start_lba: 0,
                start_performance: 7056,
                end_lba: 1000,
                end_performance: 7056,
            }],
        };
        assert_eq!(Performance::parse(&p.to_bytes()).unwrap(), p);
    }
}
