//! Errors of reading DiscJuggler CDI images.
//!
//! Every [`CdiError`] names the image, and problems inside the descriptor say which structure
//! was being read and at which file offset, so that a message alone tells what is wrong:
//! `game.cdi: track 1 (descriptor at 0x218264): index count 255 at 0x2182a8 is not 1..99`.

use std::io;
use std::path::PathBuf;

/// Why a CDI image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CdiError {
    /// Reading the image failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The image file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The 8-byte footer does not describe a DiscJuggler image.
    #[error("{}: not a DiscJuggler CDI image: {message}", path.display())]
    NotCdi {
        /// The image file.
        path: PathBuf,
        /// What is wrong, in words.
        message: String,
    },
    /// A structure of the descriptor runs past its end.
    #[error("{}: {what} at offset {offset:#x}: runs past the end of the descriptor (which ends at {end:#x})", path.display())]
    Truncated {
        /// The image file.
        path: PathBuf,
        /// The structure being read.
        what: String,
        /// Its byte offset in the file.
        offset: u64,
        /// The byte offset in the file where the descriptor ends.
        end: u64,
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
    /// The disc the descriptor describes is inconsistent.
    #[error("{}: {source}", path.display())]
    Disc {
        /// The image file.
        path: PathBuf,
        /// What the disc model found wrong.
        #[source]
        source: spindle_disc::DiscError,
    },
}

/// The result of reading a CDI image.
pub type Result<T, E = CdiError> = std::result::Result<T, E>;
