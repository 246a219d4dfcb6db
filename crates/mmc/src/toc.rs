//! READ TOC/PMA/ATIP answers (MMC-6 §6.26): format 0 (TOC), 1 (session information),
//! 2 (full TOC) and 5 (CD-TEXT).
//!
//! In these answers byte 1 of a descriptor holds ADR in the high nibble and CONTROL in the
//! low one (the reverse of the Q subchannel, and of [`spindle_disc::TocEntry::adr_ctl`],
//! which keeps the Q order). Full TOC MSF fields are binary.

use crate::error::{ParseError, need};
use spindle_disc::{Lba, Msf, TocEntry};

/// Track number of the lead-out in a TOC.
pub const LEADOUT: u8 = 0xAA;

/// An address as READ TOC and READ SUB-CHANNEL give it: LBA, or MSF when the MSF bit is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Address {
    /// A logical block address (negative before LBA 0).
    Lba(i32),
    /// Minute, second, frame (binary), 150 frames ahead of the LBA.
    Msf(Msf),
}

impl Address {
    /// `lba` as an LBA, or as MSF when `msf`.
    pub fn new(lba: Lba, msf: bool) -> Address {
        if msf {
            Address::Msf(lba.to_msf())
        } else {
            Address::Lba(lba.0)
        }
    }
    /// The 4 bytes of the address field (MSF as 00 MM SS FF).
    pub fn to_bytes(self) -> [u8; 4] {
        match self {
            Address::Lba(v) => v.to_be_bytes(),
            Address::Msf(m) => [0, m.m, m.s, m.f],
        }
    }
    /// Decodes a 4-byte address field, as MSF when `msf`. Panics if `b` has fewer than 4 bytes.
    pub fn parse(b: &[u8], msf: bool) -> Address {
        if msf {
            Address::Msf(Msf {
                m: b[1],
                s: b[2],
                f: b[3],
            })
        } else {
            Address::Lba(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        }
    }
    /// The address as an LBA.
    pub fn lba(self) -> Lba {
        match self {
            Address::Lba(v) => Lba(v),
            Address::Msf(m) => m.to_lba(),
        }
    }
}

/// One track descriptor of format 0 (and the one of format 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TocTrack {
    /// ADR (byte 1 high nibble).
    pub adr: u8,
    /// CONTROL (byte 1 low nibble): audio/data, copy, pre-emphasis.
    pub control: u8,
    /// Track number ([`LEADOUT`] for the lead-out).
    pub track: u8,
    /// Start address of the track.
    pub address: Address,
}

impl TocTrack {
    fn put(&self, b: &mut Vec<u8>) {
        b.extend_from_slice(&[0, (self.adr << 4) | (self.control & 0xF), self.track, 0]);
        b.extend_from_slice(&self.address.to_bytes());
    }
    fn parse(d: &[u8], msf: bool) -> TocTrack {
        TocTrack {
            adr: d[1] >> 4,
            control: d[1] & 0xF,
            track: d[2],
            address: Address::parse(&d[4..8], msf),
        }
    }
}

/// Format 0: the tracks and the lead-out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toc {
    /// First track number.
    pub first_track: u8,
    /// Last track number.
    pub last_track: u8,
    /// Track descriptors from the requested track on, then the lead-out.
    pub tracks: Vec<TocTrack>,
}

fn finish(mut b: Vec<u8>) -> Vec<u8> {
    let len = (b.len() - 2).min(0xFFFF) as u16;
    b[0..2].copy_from_slice(&len.to_be_bytes());
    b
}

fn body(b: &[u8], what: &'static str) -> Result<usize, ParseError> {
    need(what, b, 4)?;
    Ok((u16::from_be_bytes([b[0], b[1]]) as usize + 2).clamp(4, b.len()))
}

impl Toc {
    /// The answer: a 4-byte header (data length, first and last track), then 8 bytes a track.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![0, 0, self.first_track, self.last_track];
        for t in &self.tracks {
            t.put(&mut b);
        }
        finish(b)
    }
    /// Decodes an answer with addresses as MSF when `msf`; [`ParseError::Short`] under 4
    /// bytes. A trailing partial descriptor is ignored.
    pub fn parse(b: &[u8], msf: bool) -> Result<Toc, ParseError> {
        let end = body(b, "READ TOC format 0")?;
        Ok(Toc {
            first_track: b[2],
            last_track: b[3],
            tracks: b[4..end]
                .chunks_exact(8)
                .map(|d| TocTrack::parse(d, msf))
                .collect(),
        })
    }
    /// The lead-out descriptor.
    pub fn leadout(&self) -> Option<&TocTrack> {
        self.tracks.iter().find(|t| t.track == LEADOUT)
    }
}

/// Format 1: the first and last complete sessions, and the first track of the last one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// First complete session number.
    pub first_session: u8,
    /// Last complete session number.
    pub last_session: u8,
    /// The first track of the last complete session and its start.
    pub first_track_last_session: TocTrack,
}

impl SessionInfo {
    /// The 12-byte answer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![0, 0, self.first_session, self.last_session];
        self.first_track_last_session.put(&mut b);
        finish(b)
    }
    /// Decodes an answer with addresses as MSF when `msf`; [`ParseError::Short`] under 12 bytes.
    pub fn parse(b: &[u8], msf: bool) -> Result<SessionInfo, ParseError> {
        need("READ TOC format 1", b, 12)?;
        Ok(SessionInfo {
            first_session: b[2],
            last_session: b[3],
            first_track_last_session: TocTrack::parse(&b[4..12], msf),
        })
    }
}

/// Format 2: the raw lead-in entries of every session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FullToc {
    /// First complete session number.
    pub first_session: u8,
    /// Last complete session number.
    pub last_session: u8,
    /// Entries with `adr_ctl` in the disc model's order (CONTROL high, ADR low).
    pub entries: Vec<TocEntry>,
}

impl FullToc {
    /// The answer: a 4-byte header, then 11 bytes an entry (ADR/CONTROL in the answer's order).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![0, 0, self.first_session, self.last_session];
        for e in &self.entries {
            b.extend_from_slice(&[
                e.session,
                e.adr_ctl.rotate_left(4),
                e.tno,
                e.point,
                e.min,
                e.sec,
                e.frame,
                e.zero,
                e.pmin,
                e.psec,
                e.pframe,
            ]);
        }
        finish(b)
    }
    /// Decodes an answer; [`ParseError::Short`] under 4 bytes. A trailing partial entry is
    /// ignored.
    pub fn parse(b: &[u8]) -> Result<FullToc, ParseError> {
        let end = body(b, "READ TOC format 2")?;
        Ok(FullToc {
            first_session: b[2],
            last_session: b[3],
            entries: b[4..end]
                .chunks_exact(11)
                .map(|d| TocEntry {
                    session: d[0],
                    adr_ctl: d[1].rotate_left(4),
                    tno: d[2],
                    point: d[3],
                    min: d[4],
                    sec: d[5],
                    frame: d[6],
                    zero: d[7],
                    pmin: d[8],
                    psec: d[9],
                    pframe: d[10],
                })
                .collect(),
        })
    }
    /// The entry of `point` in `session`.
    pub fn point(&self, session: u8, point: u8) -> Option<&TocEntry> {
        self.entries
            .iter()
            .find(|e| e.session == session && e.point == point)
    }
}

/// Format 5: CD-TEXT packs from the lead-in (18 bytes each, CRC included).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CdTextPacks {
    /// The packs, back to back.
    pub packs: Vec<u8>,
}

impl CdTextPacks {
    /// The answer: a 4-byte header, then the packs.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0];
        b.extend_from_slice(&self.packs);
        finish(b)
    }
    /// Decodes an answer; [`ParseError::Short`] under 4 bytes. A trailing partial pack is
    /// ignored.
    pub fn parse(b: &[u8]) -> Result<CdTextPacks, ParseError> {
        let end = body(b, "READ TOC format 5")?;
        let n = (end - 4) / 18 * 18;
        Ok(CdTextPacks {
            packs: b[4..4 + n].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toc_round_trip_lba_and_msf() {
        for msf in [false, true] {
            let t = Toc {
                first_track: 1,
                last_track: 2,
                tracks: vec![
                    TocTrack {
                        adr: 1,
                        control: 4,
                        track: 1,
                        address: Address::new(Lba(0), msf),
                    },
                    TocTrack {
                        adr: 1,
                        control: 0,
                        track: 2,
                        address: Address::new(Lba(452), msf),
                    },
                    TocTrack {
                        adr: 1,
                        control: 0,
                        track: LEADOUT,
                        address: Address::new(Lba(754), msf),
                    },
                ],
            };
            let b = t.to_bytes();
            assert_eq!(&b[..4], &[0, 26, 1, 2]);
            assert_eq!(b[5], 0x14);
            assert_eq!(Toc::parse(&b, msf).unwrap(), t);
            assert_eq!(t.leadout().unwrap().address.lba(), Lba(754));
        }
        assert_eq!(Address::new(Lba(0), true).to_bytes(), [0, 0, 2, 0]);
    }

    #[test]
    fn full_toc_nibbles() {
        let e = TocEntry {
            session: 1,
            adr_ctl: 0x41,
            tno: 0,
            point: 0xA0,
            min: 0,
            sec: 0,
            frame: 0,
            zero: 0,
            pmin: 1,
            psec: 0,
            pframe: 0,
        };
        let f = FullToc {
            first_session: 1,
            last_session: 1,
            entries: vec![e],
        };
        let b = f.to_bytes();
        assert_eq!(b[5], 0x14);
        assert_eq!(FullToc::parse(&b).unwrap(), f);
    }
}
