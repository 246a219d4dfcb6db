//! Bounds-checked little-endian reads from a descriptor held in memory: every read that
//! would run past the end is a [`MdsError::Truncated`] naming the structure and its offset.

use crate::error::{MdsError, Result};
use std::path::Path;

/// A descriptor (MDS v1 file, or a decrypted and inflated MDS v2/MDX descriptor) and the
/// file it came from, for messages.
#[derive(Clone, Copy)]
pub(crate) struct Bytes<'a> {
    pub data: &'a [u8],
    pub path: &'a Path,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8], path: &'a Path) -> Bytes<'a> {
        Bytes { data, path }
    }

    pub fn len(&self) -> u64 {
        self.data.len() as u64
    }

    /// `len` bytes at `offset`, or an error naming `what`.
    pub fn slice(&self, offset: u64, len: u64, what: &dyn Fn() -> String) -> Result<&'a [u8]> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len() => Ok(&self.data[offset as usize..end as usize]),
            _ => Err(MdsError::Truncated {
                path: self.path.to_path_buf(),
                what: what(),
                offset,
                len: self.len(),
            }),
        }
    }

    pub fn corrupt(&self, message: String) -> MdsError {
        MdsError::Corrupt {
            path: self.path.to_path_buf(),
            message,
        }
    }
}

/// Fixed-size little-endian fields of a structure already bounds-checked as a whole.
pub(crate) trait Le {
    fn u8_at(&self, off: usize) -> u8;
    fn u16_at(&self, off: usize) -> u16;
    fn u32_at(&self, off: usize) -> u32;
    fn u64_at(&self, off: usize) -> u64;
    fn i32_at(&self, off: usize) -> i32 {
        self.u32_at(off) as i32
    }
    fn i64_at(&self, off: usize) -> i64 {
        self.u64_at(off) as i64
    }
}

impl Le for [u8] {
    fn u8_at(&self, off: usize) -> u8 {
        self[off]
    }
    fn u16_at(&self, off: usize) -> u16 {
        u16::from_le_bytes(self[off..off + 2].try_into().unwrap())
    }
    fn u32_at(&self, off: usize) -> u32 {
        u32::from_le_bytes(self[off..off + 4].try_into().unwrap())
    }
    fn u64_at(&self, off: usize) -> u64 {
        u64::from_le_bytes(self[off..off + 8].try_into().unwrap())
    }
}

/// Appends little-endian fields to a buffer being written.
pub(crate) trait PutLe {
    fn put_u16(&mut self, off: usize, v: u16);
    fn put_u32(&mut self, off: usize, v: u32);
    fn put_u64(&mut self, off: usize, v: u64);
}

impl PutLe for [u8] {
    fn put_u16(&mut self, off: usize, v: u16) {
        self[off..off + 2].copy_from_slice(&v.to_le_bytes());
    }
    fn put_u32(&mut self, off: usize, v: u32) {
        self[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn put_u64(&mut self, off: usize, v: u64) {
        self[off..off + 8].copy_from_slice(&v.to_le_bytes());
    }
}
