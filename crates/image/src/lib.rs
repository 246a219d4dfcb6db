//! # spindle-image: every image format behind one door
//!
//! [`open`] probes a file against every registered format (ISO last, as the fallback) and
//! returns the [`Disc`] the first claiming format builds. [`convert`] writes a disc with the
//! writer an output name or format id picks, refusing targets that would lose tracks or
//! sessions. [`verify`] checks stored EDC/ECC and hashes each track the way redump datfiles
//! do. [`info`] describes a disc for people and for JSON.

mod completeness;
mod content;
mod convert;
mod filesystem;
mod info;
pub mod playlist;
mod readback;
mod registry;
mod staging;
mod verify;
mod xa_forms;

pub use completeness::{MissingData, missing_data};
pub use content::unrecognised_content;
pub use convert::{ConvertOptions, ConvertOutcome, convert, losses};
pub use filesystem::{IsoFile, disc_device, filesystem, iso_file_at};
pub use info::{
    DiscInfo, SessionInfo, TrackInfo, info, iso_volume_label, udf_volume_label, volume_facts,
};
pub use readback::differences;
pub use registry::{
    OpenOptions, formats, open, open_with, open_with_options, writer_by_id, writer_for, writers,
};
pub use spindle_container::{BudgetExceeded, DecodeBudget};
pub use spindle_disc::{self, Disc, WriteOptions};
pub use spindle_disc::{FileType, NotAFile};
pub use staging::{Removed, STAGING_PREFIX};
pub use verify::{
    FileHashes, SectorIssue, TrackReport, VerifyReport, hash_file, stored_image, verify,
    verify_image,
};

use std::path::PathBuf;

/// Why an image could not be opened, converted, verified or read. Every variant that
/// concerns one file names it.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Reading or hashing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The image is a FIFO, a character device, a directory...: nothing was read from it.
    #[error(transparent)]
    NotAFile(NotAFile),
    /// Decompressing the image would take more temporary space than its budget allows.
    #[error(transparent)]
    Budget(BudgetExceeded),
    /// No registered format claimed the file.
    #[error("{}: not a disc image spindle can read (tried {tried})", path.display())]
    Unrecognised {
        /// The image.
        path: PathBuf,
        /// The ids of the formats tried, comma-separated.
        tried: String,
    },
    /// A format claimed the file but could not open it (the source says why).
    #[error("{}: cannot open as {format}", path.display())]
    Open {
        /// The image.
        path: PathBuf,
        /// The id of the format that claimed it.
        format: &'static str,
        /// The format's error.
        #[source]
        source: spindle_disc::BoxError,
    },
    /// The image is encrypted with a password and none was given (the format said so:
    /// [`spindle_disc::OpenErrorKind::PasswordNeeded`]); `source` is its message.
    #[error("{}: cannot open as {format}", path.display())]
    PasswordNeeded {
        /// The image.
        path: PathBuf,
        /// The format that claimed it.
        format: &'static str,
        /// The format's message.
        #[source]
        source: spindle_disc::BoxError,
    },
    /// Neither the requested format id nor the output's extension names a writer.
    #[error("no writer for {}: use an extension or --format among {known}", path.display())]
    NoWriter {
        /// The output path.
        path: PathBuf,
        /// The writers' ids, comma-separated.
        known: String,
    },
    /// The target format cannot hold the disc (audio tracks, several sessions...) and
    /// nothing allowed dropping it; nothing was written.
    #[error("{target} cannot hold this disc: {}", reasons.join("; "))]
    Lossy {
        /// The target writer's id.
        target: &'static str,
        /// What it would lose, one sentence each.
        reasons: Vec<String>,
    },
    /// An option the target format cannot honour (refused before anything is written).
    #[error("{target} cannot take {option}: only {supported} can")]
    Unsupported {
        /// The target writer's id.
        target: &'static str,
        /// The option, for people (`a password (--encrypt)`...).
        option: &'static str,
        /// The ids of the writers that can take it.
        supported: String,
    },
    /// The written image would not read back as the disc it was written from (nothing was
    /// left behind).
    #[error("{} as {target} would not read back as the source, so it was not kept: {}", path.display(), problems.join("; "))]
    ReadBack {
        /// The output path.
        path: PathBuf,
        /// The target writer's id.
        target: &'static str,
        /// Each difference found, one sentence each.
        problems: Vec<String>,
    },
    /// Stopped on request; the unfinished files were removed.
    #[error("stopped: removed the unfinished {}", removed_list(removed))]
    Cancelled {
        /// The files removed, with the bytes each held.
        removed: Vec<staging::Removed>,
    },
    /// Writing the output failed, or was refused because it would overwrite the image being
    /// read or a file that belongs to no image; nothing was left behind.
    #[error("writing {}", path.display())]
    Write {
        /// The output path.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: spindle_disc::BoxError,
    },
    /// The disc's filesystem (ISO 9660, UDF...) could not be read.
    #[error("{}: reading its filesystem", path.display())]
    Filesystem {
        /// The image.
        path: PathBuf,
        /// The filesystem reader's error.
        #[source]
        source: spindle_fs::FsError,
    },
    /// An error of the disc model (reading sectors, a track with no data...).
    #[error(transparent)]
    Disc(#[from] spindle_disc::DiscError),
}

fn removed_list(removed: &[staging::Removed]) -> String {
    if removed.is_empty() {
        return "output (nothing had been written yet)".into();
    }
    removed
        .iter()
        .map(|r| format!("{} ({} bytes)", r.path.display(), r.bytes))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ImageError {
    /// The image, or a file it names (a cue sheet's FILE...), that is not a regular file or
    /// a block device, if that is what went wrong.
    pub fn not_a_file(&self) -> Option<&NotAFile> {
        match self {
            ImageError::NotAFile(n) => Some(n),
            e => spindle_disc::open::find_in_chain(e),
        }
    }
    /// The decompression budget that refused the image or one of its files, if that is
    /// what went wrong.
    pub fn budget_exceeded(&self) -> Option<&BudgetExceeded> {
        match self {
            ImageError::Budget(b) => Some(b),
            e => spindle_disc::open::find_in_chain(e),
        }
    }

    /// True when the image is encrypted and no password was given
    /// ([`ImageError::PasswordNeeded`]).
    pub fn needs_password(&self) -> bool {
        matches!(self, ImageError::PasswordNeeded { .. })
    }
}
