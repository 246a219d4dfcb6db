//! What the server serves: a catalog of named, read-only exports. The daemon implements
//! [`Catalog`] over its drive table; tests implement it over files or memory.

use std::io;
use std::sync::Arc;

/// One run of bytes in a `base:allocation` answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allocation {
    pub length: u64,
    /// Not stored in the image (NBD_STATE_HOLE).
    pub hole: bool,
    /// Reads as zeros (NBD_STATE_ZERO).
    pub zero: bool,
}

/// A read-only export: a fixed-size run of bytes.
pub trait Export: Send + Sync {
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Fills `buf` from `offset`; the server never asks past `size()`.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// The allocation of `[offset, offset + length)`, in order, covering at least the first
    /// byte (the server trims the answer to the request). The default: all data.
    fn allocation(&self, offset: u64, length: u64) -> io::Result<Vec<Allocation>> {
        let _ = offset;
        Ok(vec![Allocation {
            length,
            hole: false,
            zero: false,
        }])
    }
    /// The preferred block size (NBD_INFO_BLOCK_SIZE): 2048 for user data, 2352 raw. The
    /// protocol needs a power of two, so the server announces the next one (2352 -> 4096).
    fn preferred_block_size(&self) -> u32 {
        2048
    }
    /// Zero-copy hint: when `[offset, offset + length)` is stored as-is in a plain file,
    /// the file and the byte offset there. The server then sends the range with
    /// sendfile(2) instead of `read_at` + write. The default: `None` (always `read_at`).
    fn file_range(&self, offset: u64, length: u64) -> Option<(&std::fs::File, u64)> {
        let _ = (offset, length);
        None
    }
}

/// A name and description, as NBD_OPT_LIST and NBD_INFO_DESCRIPTION give them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportInfo {
    pub name: String,
    pub description: String,
}

/// The exports a server offers. Looked up at every NBD_OPT_GO / INFO / EXPORT_NAME, so a
/// catalog may change while the server runs (drives loaded and ejected).
pub trait Catalog: Send + Sync {
    /// Every export, for NBD_OPT_LIST.
    fn list(&self) -> Vec<ExportInfo>;
    /// The export called `name` ("" is the default export, if the catalog has one).
    fn open(&self, name: &str) -> Option<(ExportInfo, Arc<dyn Export>)>;
}
