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
        cue: String,
        #[source]
        source: io::Error,
    },
    /// The file is far larger than any cue sheet.
    #[error("{cue}: {size} bytes is too large for a cue sheet (at most {limit})")]
    TooLarge { cue: String, size: u64, limit: u64 },
    /// A syntax or consistency problem on one line (`message` quotes the offending text).
    #[error("{cue} line {line}: {message}")]
    Syntax {
        cue: String,
        line: usize,
        message: String,
    },
    /// A problem with the sheet as a whole (no tracks at all).
    #[error("{cue}: {message}")]
    Sheet { cue: String, message: String },
    /// A FILE (or CDTEXTFILE) that is not beside the sheet; `source` says where it was looked for.
    #[error("{cue} line {line}: missing file \"{name}\": {source}")]
    MissingFile {
        cue: String,
        line: usize,
        name: String,
        #[source]
        source: io::Error,
    },
    /// A FILE that exists but could not be opened or read.
    #[error("{cue} line {line}: cannot read \"{name}\": {source}")]
    FileIo {
        cue: String,
        line: usize,
        name: String,
        #[source]
        source: io::Error,
    },
    /// The last track of a file does not end on a whole sector.
    #[error(
        "{cue} line {line}: {} is {size} bytes: track {track:02} ({stride}-byte sectors) would end with a partial sector of {partial} bytes",
        path.display()
    )]
    PartialSector {
        cue: String,
        line: usize,
        path: PathBuf,
        size: u64,
        stride: usize,
        partial: u64,
        track: u8,
    },
    /// A WAVE file that is not 16-bit stereo 44.1 kHz PCM, or not a WAVE file at all.
    #[error("{cue} line {line}: {}: {problem}", path.display())]
    Wave {
        cue: String,
        line: usize,
        path: PathBuf,
        problem: String,
    },
    /// A CDTEXTFILE whose packs cannot be decoded.
    #[error("{cue} line {line}: CDTEXTFILE \"{name}\": {problem}")]
    CdText {
        cue: String,
        line: usize,
        name: String,
        problem: String,
    },
    /// The disc the sheet describes is inconsistent.
    #[error("{cue}: {source}")]
    Disc {
        cue: String,
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
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("reading the source disc: {0}")]
    Read(#[from] DiscError),
    /// The disc has a layout a cue sheet cannot describe.
    #[error("a cue sheet cannot describe this disc: {0}")]
    Unrepresentable(String),
    /// The caller asked the writer to stop (`WriteOptions::cancel`).
    #[error(transparent)]
    Cancelled(#[from] spindle_disc::Cancelled),
}
