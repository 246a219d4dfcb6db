//! READ CAPACITY, READ DISC INFORMATION (standard disc information, MMC-6 §6.22) and
//! READ TRACK INFORMATION (MMC-6 §6.27) answers.

use crate::error::{ParseError, need};

/// READ CAPACITY(10): the last addressable block and the block size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    /// The last addressable LBA (bytes 0-3), one less than the number of blocks.
    pub last_lba: u32,
    /// Block length in bytes (bytes 4-7), 2048 for CD, DVD and BD.
    pub block_size: u32,
}

impl Capacity {
    /// The 8-byte answer.
    pub fn to_bytes(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&self.last_lba.to_be_bytes());
        b[4..].copy_from_slice(&self.block_size.to_be_bytes());
        b
    }
    /// Decodes an answer; [`ParseError::Short`] under 8 bytes.
    pub fn parse(b: &[u8]) -> Result<Capacity, ParseError> {
        need("READ CAPACITY data", b, 8)?;
        Ok(Capacity {
            last_lba: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            block_size: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        })
    }
    /// Number of blocks (last LBA + 1).
    pub fn blocks(&self) -> u64 {
        self.last_lba as u64 + 1
    }
}

/// Disc status (byte 2 bits 1-0).
pub mod disc_status {
    /// Blank disc.
    pub const EMPTY: u8 = 0;
    /// Appendable disc: its last session is open or more can be added.
    pub const INCOMPLETE: u8 = 1;
    /// Finalized (closed) disc, pressed discs included.
    pub const FINALIZED: u8 = 2;
    /// Another state (random-writable media).
    pub const OTHER: u8 = 3;
}

/// State of the last session (byte 2 bits 3-2).
pub mod session_state {
    /// The last session is empty.
    pub const EMPTY: u8 = 0;
    /// The last session is incomplete (open).
    pub const INCOMPLETE: u8 = 1;
    /// The last session is reserved or damaged.
    pub const DAMAGED: u8 = 2;
    /// The last session is complete.
    pub const COMPLETE: u8 = 3;
}

/// Standard disc information (34 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiscInformation {
    /// Erasable (byte 2 bit 4): a rewritable medium.
    pub erasable: bool,
    /// State of the last session (see [`session_state`]).
    pub last_session_state: u8,
    /// Disc status (see [`disc_status`]).
    pub disc_status: u8,
    /// Number of the first track on the disc (byte 3).
    pub first_track: u8,
    /// Number of sessions (bytes 9 and 4, high and low).
    pub sessions: u16,
    /// First track number in the last session (bytes 10 and 5, high and low).
    pub first_track_last_session: u16,
    /// Last track number in the last session (bytes 11 and 6, high and low).
    pub last_track_last_session: u16,
    /// Disc type: 0x00 CD-DA/CD-ROM, 0x10 CD-I, 0x20 CD-ROM XA, 0xFF undefined.
    pub disc_type: u8,
    /// Disc identification (bytes 12-15), when the DID_V bit says it is valid.
    pub disc_id: Option<u32>,
    /// Start of the last session's lead-in (MSF as 00 MM SS FF for CDs), 0xFFFFFFFF if none.
    pub last_session_lead_in: u32,
    /// Last possible start of the lead-out (bytes 20-23; MSF as 00 MM SS FF for CDs).
    pub last_possible_lead_out: u32,
    /// Disc bar code (bytes 24-31), when the DBC_V bit says it is valid.
    pub bar_code: Option<[u8; 8]>,
    /// Unrestricted use (URU).
    pub unrestricted: bool,
}

impl DiscInformation {
    /// Length of the answer in bytes.
    pub const LEN: usize = 34;

    /// The 34-byte answer (data length 32).
    pub fn to_bytes(&self) -> [u8; 34] {
        let mut b = [0u8; 34];
        b[0..2].copy_from_slice(&32u16.to_be_bytes());
        b[2] = ((self.erasable as u8) << 4)
            | ((self.last_session_state & 3) << 2)
            | (self.disc_status & 3);
        b[3] = self.first_track;
        let [sh, sl] = self.sessions.to_be_bytes();
        let [fh, fl] = self.first_track_last_session.to_be_bytes();
        let [lh, ll] = self.last_track_last_session.to_be_bytes();
        (b[4], b[5], b[6]) = (sl, fl, ll);
        (b[9], b[10], b[11]) = (sh, fh, lh);
        b[7] = ((self.disc_id.is_some() as u8) << 7)
            | ((self.bar_code.is_some() as u8) << 6)
            | ((self.unrestricted as u8) << 5);
        b[8] = self.disc_type;
        b[12..16].copy_from_slice(&self.disc_id.unwrap_or(0).to_be_bytes());
        b[16..20].copy_from_slice(&self.last_session_lead_in.to_be_bytes());
        b[20..24].copy_from_slice(&self.last_possible_lead_out.to_be_bytes());
        if let Some(bc) = self.bar_code {
            b[24..32].copy_from_slice(&bc);
        }
        b
    }

    /// Decodes an answer of 12 bytes or more (fields past its end read as 0); [`ParseError::Short`]
    /// when shorter.
    pub fn parse(b: &[u8]) -> Result<DiscInformation, ParseError> {
        need("disc information", b, 12)?;
        let at = |i: usize| b.get(i).copied().unwrap_or(0);
        let d = |i: usize| u32::from_be_bytes([at(i), at(i + 1), at(i + 2), at(i + 3)]);
        Ok(DiscInformation {
            erasable: b[2] & 0x10 != 0,
            last_session_state: (b[2] >> 2) & 3,
            disc_status: b[2] & 3,
            first_track: b[3],
            sessions: u16::from_be_bytes([b[9], b[4]]),
            first_track_last_session: u16::from_be_bytes([b[10], b[5]]),
            last_track_last_session: u16::from_be_bytes([b[11], b[6]]),
            disc_type: b[8],
            disc_id: (b[7] & 0x80 != 0).then(|| d(12)),
            last_session_lead_in: d(16),
            last_possible_lead_out: d(20),
            bar_code: (b[7] & 0x40 != 0 && b.len() >= 32).then(|| b[24..32].try_into().unwrap()),
            unrestricted: b[7] & 0x20 != 0,
        })
    }
}

/// Track information (48 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TrackInformation {
    /// Track number (bytes 32 and 2, high and low).
    pub track: u16,
    /// Session number (bytes 33 and 3, high and low).
    pub session: u16,
    /// Damage (byte 5 bit 5): the track was left damaged by a failed write.
    pub damage: bool,
    /// Copy (byte 5 bit 4): the track is marked as a copy.
    pub copy: bool,
    /// Track mode: the CONTROL nibble of the track.
    pub track_mode: u8,
    /// RT (byte 6 bit 7): the track is reserved.
    pub reserved_track: bool,
    /// Blank (byte 6 bit 6): nothing is recorded in the track.
    pub blank: bool,
    /// Packet/Incremental (byte 6 bit 5): the track is written in packets.
    pub packet: bool,
    /// FP (byte 6 bit 4): the packets are of fixed size.
    pub fixed_packet: bool,
    /// Data mode: 1 Mode 1, 2 Mode 2, 0xF unknown/none (audio).
    pub data_mode: u8,
    /// LRA_V (byte 7 bit 1): `last_recorded` is valid.
    pub lra_valid: bool,
    /// NWA_V (byte 7 bit 0): `next_writable` is valid.
    pub nwa_valid: bool,
    /// Logical track start address (index 1 for CDs).
    pub start: u32,
    /// Next writable address, an LBA (bytes 12-15).
    pub next_writable: u32,
    /// Free blocks left in the track (bytes 16-19).
    pub free_blocks: u32,
    /// Fixed packet size in blocks (bytes 20-23).
    pub packet_size: u32,
    /// Track size in blocks (bytes 24-27).
    pub size: u32,
    /// Last recorded address, an LBA (bytes 28-31).
    pub last_recorded: u32,
    /// Read compatibility LBA (bytes 36-39), for DVD media.
    pub read_compatibility_lba: u32,
}

impl TrackInformation {
    /// Length of the answer in bytes.
    pub const LEN: usize = 48;

    /// The 48-byte answer (data length 46).
    pub fn to_bytes(&self) -> [u8; 48] {
        let mut b = [0u8; 48];
        b[0..2].copy_from_slice(&46u16.to_be_bytes());
        let [th, tl] = self.track.to_be_bytes();
        let [sh, sl] = self.session.to_be_bytes();
        (b[2], b[3], b[32], b[33]) = (tl, sl, th, sh);
        b[5] = ((self.damage as u8) << 5) | ((self.copy as u8) << 4) | (self.track_mode & 0xF);
        b[6] = ((self.reserved_track as u8) << 7)
            | ((self.blank as u8) << 6)
            | ((self.packet as u8) << 5)
            | ((self.fixed_packet as u8) << 4)
            | (self.data_mode & 0xF);
        b[7] = ((self.lra_valid as u8) << 1) | self.nwa_valid as u8;
        for (at, v) in [
            (8, self.start),
            (12, self.next_writable),
            (16, self.free_blocks),
            (20, self.packet_size),
            (24, self.size),
            (28, self.last_recorded),
            (36, self.read_compatibility_lba),
        ] {
            b[at..at + 4].copy_from_slice(&v.to_be_bytes());
        }
        b
    }

    /// Decodes an answer of 28 bytes or more (fields past its end read as 0);
    /// [`ParseError::Short`] when shorter.
    pub fn parse(b: &[u8]) -> Result<TrackInformation, ParseError> {
        need("track information", b, 28)?;
        let at = |i: usize| b.get(i).copied().unwrap_or(0);
        let d = |i: usize| u32::from_be_bytes([at(i), at(i + 1), at(i + 2), at(i + 3)]);
        Ok(TrackInformation {
            track: u16::from_be_bytes([at(32), b[2]]),
            session: u16::from_be_bytes([at(33), b[3]]),
            damage: b[5] & 0x20 != 0,
            copy: b[5] & 0x10 != 0,
            track_mode: b[5] & 0xF,
            reserved_track: b[6] & 0x80 != 0,
            blank: b[6] & 0x40 != 0,
            packet: b[6] & 0x20 != 0,
            fixed_packet: b[6] & 0x10 != 0,
            data_mode: b[6] & 0xF,
            lra_valid: b[7] & 2 != 0,
            nwa_valid: b[7] & 1 != 0,
            start: d(8),
            next_writable: d(12),
            free_blocks: d(16),
            packet_size: d(20),
            size: d(24),
            last_recorded: d(28),
            read_compatibility_lba: d(36),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let di = DiscInformation {
            erasable: false,
            last_session_state: session_state::COMPLETE,
            disc_status: disc_status::FINALIZED,
            first_track: 1,
            sessions: 2,
            first_track_last_session: 3,
            last_track_last_session: 3,
            disc_type: 0x20,
            disc_id: None,
            last_session_lead_in: 0xFFFF_FFFF,
            last_possible_lead_out: 0xFFFF_FFFF,
            bar_code: None,
            unrestricted: true,
        };
        let b = di.to_bytes();
        assert_eq!(b[2], 0x0E);
        assert_eq!(DiscInformation::parse(&b).unwrap(), di);
        let ti = TrackInformation {
            track: 2,
            session: 1,
            track_mode: 4,
            data_mode: 1,
            start: 300,
            size: 1000,
            last_recorded: 1299,
            lra_valid: true,
            ..Default::default()
        };
        assert_eq!(TrackInformation::parse(&ti.to_bytes()).unwrap(), ti);
        let c = Capacity {
            last_lba: 301,
            block_size: 2048,
        };
        assert_eq!(Capacity::parse(&c.to_bytes()).unwrap(), c);
    }
}
