//! What authoring an image can fail with: every error names the source path or the output.

use std::io;
use std::path::PathBuf;

/// An error while scanning the source tree, writing the image or checking it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading a source file or directory failed.
    #[error("{}: {source}", path.display())]
    Read {
        /// The source path.
        path: PathBuf,
        /// The system's error.
        source: io::Error,
    },
    /// Writing the output failed (nothing is left behind).
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The output path.
        path: PathBuf,
        /// The system's error.
        source: io::Error,
    },
    /// A source entry cannot be put on the image as it is; the text says why.
    #[error("{}: {what}", path.display())]
    Source {
        /// The source path.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// The tree does not fit the medium or the format's limits.
    #[error("{}: {what}", path.display())]
    TooBig {
        /// The first source path that does not fit.
        path: PathBuf,
        /// Which limit.
        what: String,
    },
    /// Writing was stopped on request (a signal); nothing was left behind.
    #[error("stopped before {} was complete; nothing was written", path.display())]
    Cancelled {
        /// The output.
        path: PathBuf,
    },
    /// The image read back differs from the source tree (the self-check).
    #[error("self-check of {}: {path}: {what}", image.display())]
    Mismatch {
        /// The image checked.
        image: PathBuf,
        /// The path inside the image (from its root).
        path: String,
        /// What differs.
        what: String,
    },
    /// Reading the image back failed during the self-check.
    #[error("self-check of {}: {path}: {source}", image.display())]
    Check {
        /// The image checked.
        image: PathBuf,
        /// The path inside the image.
        path: String,
        /// The reader's error.
        source: spindle_fs::FsError,
    },
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Wraps an `io::Error` reading `path`.
pub(crate) fn read_err(path: &std::path::Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Read {
        path: path.to_path_buf(),
        source,
    }
}
