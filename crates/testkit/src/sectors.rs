//! Reading a disc's raw sectors in tests: a run of them, and MD5s to compare tracks by.

use md5::{Digest, Md5};
use spindle_disc::{Disc, Lba, SectorFormat};

/// The raw (2352-byte) bytes of `count` sectors from `lba`; fails the test on a short read.
pub fn raw(disc: &Disc, lba: Lba, count: u32) -> Vec<u8> {
    let mut buf = vec![0u8; count as usize * 2352];
    let n = disc
        .read_sectors(lba, count, SectorFormat::RAW, &mut buf)
        .unwrap();
    assert_eq!(n, buf.len());
    buf
}

/// MD5 (hex) of the raw sectors `first..end`.
pub fn raw_md5(disc: &Disc, first: Lba, end: Lba) -> String {
    let mut h = Md5::new();
    let mut lba = first;
    let mut buf = vec![0u8; 256 * 2352];
    while lba < end {
        let n = (end.since(lba) as u32).min(256);
        let len = disc
            .read_sectors(lba, n, SectorFormat::RAW, &mut buf)
            .unwrap();
        h.update(&buf[..len]);
        lba = lba.offset(n as i64);
    }
    format!("{:x}", h.finalize())
}

/// Every track's number and the MD5 of all its raw sectors, pregap and postgap included.
pub fn track_md5s(disc: &Disc) -> Vec<(u8, String)> {
    disc.tracks()
        .map(|t| (t.number, raw_md5(disc, t.start, t.end())))
        .collect()
}
