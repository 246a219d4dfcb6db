//! The raw-view files of one disc: what `drives/<N>/` holds, listed from the disc's
//! [`Catalogue`] (so NBD exports the same names with the same bytes), built once per loaded
//! disc. Every file is read on the fly; none is materialised.

use spindle_disc::{Catalogue, Disc, Entry};
use std::fs::File;
use std::sync::Arc;

/// The files of one disc: those in `drives/<N>/` and those in `drives/<N>/tracks/`.
pub(crate) struct DiscFiles {
    /// Keeps the disc (and so its address, our cache key) alive while the files are listed.
    pub disc: Arc<Disc>,
    pub top: Vec<Entry>,
    pub tracks: Vec<Entry>,
}

impl DiscFiles {
    pub fn build(disc: Arc<Disc>) -> DiscFiles {
        let catalogue = Catalogue::of(disc.clone());
        for s in catalogue.skipped() {
            eprintln!(
                "spindle-fuse: {} of {}: {}",
                s.name,
                disc.source.path.display(),
                s.reason
            );
        }
        let (tracks, top) = catalogue
            .entries()
            .iter()
            .cloned()
            .partition(|e| e.in_tracks());
        DiscFiles { disc, top, tracks }
    }
}

/// The plain image file an entry is, byte for byte and whole. `plain_file` (the byte layer's
/// one zero-copy answer) already says the entry is that file from byte 0 to its length; FUSE
/// passthrough adds what only it needs: the kernel serves the *file*, so it must be a regular
/// file of exactly that length (a longer file would show bytes past the entry; a block
/// device's `st_size` is 0 and the kernel would read nothing).
pub(crate) fn passthrough_file(e: &Entry) -> Option<&File> {
    let f = e.bytes().plain_file()?;
    (f.metadata().ok()?.len() == e.len()).then_some(f)
}

/// Reads an entry at `offset`; short only at its end.
pub(crate) fn read_entry(e: &Entry, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    e.bytes().read_at(buf, offset)
}
