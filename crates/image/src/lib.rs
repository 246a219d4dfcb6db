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
mod registry;
mod verify;

pub use completeness::{MissingData, missing_data};
pub use content::unrecognised_content;
pub use convert::{ConvertOptions, ConvertOutcome, convert, losses};
pub use filesystem::{IsoFile, disc_device, filesystem, iso_file_at};
pub use info::{DiscInfo, SessionInfo, TrackInfo, info, iso_volume_label, udf_volume_label};
pub use registry::{formats, open, open_with, writer_by_id, writer_for, writers};
pub use spindle_disc::{self, Disc, WriteOptions};
pub use verify::{FileHashes, SectorIssue, TrackReport, VerifyReport, hash_file, stored_image, verify, verify_image};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a disc image spindle can read (tried {tried})", path.display())]
    Unrecognised { path: PathBuf, tried: String },
    #[error("{}: cannot open as {format}", path.display())]
    Open {
        path: PathBuf,
        format: &'static str,
        #[source]
        source: spindle_disc::BoxError,
    },
    #[error("no writer for {}: use an extension or --format among {known}", path.display())]
    NoWriter { path: PathBuf, known: String },
    #[error("{target} cannot hold this disc: {}", reasons.join("; "))]
    Lossy { target: &'static str, reasons: Vec<String> },
    #[error("writing {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: spindle_disc::BoxError,
    },
    #[error("{}: reading its filesystem", path.display())]
    Filesystem {
        path: PathBuf,
        #[source]
        source: spindle_fs::FsError,
    },
    #[error(transparent)]
    Disc(#[from] spindle_disc::DiscError),
}

impl ImageError {
    /// True when the image is encrypted and no password was given.
    pub fn needs_password(&self) -> bool {
        matches!(self, ImageError::Open { source, .. }
            if matches!(source.downcast_ref::<spindle_format_mds::MdsError>(), Some(spindle_format_mds::MdsError::PasswordNeeded { .. })))
    }
}
