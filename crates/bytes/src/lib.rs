//! The one byte layer of spindle: every frontend (filesystem readers, FUSE, NBD, the USB
//! writer, later the SCSI drive) reads bytes through [`ByteSource`], and every composite file
//! (a BIN with its pieces, a WAV with its header, a raw view with zero-filled gaps) is a
//! [`Concat`] of pieces.
//!
//! A source offers, besides positioned reads, two optional answers that let frontends go
//! faster without knowing what is behind it:
//! - [`ByteSource::backing`]: the plain file a range is stored in as it reads, so the range
//!   can be copied without reading it through (`copy_file_range`, `sendfile`, `splice`,
//!   FUSE passthrough);
//! - [`ByteSource::runs`]: which runs are stored and which are known to read as zeros (NBD
//!   `base:allocation`, sparse copies).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod concat;
mod mem;

pub use concat::{Concat, Piece};
pub use mem::MemSource;

use std::fs::File;
use std::io;
use std::path::Path;

/// Where a range of a source lies in a plain file, byte for byte.
#[derive(Clone, Copy, Debug)]
pub struct Backing<'a> {
    /// The file holding the bytes as they read.
    pub file: &'a File,
    /// Offset in `file` of the range's first byte.
    pub offset: u64,
    /// Bytes from there that map one to one (at least 1, at most the length asked about).
    pub len: u64,
}

/// A run of a source's bytes, as [`ByteSource::runs`] lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// Length in bytes.
    pub len: u64,
    /// The image stores these bytes (else they are synthesised: NBD's `HOLE`).
    pub stored: bool,
    /// Known to read as zeros (NBD's `ZERO`).
    pub zero: bool,
}

/// Random-access, read-only bytes, shareable between threads.
///
/// Implementations must allow reads from several threads at once and must keep the same
/// length for their whole life.
pub trait ByteSource: Send + Sync {
    /// Length in bytes.
    fn len(&self) -> u64;

    /// Whether the source holds no byte.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads from `offset` into `buf`; returns how many bytes were read. The count is short
    /// only at the end of the source (0 at or past it).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;

    /// Fills `buf` from `offset`; a read past the end is an `UnexpectedEof` error naming the
    /// source (by its [`path`](Self::path), when it has one).
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let at = offset + done as u64;
            let n = self.read_at(&mut buf[done..], at)?;
            if n == 0 {
                let what = format!(
                    "read of {} bytes at {offset} runs past the end ({} bytes)",
                    buf.len(),
                    self.len()
                );
                let path = self.path();
                let msg = if path.as_os_str().is_empty() {
                    what
                } else {
                    format!("{}: {what}", path.display())
                };
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, msg));
            }
            done += n;
        }
        Ok(())
    }

    /// The path shown in errors (empty when the bytes have no file name).
    fn path(&self) -> &Path {
        Path::new("")
    }

    /// Where `[offset, offset + len)` starts in a plain file that stores it as it reads, and
    /// how many bytes from there do; `None` when the range must be read with
    /// [`read_at`](Self::read_at). The one zero-copy check: frontends never compute it
    /// themselves.
    fn backing(&self, offset: u64, len: u64) -> Option<Backing<'_>> {
        let _ = (offset, len);
        None
    }

    /// The runs of `[offset, offset + len)` clipped to the source, in order, the first one
    /// starting at `offset`; neighbours of the same kind merged. The default: all stored
    /// data.
    fn runs(&self, offset: u64, len: u64) -> Vec<Run> {
        let end = offset.saturating_add(len).min(self.len());
        if offset >= end {
            return Vec::new();
        }
        vec![Run {
            len: end - offset,
            stored: true,
            zero: false,
        }]
    }

    /// The plain file that is this whole source byte for byte, if there is one (FUSE
    /// passthrough maps the whole file). The default: the backing of the whole source, from
    /// the file's first byte; a source whose file may hold more than it (a view of part of
    /// an image) checks the file's length too.
    fn plain_file(&self) -> Option<&File> {
        let len = self.len();
        let b = self.backing(0, len)?;
        (b.offset == 0 && b.len == len).then_some(b.file)
    }
}

/// Appends `run` to `runs`, merging it into the last run when both are of one kind.
pub fn push_run(runs: &mut Vec<Run>, run: Run) {
    if run.len == 0 {
        return;
    }
    match runs.last_mut() {
        Some(r) if r.stored == run.stored && r.zero == run.zero => r.len += run.len,
        _ => runs.push(run),
    }
}
