//! Errors of reading NRG images.
//!
//! Every [`NrgError`] names the image file, and problems inside the chunk list say which
//! chunk and which byte offset in the file, so that a message alone tells what is wrong:
//! `disc.nrg: DAOX chunk at offset 0x1038f8, track record 2: end offset 0x1038c0 lies before its start offset 0x102660`.

use std::io;
use std::path::PathBuf;

/// Why an NRG image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NrgError {
    /// Reading the image failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The image file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Neither `NER5` in the last 12 bytes nor `NERO` in the last 8.
    #[error(
        "{}: no Nero trailer (\"NER5\" + 64-bit offset in the last 12 bytes, or \"NERO\" + 32-bit offset in the last 8): not an NRG image, or a truncated one",
        path.display()
    )]
    NoTrailer {
        /// The image file.
        path: PathBuf,
    },
    /// A structure runs past the end of the chunk list (or the track data past the chunk list).
    #[error("{}: {what} at offset {offset:#x}: runs past {limit}", path.display())]
    Truncated {
        /// The image file.
        path: PathBuf,
        /// The structure being read.
        what: String,
        /// Its byte offset in the file.
        offset: u64,
        /// What it runs past (the chunk list, the file), in words.
        limit: String,
    },
    /// A field holds a value no valid image has.
    #[error("{}: {message}", path.display())]
    Corrupt {
        /// The image file.
        path: PathBuf,
        /// What is wrong, in words.
        message: String,
    },
    /// Something valid that this reader does not handle.
    #[error("{}: {message}", path.display())]
    Unsupported {
        /// The image file.
        path: PathBuf,
        /// What is not handled, in words.
        message: String,
    },
    /// The disc the chunks describe is inconsistent.
    #[error("{}: {source}", path.display())]
    Disc {
        /// The image file.
        path: PathBuf,
        /// What the disc model found wrong.
        #[source]
        source: spindle_disc::DiscError,
    },
}

/// The result of reading an NRG image.
pub type Result<T, E = NrgError> = std::result::Result<T, E>;
