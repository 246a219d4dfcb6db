//! Page-aligned read buffers that a rescue hands on without copying: a sink may keep a
//! [`SharedBuf`] (to hash the sectors on other threads) while the rescue reads the next
//! sectors into another buffer of its [`BufferPool`]; a buffer is reused only once every
//! handle on it is gone.
//!
//! Page alignment matters to SG_IO: the kernel maps an aligned buffer for the drive's DMA,
//! and copies an unaligned one through a bounce buffer (ATAPI queues want 2048 bytes).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

const PAGE: usize = 4096;

/// A fixed-size, page-aligned byte buffer.
pub struct AlignedBuf {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    pub fn new(len: usize) -> AlignedBuf {
        let storage = vec![0u8; len + PAGE];
        let start = (PAGE - storage.as_ptr() as usize % PAGE) % PAGE;
        AlignedBuf { storage, start, len }
    }
}

impl Deref for AlignedBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.storage[self.start..self.start + self.len]
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

/// A buffer of the pool, shared with whoever keeps a clone.
pub type SharedBuf = Arc<AlignedBuf>;

/// A few buffers of one size, taken in turn.
pub struct BufferPool {
    bufs: Vec<SharedBuf>,
    next: usize,
}

impl BufferPool {
    /// `count` buffers (at least one) of `len` bytes each.
    pub fn new(count: usize, len: usize) -> BufferPool {
        BufferPool {
            bufs: (0..count.max(1)).map(|_| Arc::new(AlignedBuf::new(len))).collect(),
            next: 0,
        }
    }

    /// The index of a buffer no one else holds, waiting for one when every buffer is held
    /// (the sink's consumers then set the pace).
    pub fn take(&mut self) -> usize {
        let mut spins = 0u32;
        loop {
            for k in 0..self.bufs.len() {
                let i = (self.next + k) % self.bufs.len();
                if Arc::strong_count(&self.bufs[i]) == 1 && Arc::weak_count(&self.bufs[i]) == 0 {
                    self.next = (i + 1) % self.bufs.len();
                    return i;
                }
            }
            spins += 1;
            if spins < 64 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }

    /// Writable access to buffer `i` (taken with [`BufferPool::take`]).
    pub fn get_mut(&mut self, i: usize) -> &mut AlignedBuf {
        Arc::get_mut(&mut self.bufs[i]).expect("a taken buffer has no other holder")
    }

    /// A handle on buffer `i`.
    pub fn shared(&self, i: usize) -> &SharedBuf {
        &self.bufs[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_aligned_and_reused_only_when_free() {
        let mut pool = BufferPool::new(2, 3 * 2048);
        let a = pool.take();
        assert_eq!(pool.get_mut(a).as_ptr() as usize % PAGE, 0);
        assert_eq!(pool.get_mut(a).len(), 3 * 2048);
        pool.get_mut(a)[0] = 7;
        let held = pool.shared(a).clone();
        let b = pool.take();
        assert_ne!(a, b);
        // Both held: take waits until a holder lets go.
        let held_b = pool.shared(b).clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(held_b);
        });
        assert_eq!(pool.take(), b);
        t.join().unwrap();
        assert_eq!(held[0], 7);
    }
}
