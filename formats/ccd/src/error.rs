//! Errors of reading and writing CloneCD images.
//!
//! Every [`CcdError`] names the file it concerns; problems in the control file name its line:
//! `game.ccd: line 12: Point=0x1ff is out of range (0..=255)`.

use std::io;
use std::path::PathBuf;

/// Why a CloneCD image could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CcdError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: {size} bytes is more than a CloneCD control file holds ({limit} at most)", path.display())]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    /// A line of the control file that is malformed or holds an impossible value.
    #[error("{}: line {line}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// The control file as a whole is inconsistent (no line to blame).
    #[error("{}: {message}", path.display())]
    Corrupt { path: PathBuf, message: String },
    /// The .img or .sub could not be opened.
    #[error("{}: data file \"{name}\": {source}", path.display())]
    MissingFile {
        path: PathBuf,
        name: String,
        #[source]
        source: io::Error,
    },
    /// The .img or .sub holds fewer sectors than the control file describes.
    #[error("{}: {message}", file.display())]
    Truncated { file: PathBuf, message: String },
    /// The disc the control file describes is inconsistent.
    #[error("{}: {source}", path.display())]
    Disc {
        path: PathBuf,
        #[source]
        source: spindle_disc::DiscError,
    },
    /// Reading the source disc failed while writing.
    #[error("reading sector {lba} of the source disc: {source}")]
    Read {
        lba: spindle_disc::Lba,
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

pub type Result<T, E = CcdError> = std::result::Result<T, E>;
