//! Small fixed answers about the drive's mechanism and buffer: MECHANISM STATUS, READ FORMAT
//! CAPACITIES, READ BUFFER CAPACITY (MMC-6 layouts).

use super::answers::capacity;
use spindle_disc::{Disc, Lba};

/// The drive's read buffer, bytes (what READ BUFFER CAPACITY and page 0x2A report).
pub(super) const BUFFER_BYTES: u32 = 2 * 1024 * 1024;

/// MECHANISM STATUS: the 8-byte header of a drive that is no changer (no slot tables).
/// Byte 0: fault (7), changer state (6-5, 0 ready), current slot (4-0); byte 1: mechanism
/// state (7-5: 0 idle, 1 playing audio), door open (4); bytes 2-4: the current LBA; byte 5:
/// slots available; bytes 6-7: slot table length.
pub(super) fn mechanism_status(playing: bool, door_open: bool, position: Lba) -> Vec<u8> {
    let lba = position.0.max(0) as u32;
    let mut b = vec![0u8; 8];
    b[1] = ((playing as u8) << 5) | ((door_open as u8) << 4);
    b[2..5].copy_from_slice(&lba.to_be_bytes()[1..]);
    b
}

/// READ FORMAT CAPACITIES: a list header and the current/maximum capacity descriptor. A
/// pressed disc is "formatted media" (descriptor type 2) of its capacity in 2048-byte
/// blocks; without a medium, type 3 ("no media present") with the largest capacity the
/// drive reads (a dual-layer BD, 50 GB).
pub(super) fn format_capacities(disc: Option<&Disc>) -> Vec<u8> {
    let (blocks, kind) = match disc {
        Some(d) => (capacity(d).blocks() as u32, 2u8),
        None => (24_438_784, 3),
    };
    let mut b = vec![0, 0, 0, 8];
    b.extend_from_slice(&blocks.to_be_bytes());
    b.push(kind);
    b.extend_from_slice(&2048u32.to_be_bytes()[1..]);
    b
}

/// READ BUFFER CAPACITY: with `block` clear, the buffer's length and its free bytes; with
/// it set, the free space in 2048-byte blocks. A read-only drive keeps its buffer free.
pub(super) fn buffer_capacity(block: bool) -> Vec<u8> {
    let mut b = vec![0u8; 12];
    b[1] = 10;
    if block {
        b[3] = 1;
        b[8..12].copy_from_slice(&(BUFFER_BYTES / 2048).to_be_bytes());
    } else {
        b[4..8].copy_from_slice(&BUFFER_BYTES.to_be_bytes());
        b[8..12].copy_from_slice(&BUFFER_BYTES.to_be_bytes());
    }
    b
}

/// The read speed a SET STREAMING performance descriptor asks for, kB/s: read size (kB,
/// bytes 12-15) over read time (ms, bytes 16-19). `None` when the list is too short or the
/// time is zero.
pub(super) fn streaming_read_speed(list: &[u8]) -> Option<u32> {
    let w = |at: usize| {
        list.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (size, time) = (w(12)?, w(16)?);
    (time != 0).then(|| (size as u64 * 1000 / time as u64).min(u32::MAX as u64) as u32)
}
