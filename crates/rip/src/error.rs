//! Errors of the ripper library.

use spindle_mmc::MmcError;
use std::io;
use std::path::PathBuf;

/// What can go wrong in a rip: the drive, the files it writes, the map, a cancel.
#[derive(Debug, thiserror::Error)]
pub enum RipError {
    /// A drive command failed.
    #[error(transparent)]
    Mmc(#[from] MmcError),
    /// Reading or writing one of the rip's files.
    #[error("{}: {what}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done (`"opening the output"`...).
        what: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A map file that does not parse.
    #[error("{}: line {line}: {why}", path.display())]
    Map {
        /// The map file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        why: String,
    },
    /// A map file written for another disc or read mode than this rip's.
    #[error("{}: the map is for {theirs}, this rip is {ours}", path.display())]
    MapMismatch {
        /// The map file.
        path: PathBuf,
        /// This rip's area: sectors, their size and the first LBA.
        ours: String,
        /// The map's area, in the same words.
        theirs: String,
    },
    /// The rip was cancelled (Ctrl-C); the map is saved.
    #[error("interrupted: the map is saved, --resume continues")]
    Cancelled,
    /// The drive or the disc cannot give what the rip needs (a read it cannot address, a
    /// medium not ready, a layout that makes no valid disc).
    #[error("{0}")]
    Drive(String),
}

/// The result of the ripper's operations.
pub type Result<T, E = RipError> = std::result::Result<T, E>;
