//! The disc crate's error type.

use crate::addr::Lba;
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DiscError {
    #[error("{}: reading {len} bytes at offset {offset}", path.display())]
    Io {
        path: PathBuf,
        offset: u64,
        len: usize,
        #[source]
        source: io::Error,
    },
    #[error("{what}: decoding sectors")]
    Decode {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("sector {lba} is not on the disc (no track holds it)")]
    OutOfRange { lba: Lba },
    #[error("track {track} is an audio track: it has no user data")]
    NotData { track: u8 },
    #[error("track {track} has no sector {lba} in mode {mode}: {why}")]
    BadSector {
        track: u8,
        lba: Lba,
        mode: &'static str,
        why: &'static str,
    },
    #[error("a {medium} has no raw CD sectors or subchannel")]
    NotCd { medium: &'static str },
    #[error("buffer of {got} bytes cannot hold {need}")]
    BufferTooSmall { need: usize, got: usize },
    #[error("invalid disc layout: {0}")]
    Invalid(String),
}

pub type Result<T, E = DiscError> = std::result::Result<T, E>;
