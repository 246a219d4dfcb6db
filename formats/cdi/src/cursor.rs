//! A bounds-checked little-endian reader over the descriptor held in memory. Every read
//! that would run past the end is a [`CdiError::Truncated`] naming the structure and its
//! offset in the image file (not in the descriptor), so messages point at the bytes.

use crate::error::{CdiError, Result};
use std::path::Path;

#[derive(Clone)]
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    /// File offset of `data[0]`.
    base: u64,
    path: &'a Path,
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8], base: u64, path: &'a Path) -> Cursor<'a> {
        Cursor {
            data,
            pos: 0,
            base,
            path,
        }
    }

    /// File offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The next `n` bytes, or an error naming `what`.
    pub fn take(&mut self, n: usize, what: &dyn Fn() -> String) -> Result<&'a [u8]> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.data.len() => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            _ => Err(CdiError::Truncated {
                path: self.path.to_path_buf(),
                what: what(),
                offset: self.offset(),
                end: self.base + self.data.len() as u64,
            }),
        }
    }

    pub fn skip(&mut self, n: usize, what: &dyn Fn() -> String) -> Result<()> {
        self.take(n, what).map(|_| ())
    }

    pub fn u8(&mut self, what: &dyn Fn() -> String) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    pub fn u16(&mut self, what: &dyn Fn() -> String) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn corrupt(&self, message: String) -> CdiError {
        CdiError::Corrupt {
            path: self.path.to_path_buf(),
            message,
        }
    }
}
