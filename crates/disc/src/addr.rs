//! Disc addresses: [`Lba`] (logical block address, signed so that the lead-in and the
//! first track's pregap are negative) and [`Msf`] (minute/second/frame, absolute time).
//!
//! LBA 0 is the sector at MSF 00:02:00, the start of track 1's data on a CD.
//! MSF → LBA follows ECMA-130/MMC: `LBA = (M*60 + S)*75 + F − 150`, and an MSF of
//! 90:00:00 or more lies in the lead-in: `LBA = (M*60 + S)*75 + F − 450150`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Sectors (frames) per second of CD time.
pub const FRAMES_PER_SECOND: i32 = 75;
/// Sectors per minute of CD time.
pub const FRAMES_PER_MINUTE: i32 = 60 * FRAMES_PER_SECOND;
/// The two-second offset between LBA 0 and MSF 00:00:00.
pub const MSF_OFFSET: i32 = 150;
/// Absolute time wraps at 100 minutes; MSF 90:00:00 and beyond denote the lead-in
/// (LBA −45150 to −151).
const LEAD_IN_WRAP: i32 = 450_000;
const LEAD_IN_START: i32 = 90 * FRAMES_PER_MINUTE;

/// A logical block address. Negative values address the pregap of track 1 (−150..−1)
/// and the lead-in (below −150).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Lba(pub i32);

impl Lba {
    /// LBA 0: the first sector of track 1's index 1 on a standard disc (MSF 00:02:00).
    pub const ZERO: Lba = Lba(0);

    /// The absolute MSF of this address (lead-in addresses map to 90:00:00 and above).
    pub fn to_msf(self) -> Msf {
        let mut v = self.0 + MSF_OFFSET;
        if v < 0 {
            v += LEAD_IN_WRAP;
        }
        Msf::from_frames(v.max(0) as u32)
    }

    /// `self + n` sectors.
    pub fn offset(self, n: i64) -> Lba {
        Lba((self.0 as i64 + n) as i32)
    }

    /// Number of sectors from `earlier` to `self` (negative when `earlier` is after `self`).
    pub fn since(self, earlier: Lba) -> i64 {
        self.0 as i64 - earlier.0 as i64
    }
}

impl fmt::Display for Lba {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Minute/second/frame CD time. Frames run 0..75, seconds 0..60; minutes up to 99.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Msf {
    /// Minutes (0..100).
    pub m: u8,
    /// Seconds (0..60).
    pub s: u8,
    /// Frames, i.e. sectors (0..75).
    pub f: u8,
}

impl Msf {
    /// Builds an MSF, checking the ranges (seconds < 60, frames < 75, minutes < 100).
    pub fn new(m: u8, s: u8, f: u8) -> Option<Msf> {
        (m < 100 && s < 60 && f < 75).then_some(Msf { m, s, f })
    }

    /// MSF from a count of frames (a relative time, or absolute time counted from 00:00:00).
    /// Counts of 100 minutes or more wrap modulo 100 minutes, as on a disc.
    pub fn from_frames(frames: u32) -> Msf {
        let frames = frames % (100 * FRAMES_PER_MINUTE as u32);
        Msf {
            m: (frames / FRAMES_PER_MINUTE as u32) as u8,
            s: ((frames / FRAMES_PER_SECOND as u32) % 60) as u8,
            f: (frames % FRAMES_PER_SECOND as u32) as u8,
        }
    }

    /// Frames counted from 00:00:00.
    pub fn frames(self) -> u32 {
        self.m as u32 * FRAMES_PER_MINUTE as u32
            + self.s as u32 * FRAMES_PER_SECOND as u32
            + self.f as u32
    }

    /// The LBA this absolute time denotes (90:00:00 and beyond are lead-in, negative).
    pub fn to_lba(self) -> Lba {
        let v = self.frames() as i32;
        if v >= LEAD_IN_START {
            Lba(v - LEAD_IN_WRAP - MSF_OFFSET)
        } else {
            Lba(v - MSF_OFFSET)
        }
    }

    /// The three fields in binary-coded decimal, as in sector headers and Q subchannel.
    pub fn to_bcd(self) -> [u8; 3] {
        [to_bcd(self.m), to_bcd(self.s), to_bcd(self.f)]
    }

    /// Parses `mm:ss:ff` as written in CUE sheets (minutes may exceed 99 digits-wise only up to 99).
    pub fn parse(text: &str) -> Option<Msf> {
        let mut it = text.split(':');
        let (m, s, f) = (it.next()?, it.next()?, it.next()?);
        if it.next().is_some() {
            return None;
        }
        let num = |t: &str| -> Option<u8> {
            if t.is_empty() || t.len() > 2 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            t.parse().ok()
        };
        Msf::new(num(m)?, num(s)?, num(f)?)
    }
}

impl fmt::Display for Msf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}:{:02}", self.m, self.s, self.f)
    }
}

/// Binary to BCD for 0..=99.
pub fn to_bcd(v: u8) -> u8 {
    ((v / 10) << 4) | (v % 10)
}

/// BCD to binary; `None` when a nibble is not a decimal digit.
pub fn from_bcd(v: u8) -> Option<u8> {
    let (hi, lo) = (v >> 4, v & 0xF);
    (hi < 10 && lo < 10).then_some(hi * 10 + lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lba_msf_round_trip_including_lead_in() {
        for lba in [-45_150, -11_400, -151, -150, -1, 0, 1, 302, 404_849] {
            let msf = Lba(lba).to_msf();
            assert_eq!(msf.to_lba(), Lba(lba), "lba {lba} via {msf}");
        }
        assert_eq!(Lba(0).to_msf(), Msf { m: 0, s: 2, f: 0 });
        assert_eq!(Lba(-150).to_msf(), Msf { m: 0, s: 0, f: 0 });
        assert_eq!(
            Lba(-151).to_msf(),
            Msf {
                m: 99,
                s: 59,
                f: 74
            }
        );
        assert_eq!(Msf::new(90, 0, 0).unwrap().to_lba(), Lba(-45_150));
    }

    #[test]
    fn parse_and_bcd() {
        assert_eq!(Msf::parse("00:02:00"), Msf::new(0, 2, 0));
        assert_eq!(Msf::parse("00:00:100"), None);
        assert_eq!(Msf::parse("00:90:00"), None);
        assert_eq!(Msf::parse("xx:yy:0"), None);
        assert_eq!(to_bcd(59), 0x59);
        assert_eq!(from_bcd(0x59), Some(59));
        assert_eq!(from_bcd(0x5A), None);
    }
}
