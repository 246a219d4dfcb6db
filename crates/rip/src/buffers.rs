//! Read buffers that a rescue hands on without copying: a sink may keep a [`SharedBuf`] (to
//! hash the sectors on other threads) while the rescue reads the next sectors into another
//! buffer of its [`BufferPool`]; a buffer is reused only once every handle on it is gone.
//! Or the sectors are read straight into a [`MappedFile`] region of the work file, so that
//! the drive's DMA fills the page cache and no write copies them.
//!
//! Page alignment matters to SG_IO: the kernel maps an aligned buffer for the drive's DMA,
//! and copies an unaligned one through a bounce buffer (ATAPI queues want 2048 bytes).

use spindle_disc::aligned::AlignedBuf;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

/// Read-only bytes of a pool buffer or of a mapped file, keeping their owner alive.
#[derive(Clone)]
pub struct SharedBuf {
    _owner: Arc<dyn Send + Sync>,
    ptr: *const u8,
    len: usize,
}

// SAFETY: the bytes belong to `_owner`, which is Send + Sync and outlives every handle; no
// one writes them while a handle exists (the pool hands out a buffer only when no handle is
// left, and a rescue never reads again a sector it has handed on: see `MappedFile`).
unsafe impl Send for SharedBuf {}
// SAFETY: as for Send: shared handles only read.
unsafe impl Sync for SharedBuf {}

impl SharedBuf {
    /// The first `len` bytes (at most all of them).
    pub fn prefix(&self, len: usize) -> SharedBuf {
        SharedBuf {
            _owner: self._owner.clone(),
            ptr: self.ptr,
            len: len.min(self.len),
        }
    }
}

impl Deref for SharedBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: see the Send/Sync note: `len` bytes at `ptr` live as long as the owner.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// A file mapped shared and writable, for reading sectors into by DMA.
pub struct MappedFile {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: a plain memory region; who writes where is the rescue's business (each region is
// read into once before it is handed on).
unsafe impl Send for MappedFile {}
// SAFETY: as for Send: the mapping is plain memory.
unsafe impl Sync for MappedFile {}

impl MappedFile {
    /// Maps the first `len` bytes of `file` (which must be that long).
    pub fn map(file: &std::fs::File, len: usize) -> std::io::Result<Arc<MappedFile>> {
        use std::os::fd::AsRawFd;
        if len == 0 {
            return Err(std::io::Error::other("nothing to map"));
        }
        // SAFETY: a fresh shared mapping of an open file; checked for failure.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Arc::new(MappedFile { ptr: p.cast(), len }))
    }

    /// Bytes mapped.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is mapped (a zero-length file).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `len` bytes at `offset` to read into, and a handle on them for afterwards.
    ///
    /// # Safety
    /// Only a transport that fills it by the kernel's hand ([`spindle_mmc::Transport::reads_by_dma`])
    /// may write the slice (a store from this process to a page the file cannot back raises
    /// SIGBUS), and no other slice or handle of the same bytes may be in use meanwhile.
    // A mutable slice from a shared handle: the mapping is shared memory by nature, and
    // exclusive use of each region is the caller's promise (above).
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn region(
        self: &Arc<Self>,
        offset: usize,
        len: usize,
    ) -> Option<(&mut [u8], SharedBuf)> {
        let end = offset.checked_add(len)?;
        if end > self.len {
            return None;
        }
        // SAFETY: inside the mapping; exclusivity is the caller's promise. Both the slice
        // and the handle come from the mapping's own pointer (not one from the other).
        let p = unsafe { self.ptr.add(offset) };
        // SAFETY: `p..p + len` lies inside the mapping (checked above); see the comment above.
        let slice = unsafe { std::slice::from_raw_parts_mut(p, len) };
        let shared = SharedBuf {
            _owner: self.clone(),
            ptr: p,
            len,
        };
        Some((slice, shared))
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, unmapped once.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// A few buffers of one size, taken in turn.
pub struct BufferPool {
    bufs: Vec<Arc<AlignedBuf>>,
    /// The size asked for (an [`AlignedBuf`] rounds up to whole pages).
    len: usize,
    next: usize,
}

impl BufferPool {
    /// `count` buffers (at least one) of `len` bytes each.
    pub fn new(count: usize, len: usize) -> BufferPool {
        BufferPool {
            bufs: (0..count.max(1))
                .map(|_| Arc::new(AlignedBuf::new(len)))
                .collect(),
            len,
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
                if Arc::strong_count(&self.bufs[i]) == 1 {
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
    pub fn get_mut(&mut self, i: usize) -> &mut [u8] {
        let len = self.len;
        &mut Arc::get_mut(&mut self.bufs[i])
            .expect("a taken buffer has no other holder")
            .as_mut_slice()[..len]
    }

    /// A handle on the first `len` bytes of buffer `i`.
    pub fn shared(&self, i: usize, len: usize) -> SharedBuf {
        let b = &self.bufs[i];
        SharedBuf {
            _owner: b.clone(),
            ptr: b.as_slice().as_ptr(),
            len: len.min(self.len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_aligned_and_reused_only_when_free() {
        let mut pool = BufferPool::new(2, 3 * 2048);
        let a = pool.take();
        assert_eq!(
            pool.get_mut(a).as_ptr() as usize % spindle_disc::aligned::ALIGN,
            0
        );
        assert_eq!(pool.get_mut(a).len(), 3 * 2048);
        pool.get_mut(a)[0] = 7;
        let held = pool.shared(a, 2048);
        let b = pool.take();
        assert_ne!(a, b);
        // Both held: take waits until a holder lets go.
        let held_b = pool.shared(b, 10);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(held_b);
        });
        assert_eq!(pool.take(), b);
        t.join().unwrap();
        assert_eq!(held[0], 7);
        assert_eq!(held.len(), 2048);
        assert_eq!(held.prefix(100).len(), 100);
    }

    #[test]
    fn a_mapped_region_lands_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w");
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        f.set_len(3 * 4096).unwrap();
        let m = MappedFile::map(&f, 3 * 4096).unwrap();
        // SAFETY: a test: no one else maps or reads the file, and a tmp file backs every page.
        let (slice, shared) = unsafe { m.region(4096, 4096) }.unwrap();
        slice.fill(0x5a);
        // SAFETY: as above; the region asked for runs past the end and is refused.
        assert!(unsafe { m.region(3 * 4096 - 1, 2) }.is_none());
        drop(m);
        assert!(
            shared.iter().all(|&b| b == 0x5a),
            "the handle keeps the mapping"
        );
        drop(shared);
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes[..4096].iter().all(|&b| b == 0));
        assert!(bytes[4096..8192].iter().all(|&b| b == 0x5a));
    }
}
