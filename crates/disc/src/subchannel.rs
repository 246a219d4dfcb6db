//! Subchannel: the Q channel's contents and CRC, and the conversions between the stored
//! layouts (16-byte Q, 96-byte P-W interleaved, 96-byte P-W linear).
//!
//! Q frames synthesised here follow ECMA-130 §22.3: ADR 1 (position) in every sector,
//! except one sector in every 100 that carries ADR 2 (the MCN) when the disc has one, and
//! another that carries ADR 3 (the track's ISRC) when the track has one.

use crate::addr::{Lba, to_bcd};
use crate::model::{Disc, Session, Track};

/// CRC-16/CCITT as used by the Q channel and CD-TEXT: polynomial 0x1021, MSB first,
/// initial value 0, result inverted.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    !crc
}

/// Stores the CRC of bytes 0..10 into bytes 10..12 (big-endian).
pub fn seal_q(q: &mut [u8; 12]) {
    let crc = crc16(&q[..10]);
    q[10..12].copy_from_slice(&crc.to_be_bytes());
}

/// True when a Q frame's CRC matches.
pub fn q_crc_ok(q: &[u8; 12]) -> bool {
    crc16(&q[..10]).to_be_bytes() == [q[10], q[11]]
}

/// Which sectors carry MCN and ISRC frames instead of position (1 in 100 each).
const MODE_CYCLE: i32 = 100;
const MCN_PHASE: i32 = 10;
const ISRC_PHASE: i32 = 60;

/// The Q frame a sector of `track` at `lba` carries.
pub fn q_for(disc: &Disc, _session: &Session, track: &Track, lba: Lba) -> [u8; 12] {
    let control = track.control() << 4;
    let mut q = [0u8; 12];
    let index = track.index_at(lba);
    let abs = lba.to_msf().to_bcd();
    let phase = lba.0.rem_euclid(MODE_CYCLE);
    let mcn = disc
        .mcn
        .as_ref()
        .filter(|_| index >= 1 && phase == MCN_PHASE);
    let isrc = track
        .isrc
        .as_ref()
        .filter(|_| index >= 1 && phase == ISRC_PHASE);
    if let Some(mcn) = mcn {
        let digits = mcn.as_str().as_bytes();
        q[0] = control | 2;
        for (i, d) in digits.iter().enumerate() {
            let v = d - b'0';
            q[1 + i / 2] |= if i % 2 == 0 { v << 4 } else { v };
        }
        q[9] = abs[2];
    } else if let Some(isrc) = isrc {
        q[0] = control | 3;
        let isrc = isrc.as_str().as_bytes();
        // Five 6-bit characters (30 bits), 2 zero bits, then 7 BCD digits and 4 zero bits.
        let mut bits: u64 = 0;
        for &c in &isrc[..5] {
            let v = if c.is_ascii_digit() {
                c - b'0'
            } else {
                c - b'A' + 0x11
            };
            bits = (bits << 6) | v as u64;
        }
        bits <<= 2;
        for &c in &isrc[5..] {
            bits = (bits << 4) | (c - b'0') as u64;
        }
        bits <<= 4;
        q[1..9].copy_from_slice(&bits.to_be_bytes());
        q[9] = abs[2];
    } else {
        return q_position(track, lba);
    }
    seal_q(&mut q);
    q
}

/// The ADR 1 (position) Q frame of a sector: what READ SUB-CHANNEL reports as the current
/// position, and what most sectors carry.
pub fn q_position(track: &Track, lba: Lba) -> [u8; 12] {
    let mut q = [0u8; 12];
    q[0] = (track.control() << 4) | 1;
    q[1] = to_bcd(track.number);
    q[2] = to_bcd(track.index_at(lba));
    // Relative time counts down to zero through the pregap, then up from index 1.
    let rel = lba.since(track.index1()).unsigned_abs() as u32;
    q[3..6].copy_from_slice(&crate::addr::Msf::from_frames(rel).to_bcd());
    q[6] = 0;
    q[7..10].copy_from_slice(&lba.to_msf().to_bcd());
    seal_q(&mut q);
    q
}

/// True when the P channel is set for this sector (pause: the pregap, index 0).
pub fn p_for(track: &Track, lba: Lba) -> bool {
    lba < track.index1()
}

/// Builds a 96-byte interleaved P-W block from a P flag and a Q frame (R-W zero).
pub fn interleave_pq(p: bool, q: &[u8; 12], out: &mut [u8]) {
    for (i, o) in out[..96].iter_mut().enumerate() {
        let qbit = (q[i / 8] >> (7 - (i % 8))) & 1;
        *o = (if p { 0x80 } else { 0 }) | (qbit << 6);
    }
}

/// Linear (one channel after another) to interleaved P-W.
pub fn interleave(linear: &[u8], out: &mut [u8]) {
    out[..96].fill(0);
    for ch in 0..8 {
        let shift = 7 - ch;
        for i in 0..96 {
            let bit = (linear[ch * 12 + i / 8] >> (7 - (i % 8))) & 1;
            out[i] |= bit << shift;
        }
    }
}

/// Interleaved to linear P-W.
pub fn deinterleave(interleaved: &[u8], out: &mut [u8]) {
    out[..96].fill(0);
    for ch in 0..8 {
        let shift = 7 - ch;
        for i in 0..96 {
            let bit = (interleaved[i] >> shift) & 1;
            out[ch * 12 + i / 8] |= bit << (7 - (i % 8));
        }
    }
}

/// The Q channel of an interleaved P-W block.
pub fn q_of_interleaved(pw: &[u8]) -> [u8; 12] {
    let mut q = [0u8; 12];
    for i in 0..96 {
        q[i / 8] |= ((pw[i] >> 6) & 1) << (7 - (i % 8));
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_known_q_frame() {
        // Q of LBA 0, track 1 index 1, data track: 41 01 01 00 00 00 00 00 02 00 + CRC.
        let mut q = [
            0x41, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0, 0,
        ];
        seal_q(&mut q);
        assert!(q_crc_ok(&q));
        q[3] ^= 1;
        assert!(!q_crc_ok(&q));
    }

    #[test]
    fn interleave_round_trip() {
        let linear: Vec<u8> = (0..96u32).map(|i| (i * 37 + 11) as u8).collect();
        let mut inter = [0u8; 96];
        let mut back = [0u8; 96];
        interleave(&linear, &mut inter);
        deinterleave(&inter, &mut back);
        assert_eq!(&back[..], &linear[..]);
        assert_eq!(
            q_of_interleaved(&inter),
            <[u8; 12]>::try_from(&linear[12..24]).unwrap()
        );
    }
}
