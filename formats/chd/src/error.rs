//! Errors of reading CHD images.
//!
//! Every [`ChdError`] names the CHD file, and problems inside it say which structure (header,
//! hunk map, metadata entry, hunk) was being read:
//! `game.chd: metadata entry 2 (CHT2): FRAMES: "x" is not a number`.

use std::io;
use std::path::PathBuf;

/// Why a CHD image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ChdError {
    /// Reading the image failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The CHD file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A field holds a value no valid CHD has, or a structure runs past the end of the file.
    #[error("{}: {message}", path.display())]
    Corrupt {
        /// The CHD file.
        path: PathBuf,
        /// What is wrong, in words.
        message: String,
    },
    /// Something valid that this reader does not handle (other CHD versions, GD-ROM, parents).
    #[error("{}: {message}", path.display())]
    Unsupported {
        /// The CHD file.
        path: PathBuf,
        /// What is not handled, in words.
        message: String,
    },
    /// The chd crate refused the header or the hunk map.
    #[error("{}: {what}: {source}", path.display())]
    Chd {
        /// The CHD file.
        path: PathBuf,
        /// The structure being read (header, hunk map, a metadata entry, a hunk).
        what: String,
        /// The chd crate's error.
        #[source]
        source: chd::Error,
    },
    /// The disc the metadata describes is inconsistent.
    #[error("{}: {source}", path.display())]
    Disc {
        /// The CHD file.
        path: PathBuf,
        /// What the disc model found wrong.
        #[source]
        source: spindle_disc::DiscError,
    },
}

/// The result of reading a CHD image.
pub type Result<T, E = ChdError> = std::result::Result<T, E>;
