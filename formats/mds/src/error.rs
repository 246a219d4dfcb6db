//! Errors of reading and writing MDS/MDF and MDX images.
//!
//! Every [`MdsError`] names the file it concerns, and problems inside a descriptor say what
//! was being read and at which offset, so that a message alone tells what is wrong:
//! `game.mds: track block 3 of session 1 at offset 0x1c0: runs past the end of the descriptor (688 bytes)`.

use std::io;
use std::path::PathBuf;

/// Why an MDS/MDF or MDX image could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MdsError {
    /// Reading or writing a file of the image failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The descriptor (`.mds`, `.mdx`) or, when writing, the file written.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A structure runs past the end of the descriptor (or of the file).
    #[error("{}: {what} at offset {offset:#x}: runs past the end of the descriptor ({len} bytes)", path.display())]
    Truncated {
        /// The descriptor (`.mds`, `.mdx`) or, when writing, the file written.
        path: PathBuf,
        /// The structure being read.
        what: String,
        /// Its byte offset in the file.
        offset: u64,
        /// The descriptor's length in bytes.
        len: u64,
    },
    /// A field holds a value no valid image has.
    #[error("{}: {message}", path.display())]
    Corrupt {
        /// The descriptor (`.mds`, `.mdx`) or, when writing, the file written.
        path: PathBuf,
        /// What is wrong, in words.
        message: String,
    },
    /// Something valid that this reader does not handle.
    #[error("{}: {message}", path.display())]
    Unsupported {
        /// The descriptor (`.mds`, `.mdx`) or, when writing, the file written.
        path: PathBuf,
        /// What is not handled, in words.
        message: String,
    },
    /// The track data is encrypted with a user password and none was given.
    #[error(
        "{}: the image is encrypted with a password: give it with --password or the SPINDLE_PASSWORD variable",
        path.display()
    )]
    PasswordNeeded {
        /// The descriptor (`.mds`, `.mdx`) or, when writing, the file written.
        path: PathBuf,
    },
    /// The password given does not open the data encryption header.
    #[error("{}: wrong password (the data encryption header does not decrypt with it)", path.display())]
    WrongPassword {
        /// The descriptor (`.mds`, `.mdx`) or, when writing, the file written.
        path: PathBuf,
    },
    /// A data file the descriptor names could not be found or opened.
    #[error("{}: data file \"{name}\": {source}", path.display())]
    MissingFile {
        /// The descriptor (`.mds`, `.mdx`) or, when writing, the file written.
        path: PathBuf,
        /// The data file's name as the descriptor gives it.
        name: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The disc the descriptor describes is inconsistent.
    #[error("{}: {source}", path.display())]
    Disc {
        /// The descriptor (`.mds`, `.mdx`) or, when writing, the file written.
        path: PathBuf,
        /// What the disc model found wrong.
        #[source]
        source: spindle_disc::DiscError,
    },
    /// A disc that cannot be written in this format.
    #[error("{0}")]
    Unrepresentable(String),
    /// The caller asked the writer to stop (`WriteOptions::cancel`).
    #[error(transparent)]
    Cancelled(#[from] spindle_disc::Cancelled),
}

/// The result of reading or writing an MDS or MDX image.
pub type Result<T, E = MdsError> = std::result::Result<T, E>;
