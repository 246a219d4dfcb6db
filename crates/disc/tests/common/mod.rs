//! What the disc crate's tests share: a deterministic byte pattern, image bytes in a
//! temporary file, and a track built from its extents. (spindle-testkit depends on this
//! crate, so the disc crate's own tests keep theirs here.)
#![allow(dead_code)]

use spindle_disc::*;
use std::io::Write;
use std::sync::Arc;

/// A deterministic byte pattern (xorshift32 from `seed`).
pub fn pattern(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2654435761) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// [`pattern`] without zero bytes (so a run of zeros is never data by chance).
pub fn pattern_nonzero(n: usize, seed: u32) -> Vec<u8> {
    pattern(n, seed).into_iter().map(|b| b | 1).collect()
}

/// `bytes` in a temporary file, opened as a plain-file source (keep the file alive).
pub fn temp_file(bytes: &[u8]) -> (tempfile::NamedTempFile, Arc<dyn ByteSource>) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    let src: Arc<dyn ByteSource> = Arc::new(FileSource::open(f.path()).unwrap());
    (f, src)
}

/// Track `number` of `mode` from `start` (its pregap included) made of `extents`.
pub fn track(number: u8, mode: TrackMode, start: i32, pregap: u32, extents: Vec<Extent>) -> Track {
    let length = extents.iter().map(|e| e.sectors).sum();
    Track {
        number,
        mode,
        flags: TrackFlags::default(),
        isrc: None,
        start: Lba(start),
        pregap,
        extra_indexes: vec![],
        length,
        postgap: 0,
        extents,
    }
}
