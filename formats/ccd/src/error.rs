//! Errors of reading and writing CloneCD images.
//!
//! Every [`CcdError`] names the file it concerns; problems in the control file name its line:
//! `game.ccd: line 12: Point=0x1ff is out of range (0..=255)`.

use std::io;
use std::path::PathBuf;

/// Why a CloneCD image could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CcdError {
    /// Reading the control file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The control file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The control file is far larger than any CloneCD control file.
    #[error("{}: {size} bytes is more than a CloneCD control file holds ({limit} at most)", path.display())]
    TooLarge {
        /// The control file.
        path: PathBuf,
        /// The file's size in bytes.
        size: u64,
        /// The largest control file taken, in bytes ([`crate::MAX_CCD_BYTES`]).
        limit: u64,
    },
    /// A line of the control file that is malformed or holds an impossible value.
    #[error("{}: line {line}: {message}", path.display())]
    Syntax {
        /// The control file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong, in words.
        message: String,
    },
    /// The control file as a whole is inconsistent (no line to blame).
    #[error("{}: {message}", path.display())]
    Corrupt {
        /// The control file.
        path: PathBuf,
        /// What is wrong, in words.
        message: String,
    },
    /// The .img or .sub could not be opened.
    #[error("{}: data file \"{name}\": {source}", path.display())]
    MissingFile {
        /// The control file.
        path: PathBuf,
        /// The data file's name (`game.img`, `game.sub`).
        name: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The .img or .sub holds fewer sectors than the control file describes.
    #[error("{}: {message}", file.display())]
    Truncated {
        /// The data file.
        file: PathBuf,
        /// What is wrong, in words.
        message: String,
    },
    /// The disc the control file describes is inconsistent.
    #[error("{}: {source}", path.display())]
    Disc {
        /// The control file.
        path: PathBuf,
        /// What the disc model found wrong.
        #[source]
        source: spindle_disc::DiscError,
    },
    /// Reading the source disc failed while writing.
    #[error("reading sector {lba} of the source disc: {source}")]
    Read {
        /// The sector that could not be read.
        lba: spindle_disc::Lba,
        /// Why it could not be read.
        #[source]
        source: spindle_disc::DiscError,
    },
    /// A disc that CloneCD cannot hold.
    #[error("{0}")]
    Unrepresentable(String),
    /// The caller asked the writer to stop (`WriteOptions::cancel`).
    #[error(transparent)]
    Cancelled(#[from] spindle_disc::Cancelled),
}

/// The result of reading or writing a CloneCD image.
pub type Result<T, E = CcdError> = std::result::Result<T, E>;
