//! Errors of the TCMU backend.

use std::path::{Path, PathBuf};

/// What went wrong setting up or serving a TCMU device.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A configfs or sysfs file could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    Path {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The descriptor is not a UIO device with a map.
    #[error("not a TCMU uio device: {0}")]
    NotUio(String),
    /// The kernel lacks something or said something unexpected.
    #[error("{0}")]
    Kernel(String),
    /// TCMU cannot be used here (see [`crate::Support`]).
    #[error("no TCMU: {reason} ({hint})")]
    Unsupported {
        /// Why.
        reason: String,
        /// What to do about it.
        hint: String,
    },
    /// A device name that is not ours, or not the caller's.
    #[error("bad device name {0:?}")]
    BadName(String),
    /// No device of that name exists.
    #[error("no TCMU device named {0:?}")]
    NoDevice(String),
    /// The ring is corrupt.
    #[error(transparent)]
    Ring(#[from] crate::ring::RingError),
    /// A helper request that does not parse.
    #[error("bad request {0:?}")]
    BadRequest(String),
    /// The privileged helper refused or failed.
    #[error("spindle-drive-helper: {0}")]
    Helper(String),
    /// A wait ran out.
    #[error("timed out: {0}")]
    Timeout(String),
}

impl Error {
    pub(crate) fn io(what: &str, e: impl Into<std::io::Error>) -> Error {
        Error::Io {
            what: what.to_string(),
            source: e.into(),
        }
    }
    pub(crate) fn path(action: &'static str, path: &Path, e: std::io::Error) -> Error {
        Error::Path {
            action,
            path: path.to_path_buf(),
            source: e,
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
