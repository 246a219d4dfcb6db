//! GET EVENT STATUS NOTIFICATION (media class), GET PERFORMANCE, and drive speeds.

use crate::error::{ParseError, need};

/// Notification class numbers and their request bits.
pub mod class {
    pub const OPERATIONAL_CHANGE: u8 = 1;
    pub const POWER_MANAGEMENT: u8 = 2;
    pub const EXTERNAL_REQUEST: u8 = 3;
    pub const MEDIA: u8 = 4;
    pub const MULTI_HOST: u8 = 5;
    pub const DEVICE_BUSY: u8 = 6;
    /// The request bit of a class.
    pub const fn bit(class: u8) -> u8 {
        1 << class
    }
}

/// Media event codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaEvent {
    NoChange,
    EjectRequest,
    NewMedia,
    MediaRemoval,
    MediaChanged,
    Other(u8),
}

impl MediaEvent {
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
    pub event: MediaEvent,
    pub tray_open: bool,
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
    pub media: Option<MediaStatus>,
}

impl EventStatus {
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
    pub start_lba: u32,
    /// kB/s (1000 bytes).
    pub start_performance: u32,
    pub end_lba: u32,
    pub end_performance: u32,
}

/// A GET PERFORMANCE answer (performance data, type 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Performance {
    pub write: bool,
    pub except: bool,
    pub descriptors: Vec<PerformanceDescriptor>,
}

impl Performance {
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
pub const DVD_1X_KBS: u32 = 1385;
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
