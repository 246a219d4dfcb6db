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
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The 8-byte footer does not describe a DiscJuggler image.
    #[error("{}: not a DiscJuggler CDI image: {message}", path.display())]
    NotCdi { path: PathBuf, message: String },
    /// A structure of the descriptor runs past its end.
    #[error("{}: {what} at offset {offset:#x}: runs past the end of the descriptor (which ends at {end:#x})", path.display())]
    Truncated {
        path: PathBuf,
        what: String,
        offset: u64,
        end: u64,
    },
    /// A field holds a value no valid image has.
    #[error("{}: {message}", path.display())]
    Corrupt { path: PathBuf, message: String },
    /// Something valid that this reader does not handle.
    #[error("{}: {message}", path.display())]
    Unsupported { path: PathBuf, message: String },
    /// The disc the descriptor describes is inconsistent.
    #[error("{}: {source}", path.display())]
    Disc {
        path: PathBuf,
        #[source]
        source: spindle_disc::DiscError,
    },
}

pub type Result<T, E = CdiError> = std::result::Result<T, E>;
