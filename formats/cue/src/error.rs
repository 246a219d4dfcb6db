//! Errors of reading and writing CUE/BIN images.
//!
//! Every [`CueError`] names the cue sheet (by its file name, as the user typed it), and every
//! problem that comes from one line of the sheet gives its 1-based number, so that a message
//! alone is enough to find and fix the sheet:
//! `bad-msf-1.cue line 7: bad time "00:00:100" in INDEX (frames must be below 75)`.

use spindle_disc::DiscError;
use std::io;
use std::path::PathBuf;

/// Why a cue sheet could not be read or opened.
#[derive(Debug, thiserror::Error)]
pub enum CueError {
    /// The cue sheet itself could not be read.
    #[error("{cue}: cannot read the cue sheet: {source}")]
    Read {
        /// The cue sheet's name, as messages give it.
        cue: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The file is far larger than any cue sheet.
    #[error("{cue}: {size} bytes is too large for a cue sheet (at most {limit})")]
    TooLarge {
        /// The cue sheet's name, as messages give it.
        cue: String,
        /// The file's size in bytes.
        size: u64,
        /// The largest sheet taken, in bytes ([`crate::MAX_SHEET_BYTES`]).
        limit: u64,
    },
    /// A syntax or consistency problem on one line (`message` quotes the offending text).
    #[error("{cue} line {line}: {message}")]
    Syntax {
        /// The cue sheet's name, as messages give it.
        cue: String,
        /// The line of the sheet, from 1.
        line: usize,
        /// What is wrong, in words.
        message: String,
    },
    /// A problem with the sheet as a whole (no tracks at all).
    #[error("{cue}: {message}")]
    Sheet {
        /// The cue sheet's name, as messages give it.
        cue: String,
        /// What is wrong, in words.
        message: String,
    },
    /// A FILE (or CDTEXTFILE) that is not beside the sheet; `source` says where it was looked for.
    #[error("{cue} line {line}: missing file \"{name}\": {source}")]
    MissingFile {
        /// The cue sheet's name, as messages give it.
        cue: String,
        /// The line of the sheet, from 1.
        line: usize,
        /// The file name as the sheet writes it.
        name: String,
        /// Where the file was looked for, and why it was not found.
        #[source]
        source: io::Error,
    },
    /// A FILE that exists but could not be opened or read.
    #[error("{cue} line {line}: cannot read \"{name}\": {source}")]
    FileIo {
        /// The cue sheet's name, as messages give it.
        cue: String,
        /// The line of the sheet, from 1.
        line: usize,
        /// The file name as the sheet writes it.
        name: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The last track of a file does not end on a whole sector.
    #[error(
        "{cue} line {line}: {} is {size} bytes: track {track:02} ({stride}-byte sectors) would end with a partial sector of {partial} bytes",
        path.display()
    )]
    PartialSector {
        /// The cue sheet's name, as messages give it.
        cue: String,
        /// The line of the sheet, from 1.
        line: usize,
        /// The data file.
        path: PathBuf,
        /// The data file's size in bytes.
        size: u64,
        /// Bytes per sector of the track's mode.
        stride: usize,
        /// Bytes of the partial sector at the end.
        partial: u64,
        /// The track that would end with it.
        track: u8,
    },
    /// A WAVE file that is not 16-bit stereo 44.1 kHz PCM, or not a WAVE file at all.
    #[error("{cue} line {line}: {}: {problem}", path.display())]
    Wave {
        /// The cue sheet's name, as messages give it.
        cue: String,
        /// The line of the sheet, from 1.
        line: usize,
        /// The WAVE file.
        path: PathBuf,
        /// What is wrong with it, in words.
        problem: String,
    },
    /// A CDTEXTFILE whose packs cannot be decoded.
    #[error("{cue} line {line}: CDTEXTFILE \"{name}\": {problem}")]
    CdText {
        /// The cue sheet's name, as messages give it.
        cue: String,
        /// The line of the sheet, from 1.
        line: usize,
        /// The file name as the sheet writes it.
        name: String,
        /// What is wrong with it, in words.
        problem: String,
    },
    /// The disc the sheet describes is inconsistent.
    #[error("{cue}: {source}")]
    Disc {
        /// The cue sheet's name, as messages give it.
        cue: String,
        /// What the disc model found wrong.
        #[source]
        source: DiscError,
    },
}

impl CueError {
    /// The line of the sheet the error is about, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            CueError::Syntax { line, .. }
            | CueError::MissingFile { line, .. }
            | CueError::FileIo { line, .. }
            | CueError::PartialSector { line, .. }
            | CueError::Wave { line, .. }
            | CueError::CdText { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// Why a BIN/CUE pair could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Writing a file of the output failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Reading the source disc failed.
    #[error("reading the source disc: {0}")]
    Read(#[from] DiscError),
    /// The disc has a layout a cue sheet cannot describe.
    #[error("a cue sheet cannot describe this disc: {0}")]
    Unrepresentable(String),
    /// The caller asked the writer to stop (`WriteOptions::cancel`).
    #[error(transparent)]
    Cancelled(#[from] spindle_disc::Cancelled),
}
