//! # spindle-disc: the disc model
//!
//! Every image format parses into one [`Disc`]: sessions → tracks → extents (runs of sectors
//! that are unstored zeros, bytes of a file in a given layout, or a custom decoder). This
//! crate is the only place that synthesises what an image did not store: sync, headers,
//! subheaders, EDC/ECC ([`sector`], [`edc_ecc`]), Q/P subchannel ([`subchannel`]), and CD-TEXT
//! packs ([`cdtext`]).
//!
//! Consumers read sectors with [`Disc::read_sectors`] in the format they need
//! ([`SectorFormat`]: user data, raw 2352, plus Q16 or PW96 subchannel), or through byte
//! views ([`SectorView`]): the 2048-byte user-data view of a data track (ISO files, NBD,
//! filesystems), raw tracks, audio. [`cuesheet`] generates CUE text for a disc.
//! [`Catalogue`] names the files a disc offers to every frontend (`disc.iso`, `disc.bin`,
//! `disc.raw`, `toc.json`, `tracks/NN.wav`...), each a `spindle_bytes` source, and
//! [`summary`] describes a disc (`toc.json`, `spindle info --json`).
//!
//! Addresses are [`Lba`]s (i32; LBA 0 = MSF 00:02:00; the pregap of track 1 and the lead-in
//! are negative) and [`Msf`]s.

pub mod addr;
pub mod aligned;
pub mod catalogue;
pub mod cdtext;
pub mod companion;
pub mod cuesheet;
pub mod edc_ecc;
mod error;
pub mod extent;
pub mod format;
pub mod medium;
pub mod model;
pub mod open;
mod open_files;
mod read;
pub mod sector;
pub mod subchannel;
pub mod summary;
mod toc;
pub mod track_files;
mod validate;
mod view_runs;
mod views;

pub use addr::{Lba, Msf};
pub use catalogue::{Catalogue, Entry, EntryKind, Skipped};
pub use cdtext::{CdText, CdTextBlock, CdTextField};
pub use companion::DirCompanions;
pub use error::{DiscError, Result};
pub use extent::{
    Extent, ExtentData, FileSource, MainLayout, SectorSource, Stored, SubLayout, SubStream,
    prefer_direct_reads,
};
pub use format::{
    BoxError, Cancelled, Companions, ImageFormat, ImageWriter, OpenContext, OpenError,
    OpenErrorKind, Progress, WriteOptions, WriterCaps,
};
pub use medium::{DiscStructures, Dpm, Medium, MediumFamily, TocEntry};
pub use model::{
    Disc, Isrc, Mcn, Session, SessionFormat, SourceInfo, Track, TrackFlags, TrackMode,
};
pub use open::{FileType, NotAFile, open_image_file};
pub use read::{CHUNK_SECTORS, MainFormat, SectorFormat, SubFormat};
pub use summary::{DiscInfo, SessionInfo, TrackInfo, VolumeFacts, VolumeProbe};
pub use track_files::{TrackFile, raw_track_files, read_track_files, track_file, track_files};
pub use validate::{MAX_LBA, MIN_LBA};
pub use views::{SectorView, wav_header};

/// The byte layer (crate `spindle-bytes`), re-exported so format crates name it through the
/// disc model.
pub use spindle_bytes::{Backing, ByteSource, Concat, MemSource, Piece, Run};
