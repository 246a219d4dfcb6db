// Shared by the MDS targets: byte sources and data files held in memory, and track reads.
#![allow(dead_code)]

use spindle_disc::{ByteSource, Companions, Disc, Lba, SectorFormat};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes in memory as a file.
pub use spindle_disc::MemSource as Mem;

/// Every data file a descriptor names opens as the same bytes, under its own name.
pub struct MemFiles(pub Arc<[u8]>);

impl Companions for MemFiles {
    fn open(&self, name: &str) -> io::Result<Arc<dyn ByteSource>> {
        Ok(Arc::new(Mem::new(self.0.clone(), self.resolve(name)?)))
    }
    fn resolve(&self, name: &str) -> io::Result<PathBuf> {
        Ok(Path::new("/fuzz").join(name))
    }
}

/// Data file bytes: `data`, then a pattern up to `min` bytes, so that descriptors declaring
/// tracks of some sectors find them.
pub fn padded(data: &[u8], min: usize) -> Arc<[u8]> {
    let mut v = data.to_vec();
    let n = v.len();
    v.extend((n..min.max(n)).map(|i| (i ^ (i >> 8)) as u8));
    v.into()
}

/// Reads a few sectors at the start, index 1 and end of every track in several formats,
/// ignoring errors.
pub fn read_tracks(disc: &Disc) {
    const N: u32 = 3;
    let mut buf = vec![0u8; N as usize * 2448];
    for track in disc.tracks().take(100) {
        let index1 = track.start.offset(track.pregap as i64);
        let last = track.end().offset(-(N as i64));
        for lba in [track.start, index1, last] {
            for format in [
                SectorFormat::RAW,
                SectorFormat::RAW_PW96,
                SectorFormat::USER,
                SectorFormat::USER_2048,
            ] {
                let _ = disc.read_sectors(lba, N, format, &mut buf);
            }
        }
    }
    let _ = disc.read_sectors(Lba(-151), 1, SectorFormat::RAW, &mut buf);
}
