//! What the server serves: a catalog of named, read-only exports. An export is bytes of the
//! one byte layer ([`ByteSource`]: reads, `base:allocation` from
//! [`runs`](ByteSource::runs), sendfile from [`backing`](ByteSource::backing)) and an
//! [`ExportInfo`] with what the protocol says about it. The daemon implements [`Catalog`]
//! over its drive table; tests implement it over files or memory.

use spindle_bytes::ByteSource;
use std::sync::Arc;

/// A name, a description and a preferred block size, as NBD_OPT_LIST, NBD_INFO_DESCRIPTION
/// and NBD_INFO_BLOCK_SIZE give them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportInfo {
    /// The export's name.
    pub name: String,
    /// Free text for NBD_INFO_DESCRIPTION (none sent when empty).
    pub description: String,
    /// The preferred block size: 2048 for user data, 2352 raw. The protocol needs a power
    /// of two, so the server announces the next one (2352 -> 4096).
    pub block_size: u32,
}

impl ExportInfo {
    /// An export `name` described as `description`, with 2048-byte preferred blocks.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> ExportInfo {
        ExportInfo {
            name: name.into(),
            description: description.into(),
            block_size: 2048,
        }
    }

    /// Sets the preferred block size (at least 1).
    pub fn with_block_size(mut self, block_size: u32) -> ExportInfo {
        self.block_size = block_size.max(1);
        self
    }
}

/// The exports a server offers. Looked up at every NBD_OPT_GO / INFO / EXPORT_NAME, so a
/// catalog may change while the server runs (drives loaded and ejected).
pub trait Catalog: Send + Sync {
    /// Every export, for NBD_OPT_LIST.
    fn list(&self) -> Vec<ExportInfo>;
    /// The export called `name` ("" is the default export, if the catalog has one): what
    /// the protocol says about it and its bytes.
    fn open(&self, name: &str) -> Option<(ExportInfo, Arc<dyn ByteSource>)>;
}
