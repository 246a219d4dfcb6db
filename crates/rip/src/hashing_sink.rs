//! A sink that hashes the sectors it is given while they are written, as long as they come
//! in order from the first sector with none missing: the digest of a clean rip of one area
//! is then ready when its last sector arrives, without reading the work file again.

use crate::buffers::SharedBuf;
use crate::error::Result;
use crate::hash::{Digests, StreamHasher};
use crate::rescue::{Direct, RescueSink};

/// A [`RescueSink`] that writes through to another and hashes the sectors as they arrive,
/// for a fresh rip that reads in order (see [`StreamHasher`]).
pub struct HashingSink<'a> {
    inner: &'a mut dyn RescueSink,
    sector_size: u64,
    /// `None` once the order broke (a failed or skipped sector, a write from elsewhere).
    hasher: Option<StreamHasher>,
    /// Sectors hashed: the next write must start here.
    next: u64,
}

impl<'a> HashingSink<'a> {
    /// Hashing stays off when its threads cannot start (the rip then hashes afterwards).
    pub fn new(inner: &'a mut dyn RescueSink, sector_size: u32) -> HashingSink<'a> {
        HashingSink {
            inner,
            sector_size: sector_size as u64,
            hasher: StreamHasher::start().ok(),
            next: 0,
        }
    }

    /// The digest of sectors `0..sectors`, if exactly those were hashed in order.
    pub fn finish(self, sectors: u64) -> Option<Digests> {
        let hasher = self.hasher?;
        let digests = hasher.finish()?;
        (self.next == sectors).then_some(digests)
    }
}

impl HashingSink<'_> {
    fn hash(&mut self, first: u64, data: &SharedBuf) {
        let len = data.len() as u64;
        match self.hasher.as_mut() {
            Some(h) if first == self.next && len.is_multiple_of(self.sector_size) => {
                h.update(data);
                self.next += len / self.sector_size;
            }
            _ => self.hasher = None,
        }
    }
}

impl RescueSink for HashingSink<'_> {
    fn write(&mut self, first: u64, data: &[u8]) -> Result<()> {
        // Bytes that cannot be kept without a copy: hashing stops here.
        self.hasher = None;
        self.inner.write(first, data)
    }

    fn write_shared(&mut self, first: u64, data: &SharedBuf) -> Result<()> {
        self.inner.write_shared(first, data)?;
        self.hash(first, data);
        Ok(())
    }

    fn direct(&mut self, first: u64, count: u32) -> Option<Direct<'_>> {
        self.inner.direct(first, count)
    }

    fn wrote_direct(&mut self, first: u64, data: &SharedBuf) -> Result<()> {
        self.inner.wrote_direct(first, data)?;
        self.hash(first, data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffers::BufferPool;
    use crate::hash::Hasher;

    /// Keeps what it is given, by sector.
    #[derive(Default)]
    struct Mem(Vec<u8>);

    impl RescueSink for Mem {
        fn write(&mut self, first: u64, data: &[u8]) -> Result<()> {
            let at = first as usize * 4;
            if self.0.len() < at + data.len() {
                self.0.resize(at + data.len(), 0);
            }
            self.0[at..at + data.len()].copy_from_slice(data);
            Ok(())
        }
    }

    /// Writes `chunks` (first sector, sectors) of 4-byte sectors whose bytes count up, each
    /// from a pool buffer; returns the digest and what the inner sink got.
    fn feed(chunks: &[(u64, usize)], sectors: u64) -> (Option<Digests>, Vec<u8>) {
        let mut mem = Mem::default();
        let mut pool = BufferPool::new(3, 64);
        let mut sink = HashingSink::new(&mut mem, 4);
        for &(first, n) in chunks {
            let i = pool.take();
            for (k, b) in pool.get_mut(i)[..n * 4].iter_mut().enumerate() {
                *b = (first as usize * 4 + k) as u8;
            }
            sink.write_shared(first, &pool.shared(i, n * 4)).unwrap();
        }
        let d = sink.finish(sectors);
        (d, mem.0)
    }

    #[test]
    fn in_order_writes_are_hashed_as_the_bytes_written() {
        let (d, bytes) = feed(&[(0, 16), (16, 16), (32, 5)], 37);
        let mut h = Hasher::new();
        h.update(&bytes);
        assert_eq!(bytes.len(), 37 * 4);
        assert_eq!(d, Some(h.finish()));
    }

    #[test]
    fn a_gap_a_short_count_or_a_copied_write_gives_no_digest() {
        assert_eq!(feed(&[(0, 16), (20, 16)], 36).0, None, "gap");
        assert_eq!(
            feed(&[(0, 16), (16, 16)], 33).0,
            None,
            "fewer sectors than asked"
        );
        let mut mem = Mem::default();
        let mut pool = BufferPool::new(1, 64);
        let mut sink = HashingSink::new(&mut mem, 4);
        let i = pool.take();
        sink.write_shared(0, &pool.shared(i, 64)).unwrap();
        sink.write(16, &[1, 2, 3, 4]).unwrap();
        assert_eq!(sink.finish(17), None, "a write without a shared buffer");
        assert_eq!(mem.0.len(), 68, "the inner sink still got every write");
    }
}
