//! Errors of the ripper library.

use spindle_mmc::MmcError;
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RipError {
    #[error(transparent)]
    Mmc(#[from] MmcError),
    #[error("{}: {what}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{}: line {line}: {why}", path.display())]
    Map {
        path: PathBuf,
        line: usize,
        why: String,
    },
    #[error("{}: the map is for {theirs}, this rip is {ours}", path.display())]
    MapMismatch {
        path: PathBuf,
        ours: String,
        theirs: String,
    },
    #[error("interrupted: the map is saved, --resume continues")]
    Cancelled,
    #[error("{0}")]
    Drive(String),
}

pub type Result<T, E = RipError> = std::result::Result<T, E>;
