//! The disc crate's error type.

use crate::addr::Lba;
use std::io;
use std::path::PathBuf;

/// What reading a disc's sectors or building its model can fail with.
#[derive(Debug, thiserror::Error)]
pub enum DiscError {
    /// Reading an image or companion file failed.
    #[error("{}: reading {len} bytes at offset {offset}", path.display())]
    Io {
        /// The file read.
        path: PathBuf,
        /// Byte offset of the read in the file.
        offset: u64,
        /// Number of bytes asked for.
        len: usize,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// A format's own sector decoder (a [`SectorSource`](crate::extent::SectorSource)) failed.
    #[error("{what}: decoding sectors")]
    Decode {
        /// The decoder's description (normally the image file).
        what: String,
        /// The decoder's error.
        #[source]
        source: io::Error,
    },
    /// An address outside every track of the disc.
    #[error("sector {lba} is not on the disc (no track holds it)")]
    OutOfRange {
        /// The address asked for.
        lba: Lba,
    },
    /// User data was asked of an audio track.
    #[error("track {track} is an audio track: it has no user data")]
    NotData {
        /// The audio track's number.
        track: u8,
    },
    /// A sector cannot be produced in the mode its track declares (a stored layout that lacks
    /// the part asked for, say).
    #[error("track {track} has no sector {lba} in mode {mode}: {why}")]
    BadSector {
        /// Number of the track holding the sector.
        track: u8,
        /// The sector's address.
        lba: Lba,
        /// The track's mode, as the CUE sheet names it.
        mode: &'static str,
        /// What is wrong.
        why: &'static str,
    },
    /// Raw CD sectors or subchannel were asked of a DVD or Blu-ray.
    #[error("a {medium} has no raw CD sectors or subchannel")]
    NotCd {
        /// The medium's name (`DVD-ROM`...).
        medium: &'static str,
    },
    /// A caller's buffer is shorter than the sectors asked for.
    #[error("buffer of {got} bytes cannot hold {need}")]
    BufferTooSmall {
        /// Bytes the sectors need.
        need: usize,
        /// Bytes the buffer has.
        got: usize,
    },
    /// An inconsistent disc model (overlapping tracks, bad numbering...) or a request that makes
    /// no sense for the disc (a track it lacks, say); the text says what.
    #[error("invalid disc layout: {0}")]
    Invalid(String),
}

/// Result with [`DiscError`] as the default error type.
pub type Result<T, E = DiscError> = std::result::Result<T, E>;
