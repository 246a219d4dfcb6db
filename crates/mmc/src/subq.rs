//! READ SUB-CHANNEL answers (MMC-6 §6.29): current position, media catalog number, ISRC.

use crate::error::{ParseError, need};
use crate::toc::Address;

/// Audio status codes (header byte 1).
pub mod audio_status {
    /// 0x00: audio status not supported or not valid.
    pub const NOT_SUPPORTED: u8 = 0x00;
    /// 0x11: audio play in progress.
    pub const PLAYING: u8 = 0x11;
    /// 0x12: audio play paused.
    pub const PAUSED: u8 = 0x12;
    /// 0x13: audio play completed.
    pub const COMPLETED: u8 = 0x13;
    /// 0x14: audio play stopped by an error.
    pub const ERROR: u8 = 0x14;
    /// 0x15: no current audio status to return.
    pub const NO_STATUS: u8 = 0x15;
}

/// The data of one READ SUB-CHANNEL format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubChannelData {
    /// Format 1: the Q position of the current sector.
    Position {
        /// ADR of the Q sub-channel (1: position).
        adr: u8,
        /// CONTROL of the Q sub-channel (audio/data, copy, pre-emphasis).
        control: u8,
        /// Track number.
        track: u8,
        /// Index number.
        index: u8,
        /// Absolute address on the disc.
        absolute: Address,
        /// Relative to index 1 of the track (negative in the pregap).
        relative: Address,
    },
    /// Format 2: the MCN (13 digits), if the disc has one.
    Mcn(Option<String>),
    /// Format 3: a track's ISRC (12 characters), if it has one.
    Isrc {
        /// ADR of the Q sub-channel (3: ISRC).
        adr: u8,
        /// CONTROL of the Q sub-channel.
        control: u8,
        /// Track number.
        track: u8,
        /// The ISRC, when the TCVal bit says there is one.
        isrc: Option<String>,
    },
    /// SUBQ = 0: the header alone.
    HeaderOnly,
}

/// A READ SUB-CHANNEL answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubChannel {
    /// Audio status (see [`audio_status`]).
    pub audio_status: u8,
    /// The sub-channel data of the requested format.
    pub data: SubChannelData,
}

impl SubChannel {
    /// The answer: the 4-byte header, then the format's data (12 or 20 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![0, self.audio_status, 0, 0];
        match &self.data {
            SubChannelData::HeaderOnly => {}
            SubChannelData::Position {
                adr,
                control,
                track,
                index,
                absolute,
                relative,
            } => {
                b.extend_from_slice(&[1, (adr << 4) | (control & 0xF), *track, *index]);
                b.extend_from_slice(&absolute.to_bytes());
                b.extend_from_slice(&relative.to_bytes());
            }
            SubChannelData::Mcn(m) => {
                b.extend_from_slice(&[2, 0, 0, 0]);
                let mut v = [0u8; 16];
                if let Some(m) = m {
                    v[0] = 0x80;
                    for (o, c) in v[1..14].iter_mut().zip(m.bytes()) {
                        *o = c;
                    }
                }
                b.extend_from_slice(&v);
            }
            SubChannelData::Isrc {
                adr,
                control,
                track,
                isrc,
            } => {
                b.extend_from_slice(&[3, (adr << 4) | (control & 0xF), *track, 0]);
                let mut v = [0u8; 16];
                if let Some(i) = isrc {
                    v[0] = 0x80;
                    for (o, c) in v[1..13].iter_mut().zip(i.bytes()) {
                        *o = c;
                    }
                }
                b.extend_from_slice(&v);
            }
        }
        let len = (b.len() - 4) as u16;
        b[2..4].copy_from_slice(&len.to_be_bytes());
        b
    }

    /// Decodes an answer with addresses as MSF when `msf`; [`ParseError::Short`] when the
    /// header or the format's data is cut, [`ParseError::Invalid`] for an unknown format.
    pub fn parse(b: &[u8], msf: bool) -> Result<SubChannel, ParseError> {
        need("READ SUB-CHANNEL header", b, 4)?;
        let audio_status = b[1];
        if u16::from_be_bytes([b[2], b[3]]) == 0 || b.len() == 4 {
            return Ok(SubChannel {
                audio_status,
                data: SubChannelData::HeaderOnly,
            });
        }
        let text = |r: std::ops::Range<usize>| -> String {
            b[r].iter()
                .take_while(|&&c| c != 0)
                .map(|&c| c as char)
                .collect()
        };
        let data = match b[4] {
            1 => {
                need("READ SUB-CHANNEL position", b, 16)?;
                SubChannelData::Position {
                    adr: b[5] >> 4,
                    control: b[5] & 0xF,
                    track: b[6],
                    index: b[7],
                    absolute: Address::parse(&b[8..12], msf),
                    relative: Address::parse(&b[12..16], msf),
                }
            }
            2 => {
                need("READ SUB-CHANNEL MCN", b, 24)?;
                SubChannelData::Mcn((b[8] & 0x80 != 0).then(|| text(9..22)))
            }
            3 => {
                need("READ SUB-CHANNEL ISRC", b, 24)?;
                SubChannelData::Isrc {
                    adr: b[5] >> 4,
                    control: b[5] & 0xF,
                    track: b[6],
                    isrc: (b[8] & 0x80 != 0).then(|| text(9..21)),
                }
            }
            f => {
                return Err(ParseError::Invalid {
                    what: "READ SUB-CHANNEL",
                    why: format!("unknown data format {f}"),
                });
            }
        };
        Ok(SubChannel { audio_status, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_disc::Lba;

    #[test]
    fn round_trips() {
        for s in [
            SubChannel {
                audio_status: audio_status::NO_STATUS,
                data: SubChannelData::Position {
                    adr: 1,
                    control: 4,
                    track: 1,
                    index: 1,
                    absolute: Address::new(Lba(10), false),
                    relative: Address::new(Lba(-2), false),
                },
            },
            SubChannel {
                audio_status: 0,
                data: SubChannelData::Mcn(Some("0000010271955".into())),
            },
            SubChannel {
                audio_status: 0,
                data: SubChannelData::Mcn(None),
            },
            SubChannel {
                audio_status: 0,
                data: SubChannelData::Isrc {
                    adr: 3,
                    control: 0,
                    track: 2,
                    isrc: Some("USXX19801234".into()),
                },
            },
        ] {
            let b = s.to_bytes();
            assert_eq!(SubChannel::parse(&b, false).unwrap(), s);
        }
    }
}
