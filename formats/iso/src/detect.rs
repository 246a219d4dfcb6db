//! Telling the sector size and mode of a descriptor-less image from its first bytes.
//!
//! Order of evidence: a sync pattern at sector 0 and at the next sector boundaries (raw
//! 2352/2448), then a volume descriptor (`CD001`, `BEA01`, `NSR0x`...) at sector 16 for each
//! candidate size, then the size alone (a multiple of 2048).

use spindle_disc::TrackMode;
use spindle_disc::sector::{SYNC, sniff_mode};

/// What an image's sectors look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Bytes per sector: 2048, 2336, 2352 or 2448.
    pub sector_size: usize,
    /// True for raw sectors (2352, 2336, 2448), which only CDs have.
    pub raw: bool,
    /// The track mode the sectors hold (Mode 1, Mode 2 form 1...).
    pub mode: TrackMode,
}

const DESCRIPTOR_IDS: [&[u8; 5]; 7] = [
    b"CD001", b"BEA01", b"NSR02", b"NSR03", b"TEA01", b"BOOT2", b"CDW02",
];

fn has_sync_at(head: &[u8], off: usize) -> bool {
    head.get(off..off + 12) == Some(&SYNC[..])
}

/// Where user data starts in a raw sector of `size` whose mode byte is `mode_byte`.
fn user_offset(size: usize, sector: &[u8]) -> usize {
    match size {
        2336 => 8,
        _ if sector.get(15) == Some(&2) => 24,
        _ => 16,
    }
}

fn descriptor_at(head: &[u8], size: usize) -> bool {
    let base = 16 * size;
    let Some(sector) = head.get(base..base + size) else {
        return false;
    };
    let off = user_offset(size, sector);
    sector
        .get(off + 1..off + 6)
        .is_some_and(|id| DESCRIPTOR_IDS.iter().any(|d| id == &d[..]))
}

/// Detects the layout from the first bytes (`head`, up to 64 KiB) and the file length.
pub fn detect_layout(head: &[u8], len: u64) -> Option<Layout> {
    if len == 0 {
        return None;
    }
    // Raw sectors with sync: check a few consecutive sector starts.
    for size in [2352usize, 2448] {
        if !len.is_multiple_of(size as u64) {
            continue;
        }
        let checks = (len / size as u64).min(4) as usize;
        if checks > 0
            && (0..checks).all(|i| has_sync_at(head, i * size) || head.len() < (i + 1) * size)
            && has_sync_at(head, 0)
        {
            let at16 = head.get(16 * size..17 * size);
            let mode = at16
                .and_then(sniff_mode)
                .or_else(|| sniff_mode(head))
                .unwrap_or(TrackMode::Mode1);
            return Some(Layout {
                sector_size: size,
                raw: true,
                mode,
            });
        }
        if descriptor_at(head, size) {
            let mode = head
                .get(16 * size..17 * size)
                .and_then(sniff_mode)
                .unwrap_or(TrackMode::Mode1);
            return Some(Layout {
                sector_size: size,
                raw: true,
                mode,
            });
        }
    }
    if len.is_multiple_of(2048)
        && (descriptor_at(head, 2048) || !len.is_multiple_of(2336) || !descriptor_at(head, 2336))
    {
        return Some(Layout {
            sector_size: 2048,
            raw: false,
            mode: TrackMode::Mode1,
        });
    }
    if len.is_multiple_of(2336) && descriptor_at(head, 2336) {
        return Some(Layout {
            sector_size: 2336,
            raw: true,
            mode: TrackMode::Mode2Mixed,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_iso_by_descriptor_and_by_size() {
        let mut img = vec![0u8; 2048 * 20];
        img[16 * 2048 + 1..16 * 2048 + 6].copy_from_slice(b"CD001");
        assert_eq!(
            detect_layout(&img, img.len() as u64).unwrap().sector_size,
            2048
        );
        assert_eq!(detect_layout(&[0u8; 4096], 4096).unwrap().sector_size, 2048);
        assert_eq!(detect_layout(&[0u8; 1000], 1000), None);
        assert_eq!(detect_layout(&[], 0), None);
    }

    #[test]
    fn mode2_2336_by_descriptor() {
        let mut img = vec![0u8; 2336 * 20];
        img[16 * 2336 + 9..16 * 2336 + 14].copy_from_slice(b"CD001");
        let l = detect_layout(&img, img.len() as u64).unwrap();
        assert_eq!((l.sector_size, l.mode), (2336, TrackMode::Mode2Mixed));
    }
}
